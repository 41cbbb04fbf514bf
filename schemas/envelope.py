"""The change-event envelope (Debezium shape) that wraps every category record."""

from __future__ import annotations

import copy
from typing import Any

OPS = ("c", "u", "d", "r")


def envelope_schema(record: dict[str, Any], namespace: str) -> dict[str, Any]:
    """Wrap a category record schema: op, before, after, source, ts_ms."""
    value = copy.deepcopy(record)
    value["name"] = "Value"
    value["namespace"] = namespace
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": namespace,
        "doc": f"A change to one enterprise's record. 变更事件。 {record.get('doc', '')}".strip(),
        "fields": [
            {
                "name": "op",
                "type": {"type": "enum", "name": "Op", "symbols": list(OPS)},
                "doc": "c create, u update, d delete, r snapshot read. 操作类型",
            },
            {
                "name": "before",
                "type": ["null", value],
                "default": None,
                "doc": "The record before the change (updates, deletes). 变更前",
            },
            {
                "name": "after",
                "type": ["null", "Value"],
                "default": None,
                "doc": "The record after the change (creates, updates, reads). 变更后",
            },
            {
                "name": "source",
                "type": {
                    "type": "record",
                    "name": "Source",
                    "fields": [
                        {"name": "agency", "type": "string", "doc": "Publishing agency. 来源部门"},
                        {"name": "system", "type": "string", "doc": "Agency system. 来源系统"},
                        {"name": "sequence", "type": "long", "doc": "Position there. 来源序号"},
                    ],
                },
                "doc": "Provenance in the agency's system. 来源",
            },
            {
                "name": "ts_ms",
                "type": "long",
                "doc": "When the change happened, epoch milliseconds. 变更时间（毫秒）",
            },
        ],
    }

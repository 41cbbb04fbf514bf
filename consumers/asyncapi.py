"""An AsyncAPI 3.0 document of what one bank receives: a document a bank's engineers can
generate clients from, in any language, without reading this code.

One channel per bank topic, with three messages: a change (the bank's Avro schema, field
docs in English and Chinese), a retraction (the same schema, with the reason headers) and
a tombstone (no value). Kafka bindings say the key (the USCC), the Confluent framing,
partitions, retention and the bank's consumer-group prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumers.grants import GrantView
from foundation import headers as h
from governance.bank_schema import bank_schema
from governance.models import Governance
from governance.topics import DAY_MS
from schemas.catalog import Catalog

AVRO = "application/vnd.apache.avro;version=1.9.0"
BINDING = "0.5.0"
RETRACTION_REASONS = ["consent-revoked", "agreement-ended"]

_TEXT = {"type": "string"}
_CLOUDEVENTS = {
    h.SPECVERSION: {"type": "string", "const": "1.0", "description": "CloudEvents version"},
    h.ID: {**_TEXT, "description": "Unique event id, as the agency published it. 事件编号"},
    h.SOURCE: {**_TEXT, "description": "The publishing agency, /agencies/<agency>. 来源部门"},
    h.TYPE: {**_TEXT, "description": "<category>.changed. 事件类型"},
    h.TIME: {
        **_TEXT,
        "format": "date-time",
        "description": "When the agency published it, ISO 8601. 发布时间",
    },
    h.SOURCE_POSITION: {
        **_TEXT,
        "description": "Position on the source topic, <topic>/<partition>/<offset>: drop a "
        "message whose position you already handled. 源位置（去重用）",
    },
}


def document(
    gov: Governance,
    bank: str,
    grants: list[GrantView],
    catalog: Catalog,
    *,
    bootstrap: str,
    registry_url: str,
    partitions: Mapping[str, int],
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `grants` (all of them `bank`'s)."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {"tombstone": _tombstone()}
    operations: dict[str, Any] = {}
    for view in grants:
        channel = channels.setdefault(view.topic, _channel(view, catalog, partitions))
        grant = gov.agreements[view.agreement].grant_for(view.category)
        assert grant is not None
        schema = bank_schema(catalog, bank, grant)
        for kind in ("change", "retraction"):
            message_id = f"{view.topic}.{view.agreement}.{kind}"
            messages[message_id] = _message(view, schema, kind)
            ref = _ref("components/messages", message_id)
            channel["messages"][f"{view.agreement}.{kind}"] = ref
    party = gov.banks.get(bank)
    name = f"{party.name_en} {party.name_zh}" if party else bank
    for topic, channel in channels.items():
        channel["messages"]["tombstone"] = _ref("components/messages", "tombstone")
        operations[f"receive.{topic}"] = {
            "action": "receive",
            "title": f"Receive {channel['title']}",
            "channel": _ref("channels", topic),
            "messages": [{"$ref": f"#/channels/{topic}/messages/{m}"} for m in channel["messages"]],
            "bindings": {
                "kafka": {
                    "groupId": {
                        "type": "string",
                        "pattern": f"^{bank}\\.",
                        "description": f"Consumer groups of {bank} start with '{bank}.'",
                    },
                    "bindingVersion": BINDING,
                }
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"sharebus: what {bank} receives",
            "version": str(gov.version),
            "description": (
                f"The topics, records and headers that {name} receives "
                "under its data-usage agreements (governance version "
                f"{gov.version}). Every value is Confluent-framed Avro (magic byte 0, "
                "4-byte schema id) in the Debezium envelope: op c create, u update, d "
                "delete, r backfill read of the current state. A delete and a retraction "
                "are each followed by a tombstone (no value). 银行可接收的主题、字段与消息头。"
            ),
        },
        "defaultContentType": "avro/binary",
        "servers": {
            "sharebus": {
                "host": bootstrap.split(",")[0],
                "protocol": "kafka",
                "description": "The bus's Kafka cluster. 数据总线",
                "bindings": {
                    "kafka": {
                        "schemaRegistryUrl": registry_url,
                        "schemaRegistryVendor": "confluent",
                        "bindingVersion": BINDING,
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _ref(section: str, name: str) -> dict[str, str]:
    # JSON pointer: '~' and '/' are escaped; topic names have neither.
    return {"$ref": f"#/{section}/{name}"}


def _channel(view: GrantView, catalog: Catalog, partitions: Mapping[str, int]) -> dict[str, Any]:
    category = catalog.get(view.category)
    kafka: dict[str, Any] = {
        "topic": view.topic,
        "topicConfiguration": {
            "cleanup.policy": ["delete"],
            "retention.ms": view.retention_days * DAY_MS,
        },
        "bindingVersion": BINDING,
    }
    if view.topic in partitions:
        kafka["partitions"] = partitions[view.topic]
    return {
        "address": view.topic,
        "title": view.category,
        "description": f"{category.record.get('doc', '')} Key: the enterprise's USCC.",
        "messages": {},
        "bindings": {"kafka": kafka},
    }


def _message(view: GrantView, schema: dict[str, Any], kind: str) -> dict[str, Any]:
    headers: dict[str, Any] = {
        **_CLOUDEVENTS,
        h.AGREEMENT_ID: {"type": "string", "const": view.agreement, "description": "协议编号"},
        h.PURPOSE: {"type": "string", "const": view.purpose, "description": "用途"},
    }
    required = [h.ID, h.AGREEMENT_ID, h.PURPOSE]
    if kind == "retraction":
        summary = (
            "Erase this enterprise's records of this topic: the consent was revoked or the "
            "agreement ended. A tombstone follows. 撤回：删除该企业数据"
        )
        headers[h.RETRACTION] = {"type": "string", "enum": RETRACTION_REASONS}
        headers[h.GOVERNANCE_VERSION] = {
            "type": "string",
            "description": "The governance version that caused it. 治理版本",
        }
        required += [h.RETRACTION]
    else:
        summary = (
            "A change to one enterprise's record (op c, u, d; r for a backfill), cut to the "
            "granted fields and masked. 变更事件"
        )
        required += [h.SOURCE_POSITION]
        headers[h.BACKFILL] = {
            "type": "string",
            "description": "Backfill events (op r) only: the run id. 回填批次",
        }
    return {
        "name": f"{view.category}.{kind}",
        "title": f"{view.category} {kind} ({view.agreement})",
        "summary": summary,
        "contentType": "avro/binary",
        "headers": {"type": "object", "properties": headers, "required": required},
        "payload": {"schemaFormat": AVRO, "schema": schema},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The enterprise's USCC. 统一社会信用代码"},
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "schemaLookupStrategy": "TopicNameStrategy",
                "bindingVersion": BINDING,
            }
        },
        "x-sharebus-grant": view.as_json(),
    }


def _tombstone() -> dict[str, Any]:
    return {
        "name": "tombstone",
        "title": "Tombstone",
        "summary": (
            "No value: forget this key (after a delete or a retraction; log compaction "
            "removes the key). 墓碑：删除该键"
        ),
        "headers": {"type": "object", "properties": dict(_CLOUDEVENTS)},
        "payload": {"type": "null"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The enterprise's USCC. 统一社会信用代码"},
                "bindingVersion": BINDING,
            }
        },
    }

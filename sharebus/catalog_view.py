"""A category as people read it: its title, each field's type in words, its meaning, and
docs split into their English and Chinese halves.

Read from the record's own JSON (`title`, a field's `meaning`), so the catalog CLI and the
HTML catalog say the same thing, and say it for any `.avsc` the catalog accepts.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.catalog import Category
from schemas.meanings import MEANINGS

# The first character of a doc's Chinese half: CJK ideographs and CJK punctuation.
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A symbol's label in an enum's doc: the ideographs after it (`PAID 已缴, ...`).
_LABEL = r"[\u3400-\u9fff\uf900-\ufaff（）]+"


def type_name(avro_type: Any) -> str:
    """`string`, `decimal(18,2)`, `enum(A,B)`, `date`, `null | string`..."""
    if isinstance(avro_type, list):
        return " | ".join(type_name(t) for t in avro_type)
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "decimal":
            return f"decimal({avro_type.get('precision')},{avro_type.get('scale', 0)})"
        if avro_type.get("type") == "enum":
            return "enum(" + ",".join(avro_type.get("symbols", [])) + ")"
        return str(logical or avro_type.get("type"))
    return str(avro_type)


def split_doc(doc: str) -> tuple[str, str]:
    """(English, Chinese) of a doc written `English. 中文`; a doc that starts in Chinese
    is all Chinese, one without Chinese all English."""
    found = _CJK.search(doc)
    if found is None:
        return doc.strip(), ""
    return doc[: found.start()].strip(), doc[found.start() :].strip()


def title_of(category: Category) -> tuple[str, str]:
    """(English, Chinese) title: the record's `title`, else made from its id and the head
    of its Chinese doc (`纳税记录：...` gives 纳税记录), for records that do not declare one."""
    declared = category.record.get("title")
    if isinstance(declared, dict) and declared.get("en") and declared.get("zh"):
        return str(declared["en"]), str(declared["zh"])
    zh = split_doc(category.record.get("doc", ""))[1]
    head = re.split(r"[：:，,。]", zh, maxsplit=1)[0]
    return category.dataset.replace("-", " ").capitalize(), head


def declared_title(category: Category) -> dict[str, str] | None:
    """The record's `title` as written ({en, zh}), for scripts; None where it has none."""
    declared = category.record.get("title")
    return dict(declared) if isinstance(declared, dict) else None


def meanings_of(category: Category) -> dict[str, str]:
    """Field name -> its declared meaning, for the fields that declare one."""
    return {
        raw["name"]: raw["meaning"]
        for raw in category.record.get("fields", [])
        if isinstance(raw.get("meaning"), str)
    }


def meaning_text(meaning: str) -> str:
    """What a meaning says, in the vocabulary's words."""
    return MEANINGS.get(meaning, "")


def enum_of(avro_type: Any) -> dict[str, Any] | None:
    """The enum schema of a field's type (optional or not), or None."""
    for t in avro_type if isinstance(avro_type, list) else [avro_type]:
        if isinstance(t, dict) and t.get("type") == "enum":
            return t
    return None


def symbol_labels(enum: dict[str, Any]) -> list[tuple[str, str]]:
    """Each symbol with the words the enum's doc gives it (`PAID 已缴, ...`), or ''."""
    doc = str(enum.get("doc", ""))
    labels = []
    for symbol in enum.get("symbols", []):
        found = re.search(rf"(?<![A-Z0-9_]){re.escape(symbol)}\s+({_LABEL})", doc)
        labels.append((symbol, found.group(1).strip() if found else ""))
    return labels

"""A field's value from its meaning: whether it has one, then the meaning's generator,
then the value made exact for the field's Avro type.

Each meaning of `schemas.meanings` has one generator, in `synthetic.meaning_*`; none
knows a category. Parameters that apply to every meaning are handled here: `when` and
`present` (whether a field that may be empty has a value) and `choices` (with `by`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthetic import meaning_enums, meaning_numbers, meaning_time, meaning_words
from synthetic.avro_types import MISSING, by_type, fit
from synthetic.draft import Draft
from synthetic.plan import Spec

GENERATORS: dict[str, Callable[[Draft, Spec], Any]] = {
    **meaning_words.GENERATORS,
    **meaning_enums.GENERATORS,
    **meaning_time.GENERATORS,
    **meaning_numbers.GENERATORS,
}
DEFAULT_PRESENT = 0.9  # a field that may be empty, and says no more, is empty this often


def make(draft: Draft, spec: Spec) -> Any:
    """The value of one field of the draft record."""
    if not spec.branches:
        return None
    if not _present(draft, spec):
        return None if spec.nullable else False  # only a flag is ever absent unless nullable
    value = _choice(draft, spec) if "choices" in spec.params else MISSING
    if value is MISSING and spec.meaning in GENERATORS:
        value = GENERATORS[spec.meaning](draft, spec)
    if value is None and spec.nullable:
        return None
    for kind in spec.branches:
        if value is not None and value is not MISSING:
            exact = fit(value, kind, draft.rng)
            if exact is not MISSING:
                return exact
    # The meaning gave nothing this type can hold: the type alone decides.
    return by_type(spec.branches[0], draft.rng, draft.event, draft.plan.named)


def _present(draft: Draft, spec: Spec) -> bool:
    when = spec.get("when")
    # A condition empties a field that may be empty, or makes a flag false; a field that
    # must have a value has one whatever the condition says.
    conditional = spec.nullable or spec.meaning == "flag"
    if when and conditional and not all(_holds(draft.value(k), v) for k, v in when.items()):
        return False
    if not spec.nullable or spec.meaning == "follow-up-date":
        return True  # a follow-up date knows when it has a value: once the matter is closed
    if spec.get("adverse") and spec.meaning == "money":
        return draft.adverse
    present = spec.get("present", 1.0 if when else DEFAULT_PRESENT)
    return bool(draft.rng.random() < present)


def _holds(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return (value is not None and value is not False) == wanted
    return value in wanted


def _choice(draft: Draft, spec: Spec) -> Any:
    """One of the field's `choices` (those for the value of its `by` field), filled in."""
    choices = spec.params["choices"]
    if "by" in spec.params:
        key = draft.value(spec.params["by"])
        choices = choices.get(str(key), choices.get("*"))
        if choices is None:
            return MISSING  # no choices for this value: the meaning decides
    value = draft.rng.choice(choices)
    return draft.fill(value) if isinstance(value, str) else value

"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose
last is a check character over the first 17."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: object) -> str | None:
    """Why `code` is not a valid USCC, or None when it is."""
    if not isinstance(code, str):
        return f"a USCC is a string, got {type(code).__name__}"
    if len(code) != 18:
        shown = code if len(code) <= 40 else code[:40] + "..."
        return f"a USCC has 18 characters, '{shown}' has {len(code):,}"
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        return f"'{code}' has characters a USCC never uses: {''.join(bad)}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"'{code}' has check character {code[17]}, expected {expected}"
    return None


def is_valid(code: object) -> bool:
    return problem(code) is None

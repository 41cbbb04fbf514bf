"""Masks: hash, partial and generalize on the value types the catalog has."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from governance.errors import MaskError
from governance.masks import apply_mask, can_generalize, canonical_text, masked_type
from governance.models import Mask
from schemas.catalog import load_catalog

HASH = Mask(kind="hash")
GENERALIZE = Mask(kind="generalize")
KEY = b"secret-of-ccb"


def partial(first: int, last: int) -> Mask:
    return Mask(kind="partial", keep_first=first, keep_last=last)


@pytest.mark.parametrize("mask", [HASH, partial(1, 1), GENERALIZE])
def test_null_stays_null(mask: Mask) -> None:
    assert apply_mask(mask, None, None) is None


def test_hash_is_hmac_sha256_of_the_text_with_the_banks_key() -> None:
    expected = hmac.new(KEY, "张三".encode(), hashlib.sha256).hexdigest()
    assert apply_mask(HASH, "张三", KEY) == expected
    assert apply_mask(HASH, "张三", b"secret-of-bocom") != expected  # banks cannot join


def test_hash_without_a_key_is_an_error_not_a_clear_value() -> None:
    with pytest.raises(MaskError, match="secret key"):
        apply_mask(HASH, "张三", None)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("abc", "abc"),
        (True, "true"),
        (42, "42"),
        (Decimal("12000.50"), "12000.50"),
        (Decimal("1E+3"), "1000"),
        (1.5, "1.5"),
        (date(2026, 5, 1), "2026-05-01"),
        (datetime(2026, 5, 1, 8, tzinfo=timezone(timedelta(hours=8))), "2026-05-01T00:00:00+00:00"),
        (b"\x01\xff", "01ff"),
    ],
)
def test_canonical_text(value: Any, text: str) -> None:
    assert canonical_text(value) == text


@pytest.mark.parametrize(
    ("value", "first", "last", "shown"),
    [
        ("310108195907230810", 6, 4, "310108********0810"),
        ("张三丰", 1, 0, "张**"),
        ("abcd", 2, 2, "****"),  # nothing would be hidden: hide everything
        ("abc", 2, 2, "***"),  # too short to keep both ends
        ("abc", 0, 0, "***"),
        ("", 1, 1, ""),
        (123456, 1, 1, "1****6"),
    ],
)
def test_partial(value: Any, first: int, last: int, shown: str) -> None:
    assert apply_mask(partial(first, last), value, None) == shown


@pytest.mark.parametrize(
    ("value", "month"),
    [
        (date(2026, 5, 31), "2026-05"),
        # an instant is generalized to its month in Shanghai local time
        (datetime(2026, 5, 31, 15, 59, 59, tzinfo=UTC), "2026-05"),
        (datetime(2026, 5, 31, 16, 0, tzinfo=UTC), "2026-06"),
        (datetime(2026, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))), "2027-01"),
        (datetime(2026, 5, 31, 23, 0), "2026-05"),  # naive: already local
    ],
)
def test_generalize_dates_and_instants_to_their_month(value: Any, month: str) -> None:
    assert apply_mask(GENERALIZE, value, None) == month


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        (Decimal("-0.01"), "(-inf,0)"),
        (Decimal("0.00"), "[0,10000)"),
        (Decimal("9999.99"), "[0,10000)"),
        (Decimal("10000.00"), "[10000,50000)"),
        (50_000, "[50000,100000)"),
        (Decimal("100000"), "[100000,500000)"),
        (500_000.0, "[500000,1000000)"),
        (Decimal("1000000"), "[1000000,5000000)"),
        (Decimal("9999999.99"), "[5000000,10000000)"),
        (Decimal("10000000"), "[10000000,+inf)"),
        (10**12, "[10000000,+inf)"),
    ],
)
def test_generalize_amounts_to_bands_in_yuan(amount: Any, band: str) -> None:
    assert apply_mask(GENERALIZE, amount, None) == band


@pytest.mark.parametrize("value", ["上海", True, Decimal("NaN"), float("nan")])
def test_generalize_refuses_what_has_no_month_or_band(value: Any) -> None:
    with pytest.raises(MaskError):
        apply_mask(GENERALIZE, value, None)


def test_drop_is_not_a_value_mask() -> None:
    with pytest.raises(MaskError):
        apply_mask(Mask(kind="drop"), "x", KEY)
    with pytest.raises(MaskError):
        masked_type(Mask(kind="drop"))


@pytest.mark.parametrize("mask", [HASH, partial(6, 4), GENERALIZE])
def test_masked_fields_are_delivered_as_optional_strings(mask: Mask) -> None:
    assert masked_type(mask) == ["null", "string"]


def test_which_catalog_types_can_be_generalized() -> None:
    registration = load_catalog().get("market.registration")
    assert can_generalize(registration.field("registered_capital").type)  # decimal
    assert can_generalize(registration.field("established_on").type)  # date
    assert can_generalize(registration.field("operating_term_end").type)  # ["null", date]
    assert not can_generalize(registration.field("district").type)  # string
    assert not can_generalize(registration.field("scale").type)  # enum
    paid_at = load_catalog().get("tax.payment-record").field("paid_at").type
    assert can_generalize(paid_at)  # timestamp-millis
    assert can_generalize("int") and can_generalize(["null", "double"])
    assert not can_generalize("boolean") and not can_generalize(["null"])
    assert not can_generalize({"type": "string", "logicalType": "uuid"})

"""What a Subscriber refuses before it touches Kafka."""

from __future__ import annotations

import pytest

from consumers.subscriber import SubscribeError, Subscriber


def test_a_group_of_another_bank_is_refused() -> None:
    with pytest.raises(SubscribeError, match=r"groups of bank 'bosc' start with 'bosc\.'"):
        Subscriber("bosc", group="ccb.loans")


def test_a_malformed_category_or_bank_is_refused() -> None:
    with pytest.raises(SubscribeError, match="not a category id: payments"):
        Subscriber("bosc", categories=["payments"])
    with pytest.raises(SubscribeError, match="not a bank id"):
        Subscriber("Bank Of Shanghai")

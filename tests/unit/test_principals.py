"""The ACLs derived from the parties, judged as the broker would judge them: an ACL on a
prefix covers every name starting with it, a literal one only its own name."""

from __future__ import annotations

import pytest

from schemas import names
from sharebus.principals import (
    GOVERNANCE_WRITER,
    LITERAL,
    OPERATOR,
    REGISTRY,
    WORKERS,
    Acl,
    agency_principal,
    bank_principal,
    derive_acls,
    principals,
)

AGENCIES = ["tax", "hrss"]
BANKS = ["ccb", "bocom"]
ACLS = derive_acls(AGENCIES, BANKS)
GOVERNANCE = list(names.GOVERNANCE_TOPICS)


def allowed(principal: str, operation: str, resource: str, name: str) -> bool:
    for acl in ACLS:
        if acl.principal != principal or acl.resource != resource:
            continue
        if acl.operation not in (operation, "ALL"):
            continue
        if name == acl.name if acl.pattern == LITERAL else name.startswith(acl.name):
            return True
    return False


def test_every_party_has_a_principal_and_the_bus_its_own() -> None:
    assert principals(AGENCIES, BANKS) == [
        "agency-hrss",
        "agency-tax",
        "bank-bocom",
        "bank-ccb",
        WORKERS,
        OPERATOR,
        REGISTRY,
    ]


def test_an_agency_writes_only_its_own_source_topics() -> None:
    tax = agency_principal("tax")
    assert allowed(tax, "WRITE", "topic", "pub.tax.payment-record")
    assert not allowed(tax, "WRITE", "topic", "pub.hrss.social-insurance")
    # `pub.tax` without the dot would also cover an agency named `taxation`.
    assert not allowed(tax, "WRITE", "topic", "pub.taxation.x")
    assert not allowed(tax, "WRITE", "topic", "bank.ccb.tax.payment-record")
    assert not allowed(tax, "READ", "topic", "pub.tax.payment-record")
    for topic in [*GOVERNANCE, names.AUDIT, names.DLQ]:
        assert not allowed(tax, "WRITE", "topic", topic)
        assert not allowed(tax, "READ", "topic", topic)


def test_a_bank_reads_only_its_own_topics_with_its_own_groups() -> None:
    ccb = bank_principal("ccb")
    assert allowed(ccb, "READ", "topic", "bank.ccb.tax.payment-record")
    assert allowed(ccb, "READ", "group", "ccb.loans")
    assert not allowed(ccb, "READ", "topic", "bank.bocom.tax.payment-record")
    assert not allowed(ccb, "READ", "group", "bocom.loans")
    assert not allowed(ccb, "READ", "topic", "pub.tax.payment-record")
    assert not allowed(ccb, "WRITE", "topic", "bank.ccb.tax.payment-record")
    for topic in [*GOVERNANCE, names.AUDIT, names.DLQ]:
        assert not allowed(ccb, "READ", "topic", topic)


def test_workers_read_sources_governance_and_banks_and_write_banks_audit_dlq() -> None:
    assert allowed(WORKERS, "READ", "topic", "pub.tax.payment-record")
    for topic in GOVERNANCE:
        assert allowed(WORKERS, "READ", "topic", topic)
        assert not allowed(WORKERS, "WRITE", "topic", topic)
    assert allowed(WORKERS, "WRITE", "topic", "bank.ccb.tax.payment-record")
    assert allowed(WORKERS, "CREATE", "topic", "bank.ccb.tax.payment-record")
    assert allowed(WORKERS, "WRITE", "topic", names.AUDIT)
    assert allowed(WORKERS, "WRITE", "topic", names.DLQ)
    assert not allowed(WORKERS, "WRITE", "topic", "pub.tax.payment-record")
    # What a bank holds, read to retract it when an agreement ends.
    assert allowed(WORKERS, "READ", "topic", "bank.ccb.tax.payment-record")
    assert not allowed(WORKERS, "READ", "topic", "sharebus.registry.journal")
    assert allowed(WORKERS, "READ", "group", "sharebus-worker-7")
    assert allowed(WORKERS, "WRITE", "transactional_id", "sharebus-worker-1f2e3d")
    assert not allowed(WORKERS, "WRITE", "transactional_id", GOVERNANCE_WRITER)


@pytest.mark.parametrize("topic", GOVERNANCE)
def test_only_the_operator_writes_governance(topic: str) -> None:
    writers = {a.principal for a in ACLS if allowed(a.principal, "WRITE", "topic", topic)}
    assert writers == {OPERATOR}


def test_only_the_operator_holds_the_governance_writers_transaction() -> None:
    holders = {
        a.principal
        for a in ACLS
        if allowed(a.principal, "WRITE", "transactional_id", GOVERNANCE_WRITER)
    }
    assert holders == {OPERATOR}


def test_the_operator_manages_topics_but_reads_no_data() -> None:
    assert allowed(OPERATOR, "CREATE", "topic", "pub.tax.payment-record")
    assert allowed(OPERATOR, "ALTER_CONFIGS", "topic", "bank.ccb.tax.payment-record")
    assert not allowed(OPERATOR, "READ", "topic", "pub.tax.payment-record")
    assert not allowed(OPERATOR, "READ", "topic", "bank.ccb.tax.payment-record")
    assert not allowed(OPERATOR, "READ", "topic", names.AUDIT)


def test_the_registry_touches_only_its_own_topics_and_groups() -> None:
    assert allowed(REGISTRY, "WRITE", "topic", "sharebus.registry.journal")
    assert allowed(REGISTRY, "READ", "group", "sharebus-registry-1234")
    mine = {a for a in ACLS if a.principal == REGISTRY}
    assert all(a.name.startswith(("sharebus.registry.", "sharebus-registry-")) for a in mine)


def test_nobody_else_may_do_anything() -> None:
    assert not any(a.principal == "bank-nobody" for a in ACLS)
    assert {a.principal for a in ACLS} == set(principals(AGENCIES, BANKS))


def test_a_new_bank_is_data_not_code() -> None:
    more = derive_acls(AGENCIES, [*BANKS, "bosc"])
    added = more - ACLS
    assert {a.principal for a in added} == {"bank-bosc"}
    assert Acl("bank-bosc", "topic", "prefixed", "bank.bosc.", "READ") in added

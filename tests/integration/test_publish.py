"""The agency side on the real stack: every category through the SDK and the CLI, read
back field for field; every kind of bad input refused with a reason, nothing valid lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from typer.testing import CliRunner

from foundation.settings import KafkaSettings
from governance.topics import Topics, source_spec, system_specs
from producers.coerce import to_json
from producers.errors import PublishError
from producers.publisher import Publisher
from schemas.catalog import Catalog, Category, load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.cli import app
from synthetic.generate import population, records
from tests.integration.conftest import Endpoints, run_cli
from tests.integration.reading import end_offsets, ends_of, header, read_since

CATALOG = load_catalog()
PEOPLE = population(200, seed=11)


@pytest.fixture(scope="module")
def topics(kafka_settings: KafkaSettings) -> None:
    Topics(kafka_settings).ensure([source_spec(c.id) for c in CATALOG] + system_specs())


def decode_all(settings: KafkaSettings, messages: list[Any]) -> dict[str, dict[str, Any]]:
    serde = AvroSerde(registry_client(settings.registry()))
    out = {}
    for msg in messages:
        if msg.value() is not None:
            out[header(msg, "ce_id") or ""] = serde.decode(msg.value())[1]
    return out


def at_least(n: int) -> Callable[[list[Any]], bool]:
    return lambda messages: len(messages) >= n


def test_every_category_through_the_sdk_reads_back_field_for_field(
    kafka_settings: KafkaSettings, topics: None
) -> None:
    starts = ends_of(kafka_settings, [c.topic for c in CATALOG])
    sent: dict[str, tuple[str, dict[str, Any]]] = {}
    for agency in sorted({c.agency for c in CATALOG}):
        with Publisher(agency=agency, settings=kafka_settings) as pub:
            for cat in CATALOG.of_agency(agency):
                for record in records(cat, PEOPLE, 5, seed=3):
                    event_id = pub.publish(cat.id, "c", record["uscc"], after=record)
                    sent[event_id] = (cat.id, record)
    got = decode_all(kafka_settings, read_since(kafka_settings, starts, at_least(len(sent)), 120))
    for cat in CATALOG:
        want = {eid: rec for eid, (cid, rec) in sent.items() if cid == cat.id}
        assert set(want) <= set(got), f"{cat.id}: not every record came back"
        for event_id, record in want.items():
            assert got[event_id]["after"] == record, f"{cat.id}: a field changed on the way"
            assert got[event_id]["op"] == "c"
            assert got[event_id]["source"]["agency"] == cat.agency


def test_generate_then_publish_cli_round_trip(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    cat = CATALOG.get("hrss.social-insurance")
    data = tmp_path / "social.jsonl"
    gen = run_cli(
        endpoints,
        "generate",
        "--category",
        cat.id,
        "--count",
        "40",
        "--seed",
        "5",
        "--out",
        str(data),
    )
    assert gen.returncode == 0, gen.stderr
    lines = [json.loads(line) for line in data.read_text().splitlines()]
    assert len(lines) == 40

    start = end_offsets(kafka_settings, cat.topic)
    result = run_cli(endpoints, "publish", "--agency", "hrss", "--category", cat.id, str(data))
    assert result.returncode == 0, result.stderr
    assert "published 40 records" in result.stderr and "rejected 0" in result.stderr
    assert not (tmp_path / "social.jsonl.rejects.jsonl").exists()

    got = read_since(kafka_settings, start, lambda m: len(m) >= 40)
    decoded = [v["after"] for v in decode_all(kafka_settings, got).values()]
    expected = list(records(cat, population(1000, seed=5), 40, seed=5))
    assert sorted(map(to_json, decoded)) == sorted(map(to_json, expected))


def test_every_category_through_the_cli_reads_back_field_for_field(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    topics: None,
    tmp_path: Path,
    env: None,
) -> None:
    """`sharebus generate` for every category, then `sharebus publish` of each kind of field
    the catalog holds, run in-process (typer's CliRunner: the same commands, without a
    Python start per call). What the CLI adds to the SDK (tested above on every category)
    is reading JSON lines into Avro values, which depends on a field's type, not on its
    category: every type is published, through a category of each agency at least."""
    runner = CliRunner()
    for cat in CATALOG:
        args = ["generate", "--category", cat.id, "--count", "6", "--seed", "13"]
        gen = runner.invoke(app, [*args, "--out", str(tmp_path / f"{cat.id}.jsonl")])
        assert gen.exit_code == 0, gen.output
    chosen = covering_types(CATALOG)
    assert {c.agency for c in chosen} == {c.agency for c in CATALOG}
    starts = ends_of(kafka_settings, [c.topic for c in chosen])
    for cat in chosen:
        data = tmp_path / f"{cat.id}.jsonl"
        pub = runner.invoke(
            app, ["publish", "--agency", cat.agency, "--category", cat.id, str(data)]
        )
        assert pub.exit_code == 0, f"{cat.id}: {pub.output}"
    messages = read_since(kafka_settings, starts, at_least(6 * len(chosen)), 120)
    serde = AvroSerde(registry_client(kafka_settings.registry()))
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for msg in messages:
        by_topic.setdefault(msg.topic(), []).append(serde.decode(msg.value())[1]["after"])
    for cat in chosen:
        decoded = by_topic.get(cat.topic, [])
        expected = list(records(cat, population(1000, seed=13), 6, seed=13))
        assert sorted(map(to_json, decoded)) == sorted(map(to_json, expected)), cat.id


def covering_types(catalog: Catalog) -> list[Category]:
    """Few categories that hold, between them, every field type of the catalog (enums
    count as one type) and a category of every agency."""

    def kinds(cat: Category) -> set[str]:
        return {json.dumps(_shape(f.type), sort_keys=True) for f in cat.fields}

    chosen: list[Category] = []
    seen: set[str] = set()
    agencies: set[str] = set()
    for cat in sorted(catalog, key=lambda c: -len(kinds(c))):
        if not kinds(cat) <= seen or cat.agency not in agencies:
            chosen.append(cat)
            seen |= kinds(cat)
            agencies.add(cat.agency)
    return chosen


def _shape(avro_type: Any) -> Any:
    if isinstance(avro_type, list):
        return [_shape(t) for t in avro_type]
    if isinstance(avro_type, dict) and avro_type.get("type") == "enum":
        return "enum"
    return avro_type


def valid_payment_lines(n: int) -> list[dict[str, Any]]:
    cat = CATALOG.get("tax.payment-record")
    return [json.loads(to_json(r)) for r in records(cat, PEOPLE, n, seed=9)]


def test_bad_jsonl_lines_are_rejected_with_reasons_and_valid_ones_delivered(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    good = valid_payment_lines(6)
    wrong_type = {**good[0], "amount_paid": "lots"}
    missing = {k: v for k, v in good[0].items() if k != "period"}
    bad_uscc = {
        **good[0],
        "uscc": good[0]["uscc"][:17] + ("0" if good[0]["uscc"][17] != "0" else "1"),
    }
    unknown_field = {**good[0], "colour": "red"}
    lines = [
        json.dumps(good[0], ensure_ascii=False),
        json.dumps(wrong_type, ensure_ascii=False),
        json.dumps(good[1], ensure_ascii=False),
        json.dumps(missing, ensure_ascii=False),
        '{"uscc": "91310115MA1K4',  # malformed JSON
        json.dumps(bad_uscc, ensure_ascii=False),
        json.dumps(good[2], ensure_ascii=False),
        json.dumps(unknown_field, ensure_ascii=False),
        json.dumps({"op": "x", "after": good[3]}, ensure_ascii=False),
        json.dumps(good[4], ensure_ascii=False),
    ]
    data = tmp_path / "payments.jsonl"
    data.write_text("\n".join(lines) + "\n")
    start = end_offsets(kafka_settings, "pub.tax.payment-record")

    result = run_cli(
        endpoints, "publish", "--agency", "tax", "--category", "tax.payment-record", str(data)
    )

    assert result.returncode == 1
    assert "published 4 records" in result.stderr and "rejected 6" in result.stderr
    rejects = [
        json.loads(x) for x in (tmp_path / "payments.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    by_line = {r["line"]: r["reason"] for r in rejects}
    assert by_line[2] == "after.amount_paid: expected a decimal(18,2) amount, got 'lots'"
    assert by_line[4] == "after.period: required field is missing"
    assert by_line[5].startswith("not valid JSON")
    assert "invalid USCC" in by_line[6] and "check character" in by_line[6]
    assert by_line[8] == "after: tax.payment-record has no field colour"
    assert "op must be one of" in by_line[9]
    assert all(r["text"] == lines[r["line"] - 1] for r in rejects)

    delivered = read_since(kafka_settings, start, lambda m: len(m) >= 4, timeout=30)
    assert sorted(
        v["after"]["uscc"] for v in decode_all(kafka_settings, delivered).values()
    ) == sorted(g["uscc"] for g in (good[0], good[1], good[2], good[4]))


def test_a_csv_with_a_missing_column_is_rejected_line_by_line(
    endpoints: Endpoints, topics: None, tmp_path: Path
) -> None:
    data = tmp_path / "payments.csv"
    data.write_text("uscc,enterprise_name,amount_paid\n91350100M000100Y43,测试,1.00\n")
    result = run_cli(
        endpoints, "publish", "--agency", "tax", "--category", "tax.payment-record", str(data)
    )
    assert result.returncode == 1
    reject = json.loads((tmp_path / "payments.csv.rejects.jsonl").read_text())
    assert reject["line"] == 2
    assert reject["reason"].startswith("missing column(s): period, tax_type")


def test_a_good_csv_is_published(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    good = valid_payment_lines(3)
    columns = list(good[0])
    rows = [",".join("" if g[c] is None else str(g[c]) for c in columns) for g in good]
    data = tmp_path / "payments.csv"
    data.write_text(",".join(columns) + "\n" + "\n".join(rows) + "\n")
    start = end_offsets(kafka_settings, "pub.tax.payment-record")
    result = run_cli(
        endpoints, "publish", "--agency", "tax", "--category", "tax.payment-record", str(data)
    )
    assert result.returncode == 0, result.stderr
    got = decode_all(kafka_settings, read_since(kafka_settings, start, lambda m: len(m) >= 3))
    assert sorted(v["after"]["uscc"] for v in got.values()) == sorted(g["uscc"] for g in good)


def test_stdin_and_unknown_or_foreign_categories(endpoints: Endpoints, topics: None) -> None:
    line = json.dumps(valid_payment_lines(1)[0], ensure_ascii=False)
    ok = run_cli(
        endpoints, "publish", "--agency", "tax", "--category", "tax.payment-record", "-", stdin=line
    )
    assert ok.returncode == 0, ok.stderr
    unknown = run_cli(
        endpoints, "publish", "--agency", "tax", "--category", "tax.nope", "-", stdin=line
    )
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: unknown category 'tax.nope'"
    foreign = run_cli(
        endpoints,
        "publish",
        "--agency",
        "court",
        "--category",
        "tax.payment-record",
        "-",
        stdin=line,
    )
    assert foreign.returncode == 1
    assert "belongs to agency 'tax', not 'court'" in foreign.stderr


def test_sdk_refuses_with_field_level_messages(kafka_settings: KafkaSettings, topics: None) -> None:
    record = next(iter(records(CATALOG.get("tax.payment-record"), PEOPLE, 1, seed=1)))
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        with pytest.raises(PublishError, match=r"after.tax_type: expected enum, got 'SALES'"):
            pub.publish(
                "tax.payment-record", "c", record["uscc"], after={**record, "tax_type": "SALES"}
            )
        with pytest.raises(PublishError, match="belongs to agency 'court', not 'tax'"):
            pub.publish("court.judgment", "c", record["uscc"], after=record)
        with pytest.raises(PublishError, match=r"unknown category 'tax\.nope'"):
            pub.publish("tax.nope", "c", record["uscc"], after=record)
        with pytest.raises(PublishError, match="invalid USCC"):
            pub.publish("tax.payment-record", "c", "913101150000000000", after=record)
        event_id = pub.publish("tax.payment-record", "c", record["uscc"], after=record)
    assert pub.delivered == 1 and event_id


def test_delivery_reports_reach_the_callback(kafka_settings: KafkaSettings, topics: None) -> None:
    reports: list[tuple[str, object]] = []
    record = next(iter(records(CATALOG.get("tax.payment-record"), PEOPLE, 1, seed=2)))
    with Publisher(
        agency="tax", settings=kafka_settings, on_delivery=lambda i, e: reports.append((i, e))
    ) as pub:
        event_id = pub.publish("tax.payment-record", "c", record["uscc"], after=record)
    assert reports == [(event_id, None)]


def test_prepare_learns_every_topic_limit_of_the_agency_before_the_first_event(
    kafka_settings: KafkaSettings, topics: None
) -> None:
    """`prepare()` reads the size limit of each of the agency's topics (in one request) and
    learns its schema ids: the limit a topic had then is the one the publisher enforces."""
    tax = CATALOG.of_agency("tax")
    target = next(c for c in tax if c.id == "tax.payment-record")
    admin = AdminClient(kafka_settings.librdkafka())

    def max_message_bytes(op: AlterConfigOpType) -> None:
        entry = ConfigEntry("max.message.bytes", "500000", incremental_operation=op)
        resource = ConfigResource(ResourceType.TOPIC, target.topic, incremental_configs=[entry])
        admin.incremental_alter_configs([resource])[resource].result(timeout=30)

    pub = Publisher(agency="tax", settings=kafka_settings)
    max_message_bytes(AlterConfigOpType.SET)
    try:
        pub.prepare()
    finally:
        max_message_bytes(AlterConfigOpType.DELETE)
    assert pub.max_message_bytes(target.topic) == 500_000
    assert {pub.max_message_bytes(c.topic) for c in tax if c is not target} == {1_000_000}
    row = next(iter(records(target, PEOPLE, 1, seed=5)))
    row["enterprise_name"] = "长" * 200_000  # 600 kB in UTF-8
    with pytest.raises(PublishError, match="over the 500,000-byte limit"):
        pub.publish(target.id, "c", row["uscc"], after=row)

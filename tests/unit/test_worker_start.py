"""Before a worker starts: its status port, and a hash key for every grant that hashes."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from foundation.errors import ConfigError
from foundation.settings import PROJECT_ROOT, WorkerSettings
from governance.loader import governance_from_dir
from sharebus.worker_start import check_hash_keys, missing_hash_keys, with_status_port

GOV = governance_from_dir(PROJECT_ROOT / "examples" / "governance")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_the_sample_grants_that_hash_need_boscs_key() -> None:
    missing = missing_hash_keys(GOV, {}, NOW)
    assert len(missing) == 1 and missing[0].startswith("bosc (")
    assert "legal_representative_name" in missing[0]
    assert missing_hash_keys(GOV, {"bosc": b"k"}, NOW) == []
    with pytest.raises(ConfigError, match="no hash key for bank bosc"):
        check_hash_keys(GOV, {"ccb": b"k"})


def test_a_taken_default_port_is_replaced_and_an_explicit_one_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHAREBUS_WORKER_WEB_PORT", raising=False)
    default = WorkerSettings()
    taken = default.web_port
    with socket.socket() as s:
        # Taken by this test, or already by a worker running on this host: taken either way.
        try:
            s.bind(("127.0.0.1", taken))
            s.listen()
        except OSError:
            pass
        chosen = with_status_port(default)
        assert chosen.web_port not in (taken, 0)
        explicit = WorkerSettings(web_port=taken)
        with pytest.raises(ConfigError, match=f"status port {taken} is taken"):
            with_status_port(explicit)
    assert with_status_port(WorkerSettings(web_port=0)).web_port == 0

"""Test order: the fault suite first.

It counts every output of its events on the bank topics and the audit; a worker of
another group reading the same source topics (the integration tier's session worker)
would add its own copies. Run first, no other worker of the session exists yet.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: 0 if "tests/faults/" in item.nodeid else 1)

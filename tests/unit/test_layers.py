"""Imports run one way: the foundation at the bottom, then the data contract, governance
and synthetic data, then the agency, worker and bank sides, the operator's CLI and the demo
on top. A module never imports from a layer above its own, nor from a sibling package of
its layer (at module level or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

from foundation.settings import PROJECT_ROOT

LAYERS = {
    "foundation": 0,
    "schemas": 1,
    "governance": 2,
    "synthetic": 2,
    "producers": 3,
    "streams": 3,
    "consumers": 3,
    "sharebus": 4,
}


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_package_imports_from_its_own_layer_or_above() -> None:
    wrong = []
    for package, level in LAYERS.items():
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            for module in imported(path):
                top = module.split(".")[0]
                if top != package and LAYERS.get(top, -1) >= level:
                    wrong.append(f"{path.relative_to(PROJECT_ROOT)} imports {module}")
    assert wrong == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sharebus.cli import main\n")
    assert "sharebus.cli" in imported(module)

"""Installing the project prints no warning, and the wheel carries the schema folders and
the catalog page's style and script.

`pip install -e .` used to print hundreds of lines of setuptools warnings (one block per
`.avsc` folder, one about the editable finder) before anything else a newcomer sees. Both
builds run here as a user runs them, offline: `--no-build-isolation` takes the setuptools of
the dev extras instead of downloading one, `--no-index` makes sure nothing is fetched.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from schemas.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ["--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check"]


def _pip(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if "warn" in line.lower()]


def test_editable_install_prints_no_warning() -> None:
    # Reinstalls the very editable install the tests run from: the same files, the same .pth.
    output = _pip("install", *OFFLINE, "-e", ".")
    assert "Successfully installed sharebus" in output
    assert _warnings(output) == []


def test_wheel_carries_every_schema_and_prints_no_warning(tmp_path: Path) -> None:
    output = _pip("wheel", *OFFLINE, "--wheel-dir", str(tmp_path), ".")
    assert _warnings(output) == []
    (wheel,) = tmp_path.glob("sharebus-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"schemas/avro/{c.agency}/{c.dataset}.avsc" for c in load_catalog()}
    assert expected <= names
    assert "schemas/system/audit.avsc" in names
    assert "sharebus/stack/pom.xml" in names
    assert {"sharebus/site/catalog.css", "sharebus/site/catalog.js"} <= names

"""The built wheel holds every module and data file a non-editable install needs."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.helpers import REPO


@pytest.mark.network  # pip fetches the build backend from the package index
def test_wheel_contents(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("qms_docs-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    package_files = {p.relative_to(REPO).as_posix() for p in (REPO / "qms_docs").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts}
    missing = sorted(f for f in package_files if f not in names)
    assert missing == []
    schemas = {p.name for p in (REPO / "qms_docs" / "records_schema").glob("*.json")}
    assert {f"qms_docs/records_schema/{name}" for name in schemas} <= names
    assert "qms_docs/standards/iso13485-2016.yaml" in names

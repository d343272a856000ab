"""The caches' stamp covers the whole package: any edit to a module or schema drops them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import qms_docs
from qms_docs import cache

PACKAGE = Path(qms_docs.__file__).parent


@pytest.fixture
def package(tmp_path):
    copy = tmp_path / "qms_docs"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_stamp_is_the_digest_of_the_installed_package():
    assert cache.stamp() == cache.package_digest(PACKAGE)


@pytest.mark.parametrize("name", ["schemas.py", "history.py", "status.py", "__init__.py",
                                  "reports/traceability.py", "sphinxext/directives.py",
                                  "records_schema/approval.schema.json",
                                  "standards/iso9001-2015.yaml"])
def test_editing_any_module_or_data_file_changes_the_stamp(package, name):
    before = cache.package_digest(package)
    file = package / name
    original = file.read_bytes()
    file.write_bytes(original + b"\n")
    assert cache.package_digest(package) != before
    file.write_bytes(original)
    assert cache.package_digest(package) == before


def test_a_new_or_moved_module_changes_the_stamp(package):
    before = cache.package_digest(package)
    (package / "extra_rules.py").write_text("RULE = 1\n")
    assert cache.package_digest(package) != before
    (package / "extra_rules.py").unlink()
    (package / "schemas.py").rename(package / "reports" / "schemas.py")
    assert cache.package_digest(package) != before


def test_files_that_cache_nothing_leave_the_stamp(package):
    """Templates shape new files and pages, never a cached record or fingerprint."""
    before = cache.package_digest(package)
    (package / "templates" / "print.css.j2").write_text("/* edited */\n", encoding="utf-8")
    (package / "static" / "qms.css").write_text("/* edited */\n", encoding="utf-8")
    assert cache.package_digest(package) == before

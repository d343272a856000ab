"""The core runs without the PDF and xlsx stack; the commands that need it name the extra.

``pip install qms-docs`` (no extras) is what the ``qms-check`` pre-commit hook installs:
it must check a QMS without WeasyPrint, pypdf or openpyxl.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from qms_docs import __version__

REPO = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
BASIC = REPO / "tests" / "roots" / "basic"
EXTRA_MODULES = ("weasyprint", "pypdf", "pikepdf", "openpyxl", "pydyf")

# Runs the qms command line (or the code after it) with the extras' modules unimportable,
# as if they were not installed.
BLOCKED = f"""
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Blocked())
for name in [m for m in sys.modules if m.split(".")[0] in {EXTRA_MODULES!r}]:
    del sys.modules[name]
"""


def run_blocked(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QMS_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-c", BLOCKED + code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def qms_blocked(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_blocked("from qms_docs.cli import main\nsys.exit(main(sys.argv[1:]))",
                       *args, cwd=cwd)


def test_every_module_imports_without_the_extras(tmp_path):
    code = ("import importlib, pkgutil, qms_docs\n"
            "names = [m.name for m in pkgutil.walk_packages(qms_docs.__path__, 'qms_docs.')\n"
            "         if not m.name.endswith('__main__')]\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "print(len(names))")
    done = run_blocked(code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


def test_check_works_without_the_extras(tmp_path):
    done = qms_blocked("--repo", str(REPO), "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 errors" in done.stdout + done.stderr


def test_pdf_without_the_pdf_extra_says_which_extra(tmp_path):
    done = qms_blocked("--repo", str(BASIC), "build", "pdf", "--out", str(tmp_path / "pdf"),
                       cwd=tmp_path)
    assert done.returncode == 2
    assert "PDFs need the pdf extra: pip install 'qms-docs[pdf]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "pdf").exists()


def test_audit_pack_without_the_pdf_extra_says_which_extra(tmp_path):
    """The example QMS has documents in force: its pack holds their PDFs."""
    target = tmp_path / "pack.zip"
    done = qms_blocked("--repo", str(REPO), "audit-pack", "--as-of", dt.date.today().isoformat(),
                       "-o", str(target), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "PDFs need the pdf extra: pip install 'qms-docs[pdf]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists()


@pytest.mark.parametrize("command", ["list", "trace"])
def test_xlsx_without_the_xlsx_extra_says_which_extra(tmp_path, command):
    target = tmp_path / "report.xlsx"
    done = qms_blocked("--repo", str(BASIC), command, "--format", "xlsx", "-o", str(target),
                       cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "xlsx exports need the xlsx extra: pip install 'qms-docs[xlsx]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists()


@pytest.mark.network  # pip installs the dependencies from the package index
@pytest.mark.slow  # a fresh virtual environment and a wheel build (~15 s); the import
# blocker tests above show the same of the core in every run
def test_fresh_install_without_extras(tmp_path):
    """A real ``pip install`` of the wheel into an empty venv: no PDF stack, checks work."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("qms_docs-*.whl"))
    venv.create(tmp_path / "venv", with_pip=True)
    bin_ = tmp_path / "venv" / "bin"
    installed = subprocess.run([bin_ / "python", "-m", "pip", "install", "-q",
                                "--disable-pip-version-check", str(wheel)],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    for module in EXTRA_MODULES:
        probe = subprocess.run([bin_ / "python", "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} was installed without its extra"

    env = {**os.environ, "QMS_NO_CACHE": "1"}
    check = subprocess.run([bin_ / "qms", "--repo", str(REPO), "check"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    version = subprocess.run([bin_ / "qms", "--version"], capture_output=True, text=True)
    assert version.stdout.strip().endswith(__version__)
    pdf = subprocess.run([bin_ / "qms", "--repo", str(BASIC), "build", "pdf", "--out",
                          str(tmp_path / "pdf")], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert pdf.returncode == 2
    assert "pip install 'qms-docs[pdf]'" in pdf.stderr and "Traceback" not in pdf.stderr


SETUPTOOLS_WARNINGS = ("Package would be ignored", "SetuptoolsWarning", "InformationOnly",
                       "SetuptoolsDeprecationWarning", "BuildBackendWarning", "_Warning:")


@pytest.mark.network  # pip fetches the build backend from the package index
def test_install_prints_no_setuptools_warnings(tmp_path):
    """An editable install (pip -v shows the build backend's output) warns of nothing."""
    venv.create(tmp_path / "venv", with_pip=True)
    done = subprocess.run([tmp_path / "venv" / "bin" / "python", "-m", "pip", "install", "-v",
                           "--no-deps", "--disable-pip-version-check", "-e", str(REPO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert [w for w in SETUPTOOLS_WARNINGS if w in output] == []


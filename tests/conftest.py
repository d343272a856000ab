"""Shared fixtures: scenario projects copied to tmp_path, Sphinx builds, the CLI runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOTS = Path(__file__).parent / "roots"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class BuildResult:
    returncode: int
    warnings: str
    outdir: Path

    def needs(self) -> dict:
        import json

        data = json.loads((self.outdir / "needs.json").read_text(encoding="utf-8"))
        return data["versions"][data["current_version"]]["needs"]


def sphinx_build(srcdir: Path, *, strict: bool = True, builder: str = "html") -> BuildResult:
    """Run sphinx-build in a subprocess (sphinx-needs keeps global state per process)."""
    outdir = srcdir / "_build" / builder
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-q", "-N", str(srcdir), str(outdir)]
    if strict:
        command[3:3] = ["-W", "--keep-going"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=srcdir)
    return BuildResult(done.returncode, done.stderr, outdir)


@pytest.fixture
def scenario(tmp_path):
    """Copy a scenario root (tests/roots/<name>) into tmp_path and return its path."""

    def make(name: str = "basic") -> Path:
        target = tmp_path / name
        shutil.copytree(ROOTS / name, target)
        return target

    return make


GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/ from the current output (on purpose only).")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/<name>; rewrite it only with --update-golden."""

    def check(name: str, text: str) -> None:
        file = GOLDEN / name
        if request.config.getoption("--update-golden"):
            file.parent.mkdir(exist_ok=True)
            file.write_text(text, encoding="utf-8")
        assert file.is_file(), f"missing golden file {file}; run pytest --update-golden"
        assert text == file.read_text(encoding="utf-8")

    return check


@pytest.fixture
def runner():
    return CliRunner()


def run_qms(runner: CliRunner, args: list[str]):
    """Invoke the qms group the way the console script does (exit codes included)."""
    from qms_docs.cli import cli

    return runner.invoke(cli, args, standalone_mode=True)

"""Fixtures (scenario projects copied to tmp_path, throwaway QMS repositories, the CLI
runner, golden files) and the suite's hooks: the markers, and the counters of the
reliability properties in the terminal summary. What the fixtures use is in
tests/helpers.py; test modules import from there, never from this file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import (
    COUNTERS,
    GOLDEN,
    ROOTS,
    THOROUGH,
    QmsRepo,
    counters,
    new_repo,
    watch_subprocesses,
)


@pytest.fixture
def scenario(tmp_path):
    """Copy a scenario root (tests/roots/<name>) into tmp_path and return its path."""

    def make(name: str = "basic") -> Path:
        target = tmp_path / name
        shutil.copytree(ROOTS / name, target)
        return target

    return make


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def make_repo(tmp_path, runner, monkeypatch):
    """A copy of tests/roots/basic with Ash Author (and ``extra`` qms.toml text), committed;
    ``day`` sets the clock before the first commit."""

    def make(extra: str = "", day: str | None = None, cls: type[QmsRepo] = QmsRepo) -> QmsRepo:
        repo = cls(tmp_path / "qms", runner, monkeypatch)
        if day:
            repo.at(day)
        new_repo(repo.root, extra=extra, gitignore=False, when=repo.when)
        return repo

    return make


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


# --- markers ----------------------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    """``slow`` tests run only when ``-m`` names them (``-m slow``, ``-m "slow or not slow"``),
    so that ``-m "not browser"`` still leaves them out."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def _runs_sphinx(command: list[str]) -> bool:
    return any(a == "-m" and b == "sphinx" for a, b in zip(command, command[1:], strict=False))


@pytest.fixture(autouse=True)
def _sphinx_marker_is_true(request, monkeypatch):
    """A test that runs Sphinx (``python -m sphinx``, directly or through qms in-process)
    carries the ``sphinx`` marker, so ``-m "not sphinx"`` really leaves Sphinx out."""
    ran = watch_subprocesses(monkeypatch, _runs_sphinx)
    yield
    if ran and request.node.get_closest_marker("sphinx") is None:
        pytest.fail(f"{request.node.nodeid} runs Sphinx without the sphinx marker")


# --- the counters of the reliability properties ----------------------------------------

def pytest_sessionfinish(session):
    """In a pytest-xdist worker: hand the counters to the controller, which prints them."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["qms_counters"] = {name: dict(counts) for name, counts in COUNTERS.items()
                                  if counts}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: add up what each worker counted."""
    for name, counts in getattr(node, "workeroutput", {}).get("qms_counters", {}).items():
        counters(name).update(counts)


def pytest_terminal_summary(terminalreporter):
    """Print the counters the properties filled (tests/helpers.py: ``counters``), and append
    them to the file named by QMS_RELIABILITY_REPORT (one JSON line each) when it is set."""
    filled = {name: counts for name, counts in sorted(COUNTERS.items()) if counts}
    if not filled:
        return
    terminalreporter.section("reliability counters")
    target = os.environ.get("QMS_RELIABILITY_REPORT")
    for name, counts in filled.items():
        terminalreporter.write_line(
            f"{name}: " + ", ".join(f"{key}={value}" for key, value in counts.items()))
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"property": name, "thorough": THOROUGH, **counts})
                             + "\n")

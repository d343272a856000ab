"""The library below the front ends imports neither click, Sphinx nor docutils."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, ROOTS

PACKAGE = REPO / "qms_docs"
FRONT_ENDS = {"cli", "sphinxext"}
FORBIDDEN = {"click", "sphinx", "sphinx_needs", "docutils"}
LOWER = sorted(p for p in PACKAGE.rglob("*.py") if p.stem != "__main__"
               and not FRONT_ENDS & set(p.relative_to(PACKAGE).parts))


def _dotted(path: Path) -> str:
    """``qms_docs.reports.training`` for qms_docs/reports/training.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_roots(file: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", LOWER, ids=lambda p: _dotted(p))
def test_lower_layer_imports_no_front_end(module: Path):
    assert not (imported_roots(module) & FORBIDDEN), f"{module.name} imports a front end"


def test_there_are_lower_modules_to_check():
    assert {"qms_docs.model", "qms_docs.errors", "qms_docs.catalog", "qms_docs.status",
            "qms_docs.reports.traceability", "qms_docs.reports.auditpack"} <= {
        _dotted(p) for p in LOWER}


def test_importing_the_library_loads_no_front_end():
    modules = ", ".join(_dotted(p) for p in LOWER)
    code = (f"import sys, qms_docs, {modules}\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(FORBIDDEN)!r})\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_qms_check_loads_neither_sphinx_nor_git_nor_jinja(tmp_path):
    """A pre-commit hook runs qms check on every commit: it imports only what it uses."""
    root = ROOTS / "basic"
    code = ("import sys; from qms_docs.cli import main\n"
            f"code = main(['--repo', {str(root)!r}, 'check'])\n"
            "heavy = ('sphinx', 'docutils', 'git', 'jinja2', 'weasyprint')\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == "0 []", out.stderr

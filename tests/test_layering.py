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
            "qms_docs.reports.traceability", "qms_docs.auditpack"} <= {
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


def _git_uses(tree: ast.AST) -> list[int]:
    """Lines that run git: a subprocess call whose command starts with "git", a call
    through GitPython's ``<repo>.git.<command>()``, or an import of GitPython outside an
    ``if TYPE_CHECKING:`` block (annotations only)."""
    lines = []
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                   for child in node.body for n in ast.walk(child)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id == "subprocess" and node.args
                    and isinstance(node.args[0], ast.List) and node.args[0].elts
                    and isinstance(node.args[0].elts[0], ast.Constant)
                    and node.args[0].elts[0].value == "git"):
                lines.append(node.lineno)
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)
                    and func.value.attr == "git"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if node.level == 0 else [])
            if any(name.split(".")[0] == "git" for name in names):
                lines.append(node.lineno)
    return lines


ALL = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", ALL, ids=_dotted)
def test_only_the_git_layer_runs_git(module: Path):
    """gitrepo.py is the one module that runs git or loads GitPython (DESIGN: one layer
    owns each outside system): a rule about git output is then read in one place."""
    uses = _git_uses(ast.parse(module.read_text(encoding="utf-8")))
    if module.name == "gitrepo.py":
        assert uses, "the check finds nothing even where git runs"
    else:
        assert uses == [], f"{module.name} runs git at lines {uses}: ask gitrepo.py"

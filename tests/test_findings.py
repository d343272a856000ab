"""The registry of finding codes (qms_docs/findings.py), the code that makes findings and
the README's table of finding codes agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qms_docs import findings
from qms_docs.model import Finding

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qms_docs"
# A code as the code passes it: Finding("code", ...), _finding("code", ...) or
# _finding(doc, "code", ...) in checks.py, Reference(..., code="code") in includes.py,
# and the code on the line after an opening Finding(.
MADE = re.compile(r"""(?:Finding\(\s*|_finding\(\s*(?:doc,\s*)?|code=)"([a-z][a-z-]+)\"""")


def _made_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "findings.py":
            continue
        for code in MADE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, path.relative_to(ROOT).as_posix())
    return found


def test_readme_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| code | what it means | what fixes it |")
    table = readme[start:readme.index("\n\n", start)]
    assert table == findings.markdown_table()


def test_every_code_made_is_registered_and_every_registered_code_is_made() -> None:
    made = _made_codes()
    assert len(made) > 30  # the pattern still finds the places that make findings
    unregistered = {code: where for code, where in made.items() if code not in findings.CODES}
    assert unregistered == {}
    assert sorted(set(findings.CODES) - set(made)) == []


def test_a_finding_with_an_unregistered_code_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unregistered finding code 'no-such-code'"):
        Finding("no-such-code", "message")
    assert Finding("bad-header", "message").code == "bad-header"


def test_codes_are_unique_and_warnings_are_marked() -> None:
    codes = [code for group in findings.GROUPS for code in group.codes]
    assert len(codes) == len(set(codes))
    assert {g.severity for g in findings.GROUPS} == {"error", "warning"}
    assert findings.describe("review-overdue").severity == "warning"


def test_the_readme_names_only_registered_warning_subtypes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subtypes = set(re.findall(r"\[qms\.([a-z_]+)\]", readme))
    assert subtypes
    assert {s for s in subtypes if s.replace("_", "-") not in findings.CODES} == set()

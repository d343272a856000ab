"""One pattern per kind of id (model.py), read the same way by every module."""

from __future__ import annotations

import json
from pathlib import Path

from qms_docs.documents import parse_revision
from qms_docs.model import DOCUMENT_ID, DOCUMENT_ID_REGEX, REVISION_LINE
from qms_docs.sphinxext.needs_config import ID_REGEX

SCHEMAS = Path(__file__).resolve().parents[1] / "qms_docs" / "records_schema"


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "pattern" and isinstance(v, str)] + [
            p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


def test_the_document_id_pattern_is_one():
    assert ID_REGEX == DOCUMENT_ID_REGEX  # sphinx-needs' needs_id_regex
    found = [p for file in SCHEMAS.glob("*.schema.json")
             for p in _patterns(json.loads(file.read_text(encoding="utf-8")))
             if "(-[A-Z0-9]+)+" in p]
    assert found and set(found) == {DOCUMENT_ID_REGEX}
    assert DOCUMENT_ID.fullmatch("SOP-001") and DOCUMENT_ID.fullmatch("QM-A1-2")
    assert not DOCUMENT_ID.fullmatch("SOP") and not DOCUMENT_ID.fullmatch("sop-001")


def test_the_revision_pattern_is_one():
    text = b".. sop:: Title\n   :id: SOP-001\n   :revision: 12\n   :owner: qm\n"
    found = REVISION_LINE.search(text)
    assert found and found.group("number") == b"12" and found.group("lead") == b"   :revision: "
    assert REVISION_LINE.match(b":revision: 3 \n").group("number") == b"3"  # MyST
    assert REVISION_LINE.match(b"   :revision: 1234567890\n") is None  # ten digits
    assert parse_revision("123456789") == 123456789 and parse_revision("1234567890") is None
    assert parse_revision("\u0663") is None  # an Arabic-Indic three: not ASCII
    assert REVISION_LINE.match("   :revision: \u0663\n".encode()) is None

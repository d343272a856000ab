from pathlib import Path

import pytest

from qms_docs.catalog import available_standards, load_catalog, parse_catalog, resolve_clause
from qms_docs.errors import InputError, UsageError


@pytest.fixture(scope="module")
def iso():
    return load_catalog("iso9001-2015")


def test_catalog_has_every_clause_of_chapters_4_to_10(iso):
    numbers = [c.number for c in iso.clauses]
    assert len(numbers) == 91
    assert [n for n in numbers if "." not in n] == ["4", "5", "6", "7", "8", "9", "10"]
    for deep in ("7.1.5.1", "7.1.5.2", "7.5.3.2", "8.2.3.2", "9.2.2", "10.2.2", "8.3.6"):
        assert deep in numbers
    assert len(iso.leaves) == 65


def test_titles_parents_and_ids(iso):
    by_number = iso.by_number()
    assert by_number["8.4"].title == (
        "Control of externally provided processes, products and services")
    assert by_number["9.2"].title == "Internal audit"
    assert by_number["7.1.5.2"].title == "Measurement traceability"
    assert by_number["7.1.5.2"].parent == "7.1.5"
    assert by_number["7.5.3"].need_id == "ISO9001-7-5-3"
    assert not by_number["7.5.3"].is_leaf and by_number["7.5.3.1"].is_leaf
    for clause in iso.clauses:
        assert clause.parent is None or clause.parent in by_number


def test_documented_information_flags(iso):
    by_number = iso.by_number()
    assert by_number["4.3"].maintain and not by_number["4.3"].retain
    assert by_number["7.2"].retain and not by_number["7.2"].maintain
    assert by_number["8.1"].maintain and by_number["8.1"].retain
    assert not by_number["7.4"].maintain and not by_number["7.4"].retain
    maintained = {c.number for c in iso.clauses if c.maintain}
    assert {"4.3", "5.2.2", "6.2.1"} <= maintained


def test_resolve_clause_by_number_or_id(iso):
    assert resolve_clause("7.5.3.1", [iso]).need_id == "ISO9001-7-5-3-1"
    assert resolve_clause("iso9001-8-4-1", [iso]).number == "8.4.1"
    assert resolve_clause("9001:8.7.2", [iso]).number == "8.7.2"
    with pytest.raises(UsageError, match="no clause '7.9'"):
        resolve_clause("7.9", [iso])


def test_a_heading_is_refused_with_its_requirement_clauses_offered(iso):
    with pytest.raises(UsageError) as refused:
        resolve_clause("8.7", [iso])
    assert refused.value.message == (
        "8.7 is a heading of ISO 9001:2015; did you mean 8.7.1 or 8.7.2?")
    with pytest.raises(UsageError, match=r"7\.5\.3 is a heading .* 7\.5\.3\.1 or 7\.5\.3\.2\?"):
        resolve_clause("ISO9001-7-5-3", [iso])


def test_an_unknown_clause_gets_the_nearest_ones(iso):
    with pytest.raises(UsageError) as refused:
        resolve_clause("8.7.3", [iso])
    assert refused.value.message.endswith("; did you mean 8.7.1 or 8.7.2?")
    with pytest.raises(UsageError) as refused:
        resolve_clause("42", [iso])
    assert "did you mean" not in refused.value.message  # nothing near: no guess


def test_unknown_standard_is_a_usage_error():
    assert "iso9001-2015" in available_standards()
    with pytest.raises(UsageError, match="unknown standard"):
        load_catalog("iso9999")


def test_a_second_standard_is_just_data(tmp_path: Path):
    file = tmp_path / "mini.yaml"
    file.write_text(
        "standard: mini-1\ntitle: Mini standard\nneed_prefix: MINI\nclauses:\n"
        "  - {number: '1', title: One, parent: null, maintain: false, retain: false}\n"
        "  - {number: '1.1', title: One one, parent: '1', maintain: true, retain: false}\n",
        encoding="utf-8")
    mini = parse_catalog(file)
    assert [c.need_id for c in mini.clauses] == ["MINI-1", "MINI-1-1"]
    assert [c.number for c in mini.leaves] == ["1.1"]


@pytest.mark.parametrize("body, message", [
    ("standard: x\ntitle: X\nneed_prefix: X\nclauses:\n  - {number: '1', parent: null, "
     "maintain: false, retain: false}\n", "'title' is missing"),
    ("standard: x\ntitle: X\nneed_prefix: X\nclauses:\n  - {number: '1.1', title: A, "
     "parent: '1', maintain: false, retain: false}\n", "parent 1 is not listed before it"),
    ("standard: x\ntitle: X\nneed_prefix: X\nclauses: [\n", "not valid YAML"),
])
def test_bad_catalogs_are_refused_with_a_reason(tmp_path: Path, body: str, message: str):
    file = tmp_path / "bad.yaml"
    file.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        parse_catalog(file)

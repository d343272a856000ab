"""Records typed by kind (qms_docs/record_kinds.py): each class reads its schema's fields."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from qms_docs.record_kinds import (
    ApprovalRecord,
    ChangeRecord,
    Record,
    RetirementRecord,
    Signer,
    TrainingRecord,
    make_record,
    of_kind,
    retirement_of,
)
from qms_docs.records import new_record, validate_record

ANA = {"name": "Ana Example", "email": "Ana@Example.org"}
BO = {"name": "Bo Example", "email": "bo@example.org"}


def _record(kind: str, **fields: object) -> Record:
    data = new_record(kind, "SOP-001", **fields)
    return validate_record(data, f"records/SOP-001/{kind}.yaml")


def test_each_kind_reads_its_fields_typed() -> None:
    change = _record("change", from_revision=1, to_revision=2, reason="why", author=ANA)
    approval = _record("approval", revision=2, fingerprint="f" * 64, approver=BO, role="qa",
                       meaning="approval", effective="2026-01-02", commit="c" * 40)
    training = _record("training", revision=2, fingerprint="f" * 64, trainee=ANA,
                       trainer=BO, method="read")
    assert isinstance(change, ChangeRecord) and isinstance(approval, ApprovalRecord)
    assert isinstance(training, TrainingRecord)
    assert (change.from_revision, change.to_revision, change.reason) == (1, 2, "why")
    assert change.training and change.summary == "" and change.about_revision == 2
    assert change.author == Signer("Ana Example", "Ana@Example.org") == change.person()
    assert change.author.has_email("ana@example.org")
    assert (approval.revision, approval.role, approval.meaning) == (2, "qa", "approval")
    assert approval.effective == dt.date(2026, 1, 2) and approval.signature is None
    assert approval.stated == approval.data["date"] and approval.id == approval.data["id"]
    assert training.person() == Signer(**ANA) and training.maker() == Signer(**BO)
    records = [change, approval, training]
    assert of_kind(records, ApprovalRecord) == [approval]
    assert retirement_of(records) is None
    retired = _record("retirement", revision=2, reason="gone", approver=BO)
    assert isinstance(retired, RetirementRecord) and retirement_of([*records, retired]) is retired
    assert retired.superseded_by is None


def test_a_record_is_made_with_its_kinds_class() -> None:
    data = new_record("change", "SOP-001", from_revision=1, to_revision=2, reason="why",
                      author=ANA)
    assert type(make_record("change", "x.yaml", data)) is ChangeRecord
    with pytest.raises(TypeError, match="make_record"):
        Record("change", "x.yaml", data)
    with pytest.raises(TypeError):
        ApprovalRecord("change", "x.yaml", data)
    approval = _record("approval", revision=2, fingerprint="f" * 64, approver=BO, role="qa",
                       meaning="approval", effective="2026-01-02", commit="c" * 40)
    judged = replace(approval, required=("qa",))  # the judge's copy keeps its class
    assert isinstance(judged, ApprovalRecord) and judged.required == ("qa",)

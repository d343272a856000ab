"""Training on change, with scripted dates (no sleeping)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tests.helpers import ASH, ROOTS, QmsRepo, sphinx_build

OLLY = '\n[[people]]\nname = "Olly Operator"\nemail = "olly@example.com"\nroles = ["operator"]\n'


class Plant(QmsRepo):
    def matrix(self, *args: str) -> dict[tuple[str, str], dict]:
        rows = json.loads(self.qms("quinn", "training", "--format", "json", *args).stdout)
        return {(r["email"].split("@")[0], r["document"]): r for r in rows}


@pytest.fixture
def plant(tmp_path, runner, monkeypatch) -> Plant:
    """SOP-002 concerns operators and production managers; effective on 2025-01-10."""
    root = tmp_path / "qms"
    shutil.copytree(ROOTS / "basic", root)
    toml = root / "qms.toml"
    toml.write_text(toml.read_text().replace('[types.sop]', '[types.sop]\ntraining_days = 10')
                    + ASH + OLLY)
    sop = root / "procedures" / "sop-002.rst"
    sop.write_text(sop.read_text().replace("   :owner:", "   :audience: operator, "
                                           "production-manager\n   :owner:"))
    p = Plant(root, runner, monkeypatch).at("2025-01-05")
    p.git("init", "-q", "-b", "main")
    p.commit("initial")
    p.at("2025-01-10")
    p.qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    p.qms("pat", "approve", "SOP-002", "--role", "production-manager")
    p.commit("approve", who="quinn")
    return p


def test_effective_revision_is_owed_then_trained_by_everyone(plant):
    m = plant.at("2025-01-12").matrix()
    assert {k: v["state"] for k, v in m.items()} == {
        ("pat", "SOP-002"): "due", ("ash", "SOP-002"): "due", ("olly", "SOP-002"): "due"}
    assert m[("olly", "SOP-002")]["due"] == "2025-01-20"
    plant.qms("olly", "train", "SOP-002")
    plant.qms("quinn", "train", "SOP-002", "--person", "pat@example.com", "--method", "briefing")
    plant.qms("ash", "train", "sop-002", "--method", "on-the-job", "--note", "Shift B")
    m = plant.matrix()
    assert {v["state"] for v in m.values()} == {"trained"}
    assert m[("pat", "SOP-002")]["revision"] == 1
    assert plant.qms("quinn", "training", "--overdue").exit_code == 0


def test_overdue_after_training_days(plant):
    plant.at("2025-01-21")
    m = plant.matrix()
    assert m[("olly", "SOP-002")]["state"] == "overdue"
    result = plant.qms("quinn", "training", "--overdue", "--format", "csv", code=1)
    assert result.stdout.count("overdue") == 3
    verify = json.loads(plant.qms("quinn", "verify", "--format", "json").stdout)
    late = [f for f in verify["findings"] if f["code"] == "training-overdue"]
    assert len(late) == 3 and {f["severity"] for f in late} == {"warning"}
    assert plant.qms("quinn", "verify", "--strict", code=1)


def _revise(plant: Plant, *flags: str) -> None:
    plant.at("2025-03-01").qms("ash", "revise", "SOP-002", "--reason", "Change", *flags)
    sop = plant.root / "procedures" / "sop-002.rst"
    sop.write_text(sop.read_text() + "\nNew step.\n")
    plant.commit("r2")
    plant.at("2025-03-05")
    plant.qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    plant.qms("pat", "approve", "SOP-002", "--role", "production-manager")
    plant.commit("approve r2", who="quinn")


def test_new_revision_with_training_is_due_again(plant):
    plant.at("2025-01-12").qms("olly", "train", "SOP-002")
    _revise(plant)
    m = plant.at("2025-03-06").matrix()
    assert m[("olly", "SOP-002")]["state"] == "due"
    assert m[("olly", "SOP-002")]["revision"] == 2
    plant.qms("olly", "train", "SOP-002")
    assert plant.matrix()[("olly", "SOP-002")]["state"] == "trained"


def test_no_training_revision_owes_nothing_new(plant):
    plant.at("2025-01-12").qms("olly", "train", "SOP-002")
    _revise(plant, "--no-training")
    m = plant.at("2025-06-01").matrix()
    assert m[("olly", "SOP-002")]["state"] == "trained"
    assert m[("olly", "SOP-002")]["revision"] == 1
    # what the control block says, and why: one answer, from training.py
    from qms_docs.training import training_need
    from qms_docs.workspace import Workspace

    ws = Workspace(plant.root, dt.date(2025, 6, 1))
    doc = ws.document("SOP-002")
    need = training_need(doc, ws.records.for_document("SOP-002"), ws.config, ws.today)
    assert need is not None and (need.revision, need.in_force) == (1, 2)
    assert need.reason() == "revision 2 is editorial: training on revision 1 stands"


def test_training_reason_names_each_revision_that_does_not_move_it():
    from qms_docs.training import TrainingNeed

    day = dt.date(2025, 1, 1)
    assert TrainingNeed(3, day, 3).reason() == "training on revision 3 is required"
    assert (TrainingNeed(1, day, 4, ((4, "editorial"), (3, "never in force"),
                                     (2, "editorial"))).reason()
            == "revisions 2 and 4 are editorial; revision 3 was never in force: "
               "training on revision 1 stands")


def test_person_added_to_a_role_later_owes_it_from_then(plant):
    toml = plant.root / "qms.toml"
    plant.at("2025-04-01")
    toml.write_text(toml.read_text() + '\n[[people]]\nname = "Nia New"\nemail = '
                    '"nia@example.com"\nroles = ["operator"]\n')
    plant.change_policy("Nia joins")
    m = plant.at("2025-04-05").matrix()
    nia = m[("nia", "SOP-002")]
    assert nia["state"] == "due" and nia["due"] == "2025-04-11"
    assert m[("olly", "SOP-002")]["state"] == "overdue"


@pytest.mark.parametrize("who, args, message", [
    ("quinn", [], "not in the audience of SOP-002"),
    ("quinn", ["--person", "nobody@example.com"], "not a person in qms.toml"),
])
def test_train_refusals(plant, who, args, message):
    result = plant.at("2025-01-12").qms(who, "train", "SOP-002", *args, code=1)
    assert message in result.output


def test_train_refuses_a_document_not_in_force_and_a_second_record(plant):
    sop = plant.root / "procedures" / "sop-001.rst"
    sop.write_text(sop.read_text().replace("   :owner:", "   :audience: operator\n   :owner:"))
    plant.commit("audience on a draft")
    result = plant.qms("olly", "train", "SOP-001", code=1)
    assert "no effective revision" in result.output
    plant.at("2025-01-12").qms("olly", "train", "SOP-002")
    result = plant.qms("olly", "train", "SOP-002", code=1)
    assert "already trained on SOP-002 revision 1" in result.output


@pytest.mark.sphinx
def test_training_shows_on_the_document_page_and_matrix_page(plant):
    plant.at("2025-01-12").qms("olly", "train", "SOP-002")
    result = sphinx_build(plant.root)
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "procedures" / "sop-002.html").read_text(encoding="utf-8")
    assert "Training on revision 1 is required. 1 of 3 of its audience trained, 2 overdue." in page

"""The repository the auditors' tests ask their questions of: two years of scripted history.

``history_qms`` (session scope, built once in about ten seconds, no Sphinx) is
tests/roots/basic with Ash Author (production-manager, the author), Tom Top
(top-management) and Olly Operator (operator, the audience) added, in which people act
through the real CLI (in-process) on a scripted clock: every record states, and every
commit carries (GIT_AUTHOR_DATE / GIT_COMMITTER_DATE), the day below, at 10:00 UTC and a
minute later for each further act. Each person commits their own acts. Tests must not
change it: copy it (``tests.helpers.copy_repo``) to act on it.

=========== ==============================================================================
day         what happens (the records and commits of that day)
=========== ==============================================================================
2024-11-04  initial commit (Ash): SOP-001 Control of Documented Information (7.5.1, 7.5.2;
            owner quality-manager) and SOP-002 Production Planning (8.1, 7.5.2; owner
            production-manager), revision 1 drafts; no records yet
2024-11-06  Ash: ``qms new sop "Purchasing"`` -> SOP-003 revision 1 (8.4.1, 8.4.2; owner
            production-manager; audience operator), its change record: the FIRST RECORD
            (so the QMS has no history before 2024-11-06, and on 2024-11-07 nothing is
            in force)
2024-11-11  Quinn approves SOP-001 and SOP-002 (quality-manager), Pat SOP-002
            (production-manager): both effective 2024-11-11
2025-01-20  Quinn and Pat approve SOP-003 revision 1: effective 2025-01-20
2025-02-03  Olly trains on SOP-003 revision 1 (read)
2025-06-12  (the "last audit": nothing happens; SOP-001 r1, SOP-002 r1, SOP-003 r1 in force)
2025-09-01  Ash revises SOP-003 to revision 2 ("Yearly re-evaluation of suppliers"): adds
            8.4.3 and the line ``Suppliers are re-evaluated every year.``
2025-09-15  Quinn and Pat approve SOP-003 revision 2: effective 2025-09-15
2025-10-01  Olly trains on SOP-003 revision 2 (briefing, trainer Pat)
2025-11-10  Quinn reviews SOP-001 (periodic review, "Still adequate")
2026-02-02  Ash: ``qms new sop "Supplier Audits"`` -> SOP-004 revision 1 (8.4.1; owner
            production-manager)
2026-02-16  Quinn and Pat approve SOP-004 revision 1: effective 2026-02-16
2026-03-02  Quinn retires SOP-002 ("Merged into SOP-004"), superseded by SOP-004
2026-06-01  Ash revises SOP-004 to revision 2 (adds 8.5.1): a draft, committed, left open
2026-09-14  Ash revises SOP-001 to revision 2 without training (editorial: "Typo")
2026-09-21  Quinn approves SOP-001 revision 2: effective 2026-09-21
=========== ==============================================================================

:data:`DAYS` names these days for the tests; :data:`TEXTS` the lines each revision added.
"""

from __future__ import annotations

import pytest

from tests.helpers import ASH, PEOPLE, QmsRepo, new_repo

#: the days of the history above, by what happened
DAYS = {
    "initial": "2024-11-04", "first record": "2024-11-06", "nothing in force": "2024-11-07",
    "first approvals": "2024-11-11", "SOP-003 r1 effective": "2025-01-20",
    "last audit": "2025-06-12", "SOP-003 r2 opened": "2025-09-01",
    "SOP-003 r2 effective": "2025-09-15", "SOP-001 reviewed": "2025-11-10",
    "SOP-004 created": "2026-02-02", "SOP-004 effective": "2026-02-16",
    "SOP-002 retired": "2026-03-02", "SOP-004 r2 opened": "2026-06-01",
    "SOP-001 r2 opened": "2026-09-14", "SOP-001 r2 effective": "2026-09-21",
}
#: lines the revisions added to their documents' text
TEXTS = {"SOP-003 r1": "Suppliers are selected on quality, price and delivery.",
         "SOP-003 r2": "Suppliers are re-evaluated every year.",
         "SOP-004 r1": "Critical suppliers are audited on site.",
         "SOP-004 r2": "Audit findings feed production control."}


class History(QmsRepo):
    """Each commit moves the clock on a minute, so that acts of one day are ordered."""

    def commit(self, message: str, who: str = "ash", author: str | None = None) -> None:
        super().commit(message, who, author)
        self.later()

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def append(self, rel: str, line: str) -> None:
        with open(self.root / rel, "a", encoding="utf-8") as handle:
            handle.write(f"{line}\n")

    def new_sop(self, title: str, *clauses: str) -> str:
        """``qms new sop`` by Ash, owned by production; the new file's path."""
        satisfies = [arg for clause in clauses for arg in ("--satisfies", clause)]
        made = self.qms("ash", "new", "sop", title, "--owner", "production-manager",
                        *satisfies).stdout.strip().splitlines()[-1].strip()
        return made[len(str(self.root)) + 1:] if made.startswith(str(self.root)) else made

    def revise(self, doc: str, rel: str, reason: str, clauses: tuple[str, str],
               line: str) -> None:
        """Ash opens the next revision: a clause added (old, new), a line appended."""
        self.qms("ash", "revise", doc, "--reason", reason)
        self.edit(rel, *clauses)
        self.append(rel, line)
        self.commit(f"{doc}: {reason}")

    def approve(self, doc: str, *people: tuple[str, str]) -> None:
        for who, role in people:
            self.qms(who, "approve", doc, "--role", role)
            self.commit(f"{doc} approved as {role}", who=who)


def make_history(root) -> None:
    """Write the two years of history of the module docstring into ``root``."""
    extra = ASH + PEOPLE["tom"].toml() + PEOPLE["olly"].toml()
    both = (("quinn", "quality-manager"), ("pat", "production-manager"))
    with pytest.MonkeyPatch.context() as mp:
        repo = History(root, monkeypatch=mp).at(DAYS["initial"])
        new_repo(root, extra=extra[len(ASH):], when=repo.when)  # new_repo adds Ash itself
        repo.later()

        repo.at(DAYS["first record"])
        sop3 = repo.new_sop("Purchasing", "8.4.1", "8.4.2")
        repo.edit(sop3, "   :owner:", "   :audience: operator\n   :owner:")
        repo.append(sop3, f"\n{TEXTS['SOP-003 r1']}")
        repo.commit("SOP-003 Purchasing, revision 1")

        repo.at(DAYS["first approvals"])
        repo.approve("SOP-001", ("quinn", "quality-manager"))
        repo.approve("SOP-002", *both)

        repo.at(DAYS["SOP-003 r1 effective"])
        repo.approve("SOP-003", *both)
        repo.at("2025-02-03")
        repo.qms("olly", "train", "SOP-003", "--method", "read")
        repo.commit("Olly trained on SOP-003", who="olly")

        repo.at(DAYS["SOP-003 r2 opened"])
        repo.revise("SOP-003", sop3, "Yearly re-evaluation of suppliers",
                    ("ISO9001-8-4-2", "ISO9001-8-4-2, ISO9001-8-4-3"), TEXTS["SOP-003 r2"])
        repo.at(DAYS["SOP-003 r2 effective"])
        repo.approve("SOP-003", *both)
        repo.at("2025-10-01")
        repo.qms("pat", "train", "SOP-003", "--person", PEOPLE["olly"].email, "--method",
                 "briefing")
        repo.commit("Olly briefed on SOP-003 revision 2", who="pat")

        repo.at(DAYS["SOP-001 reviewed"])
        repo.qms("quinn", "review", "SOP-001", "--outcome", "Still adequate")
        repo.commit("SOP-001 reviewed", who="quinn")

        repo.at(DAYS["SOP-004 created"])
        sop4 = repo.new_sop("Supplier Audits", "8.4.1")
        repo.append(sop4, f"\n{TEXTS['SOP-004 r1']}")
        repo.commit("SOP-004 Supplier Audits, revision 1")
        repo.at(DAYS["SOP-004 effective"])
        repo.approve("SOP-004", *both)

        repo.at(DAYS["SOP-002 retired"])
        repo.qms("quinn", "retire", "SOP-002", "--reason", "Merged into SOP-004",
                 "--superseded-by", "SOP-004", "--yes")
        repo.commit("SOP-002 retired", who="quinn")

        repo.at(DAYS["SOP-004 r2 opened"])
        repo.revise("SOP-004", sop4, "Findings feed production",
                    ("ISO9001-8-4-1", "ISO9001-8-4-1, ISO9001-8-5-1"), TEXTS["SOP-004 r2"])

        repo.at(DAYS["SOP-001 r2 opened"])
        repo.qms("ash", "revise", "SOP-001", "--reason", "Typo", "--no-training")
        repo.edit("procedures/sop-001.rst", "written, approved", "written, reviewed, approved")
        repo.commit("SOP-001 revision 2 (editorial)")
        repo.at(DAYS["SOP-001 r2 effective"])
        repo.approve("SOP-001", ("quinn", "quality-manager"))


@pytest.fixture(scope="session")
def history_qms(tmp_path_factory):
    """The path of the two-year repository (read-only: copy it to act on it)."""
    root = tmp_path_factory.mktemp("auditors") / "qms"
    make_history(root)
    return root

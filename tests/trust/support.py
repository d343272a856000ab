"""The repositories the trust tests (tests/trust/test_*.py) start from. No tests here.

A throwaway QMS (tests/roots/basic plus Ash Author, production-manager) whose main branch
holds SOP-001 and SOP-002 revision 1 in force, made once per module and copied for each
test. Two variants: ``unsigned``, and ``signed`` (``require_signature = true`` for SOPs
and real SSH keys of Quinn, Pat and Ash in ``allowed_signers``). People act through the
real CLI (in-process) with a scripted clock and commit their own acts; an attacker also
writes records by hand (:meth:`Repo.forge`) and commits under any name. Git, people and
keys are in tests/helpers.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import ASH, PEOPLE, ROOTS, QmsRepo, keygen

ATTACK = "ATTACKER TEXT: skip the release check."
ORIGINAL = "How production is planned."
MAIN_DAY, PR_DAY, LATE_DAY = "2026-01-05", "2026-03-02", "2026-03-09"
VARIANTS = ("unsigned", "signed")


class Repo(QmsRepo):
    """One QMS git repository, its people, their keys and the clock; each commit moves the
    clock on a minute."""

    def __init__(self, root: Path, keys: Path, signed: bool, monkeypatch) -> None:
        super().__init__(root, monkeypatch=monkeypatch)
        self.keys, self.signed = keys, signed

    def commit(self, message: str, who: str = "ash", author: str | None = None) -> None:
        super().commit(message, who, author)
        self.later()

    # --- acts ---------------------------------------------------------------------------

    def approve(self, who: str, doc: str, role: str, code: int = 0, key: str | None = None):
        """``qms approve`` (signed with ``who``'s key, or ``key``, in the signed variant)."""
        sign = ("--sign", "--key", str(self.keys / (key or who))) if self.signed else ()
        return self.qms(who, "approve", doc, "--role", role, *sign, code=code)

    def approve_and_commit(self, who: str, doc: str, role: str) -> None:
        self.approve(who, doc, role)
        self.commit(f"Approve {doc} as {role}", who=who)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def write_attack(self, rel: str = "procedures/sop-002.rst") -> None:
        """The attacker's text, appended to the document."""
        with open(self.root / rel, "a", encoding="utf-8") as handle:
            handle.write(f"\n{ATTACK}\n")

    def forge(self, kind: str, doc: str, maker: str, *, sign_with: str | None = None,
              date: str | None = None, **fields) -> Path:
        """A record written by hand (not through qms): ``maker`` named as its maker, dated
        ``date`` (an ISO day; default: the clock), signed with ``sign_with``'s key."""
        from qms_docs import signing
        from qms_docs.config import load_config
        from qms_docs.documents import fingerprint, scan
        from qms_docs.records import new_record, write_record

        person = {"name": PEOPLE[maker].name, "email": PEOPLE[maker].email}
        found = [d for d in scan(self.root, load_config(self.root)).documents if d.id == doc]
        if kind == "approval":
            base = {"revision": found[0].revision, "fingerprint": fingerprint(
                (self.root / found[0].path).read_bytes()), "approver": person,
                "role": fields.pop("role"), "meaning": "approval",
                "effective": (date or self.when.date().isoformat()),
                "commit": self.git("rev-parse", "HEAD").strip()}
        elif kind == "review":
            base = {"revision": found[0].revision, "fingerprint": fingerprint(
                (self.root / found[0].path).read_bytes()), "reviewer": person,
                "outcome": "Still fine."}
        elif kind == "retirement":
            base = {"revision": found[0].revision, "reason": "Not needed.", "approver": person}
        else:
            raise ValueError(kind)
        base.update(fields)
        record = new_record(kind, doc, **base)
        if date:
            record["date"] = dt.datetime.fromisoformat(f"{date}T09:00:00+00:00").isoformat()
        if sign_with:
            record["signature"] = signing.signature_field(signing.sign(
                signing.payload(record, signing.PAYLOAD_VERSION), self.keys / sign_with))
        return write_record(self.root, record)

    def forge_policy_approval(self, maker: str, revision: int,
                              role: str = "quality-manager") -> Path:
        """A hand-written approval of the committed policy (HEAD's), naming ``maker``."""
        from qms_docs import policy
        from qms_docs.records import new_record, write_record

        head = self.git("rev-parse", "HEAD").strip()
        version = policy.version_at(self.root, "", head, self.root)
        return write_record(self.root, new_record(
            "approval", policy.POLICY_ID, revision=revision, fingerprint=version.fingerprint,
            approver={"name": PEOPLE[maker].name, "email": PEOPLE[maker].email}, role=role,
            meaning="approval",
            effective=self.when.date().isoformat(), commit=head))

    # --- what the QMS says --------------------------------------------------------------

    def verify(self, base: str | None = None) -> tuple[int, list[dict]]:
        """(exit code, findings) of ``qms verify`` (``--base``: the gate)."""
        args = ("verify", "--format", "json", *(("--base", base) if base else ()))
        result = self.qms("quinn", *args, code=None)
        assert result.exit_code in (0, 1), result.output
        return result.exit_code, json.loads(result.stdout)["findings"]

    def errors(self, base: str | None = None) -> set[str]:
        """The codes of the error findings of verify (of the gate with ``base``)."""
        code, findings = self.verify(base)
        codes = {f["code"] for f in findings if f["severity"] == "error"}
        assert bool(codes) == (code == 1), findings
        return codes

    def controlled_page(self, page: str = "procedures/sop-002.html") -> str | None:
        """The page of the controlled site (None: the document is left out)."""
        out = self.root.parent / f"site-{self.when:%H%M%S}"
        result = self.qms("quinn", "build", "html", "--controlled", "--out", str(out),
                          code=None)
        assert result.exit_code == 0, result.output
        target = out / page
        return target.read_text(encoding="utf-8") if target.is_file() else None


def make_template(root: Path, keys: Path, signed: bool) -> None:
    """The basic QMS with Ash; SOP-001 and SOP-002 revision 1 approved and in force on
    main (signed approvals in the signed variant)."""
    from qms_docs import signing

    shutil.copytree(ROOTS / "basic", root)
    text = (root / "qms.toml").read_text() + ASH
    if signed:
        text = text.replace("review_months = 24", "review_months = 24\nrequire_signature = true")
        signers = None
        for who in ("quinn", "pat", "ash"):
            key = signing.read_public_key(str(keygen(keys, who)) + ".pub")
            signers = signing.with_signer(signers, PEOPLE[who].email, key)
        (root / "allowed_signers").write_bytes(signers)
    for who in ("mallory", "eve"):
        keygen(keys, who)
    (root / "qms.toml").write_text(text)
    (root / ".gitignore").write_text("_build/\n")
    with pytest.MonkeyPatch.context() as mp:
        repo = Repo(root, keys, signed, mp).at(MAIN_DAY)
        repo.git("init", "-q", "-b", "main")
        repo.commit("Initial QMS")
        repo.at(MAIN_DAY, 11)
        repo.approve("quinn", "SOP-001", "quality-manager")
        repo.approve("quinn", "SOP-002", "quality-manager")
        repo.commit("Approve SOP-001 and SOP-002 as quality-manager", who="quinn")
        repo.approve_and_commit("pat", "SOP-002", "production-manager")


class Templates:
    """The module's templates, made on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys = folder / "keys"
        self.keys.mkdir()
        self.made: dict[str, Path] = {}

    def get(self, variant: str) -> Path:
        if variant not in self.made:
            root = self.folder / variant / "qms"
            root.parent.mkdir()
            make_template(root, self.keys, variant == "signed")
            self.made[variant] = root
        return self.made[variant]

    def copy(self, variant: str, target: Path, monkeypatch) -> Repo:
        shutil.copytree(self.get(variant), target / "qms", symlinks=True)
        return Repo(target / "qms", self.keys, variant == "signed", monkeypatch)


def on_branch(templates: Templates, variant: str, tmp_path: Path, monkeypatch) -> Repo:
    """A copy of the template (unsigned or signed) on a new branch ``pr``, on PR day."""
    repo = templates.copy(variant, tmp_path, monkeypatch).at(PR_DAY)
    repo.git("checkout", "-q", "-b", "pr")
    return repo

"""Signed approvals with real SSH keys made in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    NEEDS_SSH_KEYGEN,
    QmsRepo,
    basic_copy,
    init_repo,
    keygen,
    run_qms,
    sphinx_build,
)

pytestmark = NEEDS_SSH_KEYGEN


class Signed(QmsRepo):
    keys: Path

    def findings(self) -> list[dict]:
        result = run_qms(self.runner, ["--repo", str(self.root), "verify", "--format", "json"])
        return json.loads(result.stdout)["findings"]


@pytest.fixture
def signed(tmp_path, runner, monkeypatch) -> Signed:
    root = basic_copy(tmp_path / "qms", people=(), gitignore=False)
    toml = root / "qms.toml"
    toml.write_text(toml.read_text().replace("review_months = 24",
                                             "review_months = 24\nrequire_signature = true"))
    keys = tmp_path / "keys"
    keys.mkdir()
    for who in ("quinn", "pat", "mallory"):
        keygen(keys, who)
    from qms_docs import signing

    signers = None
    for who in ("quinn", "pat"):  # the baseline policy lists their keys
        key = signing.read_public_key(str(keys / f"{who}.pub"))
        signers = signing.with_signer(signers, f"{who}@example.com", key)
    (root / "allowed_signers").write_bytes(signers)
    init_repo(root, "initial")
    s = Signed(root, runner, monkeypatch)
    s.keys = keys
    return s


def approve(s: Signed, who: str, doc: str, role: str, key: str | None = None, code: int = 0):
    return s.qms(who, "approve", doc, "--role", role, "--sign", "--key",
                 str(s.keys / (key or who)), code=code)


@pytest.mark.sphinx
def test_valid_signatures_verify_and_are_shown(signed):
    approve(signed, "quinn", "SOP-001", "quality-manager")
    signed.commit("approve", who="quinn")
    assert signed.findings() == []
    record = yaml.safe_load(next((signed.root / "records" / "SOP-001").glob("*.yaml")).read_text())
    assert record["signature"]["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    history = json.loads(signed.qms("quinn", "history", "SOP-001", "--format", "json").stdout)
    shown = history["revisions"][0]["approvals"][0]
    assert shown["signature"] == "verified" and shown["name"] == "Quinn Quality"
    assert shown["meaning"] == "approval" and shown["time"].endswith("+00:00")
    result = sphinx_build(signed.root)
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "procedures" / "sop-001.html").read_text()
    assert "Quinn Quality (Quality Manager, approval, " in page
    assert "+00:00; signature verified)" in page
    pdf_dir = signed.root / "_build" / "pdf"
    signed.qms("quinn", "build", "pdf", "--out", str(pdf_dir))
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(str(pdf_dir / "SOP-001.pdf")).pages)
    flat = " ".join(text.split())
    assert "signature verified" in flat, flat


def test_changed_byte_in_the_record_is_a_bad_signature(signed):
    approve(signed, "quinn", "SOP-001", "quality-manager")
    record = next((signed.root / "records" / "SOP-001").glob("*.yaml"))
    record.write_text(record.read_text().replace("meaning: approval", "meaning: review"))
    codes = {f["code"] for f in signed.findings()}
    assert "bad-signature" in codes


def test_changed_byte_in_the_signature_is_a_bad_signature(signed):
    approve(signed, "quinn", "SOP-001", "quality-manager")
    record = next((signed.root / "records" / "SOP-001").glob("*.yaml"))
    data = yaml.safe_load(record.read_text())
    armored = data["signature"]["signature"].splitlines()
    line = armored[3]
    armored[3] = line[:10] + ("A" if line[10] != "A" else "B") + line[11:]
    data["signature"]["signature"] = "\n".join(armored) + "\n"
    record.write_text(yaml.safe_dump(data, sort_keys=False))
    assert "bad-signature" in {f["code"] for f in signed.findings()}


def test_unlisted_key_is_refused_at_signing_and_reported_if_forged(signed):
    result = approve(signed, "quinn", "SOP-001", "quality-manager", key="mallory", code=1)
    assert "does not verify" in result.output
    assert not list((signed.root / "records" / "SOP-001").glob("*.yaml"))
    _forge(signed, "mallory", "quinn@example.com")
    assert "bad-signature" in {f["code"] for f in signed.findings()}


def test_key_listed_for_another_person_is_a_bad_signature(signed):
    _forge(signed, "pat", "quinn@example.com")  # Pat's real key, signing as Quinn
    finding = next(f for f in signed.findings() if f["code"] == "bad-signature")
    assert finding["document"] == "SOP-001"


def test_missing_signature_where_required(signed):
    result = signed.qms("quinn", "approve", "SOP-001", "--role", "quality-manager", code=1)
    assert "must be signed" in result.output
    from qms_docs.documents import fingerprint
    from qms_docs.records import new_record, write_record

    path = signed.root / "procedures" / "sop-001.rst"
    write_record(signed.root, new_record(
        "approval", "SOP-001", revision=1, fingerprint=fingerprint(path.read_bytes()),
        approver={"name": "Quinn Quality", "email": "quinn@example.com"},
        role="quality-manager", meaning="approval", effective="2026-01-01",
        commit=signed.git("rev-parse", "HEAD").strip()))
    assert "missing-signature" in {f["code"] for f in signed.findings()}


def test_keys_add_keeps_a_change_record_and_counts_once_the_policy_is_approved(signed):
    keygen(signed.keys, "pat2")
    other = signed.qms("quinn", "keys", "add", "pat@example.com", str(signed.keys / "pat2.pub"),
                       code=1)
    assert "each person adds their own key" in other.output
    signed.qms("pat", "keys", "add", "pat@example.com", str(signed.keys / "pat2.pub"))
    records = list((signed.root / "records" / "QMS-POLICY").glob("*.yaml"))
    data = [yaml.safe_load(r.read_text()) for r in records]
    assert [(d["kind"], d["from_revision"], d["to_revision"]) for d in data] == [
        ("change", 1, 2)]
    signers = (signed.root / "allowed_signers").read_text()
    assert signers.count('pat@example.com namespaces="qms-docs-approval" ssh-ed25519 ') == 2
    again = signed.qms("pat", "keys", "add", "pat@example.com", str(signed.keys / "pat2.pub"))
    assert "already listed" in again.output
    bad = signed.qms("pat", "keys", "add", "pat@example.com", "not a key", code=2)
    assert "not an SSH public key" in bad.output
    signed.commit("Pat's second key", who="pat")
    # the new key is not in the policy in force yet: a signature with it does not count
    refused = approve(signed, "pat", "SOP-002", "production-manager", key="pat2", code=1)
    assert "does not verify" in refused.output
    signed.qms("quinn", "approve", "policy", "--role", "quality-manager")
    signed.commit("Approve the policy", who="quinn")
    approve(signed, "pat", "SOP-002", "production-manager", key="pat2")


def _forge(s: Signed, key: str, as_email: str) -> None:
    """A hand-made approval record claiming ``as_email``, signed with ``key``."""
    from qms_docs import signing
    from qms_docs.documents import fingerprint
    from qms_docs.records import new_record, write_record

    path = s.root / "procedures" / "sop-001.rst"
    record = new_record(
        "approval", "SOP-001", revision=1, fingerprint=fingerprint(path.read_bytes()),
        approver={"name": "Quinn Quality", "email": as_email}, role="quality-manager",
        meaning="approval", effective="2026-01-01",
        commit=s.git("rev-parse", "HEAD").strip())
    record["signature"] = signing.signature_field(signing.sign(signing.payload(record),
                                                               s.keys / key))
    write_record(s.root, record)

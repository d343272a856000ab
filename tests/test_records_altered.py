"""One answer to "was this record altered": records.holds_added_bytes, asked by authority
(does the record count) and by verify (is an alteration restored)."""

from __future__ import annotations

import subprocess

from qms_docs.records import holds_added_bytes


def _blob(data: bytes) -> str:
    return subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True,
                          check=True).stdout.decode().strip()


def test_holds_added_bytes(tmp_path):
    added = b"kind: approval\nrole: quality-manager\n"
    blob = _blob(added)
    record = tmp_path / "records" / "SOP-001" / "r.yaml"
    record.parent.mkdir(parents=True)
    record.write_bytes(added)
    assert holds_added_bytes(tmp_path, "records/SOP-001/r.yaml", blob) is True
    record.write_bytes(added.replace(b"\n", b"\r\n"))  # a checkout with core.autocrlf
    assert holds_added_bytes(tmp_path, "records/SOP-001/r.yaml", blob) is True
    record.write_bytes(added.replace(b"quality-manager", b"quality-manager "))
    assert holds_added_bytes(tmp_path, "records/SOP-001/r.yaml", blob) is False
    record.unlink()
    assert holds_added_bytes(tmp_path, "records/SOP-001/r.yaml", blob) is None

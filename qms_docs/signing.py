"""Electronic signatures on approvals, with the SSH keys people already sign commits with.

``ssh-keygen -Y sign`` signs a canonical payload that binds document, revision,
fingerprint, role, meaning, signer and time; ``ssh-keygen -Y verify`` checks it offline
against the QMS's ``allowed_signers`` file (email -> public key), which is itself
controlled (``qms keys add`` writes a change record).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import gitrepo
from .errors import InputError, QmsError, UsageError
from .text import decode_utf8

if TYPE_CHECKING:
    from .policy import Version
    from .record_kinds import ApprovalRecord

NAMESPACE = "qms-docs-approval"
SIGNERS_ID = "QMS-SIGNERS"  # the records id of the allowed_signers file
_KEY_LINE = re.compile(r"^(?:sk-)?(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|"
                       r"sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)"
                       r"\s+[A-Za-z0-9+/=]+(?:\s+.*)?$")


class SigningError(QmsError):
    """Signing could not be done (no key, no ssh-keygen): exit 2."""


PAYLOAD_VERSION = 2


def payload(record: dict[str, Any], version: int | None = None) -> bytes:
    """The exact bytes an approval's signature covers. Version 2 (what qms signs now) also
    covers the effective date, the printed name and the commit; version 1 signatures
    (without them) still verify."""
    if version is None:
        version = (record.get("signature") or {}).get("version", 1)
    fields = [("document", record["document"]), ("revision", record["revision"]),
              ("fingerprint", record["fingerprint"]), ("role", record["role"]),
              ("meaning", record["meaning"]), ("signer", record["approver"]["email"].lower()),
              ("time", record["date"])]
    if version >= 2:
        fields += [("name", record["approver"]["name"]), ("effective", record["effective"]),
                   ("commit", record["commit"])]
    text = (f"qms-docs approval signature v{version}\n"
            + "".join(f"{k}: {v}\n" for k, v in fields))
    return text.encode("utf-8")


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningError("ssh-keygen is not installed",
                           hint="install OpenSSH (Debian: apt-get install openssh-client)")
    return found


def signing_key(repo_dir: Path, explicit: str | None) -> Path:
    """The key to sign with: --key, else git's user.signingkey (gpg.format ssh)."""
    if explicit:
        key = Path(explicit).expanduser()
    else:
        def get(name: str) -> str:
            return gitrepo.config_value(repo_dir, name)

        if get("gpg.format") != "ssh" or not get("user.signingkey"):
            raise SigningError("no signing key: pass --key PATH, or set up git to sign with "
                               "SSH", hint="git config gpg.format ssh && git config "
                                           "user.signingkey ~/.ssh/id_ed25519")
        value = get("user.signingkey")
        if value.startswith("key::"):
            handle = tempfile.NamedTemporaryFile("w", suffix=".pub", delete=False)
            handle.write(value[5:] + "\n")
            handle.close()
            return Path(handle.name)  # the private key must be in ssh-agent
        key = Path(value).expanduser()
    if not key.is_file():
        raise SigningError(f"signing key {key} not found")
    return key


def sign(data: bytes, key: Path) -> str:
    """An armored SSH signature of ``data``."""
    done = subprocess.run([_ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", NAMESPACE],
                          input=data, capture_output=True)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SigningError(f"ssh-keygen could not sign: {message[-1] if message else 'failed'}",
                           hint="check the key (a passphrase-protected key must be in "
                                "ssh-agent)")
    return done.stdout.decode("ascii")


@dataclass(frozen=True)
class Check:
    """The outcome of checking one approval's signature."""

    state: str  # "verified", "invalid", "unsigned"
    detail: str = ""


def verify(record: dict[str, Any], signers: Path | None) -> Check:
    """Check an approval record's signature against the allowed_signers file."""
    signature = record.get("signature")
    if not signature:
        return Check("unsigned")
    if signers is None or not signers.is_file():
        return Check("invalid", "no allowed_signers file to check it against")
    with tempfile.TemporaryDirectory(prefix="qms-sig-") as folder:
        sig = Path(folder) / "approval.sig"
        sig.write_text(signature["signature"], encoding="ascii", errors="replace")
        done = subprocess.run([_ssh_keygen(), "-Y", "verify", "-f", str(signers), "-I",
                               record["approver"]["email"].lower(), "-n", NAMESPACE, "-s",
                               str(sig)], input=payload(record), capture_output=True)
    if done.returncode == 0:
        return Check("verified")
    reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return Check("invalid", reason[-1] if reason else "signature does not verify")


def signature_field(signature: str, version: int = PAYLOAD_VERSION) -> dict[str, Any]:
    field: dict[str, Any] = {"format": "ssh", "namespace": NAMESPACE, "signature": signature}
    if version >= 2:
        field["version"] = version
    return field


def read_public_key(value: str) -> str:
    """A public key line from a .pub file path or the key text itself."""
    text = value.strip()
    path = Path(text).expanduser()
    if not _KEY_LINE.match(text) and len(text) < 4096 and path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    first = text.splitlines()[0] if text else ""
    if not _KEY_LINE.match(first):
        raise UsageError("not an SSH public key", hint="give the .pub file or the line that "
                         "starts with ssh-ed25519 / ssh-rsa / ecdsa-sha2-...")
    return " ".join(first.split()[:2])


def with_signer(current: bytes | None, email: str, key: str,
                display: str = "allowed_signers") -> bytes | None:
    """The allowed_signers file (``current``: its bytes, None if there is none) with
    ``email``'s key added; None if it is already listed."""
    line = f'{email.lower()} namespaces="{NAMESPACE}" {key}\n'
    existing = decode_utf8(current or b"", display)
    for row in existing.splitlines():
        parts = row.split()
        if parts and parts[0] == email.lower() and key.split()[1] in row:
            return None
    if existing and not existing.endswith("\n"):
        existing += "\n"
    if not existing:
        existing = ("# allowed_signers of the QMS: who may sign approvals, with which key.\n"
                    "# Maintained with 'qms keys add'; every change has a change record.\n")
    return (existing + line).encode("utf-8")


def check_signers_path(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InputError(f"allowed_signers path {relative} is outside the repository",
                         path="qms.toml")
    return path


SIGNATURE_WORDS = {"verified": "signature verified", "invalid": "SIGNATURE INVALID",
                   "unsigned": "not signed"}


def shown_time(date: str) -> str:
    """An approval's date and time as shown: ``2026-01-10 09:00:00 +01:00`` (UTC for Z)."""
    when = date.replace("T", " ")
    return re.sub(r"([+-]\d{2}:\d{2}|Z)$", lambda m: f" {m.group(1)}".replace(" Z", " UTC"),
                  when)


def manifestation(record: dict[str, Any], signers: Path | None,
                  self_approved: bool = False) -> dict[str, str]:
    """How an approval is shown: printed name, role, meaning (marked ``self-approved`` when
    the approver wrote what they approved, as ``[policy] self_approval`` allowed), date and
    time with time zone, and whether its signature verified."""
    when = shown_time(record["date"])
    state = verify(record, signers).state
    meaning = shown_meaning(record["meaning"], self_approved)
    return {"name": record["approver"]["name"], "email": record["approver"]["email"],
            "role": record["role"], "meaning": meaning, "time": when,
            "signature": state, "text": f"{record['approver']['name']} ({record['role']}, "
                                        f"{meaning}, {when}; {SIGNATURE_WORDS[state]})"}


def shown_meaning(meaning: str, self_approved: bool) -> str:
    """The meaning of a signature as every front end shows it: ``approval`` or
    ``approval, self-approved``."""
    return f"{meaning}, self-approved" if self_approved else meaning


class Signers:
    """Signatures checked against the signers file of each policy version (a
    ``policy.Version``: its fingerprint and the file's bytes), each written once to a file
    ssh-keygen can read; each record checked once per version."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._paths: dict[str, Path | None] = {}
        self._checks: dict[tuple[str, str], Check] = {}

    def check(self, record: ApprovalRecord, version: Version | None,
              fallback: Path | None) -> Check:
        """The approval's signature; without a policy version, against ``fallback``."""
        if version is None:
            return verify(record.data, fallback)
        key = (version.fingerprint, record.path)
        if key not in self._checks:
            self._checks[key] = verify(record.data, self._path(version))
        return self._checks[key]

    def _path(self, version: Version) -> Path | None:
        if version.fingerprint not in self._paths:
            content = version.signers
            if content is None:
                self._paths[version.fingerprint] = None
            else:
                if self._folder is None:
                    self._folder = tempfile.TemporaryDirectory(prefix="qms-signers-")
                path = Path(self._folder.name) / f"{version.fingerprint[:16]}"
                path.write_bytes(content)
                self._paths[version.fingerprint] = path
        return self._paths[version.fingerprint]

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()


def signature_check(record: ApprovalRecord, version: Version | None,
                    fallback: Path | None) -> Check:
    """A record's signature checked against the signers file of a policy version."""
    signers = Signers()
    try:
        return signers.check(record, version, fallback)
    finally:
        signers.close()

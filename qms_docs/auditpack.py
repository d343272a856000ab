"""The audit pack: the QMS as it stood on a given date, in one archive.

Master list, traceability matrix, gaps, mandatory documented information, the change log
of the 12 months before, every document in force as PDF, and a manifest with the SHA-256
of every file, signed on request with the packer's SSH key. Everything is derived from git
and the records as of that date, through the one as-of machinery (asof.py) that
``qms trace --as-of`` and ``qms list --as-of`` use too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import __version__, asof, federation, publish
from .atomic import write_atomic
from .errors import UsageError
from .pdfs import Progress
from .reports import export, mandatory, registers, traceability
from .signing import PACK_NAMESPACE
from .workspace import Workspace

README = """Audit pack of {organization}
Quality management system as it stood on {as_of}.

master-list.csv            every document: revision, status, effective date, owner, reviews
traceability-matrix.csv    each clause of {standard} with the documents that satisfy it
gaps.csv                   requirement clauses with no effective document (and
                           any revision pending that names them)
mandatory-information.csv  documented information the standard asks to maintain / retain
change-log.csv             changes, approvals, reviews, retirements {since} to {as_of}
approvals.csv              every approval: who, role, meaning, date and time, signature
training-matrix.csv        who was trained on which revision, what was due or overdue
documents/                 each document in force on {as_of}, as PDF (with qms-manual.pdf)
upstream/                  (a federated QMS) the export of each upstream QMS it was built
                           with that day: its documents in force count in the reports above
MANIFEST.sha256            SHA-256 of every file but manifest.json and the signature
manifest.json              the same, with sizes, the commit, the date of the pack and the
                           versions of the tools that made it
{signed_files}
How to check it, in the folder the zip was unpacked into:

  1. The files are those the manifest lists (every line must say OK):
       sha256sum -c MANIFEST.sha256
{signature}
Built from commit {commit} by qms audit-pack. Rebuilt from the same commit with
"qms audit-pack --as-of {as_of}", the tool versions of manifest.json and the same fonts,
the zip is the same, byte for byte: no file in it holds the time or place it was built.
"""

SIGNED_FILES = """MANIFEST.sha256.sig        the packer's SSH signature of MANIFEST.sha256
signer.allowed_signers     the packer's public key, as ssh-keygen reads it
"""

SIGNATURE = """
  2. The manifest was signed by {signer} (namespace {namespace}):
       ssh-keygen -Y verify -f signer.allowed_signers -I {signer} -n {namespace} \\
         -s MANIFEST.sha256.sig < MANIFEST.sha256
     It must say "Good". Then compare the key in signer.allowed_signers with the key you
     know to be the packer's (the QMS's allowed_signers file lists its people's keys):
     anyone can sign a pack with a key of their own.
"""

UNSIGNED = """
  2. This pack is not signed ("qms audit-pack --sign" signs its manifest with the packer's
     SSH key): only a copy of MANIFEST.sha256 kept apart from the pack proves the files.
"""


@dataclass(frozen=True)
class PackSigner:
    """Who signs the pack's manifest (their git email) and with which SSH key."""

    email: str
    key: Path

# what renders the pack: the same versions of these give the same bytes
TOOLCHAIN = ("sphinx", "sphinx-needs", "docutils", "weasyprint", "pydyf", "pypdf", "pikepdf")


def build_audit_pack(ws: Workspace, as_of: dt.date, target: Path, jobs: str = "auto",
                     signer: PackSigner | None = None,
                     progress: Progress | None = None) -> dict:
    """Write the audit pack zip to ``target``; returns its manifest. With ``signer``, the
    manifest is signed with their SSH key in the namespace of audit packs (an Ed25519 or
    RSA signature holds no time: the pack stays reproducible).

    The documents' PDFs come from the PDF cache of the QMS where what they show is what
    a controlled PDF build showed (the same bytes: see pdfs.py); ``progress`` as for
    publish.tree_pdfs."""
    if target.suffix.lower() != ".zip":
        raise UsageError(f"{target} should end in .zip", hint="e.g. -o audit-2026-06-12.zip")
    asof.check_day(ws, as_of)
    commit = ws.repo.head.commit.hexsha if ws.repo.head.is_valid() else ""
    with tempfile.TemporaryDirectory(prefix="qms-audit-") as temporary:
        work = Path(temporary)
        then = asof.load(ws, as_of, work)  # the one as-of machinery (trace/list --as-of too)
        tree = then.tree
        pack = work / "pack"
        (pack / "documents").mkdir(parents=True)
        config = then.config  # the policy in force on that day
        records = then.records  # those that count, as they stood that day
        documents, statuses = then.documents, then.statuses
        catalog = ws.catalogs[0]
        since = as_of - dt.timedelta(days=365)
        rows = registers.master_list(config, documents, statuses)
        _write(pack / "master-list.csv", export.to_csv(registers.MasterRow.HEADERS,
                                                      [r.cells() for r in rows]))
        # the upstream exports the QMS was built with that day (part of its policy then)
        upstreams = federation.load_upstreams(config, tree.root)
        for item in upstreams:
            _write_bytes(pack / "upstream" / f"{item.name}.json",
                         (tree.root / item.upstream.path).read_bytes())
        upstream = federation.in_force_documents(upstreams)
        trace = traceability.trace_matrix(catalog, documents, statuses, only_effective=True,
                                          upstream=upstream)
        _write(pack / "traceability-matrix.csv", export.to_csv(
            traceability.TraceRow.HEADERS, traceability.trace_lines(trace)))
        gaps = traceability.gap_rows(catalog, documents, statuses, upstream=upstream)
        _write(pack / "gaps.csv", export.to_csv(traceability.GapRow.HEADERS,
                                                [r.cells() for r in gaps]))
        needed = mandatory.mandatory(catalog, documents, statuses, root=tree.root,
                                     upstream=upstream)
        _write(pack / "mandatory-information.csv", export.to_csv(
            mandatory.MandatoryRow.HEADERS, [r.cells() for r in needed]))
        log = registers.change_log(records.records, since, as_of)
        _write(pack / "change-log.csv", export.to_csv(registers.ChangeEntry.HEADERS,
                                                     [e.cells() for e in log]))
        from .record_kinds import ApprovalRecord, of_kind
        from .reports.training import Cell, matrix
        from .signing import manifestation

        signers = tree.root / config.signers_file
        approvals = of_kind(records.records, ApprovalRecord)
        _write(pack / "approvals.csv", export.to_csv(
            ["Document", "Revision", "Name", "Email", "Role", "Meaning", "Date and time",
             "Signature"],
            [[r.document, r.revision, *(manifestation(r.data, signers, r.self_approved)[k]
                                        for k in ("name", "email", "role", "meaning", "time",
                                                  "signature"))]
             for r in approvals]))

        cells = [c for c in matrix(documents, records, config, as_of, ws.role_start_dates())
                 if c.state != "not-required"]
        _write(pack / "training-matrix.csv", export.to_csv(Cell.HEADERS,
                                                          [c.cells() for c in cells]))
        if tree.included:
            publish.tree_pdfs(tree, config, as_of, pack / "documents", jobs=jobs,
                              progress=progress)
        if signer is not None:
            from .signing import public_key

            _write(pack / "signer.allowed_signers", f'{signer.email} namespaces='
                   f'"{PACK_NAMESPACE}" {public_key(signer.key)}\n')
        _write(pack / "README.txt", README.format(
            organization=config.organization, as_of=as_of, standard=catalog.short_title,
            since=since, commit=commit or "(none)",
            signed_files=SIGNED_FILES if signer else "",
            signature=SIGNATURE.format(signer=signer.email, namespace=PACK_NAMESPACE)
            if signer else UNSIGNED))
        manifest = _manifest(pack, as_of, commit)
        if signer is not None:
            manifest["signature"] = {"file": "MANIFEST.sha256.sig", "signer": signer.email,
                                     "namespace": PACK_NAMESPACE}
        _write(pack / "manifest.json", export.to_json(manifest))
        listing = "".join(f"{f['sha256']}  {f['path']}\n" for f in manifest["files"])
        _write(pack / "MANIFEST.sha256", listing)
        if signer is not None:
            from .signing import sign

            _write(pack / "MANIFEST.sha256.sig",
                   sign(listing.encode("utf-8"), signer.key, PACK_NAMESPACE))
        _zip(pack, target)
    return manifest


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _manifest(pack: Path, as_of: dt.date, commit: str) -> dict:
    files = []
    for file in sorted(p for p in pack.rglob("*") if p.is_file()):
        data = file.read_bytes()
        files.append({"path": file.relative_to(pack).as_posix(),
                      "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    return {"as_of": as_of.isoformat(), "commit": commit, "toolchain": toolchain(),
            "files": files}


def toolchain() -> dict[str, str]:
    """The versions of qms-docs and of the tools that render the pack.

    The pack is reproducible for a given commit, date and these versions: another
    WeasyPrint (or font, or zlib) may lay out or compress a PDF differently, and the
    manifest says which to install to check a pack by rebuilding it.
    """
    from importlib.metadata import PackageNotFoundError, version

    versions = {"qms-docs": __version__}
    for name in TOOLCHAIN:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    return versions


def _zip(pack: Path, target: Path) -> None:
    """A reproducible zip, written atomically: entries in sorted order, each with the same
    time (1980-01-01 00:00, the earliest a zip holds), Unix permissions rw-r--r-- and
    maker system, whatever the machine, its clock, its time zone or its umask."""
    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(p for p in pack.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(file.relative_to(pack).as_posix(), (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix (ZipInfo says 0 on Windows)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, file.read_bytes(), compresslevel=9)

    write_atomic(target, write)

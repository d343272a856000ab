#!/usr/bin/env python3
"""Generate a synthetic, fully controlled QMS git repository to measure qms-docs at scale.

    python tools/gen_synthetic_qms.py N --commits M --out DIR [--seed S] [--years Y]

DIR becomes a git repository with qms.toml, conf.py, the contents, standards and report
pages, N documents (5% manual and policies, 50% SOPs, 25% work instructions, 20% forms)
and exactly M commits spread over Y years ending before today: new documents and
revisions with their change records, approvals by people other than the author (bound to
the fingerprint of the committed content and to the commit holding it), periodic reviews,
retirements, drafts, documents in review, and unrelated commits. ``qms check`` and
``qms verify`` pass on it; the same seed gives the same documents.

The history is written as git objects straight into one pack file, not through
``git fast-import``: every commit rewrites the tree of ``records/`` (one entry per
document), and fast-import spends milliseconds per commit re-serializing such trees
(195 s for 5000 documents and 50000 commits). Here a changed tree is stored as a delta
computed from the entries that changed.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qms_docs import yamlio  # noqa: E402
from qms_docs.catalog import load_catalog  # noqa: E402
from qms_docs.config import load_config  # noqa: E402
from qms_docs.documents import fingerprint  # noqa: E402
from qms_docs.model import Document  # noqa: E402
from qms_docs.records import validate_record  # noqa: E402
from qms_docs.status import add_months, required_roles  # noqa: E402

ORG, DOMAIN, SITE = "Kestrel Pumps and Valves Ltd", "kestrel.example", "Millbrook"
ROLES = {"top-management": "Managing Director", "quality-manager": "Quality Manager",
         "quality-technician": "Quality Technician", "internal-auditor": "Internal Auditor",
         "production-manager": "Production Manager", "maintenance-lead": "Maintenance Lead",
         "engineering-manager": "Engineering Manager", "purchasing-manager": "Purchasing Manager",
         "hr-manager": "HR and Training Coordinator", "sales-manager": "Sales Manager"}
PEOPLE = [("Dana Whitfield", ("top-management",)),
          ("Quinn Harlow", ("quality-manager", "internal-auditor")),
          ("Riley Chen", ("quality-technician", "quality-manager", "internal-auditor")),
          ("Pat Okafor", ("production-manager", "maintenance-lead")),
          ("Morgan Lee", ("engineering-manager", "production-manager")),
          ("Sam Reyes", ("purchasing-manager", "hr-manager")),
          ("Jordan Blake", ("hr-manager", "sales-manager")),
          ("Alex Novak", ("sales-manager", "purchasing-manager", "top-management"))]
TYPES = {  # name: prefix, folder, approvers, review months, share of the documents, kind
    "manual": ("QM", "manual", ["top-management", "quality-manager"], 12, 0.01, "manual"),
    "policy": ("POL", "manual", ["top-management"], 12, 0.04, "policy"),
    "sop": ("SOP", "procedures", ["quality-manager", "owner"], 24, 0.50, "procedure"),
    "wi": ("WI", "procedures", ["owner"], 24, 0.25, "work instruction"),
    "form": ("FRM", "procedures", ["quality-manager"], 36, 0.20, "form")}
WORDS = {key: text.split("|") for key, text in {
    "subject": "incoming materials|torque wrenches|pressure gauges|customer complaints|supplier "
               "audits|welding consumables|valve bodies|engineering drawings|works orders|"
               "rejected product|training plans|gate valve assemblies|ball valve seats|coating "
               "line jobs|hydrostatic test rigs|packaging materials|returned goods|design "
               "changes|machine tools|stock records|purchase orders|heat-treated parts|CNC "
               "programs|first articles|customer property|traceability labels|material "
               "certificates|despatch notes|tenders|design outputs|spreadsheets|archived "
               "records|stored chemicals|forklift trucks|spare parts|hand gauges|actuators",
    "action": "Control|Handling|Inspection|Review|Approval|Storage|Release|Planning|Evaluation|"
              "Verification|Preparation|Traceability|Monitoring",
    "gerund": "Inspecting|Cleaning|Setting Up|Checking|Labelling|Recording|Calibrating|Packing|"
              "Testing|Storing|Assembling|Receiving",
    "form_kind": "Checklist|Record|Log|Request|Report|Register|Sign-off Sheet",
    "equip": "vernier caliper|torque wrench|pressure gauge|coating thickness gauge|thread gauge "
             "set|hand-held scanner|test rig|micrometer|borescope",
    "freq": "daily|weekly|monthly|every quarter|at each shift change",
    "reason": "Corrective action CA-{n:04d}|Internal audit finding IA-{n:04d}|Management review "
              "action MR-{n:03d}|Clarify responsibilities after reorganisation|Customer "
              "complaint CC-{n:04d}|New equipment introduced|Align with supplier requirements",
}.items()}
TEMPLATES = {section: lines.strip().split("\n") for section, lines in {
    "Purpose": """
This {kind} describes how {subject} are controlled at {org}, so that requirements are met.
To define the method, the responsibilities and the records for the {action} of {subject}.
To make sure that work on {subject} is planned, done and recorded the same way on every shift.
This {kind} sets out the minimum controls for {subject} and how its results feed into {sop}.
To give everyone who deals with {subject} one agreed method, so that results can be compared.""",
    "Scope": """
This {kind} applies to all work on {subject} at the {site} site, including work by contractors.
It covers every department that handles {subject}, from receipt to final use.
Work done by subcontractors is controlled under {sop} and is outside this document.
It does not apply to prototype work released under an engineering concession.
The {owner} may extend the scope to new product lines after a documented review.
Customer-specific requirements stated in the order take precedence over this {kind}.""",
    "Responsibilities": """
approves the plan and makes the people and equipment available.
keeps this {kind} up to date and trains new staff in it.
carries out the checks described below and records the results on {form}.
reviews the records {freq} and raises a corrective action when a trend is seen.
stops the work when a result is outside the limits and informs the {owner}.
checks that the {equip} and other equipment used are calibrated and fit for use.""",
    "Procedure": """
Before starting, check that the current revision of the drawing and this {kind} is at hand.
Collect the {equip} and check its calibration label; never use equipment past its due date.
Record the works order number, the date and your initials on {form}.
Inspect the {subject} visually for damage, contamination and missing identification.
Compare the results with the acceptance criteria of the control plan; mark each pass or fail.
If a result fails, fit a red HOLD tag, quarantine the item and raise a report under {sop}.
Inform the {owner} of any failure within {hours} hours.
Where the customer requires it, send a copy of the results with the despatch documents.
Enter the results into the ERP system before the end of the shift.
Clean the work area and return the {equip} to its storage place.
Review open actions {freq} and close those that are complete, with evidence.
Agree any change to the method with the {owner} before it is used, then update this {kind}.
Keep rejected items for at least {days} days so that the cause can be investigated.
Check the first item of each batch fully and then one item in {sample}.
Sign the release box only when every earlier step is complete and recorded.
Escalate repeated failures (three in one month) to the management review.
Check the supplier certificate against the purchase order: grade, heat number and quantity.
Identify each item with its batch number so that it can be traced to its certificate.
Store the {subject} in the marked area, protected from moisture and damage.
Plan the work {freq} with the {owner}, taking open orders and available staff into account.""",
    "Note": """
Ask the {owner} if in doubt.|This normally takes less than {hours}0 minutes.
Use a black pen; do not use correction fluid.|Photograph any defect and attach the photo.
Two people are needed for items over 25 kg.|Wear safety glasses and gloves for this step.""",
    "Records": """
{form}, completed for each works order and kept for {years} years.
Nonconformance reports raised under this {kind}, kept with the works order file.
Calibration certificates of the {equip}, kept by the {owner}.
Training records of the people who do this work (see {sop}).
Results held in the ERP system, which is backed up nightly.
The monthly summary of results, presented at the management review."""}.items()}
TEMPLATES["Note"] = "|".join(TEMPLATES["Note"]).split("|")
RECORD_HEADER = "# qms-docs record: written by qms, never edited. A new fact is a new record.\n"
DELTA_DEPTH = 50  # longest chain of tree deltas in the pack, as git's default


@dataclass
class Doc:
    """One planned document: its header, its plan (revisions, fate) and its text."""

    id: str
    type: str
    title: str
    subject: str
    owner: str
    satisfies: list[str]
    path: str
    roles: tuple[str, ...] = ()
    approved: int = 1  # revisions that get all their approvals
    fate: str = "effective"  # or draft, in-review, retired
    context: dict = field(default_factory=dict)  # the words its text is made of
    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (key, text)
    fingerprints: dict[int, str] = field(default_factory=dict)

    def phases(self) -> list[tuple[str, ...]]:
        """The roles that approve each revision (none for a draft's last revision)."""
        return [self.roles] * self.approved + {"draft": [()], "in-review": [self.roles[:1]]}.get(
            self.fate, [])


def wrap(text: str, first: str = "", rest: str = "", width: int = 88) -> str:
    """Greedy word wrap (a faster textwrap.fill for plain sentences)."""
    lines, line = [], first
    for word in text.split():
        if len(line) + len(word) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = rest
        line += word + " "
    return "\n".join([*lines, line.rstrip()])


def email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{DOMAIN}"


def day(timestamp: float) -> dt.date:
    return dt.datetime.fromtimestamp(int(timestamp), dt.UTC).date()


def qms_toml(id_digits: int) -> str:
    """The policy of the synthetic QMS: organization, roles, people, document types."""
    out = [f'[organization]\nname = "{ORG}"\n\n[qms]\nstandards = ["iso9001-2015"]\n'
           f"id_digits = {id_digits}\n\n[roles]", *(f'{r} = "{t}"' for r, t in ROLES.items())]
    out += [f'\n[[people]]\nname = "{name}"\nemail = "{email(name)}"\nroles = {list(roles)}'
            for name, roles in PEOPLE]
    out += [f'\n[types.{name}]\nprefix = "{spec[0]}"\nfolder = "{spec[1]}"\n'
            f"approvers = {spec[2]}\nreview_months = {spec[3]}" for name, spec in TYPES.items()]
    return "\n".join(out).replace("'", '"') + "\n"


def site_files(id_digits: int) -> dict[str, str]:
    """qms.toml, conf.py and the contents, standards and report pages."""
    toc, heading = ".. toctree::\n   :maxdepth: 1\n   :glob:\n", f"{ORG}: Quality Management System"
    files = {"qms.toml": qms_toml(id_digits), ".gitignore": "_build/\n",
             "README.md": f"# {ORG} QMS\n\nSynthetic, made by qms-docs' gen_synthetic_qms.py.\n",
             "conf.py": f'project = "{ORG} QMS"\nauthor = "{ORG}"\n'
                        'extensions = ["sphinx_needs", "qms_docs"]\nroot_doc = "index"\n'
                        'include_patterns = ["index.rst", "manual/**", "procedures/**", '
                        '"standards/**", "reports/**"]\nexclude_patterns = ["_build"]\n'
                        'html_theme = "basic"\nhtml_show_sourcelink = False\n',
             "index.rst": f"{heading}\n{'=' * len(heading)}\n\n.. toctree::\n   :maxdepth: 1\n"
                          "   :caption: Documents\n\n   manual/index\n   procedures/index\n\n"
                          ".. toctree::\n   :maxdepth: 1\n   :caption: Standards and reports\n\n"
                          "   standards/iso9001-2015\n   reports/traceability\n"
                          "   reports/coverage\n   reports/master-list\n",
             "manual/index.rst": f"Quality manual and policies\n{'=' * 27}\n\n{toc}\n"
                                 "   qm-*\n   pol-*\n",
             "procedures/index.rst": f"Procedures, work instructions and forms\n{'=' * 39}\n\n"
             + "\n".join(f"{toc}   :caption: {caption}\n\n   {pattern}-*\n" for caption, pattern
                         in [("Standard operating procedures", "sop"),
                             ("Work instructions", "wi"), ("Forms", "frm")]),
             "standards/iso9001-2015.rst": f"ISO 9001:2015 clauses\n{'=' * 21}\n\n"
                                           ".. qms-clauses:: iso9001-2015\n"}
    for name, title, report in [("traceability", "Traceability matrix", "trace-matrix"),
                                ("coverage", "Coverage of ISO 9001:2015", "coverage"),
                                ("master-list", "Master document list", "master-list")]:
        files[f"reports/{name}.rst"] = f"{title}\n{'=' * len(title)}\n\n.. qms-report:: {report}\n"
    return files


def doc_title(type_name: str, number: int, subject: str, rng: random.Random) -> str:
    """A plausible title for the document ``number`` of a type about ``subject``."""
    subject = " ".join(w if w.isupper() else w.capitalize() for w in subject.split())
    if type_name == "manual":
        return "Quality Manual" if number == 1 else f"Quality Manual Part {number}: {subject}"
    if type_name == "policy":
        return {1: "Quality Policy", 2: "Quality Objectives"}.get(number, f"Policy on {subject}")
    if type_name == "wi":
        return f"{rng.choice(WORDS['gerund'])} {subject}"
    if type_name == "form":
        return f"{subject} {rng.choice(WORDS['form_kind'])}"
    return f"{rng.choice(WORDS['action'])} of {subject}"


def type_counts(n: int) -> dict[str, int]:
    """Documents per type: the shares of TYPES, rounded to sum to n, at least one manual."""
    shares = {name: spec[4] * n for name, spec in TYPES.items()}
    counts = {name: int(share) for name, share in shares.items()}
    for name in sorted(shares, key=lambda k: counts[k] - shares[k])[:n - sum(counts.values())]:
        counts[name] += 1
    for name in ("manual", "policy"):
        if not counts[name]:
            counts[name], counts["sop"] = 1, counts["sop"] - 1
    return counts


def plan_documents(n: int, digits: int, rng: random.Random, config) -> list[Doc]:
    """N documents of mixed types with ids, titles, owners and leaf clauses."""
    leaves = [c.need_id for c in load_catalog("iso9001-2015").leaves]
    owners = {"manual": ["quality-manager"], "policy": ["top-management", "quality-manager"]}
    departments = [r for r in ROLES if r not in ("top-management", "internal-auditor")]
    docs = []
    for name, count in type_counts(n).items():
        prefix, folder = TYPES[name][:2]
        for number in range(1, count + 1):
            subject = rng.choice(WORDS["subject"])
            title = doc_title(name, number, subject, rng)
            doc_id = f"{prefix}-{number:0{digits}d}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-")
            doc = Doc(doc_id, name, title, subject, rng.choice(owners.get(name, departments)),
                      sorted(rng.sample(leaves, rng.randint(1, 4)), key=leaves.index),
                      f"{folder}/{doc_id.lower()}-{slug}.rst")
            doc.roles = required_roles(Document(doc_id, name, title, 1, doc.owner, doc.path, 1),
                                       config)
            docs.append(doc)
    return docs


def plan_revisions(docs: list[Doc], commits: int, rng: random.Random) -> int:
    """Set fates and approved revisions so that the plan fits ``commits`` commits.

    Returns how many commits are left for periodic reviews and unrelated commits.
    """
    n, pool = len(docs), rng.sample(docs, len(docs))
    in_review = [d for d in pool if len(d.roles) > 1][:round(n * 0.01)]
    rest = [d for d in pool if d not in in_review]
    n_draft, n_retired = max(1, round(n * 0.04)), round(n * 0.01)
    for doc in in_review:
        doc.fate = "in-review"
    for doc in rest[:n_draft]:
        doc.fate = "draft"
    for doc in rest[n_draft:n_draft + n_retired]:
        doc.fate = "retired"
    used = 1 + sum(len(p) + 1 for d in docs for p in d.phases()) + n_retired
    if used + 1 > commits:
        sys.exit(f"error: {n} documents need at least {used + 1} commits (--commits {commits})")
    budget = commits - used - round(commits * 0.04 + n * 0.2)  # for reviews, other commits
    cumulative = list(itertools.accumulate(rng.paretovariate(1.2) for _ in docs))
    for _ in range(20 * n + 1000):  # some documents change often, most rarely
        doc = docs[min(bisect.bisect(cumulative, rng.random() * cumulative[-1]), n - 1)]
        if budget < 2:
            break
        if budget >= len(doc.roles) + 1:
            doc.approved += 1
            budget, used = budget - len(doc.roles) - 1, used + len(doc.roles) + 1
    return commits - used


def make_block(section: str, key: str, rng: random.Random, ctx: dict) -> str:
    """The text of one paragraph, bullet or step of a section, wrapped for RST."""
    values = {**ctx, "form": rng.choice(ctx["forms"]), "sop": rng.choice(ctx["sops"]),
              "freq": rng.choice(WORDS["freq"]), "hours": rng.randint(2, 8),
              "days": rng.choice([14, 30, 90]), "sample": rng.choice([5, 10, 20]),
              "years": rng.randint(3, 10)}
    if section in ("Purpose", "Scope"):
        others = rng.sample([t for t in TEMPLATES[section] if t != key], rng.randint(2, 3))
        return wrap(" ".join(t.format(**values) for t in [key, *others]))
    if section == "Responsibilities":
        duty = rng.choice(TEMPLATES[section]).format(**values)
        return wrap(f"**{ROLES[key]}** {duty}", "- ", "  ")
    if section == "Records":
        return wrap(key.format(**values), "- ", "  ")
    note = " " + rng.choice(TEMPLATES["Note"]).format(**values) if rng.random() < 0.5 else ""
    return wrap(key.format(**values) + note, "#. ", "   ")


def fresh_block(doc: Doc, section: str, rng: random.Random) -> tuple[str, str]:
    """A new (key, text) block of a section, whose key the section does not use yet."""
    pool = list(ROLES) if section == "Responsibilities" else TEMPLATES[section]
    used = {key for key, _text in doc.sections.get(section, [])}
    key = rng.choice([k for k in pool if k not in used] or pool)
    return key, make_block(section, key, rng, doc.context)


def first_body(doc: Doc, seed: int, refs: dict[str, list[str]]) -> None:
    """Generate revision 1's sections from the document's own random stream."""
    rng = random.Random(f"{seed}:{doc.id}")
    doc.context = {"kind": TYPES[doc.type][5], "org": ORG, "site": SITE,
                   "owner": ROLES[doc.owner], "subject": doc.subject,
                   "action": (doc.title.split(" of ")[0] if doc.type == "sop"
                              else rng.choice(WORDS["action"])).lower(),
                   "equip": rng.choice(WORDS["equip"]),
                   "forms": [r for r in refs["form"] if doc.id not in r] or ["the record"],
                   "sops": [r for r in refs["sop"] if doc.id not in r] or ["the procedure"]}
    sizes = {"Purpose": 1, "Scope": 1, "Responsibilities": rng.randint(2, 4),
             "Procedure": rng.randint(8, 16), "Records": rng.randint(2, 4)}
    for section, size in sizes.items():
        doc.sections[section] = []
        for _ in range(size):
            doc.sections[section].append(fresh_block(doc, section, rng))


def revise_body(doc: Doc, revision: int, seed: int) -> str:
    """Change one section for a new revision; returns a summary of the change."""
    rng = random.Random(f"{seed}:{doc.id}:{revision}")
    section = rng.choice(["Procedure"] * 4 + ["Scope", "Responsibilities", "Records", "Purpose"])
    blocks, choice = doc.sections[section], rng.random()
    position = rng.randrange(len(blocks))
    if section == "Procedure" and choice < 0.3 and len(blocks) < 18:
        blocks.insert(position, fresh_block(doc, section, rng))
        return f"Added step {position + 1} to the procedure"
    if section == "Procedure" and choice < 0.45 and len(blocks) > 5:
        del blocks[position]
        return f"Removed step {position + 1} of the procedure"
    blocks[position] = fresh_block(doc, section, rng)
    return f"Reworded the {section.lower()} section"


def render(doc: Doc, revision: int) -> bytes:
    """The document file: the header in the project's format, then its sections."""
    out = [f".. {doc.type}:: {doc.title}\n   :id: {doc.id}\n   :revision: {revision}\n"
           f"   :owner: {doc.owner}\n   :satisfies: {', '.join(doc.satisfies)}\n"]
    for name, blocks in doc.sections.items():
        out.append(f"{name}\n{'=' * len(name)}\n\n" + "\n\n".join(t for _k, t in blocks) + "\n")
    return "\n".join(out).encode("utf-8")


@dataclass(order=True)
class Event:
    """One commit to make: when, and what (kind, document, revision, person, role)."""

    when: float
    seq: int
    kind: str = field(compare=False)
    doc: Doc | None = field(compare=False, default=None)
    revision: int = field(compare=False, default=0)
    person: tuple = field(compare=False, default=())
    role: str = field(compare=False, default="")


def schedule(docs: list[Doc], spare: int, start: float, end: float, now: float,
             rng: random.Random) -> list[Event]:
    """Every commit of the history in time order: 1 + what the plan needs + ``spare``."""
    people = [(name, email(name), roles) for name, roles in PEOPLE]
    holders = {role: [p for p in people if role in p[2]] for role in ROLES}
    seq = itertools.count()
    events = [Event(start, next(seq), "skeleton", person=holders["quality-manager"][0])]
    overdue = []
    for doc in docs:
        authors = [p for p in people if all(set(holders[r]) - {p} for r in doc.roles)]
        owners = [p for p in authors if doc.owner in p[2]]
        created = start + (end - start) * (rng.uniform(0.001, 0.05) if rng.random() < 0.3
                                           else rng.uniform(0.05, 0.85))
        phases = doc.phases()
        times = [created, *sorted(rng.uniform(created, end - 86400) for _ in phases[1:]), end]
        for revision, roles in enumerate(phases, 1):
            when = times[revision - 1]
            author = rng.choice(owners if owners and rng.random() < 0.6 else authors)
            events.append(Event(when, next(seq), "content", doc, revision, author))
            window = min((times[revision] - when) * 0.5, 12 * 86400)  # approvals take days
            for role, step in zip(roles, sorted(rng.uniform(0.05, 1) for _ in roles), strict=True):
                approver = rng.choice([p for p in holders[role] if p != author])
                events.append(Event(when + window * step, next(seq), "approval", doc, revision,
                                    approver, role))
        last = events[-1].when
        months = TYPES[doc.type][3]
        if doc.fate == "retired":
            events.append(Event(last + (end - last) * rng.uniform(0.2, 0.9), next(seq),
                                "retire", doc, len(phases), rng.choice(holders[doc.roles[0]])))
        elif doc.fate == "effective" and add_months(day(last), months) < day(now + 30 * 86400):
            low = max(last + 86400, now - (months * 30.4 - 60) * 86400)  # due in 2+ months
            overdue.append(Event(rng.uniform(low, end), next(seq), "review", doc, len(phases),
                                 rng.choice(holders[doc.roles[0]])))
    reviews = rng.sample(overdue, min(spare - 1, len(overdue)))
    others = [Event(rng.uniform(start, end), next(seq), "other", person=rng.choice(people))
              for _ in range(spare - len(reviews))]
    return sorted(events + reviews + others)


def delta(old_size: int, new: bytes, prefix: int, suffix: int) -> bytes:
    """A git delta: copy ``prefix`` bytes, insert the middle of ``new``, copy ``suffix``."""
    def size(n: int) -> bytes:
        out = bytearray()
        while n >= 0x80:
            out.append(0x80 | n & 0x7F)
            n >>= 7
        return bytes(out + bytes([n]))

    def copy(offset: int, length: int) -> bytes:
        command, args = 0x80, bytearray()
        fields = [*offset.to_bytes(4, "little"), *length.to_bytes(3, "little")]
        for bit, byte in enumerate(fields):  # bits 0-3: offset bytes, bits 4-6: size bytes
            if byte:
                command, args = command | 1 << bit, args + bytes([byte])
        return bytes([command]) + args

    middle = new[prefix:len(new) - suffix]
    out = [size(old_size), size(len(new)), copy(0, prefix) if prefix else b""]
    out += [bytes([len(middle[i:i + 127])]) + middle[i:i + 127] for i in range(0, len(middle), 127)]
    return b"".join(out + [copy(old_size - suffix, suffix) if suffix else b""])


class Pack:
    """Git objects written into one pack file and its index (pack and index version 2)."""

    TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}

    def __init__(self, git_dir: Path) -> None:
        self.folder = git_dir / "objects" / "pack"
        self.file = open(self.folder / "tmp_pack_synthetic", "wb")
        self.file.write(b"PACK" + struct.pack(">II", 2, 0))  # the count is set by close()
        self.objects: dict[bytes, tuple[int, int, int]] = {}  # sha -> offset, crc32, depth

    def put(self, kind: bytes, data: bytes, base: bytes | None = None, diff: bytes = b"") -> bytes:
        """Store an object, as the delta ``diff`` on object ``base`` if given; its sha."""
        digest = hashlib.sha1(b"%s %d\0" % (kind, len(data)))
        digest.update(data)
        sha = digest.digest()
        if sha in self.objects:
            return sha
        offset, depth = self.file.tell(), 0
        if base:
            base_offset, _crc, depth = self.objects[base]
            distance, data, depth = offset - base_offset, diff, depth + 1
            encoded = [distance & 0x7F]
            while distance >> 7:
                distance = (distance >> 7) - 1
                encoded.insert(0, 0x80 | distance & 0x7F)
        header, size = [(6 if base else self.TYPES[kind]) << 4 | len(data) & 0x0F], len(data) >> 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        entry = bytes(header) + (bytes(encoded) if base else b"") + zlib.compress(data, 1)
        self.objects[sha] = (offset, zlib.crc32(entry), depth)
        self.file.write(entry)
        return sha

    def close(self) -> None:
        """Finish the pack (count, checksum) and write its index next to it."""
        self.file.seek(8)
        self.file.write(struct.pack(">I", len(self.objects)))
        self.file.close()
        temporary = self.folder / "tmp_pack_synthetic"
        with open(temporary, "r+b") as handle:
            checksum = hashlib.file_digest(handle, "sha1").digest()
            handle.write(checksum)
        shas = sorted(self.objects)
        fanout = [bisect.bisect_right(shas, bytes([b]) + b"\xff" * 19) for b in range(256)]
        offsets = [self.objects[s][0] for s in shas]
        if offsets and max(offsets) >= 1 << 31:
            sys.exit("error: the pack is larger than 2 GB")
        index = b"".join([b"\377tOc", struct.pack(">I", 2), struct.pack(">256I", *fanout),
                          *shas, struct.pack(f">{len(shas)}I", *[self.objects[s][1] for s in shas]),
                          struct.pack(f">{len(shas)}I", *offsets), checksum])
        name = f"pack-{checksum.hex()}"
        (self.folder / f"{name}.idx").write_bytes(index + hashlib.sha1(index).digest())
        temporary.rename(self.folder / f"{name}.pack")


class Folder:
    """One directory of the tree: entries in git's order, and the version last stored."""

    def __init__(self) -> None:
        self.keys: list[str] = []  # names, folders with a trailing "/": git's sort order
        self.entries: list[bytes] = []
        self.changed: set[str] = set()
        self.sha, self.size = b"", 0

    def set(self, name: str, sha: bytes, folder: bool = False) -> None:
        key, mode = (name + "/", b"40000") if folder else (name, b"100644")
        entry = b"%s %s\0%s" % (mode, name.encode(), sha)
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            self.entries[at] = entry
        else:
            self.keys.insert(at, key)
            self.entries.insert(at, entry)
        self.changed.add(key)

    def store(self, pack: Pack) -> bytes:
        """Store the tree object; a big one as a delta on its last version (what changed)."""
        data = b"".join(self.entries)
        base, diff = None, b""
        if (self.sha and self.changed and len(data) > 2048
                and pack.objects[self.sha][2] < DELTA_DEPTH):
            positions = [bisect.bisect_left(self.keys, key) for key in self.changed]
            prefix = sum(map(len, self.entries[:min(positions)]))
            suffix = sum(map(len, self.entries[max(positions) + 1:]))
            base, diff = self.sha, delta(self.size, data, prefix, suffix)
        self.sha, self.size, self.changed = pack.put(b"tree", data, base, diff), len(data), set()
        return self.sha


class History:
    """The commits of one branch, written into a pack: files in, commit ids out."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir, self.pack = git_dir, Pack(git_dir)
        self.folders: dict[str, Folder] = {"": Folder()}
        self.head = ""

    def commit(self, person: tuple, when: float, message: str, files: dict[str, bytes]) -> None:
        """Add one commit on top of the last, changing (or adding) ``files``."""
        dirty = {""}
        for path, data in files.items():
            folder, _, name = path.rpartition("/")
            self.folders.setdefault(folder, Folder()).set(name, self.pack.put(b"blob", data))
            while folder:
                dirty.add(folder)
                folder = folder.rpartition("/")[0]
        for folder in sorted(dirty, key=lambda f: -f.count("/") - bool(f)):  # deepest first
            sha = self.folders.setdefault(folder, Folder()).store(self.pack)
            if folder:
                parent, _, name = folder.rpartition("/")
                self.folders.setdefault(parent, Folder()).set(name, sha, folder=True)
        ident = f"{person[0]} <{person[1]}> {int(when)} +0000"
        parent = f"parent {self.head}\n" if self.head else ""
        body = (f"tree {self.folders[''].sha.hex()}\n{parent}author {ident}\ncommitter {ident}\n"
                f"\n{message}\n").encode()
        self.head = self.pack.put(b"commit", body).hex()

    def close(self) -> None:
        """Finish the pack and point the branch at the last commit."""
        self.pack.close()
        (self.git_dir / "refs" / "heads" / "main").write_text(self.head + "\n")


class Writer:
    """Turns events into commits: document files and records, with their ids and dates."""

    def __init__(self, git_dir: Path, seed: int, digits: int, rng: random.Random) -> None:
        self.git, self.seed, self.digits, self.rng = History(git_dir), seed, digits, rng
        self.paths: set[str] = set()

    def record(self, kind: str, doc: Doc, when: float, **fields) -> tuple[str, bytes]:
        """A validated record file (path, bytes) in the project's record format."""
        stamp = dt.datetime.fromtimestamp(int(when), dt.UTC)
        data = {"kind": kind, "id": f"{self.rng.getrandbits(128):032x}", "document": doc.id,
                "date": stamp.isoformat(), **fields}
        path = ""
        while not path or path in self.paths:
            path = (f"records/{doc.id}/{stamp:%Y%m%dT%H%M%SZ}-{kind}-"
                    f"{self.rng.getrandbits(24):06x}.yaml")
        self.paths.add(path)
        validate_record(data, path)
        return path, (RECORD_HEADER + yamlio.dump(data)).encode("utf-8")

    def write(self, event: Event) -> None:
        """Make the commit of one event."""
        doc, rev, who, when = event.doc, event.revision, event.person, event.when
        person = {"name": who[0], "email": who[1]}
        if event.kind == "skeleton":
            files = {p: t.encode() for p, t in site_files(self.digits).items()}
            message = "Set up the QMS repository"
        elif event.kind == "content":
            summary = f"Created {doc.type} {doc.id}" if rev == 1 else revise_body(doc, rev,
                                                                                  self.seed)
            reason = "New document" if rev == 1 else self.rng.choice(WORDS["reason"]).format(
                n=self.rng.randint(1, 999))
            files = {doc.path: render(doc, rev)}
            doc.fingerprints[rev] = fingerprint(files[doc.path])
            files.update([self.record("change", doc, when, from_revision=rev - 1, to_revision=rev,
                                      reason=reason, summary=summary, author=person,
                                      training=rev == 1 or doc.type != "form")])
            message = f"Add {doc.id} {doc.title}" if rev == 1 else f"{doc.id} rev {rev}: {reason}"
        elif event.kind == "approval":
            files = dict([self.record("approval", doc, when, revision=rev,
                                      fingerprint=doc.fingerprints[rev], approver=person,
                                      role=event.role, meaning="approval",
                                      effective=day(when).isoformat(),
                                      commit=self.git.head)])
            message = f"Approve {doc.id} rev {rev} as {event.role}"
        elif event.kind == "review":
            files = dict([self.record("review", doc, when, revision=rev, reviewer=person,
                                      fingerprint=doc.fingerprints[rev],
                                      outcome="Reviewed: still correct, no change needed")])
            message = f"Periodic review of {doc.id}"
        elif event.kind == "retire":
            files = dict([self.record("retirement", doc, when, revision=rev, approver=person,
                                      reason="No longer used: the activity was discontinued")])
            message = f"Retire {doc.id}"
        else:
            stamp, topic = dt.datetime.fromtimestamp(int(when), dt.UTC), self.rng.choice(
                WORDS["subject"])
            files = {f"notes/{stamp:%Y/%m-%d-%H%M%S}.md":
                     f"# Meeting note {stamp:%Y-%m-%d}\n\nDiscussed {topic}.\n".encode()}
            message = f"Meeting note: {topic}"
        self.git.commit(who, when, message, files)


def generate(n: int, commits: int, out: Path, seed: int, years: float) -> None:
    """Create the whole repository at ``out``."""
    rng = random.Random(seed)
    digits = 4 if n >= 1000 else 3
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "qms.toml").write_text(qms_toml(digits), encoding="utf-8")
        config = load_config(Path(folder))
    docs = plan_documents(n, digits, rng, config)
    spare = plan_revisions(docs, commits, rng)
    refs = {t: [f":need:`{d.id}`" for d in docs if d.type == t] for t in ("form", "sop")}
    for doc in docs:
        first_body(doc, seed, refs)
    today = dt.datetime.combine(dt.date.today(), dt.time(), dt.UTC).timestamp()
    end = today - 86400  # the history ends before today in every time zone
    events = schedule(docs, spare, end - years * 365.25 * 86400, end, today, rng)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        sys.exit(f"error: {out} is not empty")
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)
    writer = Writer(out / ".git", seed, digits, rng)
    for event in events:
        writer.write(event)
    writer.git.close()
    for command in (["reset", "-q", "--hard"], ["config", "user.name", PEOPLE[1][0]],
                    ["config", "user.email", email(PEOPLE[1][0])]):
        subprocess.run(["git", *command], cwd=out, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", type=int, help="number of documents (N)")
    parser.add_argument("--commits", type=int, required=True, help="number of commits (M)")
    parser.add_argument("--out", type=Path, required=True, help="new repository folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--years", type=float, default=4, help="years of history (default 4)")
    args = parser.parse_args(argv)
    if args.documents < 5 or args.years <= 0:
        parser.error("N must be at least 5 and --years positive")
    began = time.monotonic()
    generate(args.documents, args.commits, args.out, args.seed, args.years)
    print(f"gen_synthetic_qms: {args.documents} documents, {args.commits} commits, "
          f"{time.monotonic() - began:.1f} s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

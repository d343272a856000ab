"""The finding codes: one registry of what each code means and what fixes it.

Every :class:`~qms_docs.model.Finding` names a code of this registry (a Finding with any
other code cannot be made), and the README's table of finding codes is this registry
written as Markdown (:func:`markdown_table`; a test compares them). A code's meaning and
fix are shared by the codes of its group, as the README lists them together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """Codes that share a meaning and a fix (one row of the README's table)."""

    codes: tuple[str, ...]
    meaning: str
    fix: str
    #: The severity a finding of these codes has by default; ``--strict`` (and the gate,
    #: for policy-not-approved) makes warnings errors.
    severity: str = "error"


GROUPS: tuple[Group, ...] = (
    Group(("bad-header",),
          "the document's header cannot be read (not UTF-8, no indentation, "
          "unclosed MyST fence)",
          "fix the header at the line named"),
    Group(("not-a-document",),
          "a file in a document folder without a document directive, or a "
          "document type's directive outside a document's header",
          "make it a document, name it `index.rst`, or remove the directive"),
    Group(("missing-id", "bad-id", "duplicate-id"),
          "the header has no id, one that does not fit its type's prefix, or one "
          "another file uses",
          "the next free id of the type (the hint names it, as `qms new` would pick it)"),
    Group(("missing-title",
           "missing-revision",
           "bad-revision",
           "missing-owner",
           "unknown-owner",
           "unknown-audience"),
          "a header field missing or naming no role of qms.toml",
          "fill it in with a valid value"),
    Group(("unknown-clause", "unknown-link"),
          "`:satisfies:` names no clause of the standards, `:links:` no document",
          "a clause number (`8.7.1`) or id (`ISO9001-8-7-1`) of the catalog (the hint "
          "offers the nearest); an existing document id"),
    Group(("bad-markup",),
          "`qms check FILE` found markup the build would fail on: a malformed table, an "
          "unclosed emphasis, an unknown directive or role, a link to no target",
          "the one-line fix the finding gives, at the file's line"),
    Group(("heading-clause",),
          "`:satisfies:` names a heading (a clause with clauses below it), which the gap "
          "report never counts as covered",
          "name the requirement clauses below it that the document meets (the message "
          "offers them)"),
    Group(("unknown-option", "duplicate-option"),
          "a header option qms does not know, or given twice",
          "remove it"),
    Group(("hand-typed-status",),
          "the header states status, effective date or approvers",
          "remove it: they are derived from records"),
    Group(("unsafe-include", "remote-resource", "missing-include"),
          "a document includes a file outside the QMS, fetches something from "
          "another site, or includes a file that is not there",
          "include files of the repository only"),
    Group(("invalid-record",),
          "a record file that is not valid against its schema, or records of a "
          "document that no longer exists",
          "restore the document (or retire it); never edit records"),
    Group(("record-misplaced", "duplicate-record-id"),
          "a record outside `records/<its document>/`, or reusing another "
          "record's id",
          "move a genuine record with `git mv`; remove a copy"),
    Group(("edited-after-approval",),
          "the document (or a file it shows) changed after approval without a new"
          " revision",
          "`qms revise DOC`, or restore the approved text"),
    Group(("missing-change-record", "revision-behind-records"),
          "a revision with no change record; a file rolled back below its records",
          "raise revisions with `qms revise`; restore the newer text"),
    Group(("unauthorized-approval",
           "unauthorized-retirement",
           "unauthorized-review",
           "unauthorized-training",
           "unauthorized-change",
           "unauthorized-deviation"),
          "the record's maker had no authority under the policy in force when it "
          "was made",
          "the act again by a person who has it; the record counts nowhere"),
    Group(("self-approval",),
          "the approver wrote or committed what they approve",
          "another person holding the role approves"),
    Group(("bad-signature", "missing-signature"),
          "a signature that does not verify against the signers file of the "
          "policy in force then, or none where required",
          "approve again, signed with a listed key"),
    Group(("approval-of-unknown-content",),
          "approves content no commit (or, for the gate, the branch) ever held",
          "commit, then `qms approve`"),
    Group(("record-predates-content",),
          "dated before the content it approves was written",
          "approve again"),
    Group(("revision-reused",),
          "a revision number already approved for other content",
          "`qms revise DOC`, then approve"),
    Group(("record-altered",),
          "a committed record modified or deleted (in any commit, merges "
          "included, or the working tree); it counts nowhere until restored to "
          "the bytes it was added with",
          "restore it (`git revert`); a past event: `qms deviation`"),
    Group(("identity-not-proven",),
          "gate: a record added by a commit not authored by the person it names, "
          "unsigned",
          "the person commits their own records, or signs them"),
    Group(("policy-not-approved",),
          "the policy (qms.toml, signers, frame) differs from the policy in "
          "force; a warning of `verify`, an error of `verify --base`",
          "`qms revise policy`, commit, `qms approve policy`",
          severity="warning"),
    Group(("reference-not-in-force",),
          "warning (error with `--strict`): the text in force of a document "
          "refers (`:need:`, `:links:`) to one retired or never effective",
          "revise the referring document",
          severity="warning"),
    Group(("upstream-not-in-force",),
          "`:links:` names an id that is no document of this QMS and that no upstream "
          "export (`[[federation.upstream]]`) holds in force: retired or never effective "
          "upstream, or not in the export at all",
          "link a document the upstream holds in force, or refresh the export "
          "(`qms federation fetch`, or copy the upstream's `qms export`)"),
    Group(("stale-upstream",),
          "warning: an upstream export older than a review date it declares (passed "
          "since), or than its `max_age_days`",
          "refresh the export: `qms federation fetch`, or the upstream's `qms export` "
          "copied in",
          severity="warning"),
    Group(("non-preferred-term",),
          "warning of `qms check`: a document's text uses a wording ISO 9000 or the "
          "company glossary does not prefer (\"supplier\", \"preventive action\")",
          "write the preferred term the message names; for a quotation, "
          "`.. qms: allow-terms-next` before its paragraph",
          severity="warning"),
    Group(("review-overdue", "training-overdue"),
          "warnings (errors with `--strict`): a periodic review or a training "
          "record is due",
          "`qms review`; `qms train`",
          severity="warning"),
)

#: code -> its group
CODES: dict[str, Group] = {code: group for group in GROUPS for code in group.codes}


def describe(code: str) -> Group:
    """The registry's entry of ``code`` (a KeyError for a code that is none)."""
    return CODES[code]


def markdown_table() -> str:
    """The README's table of finding codes, from the registry."""
    lines = ["| code | what it means | what fixes it |", "|---|---|---|"]
    for group in GROUPS:
        codes = ", ".join(f"`{code}`" for code in group.codes)
        lines.append(f"| {codes} | {group.meaning} | {group.fix} |")
    return "\n".join(lines)

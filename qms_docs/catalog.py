"""Standards catalogs: the clause trees that documents are traced to.

A catalog is data: ``qms_docs/standards/<standard>.yaml``, checked against
``records_schema/catalog.schema.json``. People type clause numbers (``7.5.3``); needs
carry ids with dashes (``ISO9001-7-5-3``), because sphinx-needs reads a dot in a link
as a need part. The mapping between the two lives here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from . import schemas, yamlio
from .errors import InputError, UsageError
from .model import Catalog, Clause


def available_standards() -> list[str]:
    """Names of the catalogs shipped with qms-docs."""
    folder = resources.files("qms_docs").joinpath("standards")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def need_id(prefix: str, number: str) -> str:
    """``('ISO9001', '7.5.3')`` -> ``ISO9001-7-5-3``."""
    return f"{prefix}-{number.replace('.', '-')}"


@cache
def load_catalog(standard: str) -> Catalog:
    """Load a shipped catalog by name, e.g. ``iso9001-2015``."""
    if standard not in available_standards():
        raise UsageError(
            f"unknown standard {standard!r}",
            hint=f"use one of: {', '.join(available_standards())}",
        )
    file = resources.files("qms_docs").joinpath("standards", f"{standard}.yaml")
    return parse_catalog(Path(str(file)))


def load_standard(name: str, root: Path) -> Catalog:
    """A shipped catalog by name, or a catalog file of the QMS (``standards/own.yaml``)."""
    if not name.endswith((".yaml", ".yml")):
        return load_catalog(name)
    file = (root / name).resolve()
    if not file.is_relative_to(root.resolve()):
        raise UsageError(f"catalog {name} is outside the QMS repository",
                         hint="keep your own catalogs inside the repository")
    if not file.is_file():
        raise UsageError(f"catalog file {name} not found",
                         hint="check [qms] standards in qms.toml")
    return parse_catalog(file)


def load_catalogs(standards: Sequence[str], root: Path) -> list[Catalog]:
    """The catalogs a QMS traces to (``[qms] standards`` of qms.toml), in its order."""
    return [load_standard(name, root) for name in standards]


def find_catalog(name: str | None, catalogs: Sequence[Catalog], root: Path) -> Catalog:
    """The catalog a report asks for by ``name``: the first of the QMS's ``catalogs`` when
    no name is given, one of them by its standard (``iso9001-2015``), else a shipped
    catalog or a catalog file of the QMS (:func:`load_standard`). The CLI and the site
    both look a catalog up here."""
    if name is None:
        if not catalogs:
            raise UsageError("no standard to trace to",
                             hint="name one in [qms] standards in qms.toml")
        return catalogs[0]
    for catalog in catalogs:
        if catalog.standard == name:
            return catalog
    return load_standard(name, root)


def parse_catalog(file: Path) -> Catalog:
    """Read, validate and link one catalog file."""
    display = str(file)
    data = yamlio.load_file(file, display)
    errors = schemas.validate(data, "catalog")
    if errors:
        where, what = errors[0]
        raise InputError(f"invalid catalog: {where or 'top level'}: {what}", path=display)
    prefix = data["need_prefix"]
    seen: set[str] = set()
    for raw in data["clauses"]:
        if raw["number"] in seen:
            raise InputError(f"clause {raw['number']} is listed twice", path=display)
        if raw["parent"] is not None and raw["parent"] not in seen:
            raise InputError(
                f"clause {raw['number']}: parent {raw['parent']} is not listed before it",
                path=display,
            )
        seen.add(raw["number"])
    parents = {c["parent"] for c in data["clauses"] if c["parent"]}
    clauses = tuple(
        Clause(
            standard=data["standard"],
            number=raw["number"],
            title=raw["title"],
            parent=raw["parent"],
            need_id=need_id(prefix, raw["number"]),
            maintain=raw["maintain"],
            retain=raw["retain"],
            evidence=raw.get("evidence", ""),
            is_leaf=raw["number"] not in parents,
        )
        for raw in data["clauses"]
    )
    return Catalog(
        standard=data["standard"],
        title=data["title"],
        short_title=data.get("short_title", data["title"]),
        need_prefix=prefix,
        clauses=clauses,
    )


def find_clause(text: str, catalogs: Sequence[Catalog]) -> tuple[Catalog, Clause] | None:
    """The clause a reference names, as people write it: a number (``7.5.3.1``), a need id
    (``ISO9001-7-5-3-1``, any case) or ``9001:7.5.3.1``; the first catalog holding it.
    The one mapping of references to clauses: ``qms new --satisfies``, document headers
    and ``qms trace --clause`` all ask it."""
    wanted = text.strip()
    number = wanted.split(":")[-1].strip()
    for catalog in catalogs:
        found = catalog.by_need_id().get(wanted.upper()) or catalog.by_number().get(number)
        if found is not None:
            return catalog, found
    return None


def clause_id(text: str, catalogs: Sequence[Catalog]) -> str:
    """The need id of the clause a header's ``:satisfies:`` entry names (``8.7.1`` ->
    ``ISO9001-8-7-1``); an entry that names no clause stays as written (qms check reports
    it)."""
    found = find_clause(text, catalogs)
    return found[1].need_id if found else text.strip()


def heading_message(catalog: Catalog, clause: Clause) -> str:
    """``8.7 is a heading of ISO 9001:2015; did you mean 8.7.1 or 8.7.2?``"""
    offered = _names([c for c in catalog.leaves if c.number.startswith(clause.number + ".")])
    return f"{clause.number} is a heading of {catalog.short_title}; did you mean {offered}?"


def resolve_clause(text: str, catalogs: list[Catalog]) -> Clause:
    """Find the requirement clause a document satisfies (see :func:`find_clause`). A
    heading (a clause with clauses below it, which the gap report never counts as covered)
    is refused with its requirement clauses offered; an unknown number with the nearest
    clauses that exist."""
    wanted = text.strip()
    match = find_clause(wanted, catalogs)
    if match is not None:
        catalog, found = match
        if not found.is_leaf:
            raise UsageError(heading_message(catalog, found),
                             hint="a document satisfies requirement clauses: give each one "
                                  "it meets (--satisfies repeats)")
        return found
    near = [c for catalog in catalogs for c in nearest_clauses(wanted, catalog)]
    raise UsageError(
        f"no clause {text!r} in {', '.join(c.standard for c in catalogs) or 'any catalog'}"
        + (f"; did you mean {_names(near)}?" if near else ""),
        hint="give a clause number such as 7.5.3.1 (see the Standards page or `qms trace`)",
    )


def nearest_clauses(text: str, catalog: Catalog, most: int = 6) -> list[Clause]:
    """The requirement clauses a mistyped clause number most likely meant: those below
    the nearest clause of its number that exists (``8.7.3`` -> 8.7.1, 8.7.2)."""
    number = text.split(":")[-1].strip()
    if number.upper().startswith(catalog.need_prefix.upper() + "-"):
        number = number[len(catalog.need_prefix) + 1:].replace("-", ".")
    parts = number.split(".")
    by_number = catalog.by_number()
    while parts:
        parts.pop()
        parent = ".".join(parts)
        if parent in by_number:
            below = [c for c in catalog.leaves if c.number.startswith(parent + ".")]
            return below if len(below) <= most else []  # a whole chapter is no guess
    return []


def _names(clauses: list[Clause]) -> str:
    """``8.7.1 or 8.7.2`` (the last two joined by "or")."""
    numbers = [c.number for c in clauses]
    return (", ".join(numbers[:-1]) + " or " + numbers[-1]) if len(numbers) > 1 else (
        numbers[0] if numbers else "")

"""Crosswalks: what each clause of one catalog becomes in another (a new edition).

A crosswalk is data, like a catalog: ``qms_docs/standards/crosswalks/<from>_<to>.yaml``,
checked against ``records_schema/crosswalk.schema.json``, one row per pair of clauses with
the kind of change (``same``, ``changed``, ``split``, ``merged``, ``new``, ``removed``) and
a short note in our own words. A company names its own crosswalk file by path, as it
names its own catalogs. Every clause number of a crosswalk must exist in its two
catalogs, and every requirement clause of the older one must have a row: a clause left
out would silently drop out of a transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import schemas, yamlio
from .catalog import provisional_note, source_labels
from .errors import InputError, UsageError
from .model import Catalog

CHANGES = ("same", "changed", "split", "merged", "new", "removed")
_FOLDER = ("standards", "crosswalks")


@dataclass(frozen=True)
class CrosswalkRow:
    """One pair of clauses: ``from_number`` (None for a new clause) becomes ``to_number``
    (None for a removed one)."""

    from_number: str | None
    to_number: str | None
    change: str
    note: str = ""


@dataclass(frozen=True)
class Crosswalk:
    from_standard: str
    to_standard: str
    rows: tuple[CrosswalkRow, ...]
    edition_status: str = "final"
    sources: tuple[str, ...] = ()
    path: str = ""

    def targets(self, number: str) -> list[CrosswalkRow]:
        """The rows of a clause of the older catalog (several for a split)."""
        return [r for r in self.rows if r.from_number == number]

    def origins(self, number: str) -> list[CrosswalkRow]:
        """The rows that lead to a clause of the newer catalog."""
        return [r for r in self.rows if r.to_number == number]

    def note(self) -> str | None:
        """What a command says once when this crosswalk is provisional."""
        return provisional_note(f"The crosswalk {self.from_standard} -> {self.to_standard}",
                                self.edition_status, self.sources)


def available_crosswalks() -> list[str]:
    """File names of the crosswalks shipped with qms-docs."""
    folder = resources.files("qms_docs").joinpath(*_FOLDER)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))


def shipped_crosswalks() -> list[Crosswalk]:
    folder = resources.files("qms_docs").joinpath(*_FOLDER)
    return [parse_crosswalk(Path(str(folder.joinpath(name))), f"qms_docs/standards/"
                            f"crosswalks/{name}") for name in available_crosswalks()]


def parse_crosswalk(file: Path, display: str | None = None) -> Crosswalk:
    """Read and validate one crosswalk file (its clause numbers are checked against the
    catalogs by :func:`check_against`)."""
    display = display or str(file)
    data = yamlio.load_file(file, display)
    errors = schemas.validate(data, "crosswalk")
    if errors:
        where, what = errors[0]
        raise InputError(f"invalid crosswalk: {where or 'top level'}: {what}", path=display)
    rows = tuple(CrosswalkRow(r["from"], r["to"], r["change"], r.get("note", ""))
                 for r in data["rows"])
    return Crosswalk(data["from"], data["to"], rows, data.get("edition_status", "final"),
                     source_labels(data.get("sources", ())), display)


def check_against(crosswalk: Crosswalk, old: Catalog, new: Catalog) -> None:
    """Every clause a row names exists in its catalog, and every requirement clause of
    ``old`` has a row; otherwise an :class:`InputError` naming the crosswalk file."""
    where = crosswalk.path
    if (crosswalk.from_standard, crosswalk.to_standard) != (old.standard, new.standard):
        raise InputError(f"the crosswalk maps {crosswalk.from_standard} -> "
                         f"{crosswalk.to_standard}, not {old.standard} -> {new.standard}",
                         path=where)
    old_numbers, new_numbers = old.by_number(), new.by_number()
    seen = set()
    for index, row in enumerate(crosswalk.rows):
        for number, numbers, catalog in ((row.from_number, old_numbers, old),
                                         (row.to_number, new_numbers, new)):
            if number is not None and number not in numbers:
                raise InputError(f"rows[{index}]: {number} is no clause of "
                                 f"{catalog.short_title}", path=where,
                                 hint="use the clause numbers of the catalog")
        if (row.from_number, row.to_number) in seen:
            raise InputError(f"rows[{index}]: {row.from_number} -> {row.to_number} is listed "
                             "twice", path=where)
        seen.add((row.from_number, row.to_number))
    mapped = {row.from_number for row in crosswalk.rows}
    missing = [c.number for c in old.leaves if c.number not in mapped]
    if missing:
        raise InputError(f"no row for {', '.join(missing[:8])}"
                         f"{' ...' if len(missing) > 8 else ''} of {old.short_title}",
                         path=where, hint="give every requirement clause a row "
                                          "(change: same where nothing changed)")


def find_crosswalk(to_standard: str, from_catalogs: Sequence[Catalog], root: Path,
                   path: str | None = None) -> Crosswalk:
    """The crosswalk to ``to_standard`` from one of ``from_catalogs`` (the QMS's catalogs,
    in their order): the file ``path`` of the QMS when given, else a shipped one."""
    if path is not None:
        file = (root / path).resolve()
        if not file.is_relative_to(root.resolve()):
            raise UsageError(f"crosswalk {path} is outside the QMS repository",
                             hint="keep your own crosswalks inside the repository")
        if not file.is_file():
            raise UsageError(f"crosswalk file {path} not found")
        found = parse_crosswalk(file, path)
        if found.to_standard != to_standard:
            raise UsageError(f"{path} maps to {found.to_standard}, not {to_standard}")
        return found
    names = [c.standard for c in from_catalogs if c.standard != to_standard]
    shipped = shipped_crosswalks()
    for name in names:
        for crosswalk in shipped:
            if (crosswalk.from_standard, crosswalk.to_standard) == (name, to_standard):
                return crosswalk
    offered = ", ".join(f"{c.from_standard} -> {c.to_standard}" for c in shipped)
    raise UsageError(f"no crosswalk from {', '.join(names) or 'the QMS standards'} to "
                     f"{to_standard}", hint=f"shipped: {offered}; or name your own file "
                                            "with --crosswalk")

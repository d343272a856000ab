"""The extension's build state, kept in a Sphinx domain as ``sphinx.ext.todo`` keeps its todos.

Two kinds of state, both reached through :meth:`QmsDomain.of`:

- what the environment keeps from one build to the next (the domain's ``data``, pickled
  with it): which pages show which aggregate inputs (noted while a page is read, so
  cleared with the page and merged from the processes of a parallel read), and the
  digests of the inputs and pages the last build showed (set in the main process only);
- this build's project (:class:`ProjectState`: qms.toml, the standards, the scan, the
  records): loaded once per build in the main process at ``builder-inited``, never
  pickled (the processes of a parallel read or write inherit it when they fork).
"""

from __future__ import annotations

import weakref
from collections.abc import Set
from typing import Any, ClassVar

from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment

from .state import ProjectState

#: A project loaded at ``config-inited``, before the environment (and so this domain)
#: exists; the domain takes it over at ``builder-inited`` (:meth:`QmsDomain.start`).
_LOADED: weakref.WeakKeyDictionary[Sphinx, ProjectState] = weakref.WeakKeyDictionary()


class QmsDomain(Domain):
    """Typed access to the build state of qms-docs (no directives or roles of its own)."""

    name = "qms"
    label = "QMS"
    data_version = 1
    initial_data: ClassVar[dict[str, Any]] = {
        "aggregates": {},  # docname -> the inputs the page shows (ProjectState.input_digests)
        "read_digests": {},  # input -> its digest when the aggregate pages were last read
        "page_digests": {},  # document id -> digest of its control block and history
        "reports_digest": "",  # the digest of what the report pages showed
    }

    def __init__(self, env: BuildEnvironment) -> None:
        super().__init__(env)
        self._project: ProjectState | None = None

    @classmethod
    def of(cls, env: BuildEnvironment) -> QmsDomain:
        domain = env.domains[cls.name]
        assert isinstance(domain, QmsDomain)
        return domain

    # --- this build ------------------------------------------------------------------

    @staticmethod
    def loaded(app: Sphinx, project: ProjectState) -> None:
        """Keep the project loaded at ``config-inited`` until the build starts."""
        _LOADED[app] = project

    @staticmethod
    def loading(app: Sphinx) -> ProjectState:
        """The project loaded at ``config-inited``, before the build starts."""
        return _LOADED[app]

    def start(self, app: Sphinx) -> ProjectState:
        """Take over the project loaded at ``config-inited`` (``builder-inited``)."""
        self._project = _LOADED.pop(app)
        return self._project

    @property
    def project(self) -> ProjectState:
        """qms.toml, the standards, the scan and the records of this build."""
        if self._project is None:
            raise RuntimeError("qms-docs: the project is read at builder-inited")
        return self._project

    # --- kept in the environment -----------------------------------------------------

    @property
    def aggregates(self) -> dict[str, set[str]]:
        """Pages that show aggregate inputs, and which (a key of ``input_digests``)."""
        aggregates: dict[str, set[str]] = self.data["aggregates"]
        return aggregates

    def note_aggregate(self, docname: str, inputs: str) -> None:
        """Note that page ``docname`` shows ``inputs``: it is read again when they change."""
        self.aggregates.setdefault(docname, set()).add(inputs)

    @property
    def read_digests(self) -> dict[str, str]:
        digests: dict[str, str] = self.data["read_digests"]
        return digests

    @read_digests.setter
    def read_digests(self, value: dict[str, str]) -> None:
        self.data["read_digests"] = value

    @property
    def page_digests(self) -> dict[str, str]:
        digests: dict[str, str] = self.data["page_digests"]
        return digests

    @page_digests.setter
    def page_digests(self, value: dict[str, str]) -> None:
        self.data["page_digests"] = value

    @property
    def reports_digest(self) -> str:
        return str(self.data["reports_digest"])

    @reports_digest.setter
    def reports_digest(self, value: str) -> None:
        self.data["reports_digest"] = value

    def clear_doc(self, docname: str) -> None:
        self.aggregates.pop(docname, None)

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        """A parallel read: take what the other process noted of the pages it read."""
        theirs: dict[str, set[str]] = otherdata["aggregates"]
        for docname in docnames:
            if docname in theirs:
                self.aggregates[docname] = set(theirs[docname])


def project(env: BuildEnvironment) -> ProjectState:
    """This build's project (qms.toml, standards, scan, records)."""
    return QmsDomain.of(env).project

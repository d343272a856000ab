"""Sphinx front end of qms-docs.

Reads qms.toml at ``config-inited`` and configures sphinx-needs from it, scans the
document folders once per build (the same scan ``qms check`` does), reports header
problems as ``[qms.<code>]`` warnings with file and line, and registers the
directives that render the standards and the auditor reports.
"""

from __future__ import annotations

import datetime as dt
import gc
import warnings
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config as SphinxConfig
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError as SphinxConfigError
from sphinx.util import logging

from .. import __version__, federation
from ..catalog import load_catalogs
from ..checks import check_documents
from ..config import load_config
from ..documents import Scan, scan
from ..errors import QmsError
from ..records import RecordSet, load_records
from . import directives, glossary, guard, needs_config, pages, references, tables
from .domain import QmsDomain
from .state import ProjectState

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Path(__file__).resolve().parent.parent / "sphinx_templates"


def on_config_inited(app: Sphinx, sphinx_config: SphinxConfig) -> None:
    root = Path(sphinx_config.qms_root or app.confdir)
    try:
        config = load_config(root)
        catalogs = load_catalogs(config.standards, root)
        upstreams = federation.load_upstreams(config, root)
    except QmsError as exc:
        raise SphinxConfigError(f"qms-docs: {exc}") from None
    # A controlled build names the documents it left out (not in force): references to
    # them become plain text with their state, and warnings (see references.py).
    QmsDomain.loaded(app, ProjectState(root=root, config=config, catalogs=catalogs,
                                       not_in_force=references.states_of(sphinx_config),
                                       pending=dict(sphinx_config.qms_pending or {}),
                                       upstreams=tuple(upstreams)))
    needs_config.apply(sphinx_config)
    needs_config.add_upstreams(sphinx_config, config, root)
    sphinx_config.html_static_path = [*sphinx_config.html_static_path, str(STATIC)]
    sphinx_config.templates_path = [*sphinx_config.templates_path, str(TEMPLATES)]


def on_config_inited_needs(app: Sphinx, sphinx_config: SphinxConfig) -> None:
    """The need types and fields, through sphinx-needs' API (see needs_config.py)."""
    needs_config.add_types_and_fields(app, QmsDomain.loading(app).config)


def on_builder_inited(app: Sphinx) -> None:
    state = QmsDomain.of(app.env).start(app)
    # The scan and the records are tens of thousands of objects that live as long as the
    # build: the cyclic collector would walk them in every full collection (in Sphinx's
    # main process, about a third of a build is such collections). Not collected while
    # they load, and frozen out of collection until the build ends (on_build_finished).
    collecting = gc.isenabled()
    gc.disable()
    try:
        cache_from = Path(app.config.qms_cache_from) if app.config.qms_cache_from else None
        srcdir = Path(app.srcdir)
        found = scan(srcdir, state.config)
        state.reset(found, _counted_records(app, srcdir, found, cache_from, state))
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    state.source = Path(app.srcdir)
    state.repository = cache_from if app.config.qms_judgement else None
    state.controlled = app.config.qms_controlled not in (False, 0, "", "0")
    if app.config.qms_as_of:  # an audit pack: status as it stood on that day
        state.today = dt.date.fromisoformat(app.config.qms_as_of)


def _counted_records(app: Sphinx, srcdir: Path, found: Scan, cache_from: Path | None,
                     state: ProjectState) -> RecordSet:
    """The records that count (authority.py): a controlled build gets the judgement made
    by qms from git with its tree; any other build judges them with the history of the
    repository holding the sources (without one, against the working tree's qms.toml)."""
    import json

    from .. import authority

    raw = load_records(srcdir, cache_from)
    if app.config.qms_judgement:
        file = srcdir / app.config.qms_judgement
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SphinxConfigError(
                f"qms-docs: cannot read the judgement {file}: {exc}") from None
        return authority.apply(raw, data)
    judgement = authority.judge_tree(srcdir, raw, found.documents, state.config)
    state.history = judgement.index  # coverage reads texts in force through it
    return judgement.records


#: Aggregate inputs shown by pages made when they are resolved: a change re-writes them.
RESOLVED_INPUTS = {"reports"}


def on_build_finished(app: Sphinx, exception: BaseException | None) -> None:
    gc.unfreeze()  # what on_builder_inited froze can be collected again


def on_env_get_outdated(app: Sphinx, env: BuildEnvironment, added: set[str],
                        changed: set[str], removed: set[str]) -> list[str]:
    """Pages to re-read beyond Sphinx's own choice: aggregating pages (standards,
    trace diagram, document lists) whenever a document came or went, or what they read in
    changed (see ``ProjectState.input_digests``): editing only the text of a document
    leaves the standards page as it is unless its clauses changed."""
    qms = QmsDomain.of(env)
    inputs = qms.project.input_digests()
    before = qms.read_digests
    qms.read_digests = {key: value for key, value in inputs.items()
                        if key not in RESOLVED_INPUTS}
    outdated: set[str] = set()
    for docname, shown in qms.aggregates.items():
        read_in = shown - RESOLVED_INPUTS
        if docname not in removed and read_in and (added or removed or any(
                inputs[key] != before.get(key) for key in read_in)):
            outdated.add(docname)
    return sorted(outdated)


def on_env_get_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Pages to write again without reading them: the report pages when the statuses
    or records they show changed, and a document's page when its control block or
    revision history did (both are made when the page is resolved)."""
    qms = QmsDomain.of(env)
    state = qms.project
    srcdir = Path(app.srcdir)
    pages = state.page_digests()
    shown_before = qms.page_digests
    reports = state.input_digests()["reports"]
    reports_before = qms.reports_digest
    qms.page_digests, qms.reports_digest = pages, reports
    updated: set[str] = set()
    for doc in state.scan.documents:
        if doc.id and pages.get(doc.id) != shown_before.get(doc.id):
            docname = env.path2doc(str(srcdir / doc.path))
            if docname and docname in env.all_docs:
                updated.add(docname)
    if reports != reports_before:
        updated.update(docname for docname, shown in qms.aggregates.items()
                       if shown & RESOLVED_INPUTS and docname in env.all_docs)
    return sorted(updated)


def on_env_check_consistency(app: Sphinx, env: BuildEnvironment) -> None:
    """Report every header finding as a located ``[qms.<code>]`` warning."""
    state = QmsDomain.of(env).project
    srcdir = Path(app.srcdir)
    scan = references.without_links_to(state.scan, state.not_in_force)
    findings = check_documents(scan, state.config, state.catalogs,
                               upstreams=state.upstreams if state.config.upstreams else None)
    if not app.config.qms_as_of:  # an audit pack records the past as it was: no finding
        findings += references.findings(state, srcdir)
    for finding in [*findings, *state.records.findings]:
        location: Any = None
        if finding.path:
            docname = env.path2doc(str(srcdir / finding.path))
            location = (docname, finding.line) if docname else f"{finding.path}:{finding.line}"
        hint = f" (hint: {finding.hint})" if finding.hint else ""
        logger.warning(f"{finding.message}{hint}", type="qms",
                       subtype=finding.code.replace("-", "_"), location=location)


def setup(app: Sphinx) -> dict[str, Any]:
    # sphinx-needs 9.1 passes a str path to sphinx.ext.graphviz; the deprecation is theirs.
    warnings.filterwarnings("ignore", message=".*representing paths as strings.*")
    app.setup_extension("sphinx_needs")
    needs_config.external_needs_after_reading(app)
    app.setup_extension("sphinx.ext.graphviz")
    app.setup_extension("myst_parser")  # documents may be written in MyST Markdown
    app.add_config_value("qms_root", "", "env", types=[str])
    app.add_config_value("qms_controlled", False, "env", types=[bool, int, str])
    app.add_config_value("qms_as_of", "", "env", types=[str])
    # a controlled build: the revisions not yet in force, as HEAD declares them (pending)
    app.add_config_value("qms_pending", {}, "env", types=[dict])
    # a controlled build's tree is outside git: the record cache of the repository it
    # was made from (content-addressed: it cannot change a result)
    app.add_config_value("qms_cache_from", "", "", types=[str])
    # a controlled build: which records count, judged by qms from git (authority.py)
    app.add_config_value("qms_judgement", "", "env", types=[str])
    # Control blocks and report tables written straight as HTML (the same HTML the
    # docutils writer makes of their nodes, at a fraction of the cost); False gives the
    # HTML builders the nodes instead, as every other builder gets.
    app.add_config_value("qms_direct_html", True, "html", types=[bool])
    # Before sphinx-needs (priority 10+) reads its configuration.
    app.connect("config-inited", on_config_inited, priority=5)
    app.connect("config-inited", on_config_inited_needs, priority=needs_config.API_PRIORITY)
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-get-updated", on_env_get_updated)
    app.connect("env-check-consistency", on_env_check_consistency)
    app.connect("build-finished", on_build_finished)
    app.add_css_file("qms.css")
    app.add_domain(QmsDomain)
    directives.setup(app)
    glossary.setup(app)
    guard.setup(app)
    pages.setup(app)
    references.setup(app)
    tables.setup(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 5}

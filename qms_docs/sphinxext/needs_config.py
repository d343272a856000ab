"""Configure sphinx-needs from qms.toml, so conf.py holds no sphinx-needs settings of the
document types: qms.toml is the one place for them.

The need types (one per document type, and ``clause``) and the header fields are added
through sphinx-needs' API (:func:`~sphinx_needs.api.add_need_type`,
:func:`~sphinx_needs.api.add_field`) at ``config-inited``, after sphinx-needs resolved
the configured types (priority 12) and before it reads the configured fields (500). A
type or field that conf.py configures itself (``needs_types``, ``needs_fields``) wins:
it is not added. sphinx-needs re-reads every page when the types change (it compares the
configured and the added ones).

The rest has no API in sphinx-needs 9.1 (link types included: there is no ``add_link``)
and is set as configuration values, before sphinx-needs reads them (priority 5); a value
conf.py (or ``-D``) sets to something else than sphinx-needs' default wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config as SphinxConfig
from sphinx.environment import BuildEnvironment
from sphinx_needs.api import add_field, add_need_type, del_need, get_need_types
from sphinx_needs.data import SphinxNeedsData
from sphinx_needs.external_needs import load_external_needs

from ..federation import UPSTREAM_CSS
from ..model import DOCUMENT_ID_REGEX as ID_REGEX
from ..model import Config

#: The need type of a standard's clauses (``.. qms-clauses::`` makes them).
CLAUSE_TYPE = "clause"
CLAUSE = {"directive": CLAUSE_TYPE, "title": "Clause", "prefix": "CL-",
          "color": "#FFFFFF", "style": "node"}
FIELDS = {
    "revision": "Revision of the document (a whole number, raised by qms revise)",
    "owner": "Role that owns the document (a role of qms.toml)",
    "audience": "Roles the document concerns (for training)",
    "records": "Records the procedure produces and keeps",
}
#: The layout of a clause need: its type, title and id. The documents that satisfy the
#: clause are not sphinx-needs' back-links but qms' own line (directives.py), the
#: traceability matrix's row: in force, pending or an upstream's, as the matrix says.
CLAUSE_LAYOUT = "qms_clause"
LAYOUTS = {CLAUSE_LAYOUT: {"grid": "simple", "layout": {
    "head": ['<<meta("type_name")>>: **<<meta("title")>>** <<meta_id()>>']}}}
#: Priority of :func:`add_types_and_fields` at ``config-inited``: after sphinx-needs
#: resolved ``needs_types`` (12), before it reads ``needs_fields`` (500).
API_PRIORITY = 13


def need_types(config: Config) -> list[dict[str, str]]:
    """The need types of a QMS: one per document type of qms.toml, then ``clause``."""
    types = [{"directive": policy.name, "title": policy.title, "prefix": f"{policy.prefix}-",
              "color": policy.color, "style": "node"}
             for policy in config.types.values()]
    return [*types, CLAUSE]


def needs_settings() -> dict[str, Any]:
    """The configuration values sphinx-needs has no API for."""
    return {
        # no default types (req, spec, impl, test): a QMS has its own, added through the API
        "needs_types": [],
        "needs_links": {
            "satisfies": {
                "incoming": "satisfied by",
                "outgoing": "satisfies",
                "color": "#1F6F8B",
                "style": "solid",
            },
        },
        "needs_id_regex": ID_REGEX,
        "needs_id_required": True,
        "needs_flow_engine": "graphviz",
        "needs_build_json": True,
        "needs_role_need_template": "{{ title }} ({{ id }})",
        "graphviz_output_format": "svg",
    }


def plain_settings(config: Config) -> dict[str, Any]:
    """What the conf.py of a plain sphinx-needs project (without qms_docs) sets to get the
    same need types, fields and links (the benchmark's bare variant)."""
    fields = {name: {"description": text, "schema": {"type": "string"}, "nullable": True}
              for name, text in FIELDS.items()}
    return {**needs_settings(), "needs_types": need_types(config), "needs_fields": fields}


def apply(app_config: SphinxConfig) -> None:
    """Set the values of :func:`needs_settings` on Sphinx's config, unless conf.py (or
    ``-D``) gave one that is not the default (it is kept)."""
    for name, value in needs_settings().items():
        if app_config[name] != app_config.values[name].default:
            continue  # an explicit conf.py value wins (documented in the README)
        app_config[name] = value
    # the layouts of conf.py, and qms' own (a conf.py layout of the same name wins)
    app_config.needs_layouts = {**LAYOUTS, **(app_config.needs_layouts or {})}


def add_types_and_fields(app: Sphinx, config: Config) -> None:
    """Add the need types and the header fields through sphinx-needs' API, but those
    conf.py configures itself."""
    configured = set(get_need_types(app))
    for need_type in need_types(config):
        if need_type["directive"] not in configured:
            add_need_type(app, need_type["directive"], need_type["title"],
                          need_type["prefix"], need_type["color"], need_type["style"])
    own = set(app.config.needs_fields or {}) | {
        option if isinstance(option, str) else option.get("name")
        for option in app.config.needs_extra_options or []}
    for name, description in FIELDS.items():
        if name not in own:
            add_field(name, description, schema={"type": "string"}, nullable=True)


def add_upstreams(app_config: SphinxConfig, config: Config, root: Path) -> None:
    """Each upstream of qms.toml as a source of sphinx-needs' external needs: its export
    kept in the repository (never a URL: builds stay offline), its pages under its
    ``base_url``. Local documents may then ``:links:`` and ``:need:`` them."""
    if not config.upstreams:
        return
    app_config.needs_external_needs = [
        *(app_config.needs_external_needs or []),
        *({"base_url": upstream.base_url, "json_path": str((root / upstream.path).resolve()),
           "id_prefix": upstream.id_prefix, "css_class": UPSTREAM_CSS}
          for upstream in config.upstreams)]


def external_needs_after_reading(app: Sphinx) -> None:
    """Load sphinx-needs' external needs (the upstreams' documents) once the pages are read,
    not before.

    sphinx-needs loads them at ``env-before-read-docs``. In a parallel read every worker
    then carries them, and pickles the whole environment back to the main process, which
    unpickles and merges each worker's copy of every external need: with an upstream of
    2000 documents that was about a third of a site's build of 200 (BENCHMARKS.md,
    federation). Nothing in a page's reading needs them: links to them are checked, and
    ``:need:`` resolved, after the read (``write-started``, ``doctree-resolved``). So the
    loader is moved to ``env-updated``, in the main process after the workers' merge, and
    the previous build's external needs are dropped before the read, so an incremental
    build's workers do not carry them either. sphinx-needs' own loader does the loading
    (its warnings and rules unchanged); if a later sphinx-needs renames it, nothing moves.
    """
    for listener in list(app.events.listeners.get("env-before-read-docs", ())):
        if listener.handler is load_external_needs:
            app.disconnect(listener.id)
            app.connect("env-before-read-docs", _drop_external_needs)
            app.connect("env-updated", _load_external_needs)


def _drop_external_needs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    for need_id, need in list(SphinxNeedsData(env).get_needs_mutable().items()):
        if need["is_external"]:
            del_need(app, need_id)


def _load_external_needs(app: Sphinx, env: BuildEnvironment) -> None:
    load_external_needs(app, env, [])

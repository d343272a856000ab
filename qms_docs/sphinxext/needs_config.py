"""Configure sphinx-needs from qms.toml, with its current (9.x) configuration names.

Runs at ``config-inited`` before sphinx-needs reads its configuration, so conf.py holds
no sphinx-needs settings of the document types: qms.toml is the one place for them.
"""

from __future__ import annotations

from typing import Any

from ..model import DOCUMENT_ID_REGEX as ID_REGEX
from ..model import Config

CLAUSE_TYPE = {"directive": "clause", "title": "Clause", "prefix": "CL-",
               "color": "#FFFFFF", "style": "node"}
FIELDS = {
    "revision": "Revision of the document (a whole number, raised by qms revise)",
    "owner": "Role that owns the document (a role of qms.toml)",
    "audience": "Roles the document concerns (for training)",
    "records": "Records the procedure produces and keeps",
}


def needs_settings(config: Config) -> dict[str, Any]:
    """The ``needs_*`` configuration values for a QMS."""
    types = [
        {"directive": policy.name, "title": policy.title, "prefix": f"{policy.prefix}-",
         "color": policy.color, "style": "node"}
        for policy in config.types.values()
    ]
    return {
        "needs_types": [*types, CLAUSE_TYPE],
        "needs_fields": {name: {"description": text, "schema": {"type": "string"}, "nullable": True}
                         for name, text in FIELDS.items()},
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


def apply(app_config: Any, config: Config) -> None:
    """Set the values on Sphinx's config, unless conf.py set one on purpose."""
    for name, value in needs_settings(config).items():
        if name in app_config._raw_config:
            continue  # an explicit conf.py value wins (documented in the README)
        setattr(app_config, name, value)

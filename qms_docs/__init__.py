"""qms-docs: a docs-as-code quality management system on Sphinx and sphinx-needs.

As a Sphinx extension, list it after ``sphinx_needs`` in ``conf.py``::

    extensions = ["sphinx_needs", "qms_docs"]

The Sphinx glue is imported only inside :func:`setup`, so the command-line tool pays
for importing Sphinx only when it builds.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: register need types, directives and checks from qms.toml."""
    from .sphinxext import setup as _setup

    return _setup(app)

"""The optional parts of qms-docs and the pip extra that installs each.

The core (check, verify, status, the acts, the site) needs neither the PDF stack nor
openpyxl, so a pre-commit hook that runs ``qms check`` installs no WeasyPrint. The
commands that do need them ask :func:`require` first, and a missing package is a usage
error naming the extra to install (exit 2), never a traceback halfway through a build.
"""

from __future__ import annotations

import importlib

from .errors import QmsError

# extra -> the modules it installs (as imported)
EXTRAS: dict[str, tuple[str, ...]] = {"pdf": ("weasyprint", "pypdf", "pikepdf"),
                                      "xlsx": ("openpyxl",), "import": ("pypandoc",)}


class MissingExtra(QmsError):
    """An optional package is not installed: exit 2, with the pip command."""


def require(extra: str, what: str) -> None:
    """Import the modules of ``extra`` or refuse: "<what> need the <extra> extra".

    Importing them here costs nothing extra: the caller imports them next. WeasyPrint
    installed without its system libraries (pango) fails on import with OSError; that
    is said too.
    """
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtra(f"{what} need the {extra} extra: pip install 'qms-docs[{extra}]'",
                               hint=f"the Python package {exc.name or module} is missing"
                               ) from exc
        except OSError as exc:
            raise MissingExtra(f"{module} is installed but cannot load its system libraries: "
                               f"{exc}", hint="Debian/Ubuntu: apt-get install libpango-1.0-0 "
                               "libpangoft2-1.0-0 (tools/install.sh does)") from exc

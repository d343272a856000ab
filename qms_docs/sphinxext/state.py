"""What the extension knows about the QMS during one build."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..documents import Scan
from ..model import Catalog, Config


@dataclass
class ProjectState:
    """qms.toml, the standards and this build's scan of the document folders."""

    root: Path
    config: Config
    catalogs: list[Catalog]
    scan: Scan = field(default_factory=lambda: Scan(documents=[], findings=[]))

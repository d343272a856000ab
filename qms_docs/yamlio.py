"""Read YAML files safely, with errors that name the file and line.

Uses libyaml's C loader where the wheel ships it (15x faster than pure Python on many
records). Aliases are refused: records and catalogs never need them, and refusing them
closes the door to exponentially expanding documents. So is nesting deeper than
``MAX_DEPTH``: libyaml's C loader builds nested collections recursively and crashes the
process (a segmentation fault, not an exception) some ten thousand levels down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .text import decode_utf8

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_BYTES = 1_000_000
MAX_DEPTH = 100


def load_text(text: str, path: str) -> Any:
    """Parse YAML text; raise :class:`InputError` naming ``path`` and the line."""
    if "*" in text or "&" in text or _may_nest_deeply(text):
        _refuse_aliases_and_depth(text, path)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            return None if node is None else _construct(node, loader)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(
            f"not valid YAML: {exc.problem or exc.context}",
            path=path,
            line=line,
            hint="fix the YAML syntax at that line (indentation, quotes, a missing ':')",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path) from None


_STR = "tag:yaml.org,2002:str"


def _construct(node: yaml.Node, loader: yaml.constructor.SafeConstructor) -> Any:
    """What ``yaml.load`` with the safe loader returns, faster for what records are made
    of: mappings with string keys and string values are built here, everything else (a
    number, a date, a list, a merge key, an explicit tag) by the safe constructor itself.
    """
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return node.value
    if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
        out = {}
        for key, value in node.value:
            if not (isinstance(key, yaml.ScalarNode) and key.tag == _STR):
                return loader.construct_object(node, deep=True)
            out[key.value] = _construct(value, loader)
        return out
    return loader.construct_object(node, deep=True)


def load_file(file: Path, display: str | None = None) -> Any:
    """Read and parse one YAML file (UTF-8, at most 1 MB)."""
    name = display or str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=name) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"file is too large ({len(raw)} bytes; limit {MAX_BYTES})", path=name)
    return load_text(decode_utf8(raw, name), name)


def _may_nest_deeply(text: str) -> bool:
    """A cheap upper bound of the nesting depth is above MAX_DEPTH: a collection opens
    with '[', '{', '-' or '?', or on a new line."""
    bound = sum(text.count(c) for c in "[{-?\n")
    return bound > MAX_DEPTH


def _refuse_aliases_and_depth(text: str, path: str) -> None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):  # libyaml's parser: no recursion
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError(
                    "YAML anchors and aliases (& and *) are not allowed here",
                    path=path,
                    line=line,
                    hint="write the value out in full",
                )
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"YAML nested more than {MAX_DEPTH} levels deep",
                                     path=path, line=line, hint="flatten the structure")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the real load reports the syntax error with its line


def dump(data: Any) -> str:
    """Serialize to block-style YAML, keys in the given order."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=88)

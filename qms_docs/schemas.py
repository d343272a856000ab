"""Load the JSON Schemas of ``records_schema/`` and validate data against them.

Errors come back as plain (path, message) pairs, where path is the location inside the
data (``people[2].email``), so each caller can name its own file and line.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when first needed: most runs find records in the cache
    import jsonschema
    import jsonschema_rs


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("qms_docs.records_schema").joinpath(f"{name}.schema.json").read_text(
        encoding="utf-8"
    )
    return json.loads(text)


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@cache
def _fast(name: str) -> jsonschema_rs.Validator | None:
    try:  # the Rust validator (a dependency of sphinx-needs) answers "valid?" 20x faster
        import jsonschema_rs
    except ImportError:  # pragma: no cover - depends on the platform's wheels
        return None
    try:
        return jsonschema_rs.validator_for(_schema(name))
    except Exception:  # noqa: BLE001 - fall back to the reference validator
        return None


def data_path(parts: Any) -> str:
    """``['people', 2, 'email']`` -> ``people[2].email``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate(data: Any, name: str) -> list[tuple[str, str]]:
    """Validate ``data`` against ``records_schema/<name>.schema.json``.

    Returns (data path, message) pairs, sorted by path; empty when valid.
    """
    fast = _fast(name)
    if fast is not None and fast.is_valid(data):
        return []
    errors = []
    for error in _validator(name).iter_errors(data):
        errors.append((data_path(error.absolute_path), _message(error)))
    return sorted(errors)


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    return error.message

"""Load the JSON Schemas of ``records_schema/`` and validate data against them.

Errors come back as plain (path, message) pairs, where path is the location inside the
data (``people[2].email``), so each caller can name its own file and line.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.protocols.Validator:
    text = resources.files("qms_docs.records_schema").joinpath(f"{name}.schema.json").read_text(
        encoding="utf-8"
    )
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


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

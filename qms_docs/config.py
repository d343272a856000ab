"""Load ``qms.toml`` into one frozen :class:`~qms_docs.model.Config`.

The file is checked against ``records_schema/qms-config.schema.json`` and then for
consistency (every role named anywhere is a known role). Defaults for every document
type are shipped here, so a minimal qms.toml needs only the organization and people.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from . import schemas
from .errors import ConfigError
from .model import Config, Person, TypePolicy, Upstream
from .text import decode_utf8

CONFIG_NAME = "qms.toml"
MAX_BYTES = 1_000_000

#: Document types and their defaults; ``[types.X]`` in qms.toml overrides any key.
DEFAULT_TYPES: dict[str, dict[str, Any]] = {
    "manual": {"title": "Quality Manual", "prefix": "QM", "folder": "manual",
               "approvers": ["quality-manager"], "review_months": 12, "color": "#F4D58D"},
    "policy": {"title": "Policy", "prefix": "POL", "folder": "manual",
               "approvers": ["quality-manager"], "review_months": 12, "color": "#F2A65A"},
    "sop": {"title": "Standard Operating Procedure", "prefix": "SOP", "folder": "procedures",
            "approvers": ["quality-manager", "owner"], "review_months": 24, "color": "#BFD8D2"},
    "wi": {"title": "Work Instruction", "prefix": "WI", "folder": "procedures",
           "approvers": ["owner"], "review_months": 24, "color": "#DCE2F0"},
    "form": {"title": "Form", "prefix": "FRM", "folder": "procedures",
             "approvers": ["quality-manager"], "review_months": 36, "color": "#E8E8E8"},
}

#: Need types the framework reserves for itself.
RESERVED_TYPES = frozenset({"clause"})
#: Who approves a change of the policy when ``[policy] approvers`` is not set (those of
#: them someone holds).
DEFAULT_POLICY_APPROVERS = ("top-management", "quality-manager")
#: The approver token that means "a person holding the document's :owner: role".
OWNER = "owner"


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds a qms.toml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_NAME} found in {start} or any folder above it",
        hint="run qms inside a QMS repository, or pass --repo PATH",
    )


def load_config(root: Path) -> Config:
    """Read, validate and complete ``<root>/qms.toml``."""
    file = root / CONFIG_NAME
    display = CONFIG_NAME
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"file is too large ({size} bytes; limit {MAX_BYTES})",
                              path=display)
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {CONFIG_NAME}: {exc.strerror}", path=display) from None
    return config_from_bytes(root, raw, display)


def config_from_bytes(root: Path, raw: bytes, display: str = CONFIG_NAME) -> Config:
    """Validate and complete qms.toml given as bytes (a version read from git, too)."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"file is too large ({len(raw)} bytes; limit {MAX_BYTES})",
                          path=display)
    text = decode_utf8(raw, display, ConfigError, hint="save qms.toml with UTF-8 encoding")
    try:
        data = tomllib.loads(text)
        errors = schemas.validate(data, "qms-config")
    except RecursionError:  # tomllib and jsonschema recurse once per level of nesting
        raise ConfigError("arrays or tables nested too deeply", path=display,
                          hint="qms.toml needs at most a few levels of nesting") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"not valid TOML: {message}", path=display,
                          line=int(match.group(1)) if match else None,
                          hint="fix the TOML syntax at that line") from None
    if errors:
        where, what = errors[0]
        raise ConfigError(f"{where or 'top level'}: {what}", path=display,
                          line=_line_of(text, where),
                          hint="see qms_docs/records_schema/qms-config.schema.json for the "
                               "allowed shape")
    return _build(root, data, text)


def _build(root: Path, data: dict[str, Any], text: str) -> Config:
    people = tuple(
        Person(name=p["name"], email=p["email"].strip(), roles=tuple(p["roles"]))
        for p in data["people"]
    )
    held = {role for person in people for role in person.roles}
    declared = dict(data.get("roles") or {})
    roles = declared or {role: role.replace("-", " ").title() for role in sorted(held)}

    emails: dict[str, int] = {}
    for index, person in enumerate(people):
        key = person.email.lower()
        if key in emails:
            raise ConfigError(f"people[{index}]: email {person.email} is listed twice",
                              path=CONFIG_NAME, line=_line_of_value(text, person.email, 2),
                              hint="each person appears once, with all their roles")
        emails[key] = index
        for role in person.roles:
            if role not in roles:
                raise _unknown_role(text, f"people[{index}] ({person.name})", role, roles)

    types: dict[str, TypePolicy] = {}
    for name in [*DEFAULT_TYPES, *sorted(set(data.get("types", {})) - set(DEFAULT_TYPES))]:
        if name in RESERVED_TYPES:
            raise ConfigError(f"types.{name}: '{name}' is reserved for the standards' clauses",
                              path=CONFIG_NAME, line=_line_of(text, f"types.{name}"),
                              hint="choose another type name")
        merged = {**DEFAULT_TYPES.get(name, {}), **data.get("types", {}).get(name, {})}
        missing = [k for k in ("title", "prefix", "folder", "approvers", "review_months")
                   if k not in merged]
        if missing:
            raise ConfigError(f"types.{name}: missing {', '.join(missing)}", path=CONFIG_NAME,
                              line=_line_of(text, f"types.{name}"),
                              hint="a new document type needs title, prefix, folder, "
                                   "approvers and review_months")
        from_file = "approvers" in data.get("types", {}).get(name, {})
        for role in merged["approvers"]:
            if role != OWNER and role not in roles:
                if not from_file:
                    raise ConfigError(
                        f"document type {name!r} is approved by {role!r} by default, but no "
                        "one holds that role", path=CONFIG_NAME,
                        hint=f"give a person the role {role!r}, or set approvers under "
                             f"[types.{name}] to roles of: {', '.join(sorted(roles))}")
                raise _unknown_role(text, f"types.{name}.approvers", role, roles)
        for role in merged.get("audience", []):
            if role not in roles:
                raise _unknown_role(text, f"types.{name}.audience", role, roles)
        types[name] = TypePolicy(name=name, title=merged["title"], prefix=merged["prefix"],
                                 folder=merged["folder"].strip("/"),
                                 approvers=tuple(merged["approvers"]),
                                 review_months=merged["review_months"],
                                 color=merged.get("color", "#BFD8D2"),
                                 audience=tuple(merged.get("audience", [])),
                                 training_days=merged.get("training_days", 14),
                                 require_signature=merged.get("require_signature", False))
    prefixes: dict[str, str] = {}
    for policy in types.values():
        if policy.prefix in prefixes:
            raise ConfigError(f"types.{policy.name}: prefix {policy.prefix} is already used by "
                              f"types.{prefixes[policy.prefix]}", path=CONFIG_NAME,
                              line=_line_of(text, f"types.{policy.name}"),
                              hint="give every document type its own prefix")
        prefixes[policy.prefix] = policy.name
        if ".." in policy.folder.split("/"):
            raise ConfigError(f"types.{policy.name}.folder must stay inside the repository",
                              path=CONFIG_NAME, line=_line_of(text, f"types.{policy.name}"))

    qms = data.get("qms", {})
    policy = data.get("policy", {})
    if "approvers" in policy:
        for role in policy["approvers"]:
            if role not in roles:
                raise _unknown_role(text, "policy.approvers", role, roles)
        policy_approvers = tuple(policy["approvers"])
    else:  # top management and the quality manager, where someone holds the role
        policy_approvers = tuple(r for r in DEFAULT_POLICY_APPROVERS if r in held) or tuple(
            r for r in types["manual"].approvers if r != OWNER)
    return Config(
        root=str(root),
        organization=data["organization"]["name"],
        standards=tuple(qms.get("standards", ["iso9001-2015"])),
        roles=roles,
        people=people,
        types=types,
        id_digits=qms.get("id_digits", 3),
        signers_file=data.get("signatures", {}).get("allowed_signers", "allowed_signers"),
        policy_approvers=policy_approvers,
        policy_require_signature=policy.get("require_signature", False),
        policy_files=tuple(policy.get("files", ())),
        identity=policy.get("identity", "gate"),
        self_approval=policy.get("self_approval", "forbidden"),
        upstreams=_upstreams(data.get("federation", {}), text),
        site_url=data.get("federation", {}).get("base_url", ""),
    )


#: Where ``qms federation fetch`` keeps the export of an upstream given by URL.
UPSTREAM_FOLDER = "upstream"


def _upstreams(federation: dict[str, Any], text: str) -> tuple[Upstream, ...]:
    """``[[federation.upstream]]``: each with a name of its own; ``export`` is a path of
    the repository, or a URL whose copy is kept at ``path`` (default
    ``upstream/<name>.json``)."""
    out: list[Upstream] = []
    for index, item in enumerate(federation.get("upstream", [])):
        name, export = item["name"], item["export"].strip()
        where = f"federation.upstream[{index}]"
        if any(u.name == name for u in out):
            raise ConfigError(f"{where}: the upstream name {name!r} is used twice",
                              path=CONFIG_NAME, line=_line_of_value(text, name, 2),
                              hint="give each [[federation.upstream]] a name of its own")
        remote = re.match(r"^(https?|file)://", export) is not None
        path = item.get("path") or (f"{UPSTREAM_FOLDER}/{name}.json" if remote else export)
        if path.startswith("/") or ".." in path.split("/"):
            raise ConfigError(f"{where}: the export {path!r} must be a path inside the "
                              "repository", path=CONFIG_NAME,
                              line=_line_of_value(text, path),
                              hint="keep the upstream's export in this repository, e.g. "
                                   f"export = \"{UPSTREAM_FOLDER}/{name}.json\" (a URL is "
                                   "fetched into it with qms federation fetch)")
        out.append(Upstream(name=name, path=path, base_url=item["base_url"].rstrip("/"),
                            url=export if remote else None,
                            max_age_days=item.get("max_age_days"),
                            id_prefix=item.get("id_prefix", "")))
    return tuple(out)


def _unknown_role(text: str, where: str, role: str, roles: dict[str, str]) -> ConfigError:
    return ConfigError(
        f"{where}: unknown role {role!r}",
        path=CONFIG_NAME,
        line=_line_of_value(text, role),
        hint=f"declare it under [roles] or use one of: {', '.join(sorted(roles))}",
    )


def _line_of(text: str, where: str) -> int | None:
    """Best-effort line of a data path (``types.sop.prefix``, ``people[1].email``)."""
    if not where:
        return None
    parts = [p for p in re.split(r"[.\[\]]+", where) if p]
    lines = text.splitlines()
    headers = [(n, line.strip()) for n, line in enumerate(lines, 1)
               if line.strip().startswith("[")]
    table_line, used = None, 0
    if len(parts) > 1 and parts[1].isdigit():  # array of tables: the n-th [[people]]
        matches = [n for n, h in headers if h == f"[[{parts[0]}]]"]
        if int(parts[1]) < len(matches):
            table_line, used = matches[int(parts[1])], 2
    else:
        for size in range(len(parts), 0, -1):
            name = ".".join(parts[:size])
            found = [n for n, h in headers if h in (f"[{name}]", f"[[{name}]]")]
            if found:
                table_line, used = found[0], size
                break
    if used == len(parts) or used == 0 and not parts:
        return table_line
    key = parts[used]
    begin = table_line or 0
    for number in range(begin + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped.startswith("[") and number != begin:
            break
        if re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return table_line


def _line_of_value(text: str, value: str, occurrence: int = 1) -> int | None:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if f'"{value}"' in line or f"'{value}'" in line:
            seen += 1
            if seen == occurrence:
                return number
    return None

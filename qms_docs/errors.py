"""The exception hierarchy of qms-docs.

Every error a user can cause is a :class:`QmsError`. It knows where the problem is
(file and line), what is wrong and how to fix it, and the exit code the command line
returns for it. The CLI turns them into messages and exit codes in one place.
"""

from __future__ import annotations


class QmsError(Exception):
    """Root of every error qms-docs reports to a person. Exit code 2: bad input."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(QmsError):
    """A file the user wrote (header, record, qms.toml, catalog) is malformed."""


class UsageError(QmsError):
    """A command was called with arguments that cannot work."""


class ConfigError(InputError):
    """qms.toml is missing, malformed or inconsistent."""


class GitError(QmsError):
    """The repository is missing or git cannot answer."""


class Refused(QmsError):
    """An act refused by policy (segregation of duties, missing role, ...): exit 1."""

    exit_code = 1

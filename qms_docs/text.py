"""Text in and out: what a person typed, checked; text escaped for what qms writes
(reStructuredText, HTML); text as a reader sees it on one line; bytes read as UTF-8.

Titles, reasons, names and catalogs may hold anything. The checks refuse what would
corrupt a record or a terminal; the escapes make sure text reads as text wherever qms
puts it, never as markup.
"""

from __future__ import annotations

import re

from .errors import InputError, UsageError


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 document``, ``2 documents`` (``words`` where the plural is not word + s)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


# --- what a person typed ----------------------------------------------------------------------

_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def checked_input(value: str, option: str) -> str:
    """``value`` as typed for ``option``, refused (:class:`UsageError`) if it holds control
    characters or bytes that are not UTF-8 (a command line in another encoding): they would
    corrupt records and terminals. Newlines and tabs are allowed."""
    bad = _NOT_TEXT.search(value)
    if bad:
        what = ("bytes that are not UTF-8" if "\ud800" <= bad.group() <= "\udfff"
                else f"a control character (U+{ord(bad.group()):04X})")
        raise UsageError(f"{option} holds {what}", hint="type plain text (newlines and tabs "
                         "are allowed in reasons)")
    return value


# --- text as a reader sees it, and escaped for what qms writes ---------------------------------

# Inline markup, roles, references, substitutions, standalone URIs (scheme:) and emails.
_SPECIAL = re.compile(r"([\\`*_|<>\[\]:@])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What opens a block at the start of a line: a bullet, an enumerator (1. a) (iv) #.), a
# directive or comment (..), a transition, a doctest (>>>), an option (-a, /V).
_BLOCK = re.compile(r"^(?:[^\w\s]|[\w#]{1,8}[.)](?=\s|$)|\([\w#]{1,8}\)(?=\s|$))")


def one_line(text: str) -> str:
    """What a reader sees of ``rst_text(text)`` once parsed: the text with line breaks and
    control characters as spaces, and runs of spaces as one. (Unlike
    :func:`checked_input`, it refuses nothing: it is for showing text, not accepting it.)"""
    return " ".join(_CONTROL.sub(" ", text).split())


def rst_text(text: str) -> str:
    """Escape text for use inside generated reStructuredText: it reads as literal text.

    Line breaks and control characters become spaces (a line break would end the table
    cell and start whatever the next line says, e.g. ``.. include:: /etc/passwd``); markup
    characters are escaped, and so is anything at the start that would open a list or a
    directive.
    """
    text = one_line(text)
    text = _SPECIAL.sub(r"\\\1", text)
    block = _BLOCK.match(text)
    if block and not text.startswith("\\"):
        end = block.end() - 1 if block.group().endswith((".", ")")) else 0
        text = text[:end] + "\\" + text[end:]
    return text


#: What docutils' HTML writer escapes in text.
_HTML = {ord("&"): "&amp;", ord("<"): "&lt;", ord('"'): "&quot;", ord(">"): "&gt;",
         ord("@"): "&#64;"}


def html_text(text: str) -> str:
    """``text`` escaped for HTML exactly as docutils' HTML writer escapes it."""
    return text.translate(_HTML)


def quoted(text: str) -> str:
    """``text`` (one line: a title, a name) escaped to go between double quotes in a
    Python or Graphviz string: backslashes and double quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


# --- bytes read as text ------------------------------------------------------------------------

def decode_utf8(raw: bytes, path: str, error: type[InputError] = InputError,
                hint: str = "save the file with UTF-8 encoding") -> str:
    """``raw`` decoded as UTF-8, or ``error`` naming ``path`` and the line of the first
    bad byte. Every file qms reads as text (documents, records, catalogs, qms.toml, the
    signers file) is decoded here."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                    path=path, line=line, hint=hint) from None

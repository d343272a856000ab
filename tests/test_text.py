"""text.py: one UTF-8 reader (documents, records, catalogs, qms.toml, signers), one input
check, the escapes."""

from __future__ import annotations

import pytest

from qms_docs.config import config_from_bytes
from qms_docs.errors import ConfigError, InputError, UsageError
from qms_docs.text import checked_input, decode_utf8, html_text, one_line, quoted
from qms_docs.yamlio import load_file

BAD = b"line one\nline two \xff\n"


def test_every_reader_names_the_line_of_a_bad_byte(tmp_path):
    with pytest.raises(InputError) as direct:
        decode_utf8(BAD, "x.rst")
    file = tmp_path / "r.yaml"
    file.write_bytes(BAD)
    with pytest.raises(InputError) as yaml:
        load_file(file, "r.yaml")
    with pytest.raises(ConfigError) as config:
        config_from_bytes(tmp_path, BAD)
    for error in (direct.value, yaml.value, config.value):
        assert error.line == 2
        assert error.message == "not UTF-8 text (byte 0xff at offset 18)"
    assert "qms.toml" in config.value.hint


def test_checked_input_refuses_what_one_line_shows():
    assert checked_input("a reason\n\twith a tab", "--reason") == "a reason\n\twith a tab"
    with pytest.raises(UsageError, match="control character"):
        checked_input("bell\x07", "--reason")
    with pytest.raises(UsageError, match="not UTF-8"):
        checked_input("\udcff", "--reason")
    assert one_line("bell\x07 and\n  more") == "bell and more"
    assert html_text('<a href="x">&@') == "&lt;a href=&quot;x&quot;&gt;&amp;&#64;"


def test_quoted_for_a_python_or_graphviz_string():
    assert quoted('Acme "Best" \\ Co') == 'Acme \\"Best\\" \\\\ Co'

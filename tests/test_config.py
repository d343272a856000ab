from pathlib import Path

import pytest

from qms_docs.config import find_root, load_config
from qms_docs.errors import ConfigError
from tests.helpers import REPO

MINIMAL = """\
[organization]
name = "Acme"

[[people]]
name = "Quinn"
email = "quinn@example.com"
roles = ["quality-manager"]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "qms.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_example_config_loads():
    config = load_config(REPO)
    assert config.organization == "Harbour Valve Company Ltd"
    assert set(config.types) == {"manual", "policy", "sop", "wi", "form"}
    assert config.types["sop"].approvers == ("quality-manager", "owner")
    assert config.person_by_email("QUINN.HARLOW@harbourvalve.example").name == "Quinn Harlow"


def test_minimal_config_gets_defaults_for_every_type(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.types["form"].prefix == "FRM"
    assert config.types["sop"].review_months == 24
    assert config.roles == {"quality-manager": "Quality Manager"}


def test_find_root_walks_up(tmp_path):
    write(tmp_path, MINIMAL)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()


@pytest.mark.parametrize("text, line, message", [
    (MINIMAL + '\n[types.sop]\napprovers = ["quality-boss"]\n', 10, "unknown role 'quality-boss'"),
    (MINIMAL.replace('roles = ["quality-manager"]', 'roles = ["qa"]') +
     '\n[roles]\nquality-manager = "QM"\n', 7, "unknown role 'qa'"),
    ("[organization\nname = 'x'\n", 1, "not valid TOML"),
    (MINIMAL.replace("quinn@example.com", "not-an-email"), 6, "does not match"),
    (MINIMAL + "\n[types.sop]\nreview_months = 'two years'\n", 10, "is not of type 'integer'"),
    (MINIMAL + "\n[types.clause]\nprefix = 'CL'\n", 9, "reserved"),
    (MINIMAL + '\n[types.sop]\nprefix = "QM"\n', 9, "prefix QM is already used"),
])
def test_bad_config_names_line_and_reason(tmp_path, text, line, message):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert message in info.value.message
    assert info.value.path == "qms.toml"
    assert info.value.line == line


def test_default_approver_role_nobody_holds(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, MINIMAL.replace('"quality-manager"', '"qa"')))
    assert "approved by 'quality-manager' by default" in info.value.message
    assert "[types.manual]" in info.value.hint


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="no qms.toml found"):
        find_root(tmp_path)


def test_non_utf8_config(tmp_path):
    (tmp_path / "qms.toml").write_bytes(MINIMAL.encode() + b"\n# caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "not UTF-8" in info.value.message and info.value.line == 9

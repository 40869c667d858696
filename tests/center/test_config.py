"""CENTER.yaml: what check-config accepts, and every refusal as FILE:LINE, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.cli import main
from center.config import Webhook, load_center

pytestmark = pytest.mark.unit


def write_center(tmp_path: Path, text: str) -> Path:
    secret = tmp_path / "hook.secret"
    secret.write_bytes(b"s3cret\n")
    secret.chmod(0o600)
    path = tmp_path / "center.yaml"
    path.write_text(text.replace("DB", f"sqlite:///{tmp_path}/center.db"))
    return path


GOOD = """\
broker: {host: 127.0.0.1, port: 1883, group: ops}
database: DB
sites: [{id: site-001}]
adapters:
  - {type: webhook, url: "http://127.0.0.1:9000/hook", secret_file: hook.secret, levels: [1, 2]}
web: {listen: "127.0.0.1:8790"}
"""


def test_a_good_file_loads_with_paths_resolved(tmp_path: Path) -> None:
    loaded = load_center(write_center(tmp_path, GOOD))
    center = loaded.center
    assert center.broker.group == "ops"
    assert center.database_path == tmp_path / "center.db"
    (hook,) = center.adapters
    assert isinstance(hook, Webhook)
    assert hook.secret_file == (tmp_path / "hook.secret").resolve()
    assert hook.levels == [1, 2]
    assert loaded.warnings == ()


def test_a_postgresql_ledger_takes_its_password_from_a_file(tmp_path: Path) -> None:
    text = GOOD.replace(
        "database: DB",
        "database: {url: 'postgresql://lvgw@db.example:5433/center?sslmode=verify-full',"
        " password_file: hook.secret}",
    )
    ledger = load_center(write_center(tmp_path, text)).center.ledger
    assert ledger.engine == "postgresql"
    assert ledger.where == "postgresql://lvgw@db.example:5433/center?sslmode=verify-full"
    assert ledger.password_file == (tmp_path / "hook.secret").resolve()
    assert ledger.password() == "s3cret"
    assert load_center(write_center(tmp_path, GOOD)).center.ledger.engine == "sqlite"


def test_check_config_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(write_center(tmp_path, GOOD))]) == 0
    assert "adapters: webhook (webhook)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("web: {", "web: {colour: red, "), 6, "field 'web.colour': unknown key"),
        (
            ("database: DB", "database: postgresql://c:pw@db/center"),
            2,
            "no password in the URL: put it in database.password_file",
        ),
        (("database: DB", "database: mysql://c@db/center"), 2, "not sqlite:///PATH nor"),
        (("database: DB", "database: postgresql://c@db/"), 2, "no database name"),
        (
            ("database: DB", "database: {url: DB, password_file: hook.secret}"),
            2,
            "password_file is for a postgresql:// database",
        ),
        (("secret_file: hook.secret", "secret_file: nowhere"), 5, "no such file: nowhere"),
        (("type: webhook", "type: email"), 5, "field 'adapters.0.smtp': missing required field"),
        (
            ("type: webhook", "type: slack"),
            5,
            "field 'adapters.0.type': unknown adapter type 'slack'",
        ),
        (("type: webhook, ", ""), 5, "field 'adapters.0.type': an adapter needs a type"),
        (("group: ops", "group: a/b"), 1, "field 'broker.group'"),
        (("levels: [1, 2]", "levels: [0]"), 5, "field 'adapters.0.levels.0'"),
        (("8790", "x"), 6, "not HOST:PORT"),
    ],
)
def test_a_bad_file_is_file_line_message_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    line: int,
    message: str,
) -> None:
    path = write_center(tmp_path, GOOD.replace(*change))
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err
    assert message in err
    assert "Traceback" not in err


def test_an_empty_secret_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_center(tmp_path, GOOD)
    (tmp_path / "hook.secret").write_bytes(b"")
    assert main(["check-config", "-c", str(path)]) == 2
    assert f"{path}:5: " in capsys.readouterr().err


def test_a_readable_secret_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_center(tmp_path, GOOD)
    (tmp_path / "hook.secret").chmod(0o644)
    assert main(["check-config", "-c", str(path)]) == 0
    assert "warning: field 'adapters.0.secret_file'" in capsys.readouterr().err


def test_two_adapters_of_one_name_are_refused(tmp_path: Path) -> None:
    text = GOOD + '  - {type: webhook, url: "http://h/x", secret_file: hook.secret}\n'
    text = text.replace("adapters:\n", "adapters:\n", 1)
    lines = text.splitlines()
    lines.insert(5, lines.pop())  # keep web: last
    path = write_center(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(Exception, match="two adapters named 'webhook'"):
        load_center(path)


def test_web_without_a_webhook_adapter_is_a_warning(tmp_path: Path) -> None:
    text = GOOD.replace("adapters:\n", "adapters: []\n").replace(
        '  - {type: webhook, url: "http://127.0.0.1:9000/hook", secret_file: hook.secret,'
        " levels: [1, 2]}\n",
        "",
    )
    loaded = load_center(write_center(tmp_path, text))
    (warning,) = loaded.warnings
    assert str(warning).startswith(
        f"{tmp_path / 'center.yaml'}:5: warning: field 'web': no webhook"
    )
    without_web = text.replace('web: {listen: "127.0.0.1:8790"}\n', "")
    assert load_center(write_center(tmp_path, without_web)).warnings == ()

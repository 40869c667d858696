"""CENTER.yaml's adapters: every type loads with its secrets from files, every refusal
is FILE:LINE and exit 2, and each adapter takes the levels, sites and customers it
names."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.cli import main
from center.config import Alertmanager, DingTalk, Email, WeCom, load_center
from center.events import parse_ticket_event
from center.ledger import Ledger
from center.service import routes_of
from tests.center.conftest import write_secret
from tests.center.events import ticket_event

pytestmark = pytest.mark.unit

ALL = """\
broker: {host: 127.0.0.1}
database: DB
adapters:
  - {type: alertmanager, url: "http://127.0.0.1:9093", resend: 30s, levels: [1, 2]}
  - type: email
    smtp: {host: mail.example.com, port: 587, username: lvgw, password_file: smtp.password}
    from: lvgw@example.com
    to: [helpdesk@example.com, oncall@example.com]
    customers: [ACME]
  - {type: dingtalk, url_file: dingtalk.url, secret_file: dingtalk.secret, sites: [site-001]}
  - {type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
"""


def write(tmp_path: Path, text: str) -> Path:
    write_secret(tmp_path / "smtp.password", b"mail-pass\n")
    write_secret(
        tmp_path / "dingtalk.url", b"https://oapi.dingtalk.com/robot/send?access_token=t\n"
    )
    write_secret(tmp_path / "dingtalk.secret", b"SECabc\n")
    path = tmp_path / "center.yaml"
    path.write_text(text.replace("DB", f"sqlite:///{tmp_path}/center.db"))
    return path


def test_every_adapter_type_loads(tmp_path: Path) -> None:
    loaded = load_center(write(tmp_path, ALL))
    assert loaded.warnings == ()
    alertmanager, email, dingtalk, wecom = loaded.center.adapters
    assert isinstance(alertmanager, Alertmanager)
    assert (alertmanager.name, alertmanager.resend, alertmanager.levels) == (
        "alertmanager", 30.0, [1, 2],
    )  # fmt: skip
    assert alertmanager.url == ["http://127.0.0.1:9093"]
    assert isinstance(email, Email)
    assert email.sender == "lvgw@example.com"
    assert email.id_domain == "example.com"
    assert email.smtp.starttls is True
    assert email.smtp.password_file == (tmp_path / "smtp.password").resolve()
    assert email.customers == ["ACME"]
    assert isinstance(dingtalk, DingTalk)
    assert dingtalk.robot_url() == "https://oapi.dingtalk.com/robot/send?access_token=t"
    assert isinstance(wecom, WeCom)
    assert wecom.robot_url().endswith("?key=k")


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("resend: 30s", "resend: soon"), 4, "field 'adapters.0.resend'"),
        (('url: "http://127.0.0.1:9093"', "url: 127.0.0.1:9093"), 4, "not an http:// or https://"),
        (('url: "http://127.0.0.1:9093"', "url: []"), 4, "field 'adapters.0.url'"),
        (('url: "http://127.0.0.1:9093"', "url: [http://a:9093, http://a:9093]"), 4,
         "an Alertmanager is listed twice"),
        (("port: 587, ", "starttls: false, "), 6,
         "username without starttls or implicit_tls: the password would go in clear"),
        (("port: 587", "port: 465, implicit_tls: true"), 6, "starttls and implicit_tls: choose one"),
        ((", password_file: smtp.password", ""), 6, "username and password_file go together"),
        (("password_file: smtp.password", "password_file: nowhere"), 6, "no such file: nowhere"),
        (("from: lvgw@example.com", "from: lvgw"), 7, "field 'adapters.1.from': not an e-mail"),
        (("helpdesk@example.com", "help desk"), 8, "field 'adapters.1.to.0': not an e-mail"),
        (("    from: lvgw@example.com\n", ""), 5, "field 'adapters.1.from': missing required"),
        (("to: [helpdesk@example.com, oncall@example.com]", "to: []"), 8, "'adapters.1.to'"),
        (("customers: [ACME]", "customers: ['']"), 9, "field 'adapters.1.customers.0'"),
        (("url_file: dingtalk.url, ", ""), 10, "give url or url_file"),
        (("url_file: dingtalk.url", 'url: "https://x/a", url_file: dingtalk.url'), 10,
         "give url or url_file"),
        (("secret_file: dingtalk.secret", "secret_file: none.secret"), 10, "no such file"),
        (("key=k", "key=k\" , colour: red"), 11, "field 'adapters.3.colour': unknown key"),
        (("type: wecom", "type: slack"), 11,
         "unknown adapter type 'slack': use webhook, alertmanager, email, dingtalk, wecom"),
    ],
)  # fmt: skip
def test_a_bad_adapter_is_file_line_message_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    line: int,
    message: str,
) -> None:
    assert change[0] in ALL
    path = write(tmp_path, ALL.replace(*change))
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "message"),
    [(b"", "is empty"), (b"ftp://robot/send\n", "not an http:// or https:// URL")],
)
def test_a_robot_url_file_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: bytes, message: str
) -> None:
    path = write(tmp_path, ALL)
    write_secret(tmp_path / "dingtalk.url", url)
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10: " in err
    assert message in err


def test_a_signing_secret_must_be_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ALL)
    write_secret(tmp_path / "dingtalk.secret", b"SEC\xff\xfe\n")
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10: field 'adapters.2.secret_file': " in err
    assert "is not UTF-8 text" in err


def test_a_robot_url_file_others_may_read_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, ALL)
    (tmp_path / "dingtalk.url").chmod(0o644)
    assert main(["check-config", "-c", str(path)]) == 0
    assert "warning: field 'adapters.2.url_file'" in capsys.readouterr().err


def test_each_adapter_takes_its_levels_sites_and_customers(tmp_path: Path) -> None:
    center = load_center(write(tmp_path, ALL)).center
    ledger = Ledger.open(tmp_path / "center.db")
    try:
        events = {
            "l1-acme": ticket_event("t-1", 1, severity=1),
            "l3-acme": ticket_event("t-2", 1, severity=3),
            "l1-bolt": ticket_event("t-3", 1, severity=1, customer="Bolt"),
            "l2-other-site": ticket_event(
                "t-4", 1, severity=2, site_id="site-002", customer="Bolt"
            ),
        }
        for name, payload in events.items():
            topic = f"lvgw/v1/{'site-002' if 'other-site' in name else 'site-001'}/tickets"
            item = parse_ticket_event(topic, payload)
            assert ledger.ingest(item, 1.0, routes_of(center)) == "applied", name
        taken = {
            adapter: sorted(d.ticket_id for d in ledger.due(adapter, 1e9))
            for adapter in ("alertmanager", "email", "dingtalk", "wecom")
        }
    finally:
        ledger.close()
    assert taken == {
        "alertmanager": ["t-1", "t-3", "t-4"],  # levels 1 and 2
        "email": ["t-1", "t-2"],  # customer ACME
        "dingtalk": ["t-1", "t-2", "t-3"],  # site-001
        "wecom": ["t-1", "t-2", "t-3", "t-4"],  # everything
    }

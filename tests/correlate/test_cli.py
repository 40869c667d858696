"""`lvgw maintenance set|clear|list` on the maintenance file of a site's state directory."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.correlate import MaintenanceStore
from gateway.correlate.cli import add_maintenance_parser
from tests.correlate.kit import SITE, site_config


def lvgw(*argv: str) -> int:
    """The command line as `lvgw` has it, with only the maintenance command."""
    top = argparse.ArgumentParser(prog="lvgw")
    add_maintenance_parser(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site_config(tmp_path)
    return tmp_path / "site.yaml"


def cli(site: Path, *argv: str) -> Sequence[str]:
    action, *rest = argv
    return ("maintenance", action, "-c", str(site), *rest)


def test_set_list_clear(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        lvgw(*cli(site, "set", "nvr-1", "--for", "2h", "--by", "Li Wei", "--reason", "disk")) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("nvr-1 in maintenance until ")
    assert out.endswith("Z (in 2 h 00 min), set by Li Wei: disk\n")
    until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    assert lvgw(*cli(site, "set", "site", "--until", until, "--by", "Zhang Min")) == 0
    capsys.readouterr()
    assert lvgw(*cli(site, "list")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TARGET", "UNTIL", "LEFT", "BY", "REASON"]
    assert [line.split()[0] for line in lines[1:]] == ["site", "nvr-1"]
    assert lines[2].split()[2:] == ["2h00m", "Li", "Wei", "disk"]
    assert lines[1].split()[2:] == ["3h00m", "Zhang", "Min"]
    assert lvgw(*cli(site, "list", "--json")) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(w["target"], w["by"]) for w in listed] == [("site", "Zhang Min"), ("nvr-1", "Li Wei")]
    assert lvgw(*cli(site, "clear", "nvr-1")) == 0
    assert capsys.readouterr().out == "nvr-1: maintenance ended (it was set by Li Wei)\n"
    assert lvgw(*cli(site, "clear", "site")) == 0
    capsys.readouterr()
    assert lvgw(*cli(site, "list")) == 0
    assert capsys.readouterr().out == "nothing is in maintenance\n"


def test_the_agent_sees_what_the_command_wrote(site: Path, tmp_path: Path) -> None:
    agent = MaintenanceStore(tmp_path / "state", SITE)
    assert lvgw(*cli(site, "set", "pbx-1", "--for", "45m", "--by", "Li")) == 0
    assert agent.reload_if_changed()
    assert [w.target for w in agent.maintenance()] == ["pbx-1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("set", "cam-7", "--for", "1h", "--by", "Li"), "no device 'cam-7' in this site"),
        (("set", "nvr-1", "--for", "25h", "--by", "Li"), "at most 1 d"),
        (("set", "nvr-1", "--for", "later", "--by", "Li"), "not a duration: 'later'"),
        (("set", "nvr-1", "--until", "2020-01-01T00:00:00Z", "--by", "Li"), "in the past"),
        (("set", "nvr-1", "--until", "2030-01-01 08:00", "--by", "Li"), "time zone"),
        (("set", "nvr-1", "--for", "1h", "--by", " "), "say who sets maintenance"),
        (("clear", "nvr-1"), "device 'nvr-1' is not in maintenance"),
    ],
)
def test_refused_requests_exit_2_saying_why(
    site: Path, argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lvgw(*cli(site, *argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("lvgw maintenance: ") and message in err


def test_bad_usage_exits_2(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        cli(site, "set", "nvr-1", "--by", "Li"),  # no end
        cli(site, "set", "nvr-1", "--for", "1h", "--until", "2030-01-01T00:00Z", "--by", "Li"),
        cli(site, "set", "nvr-1", "--for", "1h"),  # no author
        ("maintenance",),
    ):
        with pytest.raises(SystemExit) as exited:
            lvgw(*argv)
        assert exited.value.code == 2
    capsys.readouterr()


def test_a_bad_site_file_exits_2_with_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("site: {id: s}\n")
    assert lvgw("maintenance", "list", "-c", str(broken)) == 2
    assert "broken.yaml:" in capsys.readouterr().err


def test_an_unreadable_maintenance_file_exits_1(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "maintenance.json").write_text("[]")
    assert lvgw(*cli(site, "list")) == 1
    assert "malformed" in capsys.readouterr().err

"""The tier guard (tests/tiers.py) on a small project of its own, run by pytest in a
subprocess: an unmarked test that starts a server or a process fails and is told what
to do; marked ones, and the whole-gateway directory, may."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # it runs pytest in a subprocess

ROOT = Path(__file__).resolve().parents[1]

GUARDED = """
import asyncio
import socket
import subprocess
import sys

import pytest


def test_unmarked_binds_a_tcp_server():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()


def test_unmarked_starts_a_subprocess():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_unmarked_starts_an_asyncio_server():
    async def serve():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


def test_unmarked_opens_a_udp_endpoint():
    async def listen():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        transport.close()

    asyncio.run(listen())


@pytest.fixture
def server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def test_unmarked_uses_a_fixture_that_binds(server):
    assert server.getsockname()[1] > 0


@pytest.mark.integration
def test_marked_integration_binds():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))


@pytest.mark.real
def test_marked_with_the_old_name_binds():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))


def test_unmarked_listens_on_a_port_of_any_address():
    with socket.socket() as server:
        server.bind(("", 0))
        server.listen()


def test_unmarked_udp_client_with_any_local_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("0.0.0.0", 0))
        client.sendto(b"x", ("127.0.0.1", 9))


def test_unmarked_udp_client_without_a_local_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.connect(("127.0.0.1", 9))
        client.send(b"x")
"""

WHOLE_GATEWAY = """
import subprocess
import sys


def test_in_the_e2e_directory_may_start_processes():
    subprocess.run([sys.executable, "-c", "pass"], check=True)
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    (pytester.path / "tests" / "e2e").mkdir(parents=True)
    (pytester.path / "tests" / "test_guarded.py").write_text(GUARDED)
    (pytester.path / "tests" / "e2e" / "test_whole.py").write_text(WHOLE_GATEWAY)
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "tests.tiers", "--strict-markers", "-rf", *args)


def test_unmarked_tests_that_start_servers_or_processes_fail(project: pytest.Pytester) -> None:
    result = run(project)
    result.assert_outcomes(passed=5, failed=6)
    out = result.stdout.str()
    for name in (
        "test_unmarked_binds_a_tcp_server",
        "test_unmarked_starts_a_subprocess",
        "test_unmarked_starts_an_asyncio_server",
        "test_unmarked_opens_a_udp_endpoint",
        "test_unmarked_uses_a_fixture_that_binds",
        "test_unmarked_listens_on_a_port_of_any_address",
    ):
        assert f"FAILED tests/test_guarded.py::{name}" in out
    # It says what happened, where, and what to do.
    assert "bound a TCP socket to ('127.0.0.1', 0)" in out
    assert "bound a UDP socket to ('127.0.0.1', 0)" in out
    assert "started a subprocess: " in out
    assert "listened on ('0.0.0.0', " in out
    assert "at tests/test_guarded.py:" in out
    assert "pytestmark = pytest.mark.integration" in out
    assert "docs/testing.md" in out


def test_every_test_has_one_tier_to_select_by(project: pytest.Pytester) -> None:
    unit = run(project, "-m", "unit")
    unit.assert_outcomes(passed=2, failed=6, deselected=3)
    e2e = run(project, "-m", "e2e")
    e2e.assert_outcomes(passed=1, deselected=10)
    integration = run(project, "-m", "integration")
    integration.assert_outcomes(passed=2, deselected=9)


def test_two_tier_marks_are_refused(project: pytest.Pytester) -> None:
    (project.path / "tests" / "test_two.py").write_text(
        "import pytest\n\n\n@pytest.mark.unit\n@pytest.mark.e2e\ndef test_both():\n    pass\n"
    )
    result = run(project, "tests/test_two.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is marked e2e (its own), unit (its own): a test has exactly one tier" in (
        result.stderr.str()
    )

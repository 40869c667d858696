"""The fixtures themselves: each server answers once start() returns."""

import subprocess

import pytest

from tests.realservers import Mosquitto, Snmpd, tcp_open, which

pytestmark = pytest.mark.integration


def test_mosquitto_accepts_connections(mosquitto: Mosquitto) -> None:
    assert tcp_open(mosquitto.host, mosquitto.port)
    out = subprocess.run(
        [which("mosquitto_pub"), "-h", mosquitto.host, "-p", str(mosquitto.port),
         "-t", "t", "-m", "x", "-q", "1"],
        capture_output=True, timeout=10, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr


def test_snmpd_answers_v2c_and_v3(snmpd: Snmpd) -> None:
    base = [which("snmpget"), "-On", "-t", "1", "-r", "1"]
    v2 = subprocess.run(
        [*base, "-v2c", "-c", "public", f"127.0.0.1:{snmpd.port}", "1.3.6.1.2.1.1.5.0"],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert "lvgw-test-switch" in v2.stdout, v2.stderr
    v3 = subprocess.run(
        [*base, "-v3", "-l", "authPriv", "-u", Snmpd.V3_USER, "-a", "SHA", "-A", Snmpd.V3_AUTH,
         "-x", "AES", "-X", Snmpd.V3_PRIV, f"127.0.0.1:{snmpd.port}", "1.3.6.1.2.1.1.5.0"],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert "lvgw-test-switch" in v3.stdout, v3.stderr
    snmpd.kill()
    assert not snmpd.running

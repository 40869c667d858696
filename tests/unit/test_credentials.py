"""A site file names secrets systemd hands over (LoadCredential=) as
${CREDENTIALS_DIRECTORY}/NAME: the service's directory under systemd, credentials/ beside
the site file elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config

SITE = """\
site: {id: site-1, name: Test, customer: {name: C}, contract: {type: annual}}
uplink:
  mqtt: {host: 127.0.0.1, username: site-1, password_file: "${CREDENTIALS_DIRECTORY}/mqtt.password"}
devices:
  - {id: sw, kind: switch, profile: switch-generic, address: 192.0.2.1}
"""


def secret(directory: Path, text: str) -> None:
    directory.mkdir()
    path = directory / "mqtt.password"
    path.write_text(text)
    path.chmod(0o600)


def password_file(site: Path) -> Path | None:
    return load_config(site).site_file.uplink.mqtt.password_file


def test_the_service_reads_the_directory_systemd_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "etc" / "site.yaml"
    site.parent.mkdir()
    site.write_text(SITE)
    secret(tmp_path / "run", "s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "run"))
    assert password_file(site) == tmp_path / "run" / "mqtt.password"


def test_outside_systemd_it_is_credentials_beside_the_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    secret(tmp_path / "credentials", "s3cret\n")
    assert password_file(site) == tmp_path / "credentials" / "mqtt.password"


def test_a_missing_credential_names_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "run"))
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    with pytest.raises(ConfigError) as info:
        load_config(site)
    (problem,) = [str(p) for p in info.value.problems]
    assert problem == (
        f"{site}:3: field 'uplink.mqtt.password_file': no such file: "
        f"${{CREDENTIALS_DIRECTORY}}/mqtt.password ({tmp_path}/run/mqtt.password)"
    )

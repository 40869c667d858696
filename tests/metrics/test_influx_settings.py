"""The sink's settings from the site file: token from a file, refused when unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.site import InfluxDb
from gateway.metrics.errors import MetricsConfigError
from gateway.metrics.influx_settings import InfluxSettings


def test_the_token_is_read_from_its_file_and_never_printed(tmp_path: Path) -> None:
    token_file = tmp_path / "influx.token"
    token_file.write_text("tok-123\n")
    config = InfluxDb(
        url="https://influx.example:8086", org="sc", bucket="site-1", token_file=token_file
    )
    settings = InfluxSettings.from_config(config)
    assert settings.token is not None and settings.token.reveal() == "tok-123"
    assert (settings.url, settings.org, settings.bucket) == (
        "https://influx.example:8086",
        "sc",
        "site-1",
    )
    assert settings.verify_tls and settings.ca_cert is None
    assert settings.topic == "influx:site-1"
    assert "tok-123" not in repr(settings)


@pytest.mark.parametrize(
    ("content", "message"), [(None, "No such file"), ("", "is empty")], ids=["missing", "empty"]
)
def test_an_unusable_token_file_stops_the_start(
    tmp_path: Path, content: str | None, message: str
) -> None:
    token_file = tmp_path / "influx.token"
    if content is not None:
        token_file.write_text(content)
    config = InfluxDb(url="http://127.0.0.1:8086", bucket="b", token_file=token_file)
    with pytest.raises(MetricsConfigError, match=message) as caught:
        InfluxSettings.from_config(config)
    assert str(token_file) in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "influx:8086"}, "http"),
        ({"bucket": ""}, "bucket"),
        ({"timeout": 0.0}, "timeout"),
        ({"ca_cert": Path("/nonexistent/ca.pem")}, "not a file"),
    ],
)
def test_settings_that_cannot_work_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"url": "http://127.0.0.1:8086", "bucket": "b"}
    with pytest.raises(MetricsConfigError, match=message):
        InfluxSettings(**{**base, **kwargs})  # type: ignore[arg-type]

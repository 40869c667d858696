"""A hostile device name in the pre-visit report stays text, in Markdown and in HTML."""

from __future__ import annotations

import re
from pathlib import Path

from gateway import snapshot
from gateway.config import load_config
from gateway.views.report.command import make_report
from tests.views.conftest import HOSTILE, NOW, status_snapshot, write_history, write_site


async def test_report_escapes_names_and_titles(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path / "site"))
    state_dir = config.site_file.agent.state_dir
    write_history(state_dir)
    snapshot.write(state_dir, status_snapshot(config))
    html = await make_report(config, None, "html", 30, NOW)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Lobby&quot;" in html
    assert "<img" not in html and html.count("<script") == 0
    markdown = await make_report(config, None, "md", 30, NOW)
    assert "\\<script\\>alert('x')\\</script\\> & \"Lobby\" \\<img src=x" in markdown
    assert re.search(r"(?<!\\)[<>]", markdown) is None  # every angle bracket escaped
    # The device's own section and its open ticket are there, as text.
    assert "### sw-core — \\<script\\>" in markdown
    assert "| L1 | sw-core | Switch sw-core (\\<script\\>" in markdown

"""The words a rule's title adds to a profile's text are in the site's language too."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.rules import titles
from gateway.rules.engine import RuleEngine
from tests.rules.box import BOX
from tests.rules.harness import poll, write_site
from tests.rules.test_tables import cams

RULES = """
  - code: cameras.offline
    type: check
    title: {en: "Offline: {instances}", zh-CN: "离线：{instances}"}
    level: 3
    when: {count: {point: cam.status, eq: offline}, ge: 1}
"""


def engine(tmp_path: Path, locale: str) -> RuleEngine:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "box.yaml").write_text(BOX + "rules:\n" + RULES)
    config = load_config(
        write_site(tmp_path, [{"id": "box", "kind": "nvr", "profile": "box"}], [profiles])
    )
    # The site file of the harness is English; this is what loading it as `locale` gives.
    site = config.site_file.site.model_copy(update={"locale": locale})
    site_file = config.site_file.model_copy(update={"site": site})
    localized = {name: p.in_locale(locale) for name, p in config.profiles.items()}
    return RuleEngine(dataclasses.replace(config, site_file=site_file, profiles=localized))


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "Offline: Cam 1, Cam 2 and 1 more"), ("zh-CN", "离线：Cam 1, Cam 2 等另外 1 个")],
)
def test_the_instances_past_those_listed_are_counted_in_the_site_s_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locale: str, expected: str
) -> None:
    monkeypatch.setattr(titles, "MAX_LISTED", 2)
    rules = engine(tmp_path, locale)
    raised = rules.evaluate(poll("box", 0, cams({1, 2, 3})))
    assert [c.title for c in raised] == [expected]

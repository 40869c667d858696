"""Profiles' titles in both languages: the site's language is what its tickets say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.include import load_profile_source
from gateway.config.load import BUILTIN_PROFILES, load_profile

PROFILE = """\
description: x
kinds: [switch]
protocol: snmp
points:
  sys.name: {{oid: 1.3.6.1.2.1.1.5.0, type: text}}
rules:
  - code: device.unreachable
    type: unreachable
    title: {title}
    level: 2
"""


def site(tmp_path: Path, title: str, locale: str = "en") -> Path:
    profiles = tmp_path / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "my-switch.yaml").write_text(PROFILE.format(title=title))
    path = tmp_path / "site.yaml"
    path.write_text(
        "site:\n  id: s\n  name: S\n  customer: {name: C}\n  contract: {type: annual}\n"
        f"  locale: {locale}\nuplink:\n  mqtt: {{host: 127.0.0.1}}\ndevices:\n"
        "  - {id: sw, kind: switch, profile: my-switch, address: 10.0.0.1}\n"
    )
    return path


def title_of(path: Path) -> str:
    rule = load_config(path).profiles["my-switch"].rules[0]
    return str(rule.title)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def test_a_site_takes_the_title_in_its_language(tmp_path: Path) -> None:
    both = '{en: "{name} is unreachable", zh-CN: "{name} 无法连接"}'
    assert title_of(site(tmp_path / "a", both, "zh-CN")) == "{name} 无法连接"
    assert title_of(site(tmp_path / "b", both, "en")) == "{name} is unreachable"


def test_a_plain_title_is_used_in_every_language(tmp_path: Path) -> None:
    assert title_of(site(tmp_path, '"{name} is unreachable"', "zh-CN")) == "{name} is unreachable"


def test_a_language_a_title_lacks_falls_back_to_english(tmp_path: Path) -> None:
    assert title_of(site(tmp_path / "a", '{en: "{name} down"}', "zh-CN")) == "{name} down"
    assert title_of(site(tmp_path / "b", '{zh-CN: "{name} 无法连接"}', "en")) == "{name} 无法连接"


def test_a_placeholder_that_differs_between_languages_is_an_error_at_its_line(
    tmp_path: Path,
) -> None:
    title = '\n      en: "{name} is unreachable"\n      zh-CN: "{device} 无法连接"'
    path = site(tmp_path, title)
    assert problems_of(path) == [
        f"{tmp_path / 'profiles' / 'my-switch.yaml'}:11: rule device.unreachable:"
        " title: the zh-CN text has {device}, the en text {name}"
    ]


def test_an_unknown_field_in_the_translation_is_an_error(tmp_path: Path) -> None:
    path = site(tmp_path, '{en: "{name} is down", zh-CN: "{nom} 无法连接"}')
    problems = problems_of(path)
    assert any(":9: rule device.unreachable: title: unknown field {nom}" in p for p in problems), (
        problems
    )


def test_an_unknown_language_is_an_error_at_the_title(tmp_path: Path) -> None:
    path = site(tmp_path, '{en: "{name} is down", zh: "{name} 无法连接"}')
    assert problems_of(path) == [
        f"{tmp_path / 'profiles' / 'my-switch.yaml'}:9: field 'rules.0.title': unknown"
        " language 'zh': the languages are en, zh-CN"
    ]


SHIPPED = sorted(BUILTIN_PROFILES.glob("*.yaml"))
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_title_is_in_english_and_chinese(path: Path) -> None:
    """Each rule's title and flapping title: an English and a Chinese text (the same
    placeholders: loading the profile checks that)."""
    data, _lines = load_profile_source(path)  # with the parts it includes
    titles = []
    for rule in data.get("rules", []):
        titles.append(rule["title"])
        if "flapping" in rule:
            titles.append(rule["flapping"]["title"])
    assert titles
    for title in titles:
        assert isinstance(title, dict) and set(title) == {"en", "zh-CN"}, title
        assert CJK.search(title["zh-CN"]), title


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_profile_loads_with_chinese_titles(path: Path) -> None:
    profile, problems = load_profile(path.stem, [BUILTIN_PROFILES])
    assert problems == [] and profile is not None
    for rule in profile.in_locale("zh-CN").rules:
        assert CJK.search(rule.title), (profile.id, rule.code)
        if rule.flapping is not None:
            assert CJK.search(rule.flapping.title), (profile.id, rule.code)
    for rule in profile.in_locale("en").rules:
        assert not CJK.search(rule.title), (profile.id, rule.code)

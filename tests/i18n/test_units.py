"""Units in the site's language: the report's trend tables (``0.7 个/秒``, ``MB/天``)."""

from __future__ import annotations

import re

from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.i18n import translator
from gateway.present.humanize import unit_text
from gateway.views.report.measure import point_unit

CHINESE, ENGLISH = translator("zh-CN"), translator("en")
# Symbols read as they are in Chinese too.
SYMBOLS = frozenset({"B", "MB", "GB", "TB", "V", "ms"})
KEPT = re.compile(r"°C|[kMGT]?bit/s")  # degrees Celsius, a link's rate


def test_a_unit_reads_in_the_sites_language() -> None:
    assert unit_text("errors/s/d", CHINESE) == "个/秒/天"
    assert unit_text("MB/d", CHINESE) == "MB/天"
    assert unit_text("C", CHINESE) == "°C"
    assert unit_text("min", CHINESE) == "分钟"
    assert unit_text("Mbit/s", CHINESE) == "Mbit/s"
    assert unit_text("kbit/s/d", CHINESE) == "kbit/s/天"
    assert unit_text("errors/s/d", ENGLISH) == "errors/s/d"


def test_every_unit_of_a_shipped_profile_has_its_chinese_words() -> None:
    """A trend table shows a point's unit, its rate's (``/s``) and its change per day
    (``/d``): none of them in English on a zh-CN report. A profile's new unit word
    joins `humanize.UNIT_WORDS` (then `make catalogs` and its translation)."""
    english = []
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        profile, _, _ = _load_profile(path.stem, [BUILTIN_PROFILES])
        assert profile is not None
        names = [*profile.points] + [
            f"{table}.{column}" for table, t in profile.tables.items() for column in t.columns
        ]
        for name in names:
            for reading in (name, f"{name}.rate"):
                unit = point_unit(profile, reading)
                for shown in (unit, f"{unit}/d"):
                    kept = KEPT.sub("", unit_text(shown, CHINESE))
                    words = set(re.findall(r"[A-Za-z]+", kept))
                    if words - SYMBOLS:
                        english.append(f"{path.stem}: {reading}: {shown}")
    assert english == []

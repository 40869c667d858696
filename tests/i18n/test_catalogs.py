"""The catalogs cover the code: every marked string has a reviewed zh-CN translation."""

from __future__ import annotations

import io
import re

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.config.meanings import VOCABULARY, meanings_of
from gateway.config.profile import Profile
from gateway.i18n import catalogs, translator
from gateway.i18n.translate import catalog_path
from gateway.present.tables import device_tables
from gateway.snapshot import DeviceStatus

# Latin letters a Chinese technician reads as they are (the name of a thing, not English).
KEPT_IN_LATIN = frozenset({"CPU", "PoE", "SMART", "SFP", "UPS", "PSU"})


def test_every_user_visible_string_has_a_zh_cn_translation() -> None:
    """Fails on a string the code marks (gettext, ngettext, N_) that zh-CN lacks, has
    only as a fuzzy guess, or translates with other placeholders; and on an entry the
    code no longer has. `make catalogs` adds the new strings for a translator."""
    template = catalogs.extract()
    assert len(template) > 0
    assert list(catalogs.problems("zh-CN", template)) == []


def test_the_catalog_file_is_as_make_catalogs_writes_it() -> None:
    """Sorted, unwrapped, no source lines: a change in the code moves no other line."""
    template = catalogs.extract()
    written = catalog_path("zh-CN").read_bytes()
    assert catalogs.render(catalogs.update("zh-CN", template)) == written


def _catalog(entries: dict[str, str], fuzzy: tuple[str, ...] = ()) -> Catalog:
    catalog = Catalog(locale="zh_CN", domain="lvgw")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    return catalog


def test_the_check_finds_a_missing_an_empty_a_fuzzy_and_a_stale_translation() -> None:
    template = _catalog(dict.fromkeys(["Devices", "Open tickets", "Disk {disk} failed", "Up"], ""))
    catalog = _catalog(
        {"Devices": "", "Open tickets": "未结工单", "Disk {disk} failed": "硬盘 {disk} 故障",
         "Gone": "已删除"},
        fuzzy=("Open tickets",),
    )  # fmt: skip
    assert sorted(catalogs.problems("zh-CN", template, catalog)) == [
        "zh-CN: empty translation of 'Devices'",
        "zh-CN: fuzzy translation of 'Open tickets'",
        "zh-CN: no translation of 'Up'",
        "zh-CN: stale entry 'Gone' (no longer in the code)",
    ]


def test_the_check_finds_a_translation_with_other_placeholders() -> None:
    template = _catalog({"Disk {disk} of {device} failed": ""})
    catalog = _catalog({"Disk {disk} of {device} failed": "{device} 的硬盘 {磁盘} 故障"})
    assert list(catalogs.problems("zh-CN", template, catalog)) == [
        "zh-CN: 'Disk {disk} of {device} failed': placeholders device, 磁盘 differ from the"
        " English's (device, disk)"
    ]


def test_extraction_sees_gettext_ngettext_and_n_marks() -> None:
    template = catalogs.extract()
    assert template.get("system down: the system is paralysed or its service interrupted")


def test_the_shipped_catalog_parses_and_has_chinese_plural_forms() -> None:
    catalog = read_po(io.BytesIO(catalog_path("zh-CN").read_bytes()), locale="zh_CN")
    assert catalog.num_plurals == 1


def test_extraction_sees_marks_inside_f_strings() -> None:
    """Babel's tokenizer reads an f-string as one token; the syntax tree sees inside."""
    template = catalogs.extract()
    assert template.get("Bring along")  # f"<h2>{escape(_('Bring along'))}</h2>"
    assert template.get("Machine-readable:")


def every_column(profile: Profile) -> DeviceStatus:
    """A device of ``profile`` with a row in every table and a value in every column the
    device page can show: the columns with states, the labels and the meant ones."""
    tables: dict[str, dict[str, str]] = {}
    for name, table in profile.tables.items():
        if table.label:
            tables[f"{name}.{table.label}"] = {"1": "label"}
        for column, point in table.columns.items():
            if point.states:
                tables[f"{name}.{column}"] = {"1": next(iter(point.states.values()))}
    meant = {
        reading: tables.get(reading, {"1": 1})
        for reading, meaning in meanings_of(profile).items()
        if VOCABULARY[meaning].table
    }
    return DeviceStatus(id="d", kind=profile.kinds[0], address="192.0.2.1", tables=tables,
                        meant=meant)  # fmt: skip


def test_every_table_and_column_head_of_a_shipped_profile_has_a_zh_cn_word() -> None:
    """The device page's tables in zh-CN: no title or column head of a shipped profile
    left in English (a column without a meaning is titled from `COLUMN_NAMES`, a table
    from `TABLE_TITLES`; then `make catalogs` and its translation)."""
    chinese = translator("zh-CN")
    english, shown_tables = [], 0
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        profile, _, _ = _load_profile(path.stem, [BUILTIN_PROFILES])
        assert profile is not None
        tables = device_tables(every_column(profile), profile, meanings_of(profile), chinese)
        shown_tables += len(tables)
        for table in tables:
            for head in (table.title, *table.columns):  # as the page shows them
                shown = chinese.gettext(head)
                if set(re.findall(r"[A-Za-z]+", shown)) - KEPT_IN_LATIN:
                    english.append(f"{path.stem}: {table.name}: {shown!r}")
    assert shown_tables > 20
    assert english == []

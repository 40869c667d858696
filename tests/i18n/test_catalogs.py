"""The catalogs cover the code: every marked string has a reviewed zh-CN translation."""

from __future__ import annotations

import io

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from gateway.i18n import catalogs
from gateway.i18n.translate import catalog_path


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

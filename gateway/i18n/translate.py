"""A locale's translator: its catalog's gettext, and Babel's CLDR dates and numbers."""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
import string
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Literal, get_args

import babel
from babel import dates, lists, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Locale = Literal["en", "zh-CN"]
LOCALES: tuple[Locale, ...] = get_args(Locale)
DEFAULT_LOCALE: Locale = "en"
# The source language: its text is in the code, it has no catalog.
SOURCE_LOCALE: Locale = "en"
DOMAIN = "lvgw"
CATALOGS = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs without translating it: for text kept in a
    table and translated where it is shown (``translator(locale).gettext(text)``)."""
    return message


def NP_(context: str, message: str) -> str:
    """`N_` for a word whose translation depends on what it names: ``context`` tells
    translators (and the catalog) which sense; shown with ``pgettext(context, text)``."""
    return message


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a ``str.format`` text (``{{`` is a brace); a text that
    is no format at all has none."""
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}
    except ValueError:
        return set()


def catalog_path(locale: str) -> Path:
    """Where ``locale``'s catalog is: locales/zh_CN/LC_MESSAGES/lvgw.po."""
    return CATALOGS / _gettext_name(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


def _gettext_name(locale: str) -> str:
    return locale.replace("-", "_")


class Translator:
    """One locale's words and formats. ``gettext`` and ``ngettext`` translate the
    code's English; the other methods write numbers, dates and lists as the locale's
    CLDR data does (``1,234.5`` / ``1,234.5``; ``6 Dec 2026`` / ``2026年12月6日``)."""

    def __init__(self, locale: Locale, translations: gettext_module.NullTranslations) -> None:
        self.locale = locale
        self.babel_locale = babel.Locale.parse(locale, sep="-")
        self._translations = translations

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self._translations.pgettext(context, message)

    def decimal(self, value: float, digits: int | None = None) -> str:
        """A number with the locale's grouping; ``digits`` fixed decimals, else as needed."""
        pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=pattern, locale=self.babel_locale)

    def percent(self, fraction: float, digits: int = 0) -> str:
        """``fraction`` (0.56) as a percentage (56%)."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return numbers.format_percent(fraction, format=pattern, locale=self.babel_locale)

    def datetime(self, value: datetime, zone: tzinfo, format: str = "medium") -> str:
        """``value`` in ``zone``: a CLDR width (short, medium, long) or pattern."""
        return dates.format_datetime(value, format, tzinfo=zone, locale=self.babel_locale)

    def date(self, value: date, format: str = "medium") -> str:
        return dates.format_date(value, format, locale=self.babel_locale)

    def list(self, items: list[str]) -> str:
        """``a, b and c`` / ``a、b和c``."""
        return lists.format_list(items, locale=self.babel_locale)


@functools.cache
def translator(locale: str = DEFAULT_LOCALE) -> Translator:
    """The translator of ``locale`` (one of `LOCALES`); ValueError for any other."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}: one of {', '.join(LOCALES)}")
    known = LOCALES[LOCALES.index(locale)]
    if known == SOURCE_LOCALE:
        return Translator(known, gettext_module.NullTranslations())
    return Translator(known, load_catalog(known))


def load_catalog(locale: Locale) -> gettext_module.GNUTranslations:
    """``locale``'s .po catalog, compiled in memory: the package ships the text, which
    is what a translator edits and a reviewer reads; fuzzy entries are left out."""
    with catalog_path(locale).open("rb") as source:
        catalog = read_po(source, locale=_gettext_name(locale), domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)

"""The gateway's languages: gettext catalogs for its own words, CLDR formats for the rest.

A site speaks one language, ``site.locale``: ``en`` (the default) or ``zh-CN``. Code
that shows text to people takes a `Translator` for that locale and marks its strings
with ``gettext`` / ``ngettext`` (or ``N_`` where the text is kept for later), so that
`gateway.i18n.catalogs` finds them. The catalogs are the ``.po`` files under
``locales/``; docs/languages.md says how to add or update a translation.
"""

from __future__ import annotations

from gateway.i18n.translate import (
    DEFAULT_LOCALE,
    LOCALES,
    N_,
    NP_,
    Locale,
    Translator,
    translator,
)

__all__ = ["DEFAULT_LOCALE", "LOCALES", "NP_", "N_", "Locale", "Translator", "translator"]

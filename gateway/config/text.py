"""Text for people in a profile, in one language or in each (docs/languages.md).

A profile's ``title`` is a plain string, used whatever the site's language, or one
text per language: ``{en: "{name} is unreachable", zh-CN: "{name} 无法连接"}``. A
language a mapping lacks falls back to ``en``, else to the language it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

from gateway.i18n import DEFAULT_LOCALE, LOCALES


class LocalText(str):
    """The text in the default language (what the string is), and every language's
    text when the profile gave them (``translations``, empty for a plain string)."""

    translations: Mapping[str, str]

    def __new__(cls, text: str, translations: Mapping[str, str] | None = None) -> LocalText:
        self = super().__new__(cls, text)
        self.translations = dict(translations or {})
        return self

    def in_locale(self, locale: str) -> LocalText:
        """The text for ``locale``, as a LocalText that still knows the others."""
        chosen = self.translations.get(locale) or self.translations.get(DEFAULT_LOCALE)
        return LocalText(chosen or str(self), self.translations)

    def texts(self) -> dict[str, str]:
        """Each language's text, the default language's first; a plain string's under
        the default language."""
        texts = dict(self.translations) or {DEFAULT_LOCALE: str(self)}
        first = DEFAULT_LOCALE if DEFAULT_LOCALE in texts else next(iter(texts))
        return {first: texts[first]} | texts


def parse_local_text(value: Any) -> LocalText:
    if isinstance(value, LocalText):
        return value
    if isinstance(value, str):
        return LocalText(value)
    if not isinstance(value, dict) or not value:
        raise ValueError("give a text, or one text per language: {en: ..., zh-CN: ...}")
    unknown = [str(key) for key in value if key not in LOCALES]
    if unknown:
        raise ValueError(f"unknown language {unknown[0]!r}: the languages are {', '.join(LOCALES)}")
    if not all(isinstance(text, str) and text for text in value.values()):
        raise ValueError("each language's text is a non-empty string")
    first = value.get(DEFAULT_LOCALE) or next(iter(value.values()))
    return LocalText(first, value)


def _dump(text: LocalText) -> str | dict[str, str]:
    return dict(text.translations) if text.translations else str(text)


Text = Annotated[LocalText, PlainValidator(parse_local_text), PlainSerializer(_dump)]

"""Keep the catalogs in step with the code: ``python -m gateway.i18n.catalogs`` (make catalogs).

It extracts every marked string of the gateway (``gettext``, ``ngettext``, ``N_``...)
with Babel, updates each locale's .po (new strings added untranslated, gone ones
dropped, a changed one kept as a fuzzy guess) and prints what still needs a
translator. ``--check`` changes nothing and exits 1 when a string is untranslated,
fuzzy or stale, or a translation's ``{placeholders}`` differ from the English.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from gateway.i18n.translate import DOMAIN, LOCALES, SOURCE_LOCALE, catalog_path, placeholders

SOURCE_ROOT = Path(__file__).resolve().parent.parent  # gateway/
# Babel's own, and NP_ (N_ with a context: the context first, then the text).
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
# Lines that start with this comment are shown to translators beside the string.
COMMENT_TAGS = ("Translators:",)


def extract() -> Catalog:
    """The template: every marked string in gateway/, in a stable order."""
    template = Catalog(project="lvgw", domain=DOMAIN, fuzzy=False)
    found = extract_from_dir(
        SOURCE_ROOT,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for path in sorted(SOURCE_ROOT.rglob("*.py")):
        for lineno, message in _nested_messages(path):
            if template.get(message) is None:
                template.add(message, None, [(str(path.relative_to(SOURCE_ROOT)), lineno)])
    return template


def _nested_messages(path: Path) -> Iterator[tuple[int, str | tuple[str, str]]]:
    """Marked strings Babel's tokenizer does not see: those inside an f-string's
    braces (``f"<h2>{escape(_('Bring along'))}</h2>"``), found in the syntax tree."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            texts = [a.value for a in call.args if isinstance(a, ast.Constant)]
            if name in ("_", "gettext", "N_") and texts and isinstance(texts[0], str):
                yield call.lineno, texts[0]
            elif name == "ngettext" and len(texts) >= 2 and all(isinstance(t, str) for t in texts):
                yield call.lineno, (str(texts[0]), str(texts[1]))


def translated_locales() -> list[str]:
    return [locale for locale in LOCALES if locale != SOURCE_LOCALE]


HEADER = """\
# lvgw's own words in {locale}: the gateway's pages, reports, digests and tickets.
# Updated by `make catalogs` (python -m gateway.i18n.catalogs); docs/languages.md."""


def read_catalog(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        catalog = Catalog(locale=locale.replace("-", "_"), domain=DOMAIN, fuzzy=False)
    else:
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale.replace("-", "_"), domain=DOMAIN)
    catalog.project, catalog.version = "lvgw", ""
    catalog.header_comment = HEADER.format(locale=locale)
    catalog.msgid_bugs_address = ""
    catalog.last_translator = catalog.language_team = ""
    return catalog


def render(catalog: Catalog) -> bytes:
    """The .po text: sorted, unwrapped and without source locations, so that a change
    in the code moves no other line of the file."""
    out = io.BytesIO()
    write_po(
        out, catalog, width=0, no_location=True, sort_output=True, ignore_obsolete=True,
        include_previous=False,
    )  # fmt: skip
    return out.getvalue()


def update(locale: str, template: Catalog) -> Catalog:
    catalog = read_catalog(locale)
    created, revised = catalog.creation_date, catalog.revision_date
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    # The dates say when the translation changed, not when the code was last scanned.
    catalog.creation_date, catalog.revision_date = created, revised
    catalog.obsolete.clear()
    return catalog


def problems(locale: str, template: Catalog, catalog: Catalog | None = None) -> Iterator[str]:
    """What keeps ``locale``'s catalog (``catalog``, else its file) from covering the
    code, one line each."""
    catalog = catalog if catalog is not None else read_catalog(locale)
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, message.context)
        if entry is None:
            yield f"{locale}: no translation of {_show(message)}"
        elif entry.fuzzy:
            yield f"{locale}: fuzzy translation of {_show(message)}"
        elif not _complete(entry):
            yield f"{locale}: empty translation of {_show(message)}"
    for entry in catalog:
        if entry.id and template.get(entry.id, entry.context) is None:
            yield f"{locale}: stale entry {_show(entry)} (no longer in the code)"
    for entry, errors in catalog.check():
        for error in errors:
            yield f"{locale}: {_show(entry)}: {error}"
    for entry in catalog:
        if entry.id and _complete(entry) and not entry.fuzzy:
            yield from (f"{locale}: {_show(entry)}: {why}" for why in _placeholder_problems(entry))


def _complete(entry: Message) -> bool:
    strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
    return all(strings)


def _placeholder_problems(entry: Message) -> Iterator[str]:
    """A ``{name}`` of the English missing from its translation, or one it made up
    (Babel's own check covers %-formats only)."""
    ids = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
    strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
    wanted = set().union(*(placeholders(i or "") for i in ids))
    for text in strings:
        text = text or ""
        if placeholders(text) != wanted:
            have = ", ".join(sorted(placeholders(text))) or "none"
            yield f"placeholders {have} differ from the English's ({', '.join(sorted(wanted))})"


def _show(message: Message) -> str:
    text = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return repr(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.i18n.catalogs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on gaps")
    args = parser.parse_args(argv)
    template = extract()
    if not args.check:
        for locale in translated_locales():
            path = catalog_path(locale)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render(update(locale, template)))
    gaps = [line for locale in translated_locales() for line in problems(locale, template)]
    for line in gaps:
        print(line)
    print(f"{len(template)} strings, {len(gaps)} to translate or fix")
    return 1 if gaps and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

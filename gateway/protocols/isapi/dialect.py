"""ISAPI's answers for the HTTP reader: XML documents, elements by local name."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from drivers.isapi import child_text, parse_xml, rows


class IsapiDialect:
    """A scalar is the element at ``field`` (``deviceUpTime``, ``a/b``); a table's rows
    are the elements named ``row``, each named by its child ``key``."""

    def parse(self, body: bytes) -> Element:
        return parse_xml(body)

    def value(self, doc: Element, field: str) -> str | None:
        return child_text(doc, field) if doc.tag != field else (doc.text or "").strip()

    def rows(self, doc: Element, row: str, key: str | None) -> dict[str, Element]:
        out: dict[str, Element] = {}
        for number, element in enumerate(rows(doc, row), start=1):
            instance = child_text(element, key) if key else str(number)
            if instance:
                out.setdefault(instance, element)
        return out

    def cell(self, row: Element, field: str) -> str | None:
        return child_text(row, field)

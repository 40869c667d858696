"""The Dahua HTTP API's answers for the HTTP reader: ``key=value`` lines.

A table's rows are the indexes of its ``row`` prefix: ``list.info[0].Name``,
``list.info[0].Detail[1].TotalBytes`` are row 0's ``Name`` and
``Detail[1].TotalBytes``; ``channels[2]=5`` is row 2 whose own value (``.``) is 5.
The API counts channels and disks from 0, the recorder's screens from 1, and so do
instances here: row N is instance N + 1, and a ``key`` that is a channel number
(``key: "."`` on event indexes) names instance number + 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from drivers.dahua import FieldExpr, parse_field
from drivers.dahua.text import parse_key_values


@dataclass(slots=True)
class DahuaRow:
    values: dict[str, str] = field(default_factory=dict)  # keys after "row[N]."
    own: str | None = None  # the value of "row[N]" itself


def _instance(text: str) -> str:
    return str(int(text) + 1) if text.isdigit() else text


class DahuaDialect:
    def __init__(self) -> None:
        self._fields: dict[str, FieldExpr] = {}
        self._rows: dict[str, re.Pattern[str]] = {}

    def _field(self, text: str) -> FieldExpr:
        expr = self._fields.get(text)
        if expr is None:
            expr = self._fields[text] = parse_field(text)  # checked at load
        return expr

    def parse(self, body: bytes) -> dict[str, str]:
        return parse_key_values(body)

    def value(self, doc: dict[str, str], field: str) -> str | None:
        return self._field(field).evaluate(doc)

    def rows(self, doc: dict[str, str], row: str, key: str | None) -> dict[str, DahuaRow]:
        pattern = self._rows.get(row)
        if pattern is None:
            pattern = self._rows[row] = re.compile(re.escape(row) + r"\[(\d+)\](?:\.(.+))?")
        found: dict[int, DahuaRow] = {}
        for name, value in doc.items():
            match = pattern.fullmatch(name)
            if match is None:
                continue
            entry = found.setdefault(int(match.group(1)), DahuaRow())
            if match.group(2) is None:
                entry.own = value
            else:
                entry.values[match.group(2)] = value
        out: dict[str, DahuaRow] = {}
        for index in sorted(found):
            entry = found[index]
            if key is None:
                out.setdefault(str(index + 1), entry)
            elif named := self.cell(entry, key):
                out.setdefault(_instance(named), entry)
        return out

    def cell(self, row: DahuaRow, field: str) -> str | None:
        return self._field(field).evaluate(row.values, row.own)

"""The field tables of docs/metrics.md, generated from the profiles and `GATEWAY_FIELDS`.

    .venv/bin/python -m gateway.metrics.fielddocs              # every shipped profile
    .venv/bin/python -m gateway.metrics.fielddocs PROFILE.yaml  # one of your own

prints markdown to paste into docs/metrics.md; a test checks that the document holds
the tables of every shipped profile exactly as generated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from gateway.config.include import load_profile_source
from gateway.config.load import BUILTIN_PROFILES
from gateway.config.profile import Point, Profile
from gateway.metrics.schema import (
    DEVICE_MEASUREMENT,
    GATEWAY_MEASUREMENT,
    INFO_MEASUREMENT,
    FieldRule,
    FieldType,
    ProfileFields,
)
from gateway.metrics.selfstats import GATEWAY_FIELDS

HEADER = (
    "| measurement | field | type | unit | tags | values |\n"
    "|-------------|-------|------|------|------|--------|\n"
)


def load_profile(path: Path) -> Profile:
    """A profile file as the agent loads it (its id is the file name)."""
    data, _ = load_profile_source(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a profile is a mapping")
    return Profile.model_validate({"id": path.stem, **data})


def shipped_profiles(directory: Path = BUILTIN_PROFILES) -> dict[str, Profile]:
    return {path.stem: load_profile(path) for path in sorted(directory.glob("*.yaml"))}


def _row(measurement: str, name: str, kind: str, unit: str, tags: str, values: str) -> str:
    where = f"`{measurement}`" if measurement else "-"
    return f"| {where} | `{name}` | {kind} | {unit} | {tags} | {values} |\n"


def _codes(states: Mapping[int, str]) -> str:
    return ", ".join(f"{code} {name}" for code, name in sorted(states.items()))


def _point_rows(name: str, point: Point, rule: FieldRule, tags: str, label: str) -> Iterator[str]:
    kind = rule.type
    if kind is FieldType.TEXT:
        if not tags:
            yield _row(INFO_MEASUREMENT, name, "tag", "", "", "text, one line, at most 256 chars")
        elif name == label:
            yield _row(DEVICE_MEASUREMENT, name, "tag `label`", "", tags, "names the row")
        else:
            yield _row("", name, "not sent", "", "", "text: embedded store only")
    elif kind is FieldType.SKIP:
        carried = f"`{name}.rate`" if point.rate else "its bits"
        yield _row("", name, "not sent", point.unit, "", f"carried by {carried}")
    elif kind is FieldType.STATE:
        yield _row(DEVICE_MEASUREMENT, name, "state", point.unit, tags, _codes(point.states))
    elif kind is FieldType.INTEGER:
        yield _row(DEVICE_MEASUREMENT, name, "integer", point.unit, tags, "0 or 1")
    else:
        yield _row(DEVICE_MEASUREMENT, name, "float", point.unit, tags, "")
    for bit in point.bits.values():
        yield _row(DEVICE_MEASUREMENT, f"{name}.{bit}", "integer", "", tags, "0 or 1")
    if point.rate:
        yield _row(DEVICE_MEASUREMENT, f"{name}.rate", "float", f"{point.unit}/s", tags, "")


def profile_table(profile: Profile) -> str:
    """The markdown section for one profile."""
    fields = ProfileFields.from_profile(profile)
    kinds = ", ".join(f"`{k.value}`" for k in profile.kinds)
    out = [f"### Profile `{profile.id}` (kind {kinds})\n\n", HEADER]
    for name, point in profile.points.items():
        out += _point_rows(name, point, fields.rules[name], "", "")
    for table_name, table in profile.tables.items():
        label = fields.labels.get(table_name, "")
        tags = f"table={table_name}, instance={table.instance}"
        if label:
            tags += f", label={table.label}"
        for column, point in table.columns.items():
            name = f"{table_name}.{column}"
            out += _point_rows(name, point, fields.rules[name], tags, label)
    return "".join(out)


def gateway_table() -> str:
    out = [HEADER]
    for f in GATEWAY_FIELDS:
        kind = "integer" if f.flag else "float"
        tags = "table=outbox, instance=class" if f.per_class else ""
        values = "0 or 1" if f.flag else f.meaning
        out.append(_row(GATEWAY_MEASUREMENT, f.name, kind, f.unit, tags, values))
    return "".join(out)


def main(argv: list[str]) -> int:
    profiles = (
        {p.stem: load_profile(Path(p)) for p in map(Path, argv)} if argv else shipped_profiles()
    )
    print("\n".join(profile_table(profile) for profile in profiles.values()))
    if not argv:
        print("## Gateway health: `lvgw_gateway`\n")
        print(gateway_table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

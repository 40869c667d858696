"""Load a site file and the profiles it uses, reporting every problem as FILE:LINE."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gateway import shipped
from gateway.config import credentials, exposure, secretfiles
from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.include import load_profile_source
from gateway.config.meanings import meaning_problems
from gateway.config.mibnames import resolve_names
from gateway.config.profile import Profile, match_problems, protocol_problems
from gateway.config.protocols import SCHEMAS
from gateway.config.rule_checks import rule_problems
from gateway.config.rules import fault_codes
from gateway.config.site import Device, SiteFile
from gateway.config.yamlsource import LineMap, Loc, load_yaml
from gateway.mibs.store import MibLibrary

M = TypeVar("M", bound=BaseModel)

# Device ids the gateway uses for itself (its own network, site-wide jobs).
RESERVED_IDS = frozenset({"gateway", "site"})

# The profiles shipped with lvgw (config/profiles/ in the source tree, package data
# of an installed lvgw).
BUILTIN_PROFILES = shipped.profiles_dir()


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    path: Path
    site_file: SiteFile
    profiles: dict[str, Profile]
    # Not errors, but worth a look (a secret others may read, no time zone: UTC):
    # check-config prints them, `lvgw run` logs them.
    warnings: tuple[ConfigProblem, ...] = ()

    @property
    def devices(self) -> list[Device]:
        return self.site_file.devices

    def profile_of(self, device: Device) -> Profile:
        return self.profiles[device.profile]

    def device_over(self, device: Device, protocol: str) -> Device:
        """``device`` as the reader of ``protocol`` sees it (its port for that protocol)."""
        return device.over(protocol, self.profile_of(device).protocol)

    def device(self, device_id: str) -> Device:
        for device in self.site_file.devices:
            if device.id == device_id:
                return device
        raise KeyError(device_id)

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for device in self.devices:
            kinds[device.kind.value] = kinds.get(device.kind.value, 0) + 1
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        return (
            f"{self.path}: site {self.site_file.site.id} is valid: {len(self.devices)} devices"
            f" ({parts}), {len(self.profiles)} profiles"
        )


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def _data_loc(data: Any, loc: Sequence[str | int]) -> Loc:
    """Keep the parts of a pydantic location that walk the raw data (drop union tags)."""
    kept: list[str | int] = []
    node = data
    parts = list(loc)
    for i, part in enumerate(parts):
        child = _child(node, part)
        if child is _MISSING:
            is_last = i == len(parts) - 1
            if is_last and isinstance(node, dict) and isinstance(part, str):
                kept.append(part)  # a missing or unknown key: name it, it has no node of its own
            # Otherwise a union's tag (e.g. a rule's type): skip it and walk on.
            continue
        node = child
        kept.append(part)
    return tuple(kept)


def _describe(data: Any, loc: Loc, message: str, error_type: str) -> str:
    subject = ""
    rest = list(loc)
    if len(rest) >= 2 and rest[0] == "devices" and isinstance(rest[1], int):
        device = data["devices"][rest[1]] if isinstance(data, dict) else None
        device_id = device.get("id") if isinstance(device, dict) else None
        subject = f"device '{device_id}'" if device_id else f"device #{rest[1] + 1}"
        rest = rest[2:]
    field = ".".join(str(p) for p in rest)
    if error_type == "extra_forbidden":
        message = "unknown key"
    elif error_type == "string_pattern_mismatch" and rest[-1:] in (["id"], ["profile"]):
        message = "use lower-case letters, digits and '-' only (at most 63), e.g. sw-core"
    elif error_type == "missing":
        message = "missing required field"
    message = message.removeprefix("Value error, ")
    where = ", ".join(x for x in (subject, f"field '{field}'" if field else "") if x)
    return f"{where}: {message}" if where else message


def _validate(
    model: type[M], data: Any, linemap: LineMap, context: Loc = ()
) -> tuple[M | None, list[ConfigProblem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = _data_loc(data, error["loc"])
            text = _describe(data, loc, error["msg"], error["type"])
            problems.append(linemap.problem((*context, *loc), text))
        return None, problems


def _load_profile(
    name: str, dirs: Iterable[Path], mibs: MibLibrary | None = None
) -> tuple[Profile | None, list[ConfigProblem], Path | None]:
    """A profile by name from the first of ``dirs`` that has it, its ``MODULE::name``
    OIDs resolved from ``mibs`` (the MIBs lvgw ships when None)."""
    for directory in dirs:
        path = directory / f"{name}.yaml"
        if path.is_file():
            data, linemap = load_profile_source(path)
            if isinstance(data, dict):
                data = {"id": name, **data}
            unresolved = resolve_names(data, mibs or MibLibrary.over([]))
            if unresolved:
                return None, [linemap.problem(loc, why) for loc, why in unresolved], path
            profile, problems = _validate(Profile, data, linemap)
            if profile is not None:
                problems += [linemap.problem(loc, why) for loc, why in protocol_problems(profile)]
                problems += [linemap.problem(loc, why) for loc, why in meaning_problems(profile)]
                problems += [linemap.problem(loc, why) for loc, why in rule_problems(profile)]
                problems += [linemap.problem(loc, why) for loc, why in match_problems(profile)]
                profile = None if problems else profile
            return profile, problems, path
    return None, [], None


def load_profile(
    name: str, dirs: Iterable[Path], mibs: MibLibrary | None = None
) -> tuple[Profile | None, list[ConfigProblem]]:
    """The profile ``name`` from the first of ``dirs`` that has it (None and no problem
    when none has it; None and its problems when it is not valid); its ``MODULE::name``
    OIDs from ``mibs`` (the MIBs lvgw ships when None)."""
    profile, problems, _found = _load_profile(name, dirs, mibs)
    return profile, problems


def _cross_check(
    raw_ids: list[tuple[int, str]],
    devices: list[tuple[int, Device]],
    linemap: LineMap,
    profiles: dict[str, Profile | None],
) -> list[ConfigProblem]:
    """Checks across devices and profiles, on every device that is valid on its own."""
    problems: list[ConfigProblem] = []

    def problem(i: int, device: Device, field: str, message: str) -> None:
        at: Loc = ("devices", i, *field.split("."))
        problems.append(linemap.problem(at, f"device '{device.id}', field '{field}': {message}"))

    # Ids and parents are checked on every device that has them, valid or not, so that
    # one mistake does not hide another.
    first_seen: dict[str, int] = {}
    for i, device_id in raw_ids:
        if device_id in first_seen:
            line = linemap.line_of(("devices", first_seen[device_id]))
            message = f"duplicate device id (first defined on line {line})"
            loc: Loc = ("devices", i, "id")
            problems.append(linemap.problem(loc, f"device '{device_id}', field 'id': {message}"))
        first_seen.setdefault(device_id, i)
    for i, device in devices:
        if device.id in RESERVED_IDS:
            problem(i, device, "id", f"'{device.id}' is reserved for the gateway's own tickets")
        if device.parent == device.id:
            problem(i, device, "parent", "a device cannot be its own parent")
        elif device.parent is not None and device.parent not in first_seen:
            problem(i, device, "parent", f"no device '{device.parent}' in this site")
        profile = profiles.get(device.profile)
        if profile is None:
            continue
        if device.kind not in profile.kinds:
            kinds = ", ".join(k.value for k in profile.kinds)
            problem(
                i,
                device,
                "profile",
                f"profile '{device.profile}' is for {kinds}, not {device.kind}",
            )
        speaks = [SCHEMAS[name] for name in profile.protocols]
        titles = " and ".join(schema.title for schema in speaks)
        for schema in speaks:
            if schema.device_section_required and getattr(device, schema.name, None) is None:
                article = "an" if schema.name[0] in "aeiou" else "a"
                message = f"profile '{device.profile}' speaks {schema.title}: give {article}"
                problem(i, device, "profile", f"{message} {schema.name}: section")
        for other in SCHEMAS.values():
            if other not in speaks and getattr(device, other.name, None) is not None:
                message = f"profile '{device.profile}' speaks {titles}, not {other.title}"
                problem(i, device, other.name, message)
        for name in device.ports:
            if name not in profile.protocols[1:]:
                others = ", ".join(profile.protocols[1:]) or "none"
                message = (
                    f"a port for a protocol the profile reads besides {profile.protocol}"
                    f" ({others}); {profile.protocol}'s is the device's port"
                )
                problem(i, device, f"ports.{name}", message)
        codes = set(fault_codes(profile.rules))
        for code in device.levels:
            if code not in codes:
                problem(
                    i, device, f"levels.{code}", f"profile '{device.profile}' has no rule {code}"
                )
    problems.extend(_parent_cycles(devices, linemap))
    return problems


def _site_sections(
    raw: dict[str, Any],
    devices: list[tuple[int, Device]],
    linemap: LineMap,
    profiles: dict[str, Profile | None],
) -> list[ConfigProblem]:
    """A site section a device's protocol needs (DC-09's receiver), once per section."""
    problems: list[ConfigProblem] = []
    missing: set[str] = set()
    for i, device in devices:
        profile = profiles.get(device.profile)
        for schema in [SCHEMAS[name] for name in profile.protocols] if profile else []:
            needed = schema.site_section_required
            if needed is None or raw.get(needed) is not None or needed in missing:
                continue
            missing.add(needed)
            message = (
                f"device '{device.id}', field 'profile': profile '{device.profile}' speaks"
                f" {schema.title}: the site file needs a {needed}: section (where its"
                " receiver listens)"
            )
            problems.append(linemap.problem(("devices", i, "profile"), message))
    return problems


def _parent_cycles(devices: list[tuple[int, Device]], linemap: LineMap) -> list[ConfigProblem]:
    parents = {d.id: d.parent for _, d in devices}
    index = {d.id: i for i, d in devices}
    problems = []
    for device_id in parents:
        chain = [device_id]
        current = parents.get(device_id)
        while current is not None and current in parents and current not in chain:
            chain.append(current)
            current = parents[current]
        if current == device_id and len(chain) > 1:
            problems.append(
                linemap.problem(
                    ("devices", index[device_id], "parent"),
                    f"device '{device_id}', field 'parent': parent links form a loop: "
                    + " -> ".join([*chain, device_id]),
                )
            )
    return problems


def _resolve_files(
    raw: Any, linemap: LineMap, warnings: list[ConfigProblem], loc: Loc = ()
) -> list[ConfigProblem]:
    """Make every `*_file` and TLS path absolute (relative to the site file; a leading
    ``${CREDENTIALS_DIRECTORY}`` as credentials.py says); each must exist, and each
    secret among them must be readable and not empty (warnings for a secret others may
    read go to ``warnings``)."""
    problems: list[ConfigProblem] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            here = (*loc, key)
            in_tls = loc[-1:] == ("tls",)
            is_path = key.endswith("_file") or (in_tls and key in ("ca", "cert", "key"))
            if is_path and isinstance(value, str):
                path = Path(credentials.expand(value, linemap.file))
                if not path.is_absolute():
                    path = linemap.file.parent.resolve() / path
                raw[key] = str(path)
                field = f"field '{'.'.join(map(str, here))}'"
                if not path.is_file():
                    named = f"{value} ({path})" if value.startswith(credentials.PREFIX) else value
                    problems.append(linemap.problem(here, f"{field}: no such file: {named}"))
                elif secretfiles.is_secret(key, in_tls):
                    why = secretfiles.read_problem(path, key)
                    if why is not None:
                        problems.append(linemap.problem(here, f"{field}: {why}"))
                    exposed = secretfiles.exposure_warning(path)
                    if exposed is not None:
                        warnings.append(linemap.problem(here, f"warning: {field}: {exposed}"))
            else:
                problems.extend(_resolve_files(value, linemap, warnings, here))
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            problems.extend(_resolve_files(item, linemap, warnings, (*loc, i)))
    return problems


def _time_zone_checks(site: SiteFile, linemap: LineMap) -> tuple[ConfigProblem | None, str]:
    """Duty hours need a time zone (an error at the duty line); a site with no time zone
    at all runs in UTC (a warning). Returns (error, warning text)."""
    duty = site.site.clocks.duty
    if site.site.timezone is not None or (duty is not None and duty.timezone is not None):
        return None, ""
    if duty is not None:
        message = (
            "field 'site.clocks.duty': duty hours need a time zone: set site.timezone "
            "(an IANA name, e.g. Asia/Shanghai)"
        )
        return linemap.problem(("site", "clocks", "duty"), message), ""
    return None, (
        "warning: field 'site.timezone' is not set: reports, digests and scheduled jobs "
        "run in UTC (set an IANA name, e.g. Asia/Shanghai)"
    )


def _raw_ids(raw: dict[str, Any]) -> list[tuple[int, str]]:
    items = raw.get("devices")
    items = items if isinstance(items, list) else []
    return [(i, d["id"]) for i, d in enumerate(items) if isinstance(d, dict) and "id" in d]


def _valid_devices(raw: dict[str, Any]) -> list[tuple[int, Device]]:
    items = raw.get("devices")
    valid = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            valid.append((i, Device.model_validate(item)))
        except ValidationError:
            continue  # its own problems are reported by the whole-file validation
    return valid


def _agent_dirs(path: Path, raw: dict[str, Any], key: str) -> list[Path]:
    """The directories ``agent.<key>`` names, relative to the site file."""
    agent = raw.get("agent")
    extra = agent.get(key, []) if isinstance(agent, dict) else []
    named = [Path(d) for d in extra if isinstance(d, str)] if isinstance(extra, list) else []
    return [d if d.is_absolute() else path.parent / d for d in named]


def _profile_dirs(path: Path, raw: dict[str, Any]) -> list[Path]:
    dirs = _agent_dirs(path, raw, "profile_dirs")
    return list(dict.fromkeys([*dirs, path.parent / "profiles", BUILTIN_PROFILES]))


def _mib_library(path: Path, raw: dict[str, Any]) -> MibLibrary:
    """The compiled MIBs of ``agent.mib_dirs``, ``mibs/`` beside the site file and lvgw's."""
    return MibLibrary.over([*_agent_dirs(path, raw, "mib_dirs"), path.parent / "mibs"])


def load_config(path: Path) -> LoadedConfig:
    """Load and validate a site file and its profiles; raise ConfigError listing every problem."""
    path = Path(path)
    raw, linemap = load_yaml(path)
    if not isinstance(raw, dict):
        message = "the site file must be a mapping with site:, uplink: and devices:"
        raise ConfigError([ConfigProblem(path, 1, message)])
    warnings: list[ConfigProblem] = []
    file_problems = _resolve_files(raw, linemap, warnings)
    site, problems = _validate(SiteFile, raw, linemap)
    problems += file_problems
    devices = _valid_devices(raw)
    dirs = _profile_dirs(path, raw)
    mibs = _mib_library(path, raw)
    profiles: dict[str, Profile | None] = {}
    for i, device in devices:
        if device.profile in profiles:
            continue
        profile, profile_problems, found = _load_profile(device.profile, dirs, mibs)
        profiles[device.profile] = profile
        problems.extend(profile_problems)
        if found is None:
            looked = ", ".join(str(d) for d in dirs)
            message = f"unknown profile '{device.profile}' (looked in {looked})"
            loc = ("devices", i, "profile")
            problems.append(
                linemap.problem(loc, f"device '{device.id}', field 'profile': {message}")
            )
    problems.extend(_cross_check(_raw_ids(raw), devices, linemap, profiles))
    problems.extend(_site_sections(raw, devices, linemap, profiles))
    if site is not None:
        error, warning = _time_zone_checks(site, linemap)
        problems += [error] if error is not None else []
        warnings += [linemap.problem(("site",), warning)] if warning else []
        warnings += exposure.uplink_warnings(site, linemap)
    if problems or site is None:
        raise ConfigError(problems)
    # Titles in the site's language from here on: the rules raise conditions with them.
    locale = site.site.locale
    kept = {k: v.in_locale(locale) for k, v in profiles.items() if v is not None}
    return LoadedConfig(path, site, kept, tuple(sorted(warnings, key=lambda w: w.line)))

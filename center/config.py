"""CENTER.yaml: the model, and loading it with every problem as ``FILE:LINE: message``.

Unknown keys are errors; secrets come from files (read and checked at load time, as
the gateway's site file does: gateway/config/load.py, secretfiles.py). Adapters are a
union tagged by ``type``; only ``webhook`` exists so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from center.ledger.url import LedgerUrl, check_url
from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.listen import parse_listen
from gateway.config.load import _resolve_files, _validate
from gateway.config.site import Tls
from gateway.config.types import IDENTIFIER, Duration, Host, Strict
from gateway.config.yamlsource import LineMap, load_yaml

# A shared subscription's name may not hold the topic separators (MQTT v5, 4.8.2).
_SHARE_NAME = r"^[^/+#\s]{1,64}$"
KNOWN = {"webhook"}
NOT_YET = {"alertmanager", "email", "dingtalk", "wecom"}


class Broker(Strict):
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    tls: Tls | None = None
    username: str | None = None
    password_file: Path | None = None
    group: Annotated[str, Field(pattern=_SHARE_NAME)] = "lvgw-center"
    # The broker keeps the session (and the QoS 1 messages queued for it) this long
    # while the center is away.
    session_expiry: Duration = 7 * 86400.0
    client_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "lvgw-center"

    @model_validator(mode="after")
    def _password_needs_user(self) -> Broker:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        return self


class Site(Strict):
    id: Annotated[str, Field(pattern=IDENTIFIER)]
    command_key_file: Path | None = None


class AdapterSettings(Strict):
    """What every adapter has: its queue's name, what it takes, how it retries."""

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    levels: list[Annotated[int, Field(ge=1, le=4)]] = [1, 2, 3, 4]
    sites: list[Annotated[str, Field(pattern=IDENTIFIER)]] | None = None  # None: all
    timeout: Duration = 10.0
    # Retries wait from backoff_initial up to backoff_max (jittered); after
    # dead_after failed attempts the delivery is dead-lettered.
    backoff_initial: Duration = 1.0
    backoff_max: Duration = 300.0
    dead_after: Annotated[int, Field(ge=1)] = 1000


class Webhook(AdapterSettings):
    type: Literal["webhook"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "webhook"
    url: str
    secret_file: Path

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(f"not an http:// or https:// URL: {value!r}")
        return value


# A union tagged by `type` once there is more than one kind.
Adapter = Annotated[Webhook, Field(discriminator="type")]


class Web(Strict):
    listen: str = "127.0.0.1:8790"

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        parse_listen(value)
        return value


class Ingest(Strict):
    # A ticket whose next event is missing this long is flagged (an event lost
    # upstream); the events after it still wait, they are never applied past a gap.
    gap_after: Duration = 600.0


class Database(Strict):
    """``database: {url: postgresql://USER@HOST:PORT/DB, password_file: FILE}``."""

    url: str
    password_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @model_validator(mode="after")
    def _password_for_postgresql(self) -> Database:
        if self.password_file is not None and not self.url.startswith("postgres"):
            raise ValueError("password_file is for a postgresql:// database")
        return self


class CenterFile(Strict):
    broker: Broker
    database: str | Database
    sites: list[Site] = []
    adapters: list[Adapter] = []
    web: Web | None = None  # the HTTP callbacks are served only when it is given
    ingest: Ingest = Ingest()

    @field_validator("database")
    @classmethod
    def _database(cls, value: str | Database) -> str | Database:
        return check_url(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _distinct(self) -> CenterFile:
        names = [a.name for a in self.adapters]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two adapters named {name!r}: give each a distinct name")
        ids = [s.id for s in self.sites]
        for site_id in ids:
            if ids.count(site_id) > 1:
                raise ValueError(f"site {site_id!r} is listed twice")
        return self

    @property
    def ledger(self) -> LedgerUrl:
        if isinstance(self.database, str):
            return LedgerUrl(self.database)
        return LedgerUrl(self.database.url, self.database.password_file)

    @property
    def database_path(self) -> Path:
        """The SQLite ledger's file (sqlite:///var/lib/c.db is /var/lib/c.db)."""
        return self.ledger.path


@dataclass(frozen=True, slots=True)
class LoadedCenter:
    path: Path
    center: CenterFile
    warnings: tuple[ConfigProblem, ...] = ()

    def summary(self) -> str:
        adapters = ", ".join(f"{a.name} ({a.type})" for a in self.center.adapters) or "none"
        return (
            f"{self.path}: valid: broker {self.center.broker.host}:{self.center.broker.port},"
            f" database {self.center.ledger.where}, {len(self.center.sites)} sites,"
            f" adapters: {adapters}"
        )


def load_center(path: Path) -> LoadedCenter:
    """Load and check ``path``; ConfigError lists every problem found."""
    raw, linemap = load_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(path, 1, "expected a mapping with broker and database")])
    problems = _not_yet(raw, path, linemap)
    if problems:
        raise ConfigError(problems)
    warnings: list[ConfigProblem] = []
    problems = _resolve_files(raw, linemap, warnings)
    center, invalid = _validate(CenterFile, raw, linemap)
    problems += invalid
    if problems or center is None:
        raise ConfigError(problems)
    return LoadedCenter(path, center, tuple(warnings))


def _not_yet(raw: dict[str, object], path: Path, linemap: LineMap) -> list[ConfigProblem]:
    """Adapter types this version does not have, said plainly (the designed ones as
    "not supported yet")."""
    adapters = raw.get("adapters")
    found: list[ConfigProblem] = []
    if isinstance(adapters, list):
        for i, adapter in enumerate(adapters):
            if not isinstance(adapter, dict):
                continue
            kind = adapter.get("type")
            if kind in KNOWN:
                continue
            if kind in NOT_YET:
                why = f"adapter type {kind!r} is not supported yet: use webhook"
            elif kind is None:
                why = "an adapter needs a type: webhook"
            else:
                why = f"unknown adapter type {kind!r}: use webhook"
            line = linemap.line_of(("adapters", i, "type"))
            found.append(ConfigProblem(path, line, f"field 'adapters.{i}.type': {why}"))
    return found

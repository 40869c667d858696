"""CENTER.yaml: the model, and loading it with every problem as ``FILE:LINE: message``.

Unknown keys are errors; secrets come from files (read and checked at load time, as
the gateway's site file does: gateway/config/load.py, secretfiles.py). Adapters are a
union tagged by ``type``: webhook, alertmanager, email, dingtalk, wecom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from center.ledger.url import LedgerUrl, check_url
from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.listen import parse_listen
from gateway.config.load import _resolve_files, _validate
from gateway.config.site import TimeZoneName, Tls
from gateway.config.types import IDENTIFIER, Duration, Host, Strict, read_secret_file
from gateway.config.yamlsource import LineMap, load_yaml

# A shared subscription's name may not hold the topic separators (MQTT v5, 4.8.2).
_SHARE_NAME = r"^[^/+#\s]{1,64}$"
KNOWN = ("webhook", "alertmanager", "email", "dingtalk", "wecom")
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")


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
    # The site's customer for the web app's customer accounts; without it, the
    # customer the site's ticket events name.
    customer: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AdapterSettings(Strict):
    """What every adapter has: its queue's name, what it takes, how it retries."""

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    levels: list[Annotated[int, Field(ge=1, le=4)]] = [1, 2, 3, 4]
    sites: list[Annotated[str, Field(pattern=IDENTIFIER)]] | None = None  # None: all
    # The customer's name as the site file gives it (the event's site.customer.name).
    customers: list[Annotated[str, Field(min_length=1)]] | None = None  # None: all
    timeout: Duration = 10.0
    # Retries wait from backoff_initial up to backoff_max (jittered); after
    # dead_after failed attempts the delivery is dead-lettered.
    backoff_initial: Duration = 1.0
    backoff_max: Duration = 300.0
    dead_after: Annotated[int, Field(ge=1)] = 1000


def _http_url(value: str | None) -> str | None:
    if value is not None and not _HTTP_URL.match(value):
        raise ValueError(f"not an http:// or https:// URL: {value!r}")
    return value


class Webhook(AdapterSettings):
    type: Literal["webhook"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "webhook"
    url: str
    secret_file: Path

    _url = field_validator("url")(_http_url)


def _one_or_more(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Alertmanager(AdapterSettings):
    """Alerts to Alertmanager's API v2 (center/adapters/alertmanager.py)."""

    type: Literal["alertmanager"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "alertmanager"
    # Alertmanager's base URL (http://127.0.0.1:9093), or each of a cluster's: as
    # Alertmanager's documentation says, a client sends to every instance of a
    # cluster, not to one behind a load balancer.
    url: Annotated[list[str], BeforeValidator(_one_or_more), Field(min_length=1)]
    # An open ticket's alert is posted again this often, and each post holds it active
    # for four times as long (endsAt), as Prometheus does: Alertmanager keeps alerts in
    # memory only and resolves one that is not sent again.
    resend: Duration = 60.0
    # https: ca, a private CA to trust; cert and key, a client certificate.
    tls: Tls | None = None

    @field_validator("url")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            _http_url(url)
        if len(set(value)) < len(value):
            raise ValueError("an Alertmanager is listed twice")
        return value


class Smtp(Strict):
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True  # STARTTLS before anything else is said (RFC 3207)
    implicit_tls: bool = False  # TLS from the first byte (port 465, RFC 8314)
    tls: Tls | None = None  # ca: a private CA to trust; cert, key: a client certificate
    username: str | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _safe(self) -> Smtp:
        if self.starttls and self.implicit_tls:
            raise ValueError("starttls and implicit_tls: choose one")
        if (self.username is None) != (self.password_file is None):
            raise ValueError("username and password_file go together")
        if self.username is not None and not (self.starttls or self.implicit_tls):
            raise ValueError(
                "username without starttls or implicit_tls: the password would go in clear"
            )
        return self


def _address(value: str) -> str:
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValueError(f"not an e-mail address: {value!r}") from exc
    if not address.domain or not address.username:
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


Mailbox = Annotated[str, AfterValidator(_address)]


class Email(AdapterSettings):
    """Mail to a helpdesk's intake, one thread per ticket (center/adapters/mail.py)."""

    type: Literal["email"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "email"
    smtp: Smtp
    sender: Mailbox = Field(alias="from")
    to: Annotated[list[Mailbox], Field(min_length=1)]
    # The right-hand side of the Message-IDs (default: the domain of `from`).
    message_id_domain: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]{1,253}$")] | None = None
    timeout: Duration = 30.0

    @property
    def id_domain(self) -> str:
        return self.message_id_domain or Address(addr_spec=self.sender).domain


class GroupRobot(AdapterSettings):
    """A chat group's robot webhook: its URL holds the robot's key, so it may come from
    a file (url_file, first line) rather than CENTER.yaml."""

    url: str | None = None
    url_file: Path | None = None
    # Messages a minute the robot takes (both DingTalk's and WeCom's take 20): more
    # wait their turn.
    per_minute: Annotated[int, Field(ge=1)] = 20

    _url = field_validator("url")(_http_url)

    @model_validator(mode="after")
    def _one_url(self) -> GroupRobot:
        if (self.url is None) == (self.url_file is None):
            raise ValueError("give url or url_file (a file holding the URL), one of them")
        if self.url_file is not None and self.url_file.is_file():
            _http_url(self.robot_url())  # a missing file is reported as such already
        return self

    def robot_url(self) -> str:
        if self.url is not None:
            return self.url
        assert self.url_file is not None
        return read_secret_file(self.url_file).reveal().strip()


class DingTalk(GroupRobot):
    """DingTalk's custom group robot (center/adapters/dingtalk.py)."""

    type: Literal["dingtalk"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "dingtalk"
    # The robot's signing secret (its security setting 加签, the text starting SEC).
    secret_file: Path | None = None

    @field_validator("secret_file")
    @classmethod
    def _text_secret(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_file():
            try:
                value.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"{value} is not UTF-8 text: {exc}") from None
        return value

    def secret(self) -> str | None:
        if self.secret_file is None:
            return None
        return self.secret_file.read_bytes().decode("utf-8").strip()


class WeCom(GroupRobot):
    """WeCom's (WeChat Work's) group robot (center/adapters/wecom.py)."""

    type: Literal["wecom"]
    name: Annotated[str, Field(pattern=IDENTIFIER)] = "wecom"


Adapter = Annotated[Webhook | Alertmanager | Email | DingTalk | WeCom, Field(discriminator="type")]


class Web(Strict):
    listen: str = "127.0.0.1:8790"
    # The people who sign in to the web app (center/web/users.py); without it only
    # the HTTP callbacks are served.
    users_file: Path | None = None
    session_lifetime: Duration = 12 * 3600.0
    # The session cookie's Secure flag: None sets it when the request came over TLS;
    # true behind a TLS reverse proxy (the center itself then sees plain HTTP).
    secure_cookies: bool | None = None
    # Headless Chromium prints the PDFs (center/web/pdf.py).
    chromium: str = "chromium"
    # The months of the on-time rate and the monthly reports are calendar months in
    # this time zone (the customers' own, e.g. Asia/Shanghai), not the server's.
    timezone: TimeZoneName = "UTC"

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
    problems = _unknown_types(raw, path, linemap)
    if problems:
        raise ConfigError(problems)
    warnings: list[ConfigProblem] = []
    problems = _resolve_files(raw, linemap, warnings)
    center, invalid = _validate(CenterFile, raw, linemap)
    problems += invalid
    if problems or center is None:
        raise ConfigError(problems)
    if center.web is not None and center.web.users_file is not None:
        from center.web.users import load_users  # the web app's, checked with the file

        load_users(Path(center.web.users_file))  # ConfigError: FILE:LINE of its mistakes
    if center.web is not None and not any(isinstance(a, Webhook) for a in center.adapters):
        why = ("warning: field 'web': no webhook adapter, so every callback is refused (401):"
               " a callback is signed with a webhook adapter's secret_file")  # fmt: skip
        warnings.append(ConfigProblem(path, linemap.line_of(("web",)), why))
    return LoadedCenter(path, center, tuple(warnings))


def _unknown_types(raw: dict[str, object], path: Path, linemap: LineMap) -> list[ConfigProblem]:
    """An adapter without a type, or of a type this version does not have, said plainly
    (pydantic would only say the tag does not match)."""
    adapters = raw.get("adapters")
    found: list[ConfigProblem] = []
    kinds = ", ".join(KNOWN)
    if isinstance(adapters, list):
        for i, adapter in enumerate(adapters):
            if not isinstance(adapter, dict):
                continue
            kind = adapter.get("type")
            if kind in KNOWN:
                continue
            if kind is None:
                why = f"an adapter needs a type: {kinds}"
            else:
                why = f"unknown adapter type {kind!r}: use {kinds}"
            line = linemap.line_of(("adapters", i, "type"))
            found.append(ConfigProblem(path, line, f"field 'adapters.{i}.type': {why}"))
    return found

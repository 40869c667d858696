"""Test tiers, and the guard that keeps the unit tier in-process.

Every test belongs to exactly one tier (docs/testing.md):

- ``unit``: in-process, no server, no subprocess; ``make check`` runs these.
- ``integration``: real servers (mosquitto, snmpd, a simulated fleet...) or subprocesses.
- ``e2e``: the whole gateway, as a user runs it.

A test takes its tier from an explicit mark (on the test, its class or its module's
``pytestmark``); without one, from its directory (``DIRECTORY_TIERS``), else ``unit``.
So a new test file is in the unit tier until it says otherwise, and the guard tells
it when it must: a test that starts a subprocess or binds a socket (a TCP or UDP
server, an asyncio server or datagram endpoint with a local address, a Unix socket)
without the ``integration`` or ``e2e`` mark fails, naming what it started and where.

Loaded by tests/conftest.py; a pytest run of another directory loads it with
``-p tests.tiers``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import traceback
import weakref
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

TIERS = {
    "unit": "in-process only: no subprocess, no server (make check runs these)",
    "integration": "real servers (mosquitto, snmpd, simulators...) or subprocesses",
    "e2e": "the whole gateway, as a user runs it",
}
ALIASES = {"real": "integration"}  # the name the integration tier had before the tiers
ISOLATED = ("unit",)  # tiers the guard holds to "no subprocess, no server"
# tests/<directory>/... -> the tier of its tests that carry no tier mark of their own
DIRECTORY_TIERS = {"e2e": "e2e"}
DEFAULT_TIER = "unit"

_PROJECT_ROOTS = ("tests", "center", "gateway", "drivers", "simulators")


def pytest_configure(config: pytest.Config) -> None:
    registered = {line.split(":")[0].strip() for line in config.getini("markers")}
    for name, meaning in {**TIERS, "real": "old name of the integration tier"}.items():
        if name not in registered:
            config.addinivalue_line("markers", f"{name}: {meaning}")
    _Guard.root = str(config.rootpath)
    _Guard.install()


def tier_of(item: pytest.Item, rootpath: Path) -> str:
    """The item's one tier: its tier mark (its own, its class's or its module's), else
    its directory's, else the default."""
    marks = {
        f"{ALIASES.get(m.name, m.name)} ({_level(node)})"
        for node in item.listchain()
        for m in node.own_markers
        if ALIASES.get(m.name, m.name) in TIERS
    }
    tiers = {mark.split()[0] for mark in marks}
    if len(tiers) > 1:
        raise pytest.UsageError(
            f"{item.nodeid} is marked {', '.join(sorted(marks))}: a test has exactly one "
            "tier (unit, integration or e2e); in a module of both, mark each test instead"
        )
    if tiers:
        return tiers.pop()
    try:
        parts = item.path.relative_to(rootpath).parts
    except ValueError:
        parts = item.path.parts
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in DIRECTORY_TIERS:
        return DIRECTORY_TIERS[parts[1]]
    return DEFAULT_TIER


def _level(node: object) -> str:
    if isinstance(node, pytest.Module):
        return "its module"
    if isinstance(node, pytest.Class):
        return "its class"
    return "its own"


@pytest.hookimpl(tryfirst=True)  # before -m selects by tier
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item, config.rootpath)
        if item.get_closest_marker(tier) is None:
            item.add_marker(tier)
            item.stash[_DEFAULTED] = True
        item.stash[_TIER] = tier


_TIER = pytest.StashKey[str]()
_DEFAULTED = pytest.StashKey[bool]()  # the tier came from the directory or the default
_PENDING = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    _Guard.current = item
    try:
        return (yield)
    finally:
        _Guard.current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    found = _Guard.take(item)
    if call.when == "setup" and report.passed:
        item.stash[_PENDING] = found  # told with the test's own result
        return report
    found = item.stash.get(_PENDING, []) + found
    item.stash[_PENDING] = []
    if found:
        explicit = item.get_closest_marker("unit") is not None and not _defaulted(item)
        why = (
            "is marked unit" if explicit else "has no integration or e2e mark, so it is a unit test"
        )
        message = (
            f"{item.nodeid} {why} (in-process only: make check runs these), yet it\n"
            + "\n".join(f"  - {line}" for line in found)
            + "\nMark it @pytest.mark.integration (or its whole module: pytestmark = "
            "pytest.mark.integration), or @pytest.mark.e2e if it runs the whole gateway. "
            "See docs/testing.md."
        )
        earlier = f"{report.longrepr}\n\n" if report.failed and report.longrepr else ""
        report.outcome = "failed"
        report.longrepr = earlier + message
    return report


def _defaulted(item: pytest.Item) -> bool:
    return item.stash.get(_DEFAULTED, False)


class _Guard:
    """Wraps the ways a test starts a process or a server, and notes each on the test."""

    current: pytest.Item | None = None
    root = ""
    installed = False
    lock = threading.Lock()

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return
        cls.installed = True
        popen_init = subprocess.Popen.__init__

        def popen(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
            cls.note(f"started a subprocess: {_command(args)}")
            popen_init(self, args, *rest, **kw)

        subprocess.Popen.__init__ = popen  # type: ignore[method-assign]
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            if hasattr(os, name):
                setattr(os, name, cls.wrap(getattr(os, name), f"called os.{name}"))
        bind, listen = socket.socket.bind, socket.socket.listen
        bound_here: weakref.WeakSet[socket.socket] = weakref.WeakSet()

        def bound(sock: socket.socket, address: Any) -> None:
            if not _client_side(address):
                kind = "UDP" if sock.type == socket.SOCK_DGRAM else "TCP"
                family = "Unix" if sock.family == getattr(socket, "AF_UNIX", None) else kind
                cls.note(f"bound a {family} socket to {address!r}")
                bound_here.add(sock)
            bind(sock, address)

        def listening(sock: socket.socket, *backlog: int) -> None:
            if sock not in bound_here:
                cls.note(f"listened on {sock.getsockname()!r}")
            listen(sock, *backlog)

        socket.socket.bind = bound  # type: ignore[method-assign,assignment]
        socket.socket.listen = listening  # type: ignore[method-assign,assignment]

    @classmethod
    def wrap(cls, function: Callable[..., Any], what: str) -> Callable[..., Any]:
        def guarded(*args: Any, **kw: Any) -> Any:
            cls.note(what)
            return function(*args, **kw)

        return guarded

    @classmethod
    def note(cls, what: str) -> None:
        item = cls.current
        if item is None or item.stash.get(_TIER, DEFAULT_TIER) not in ISOLATED:
            return
        where = _where(cls.root)
        with cls.lock:
            item.stash.setdefault(_FOUND, []).append(f"{what}{where}")

    @classmethod
    def take(cls, item: pytest.Item) -> list[str]:
        with cls.lock:
            found = item.stash.get(_FOUND, [])
            item.stash[_FOUND] = []
        return list(dict.fromkeys(found))


_FOUND = pytest.StashKey[list[str]]()


def _client_side(address: Any) -> bool:
    """Any address, any port: how a client picks its own end (paho's connect, the SNMP
    driver's socket). A server names an address; a TCP one listens, which is noted."""
    return (
        isinstance(address, tuple)
        and len(address) >= 2
        and address[0] in ("", "0.0.0.0", "::")
        and address[1] == 0
    )


def _command(args: Any) -> str:
    words = [args] if isinstance(args, str | bytes | os.PathLike) else list(args)
    text = " ".join(os.fsdecode(w) if isinstance(w, bytes | os.PathLike) else str(w) for w in words)
    return text if len(text) <= 80 else text[:77] + "..."


def _where(rootpath: str) -> str:
    """The project's innermost frames that led here, most recent last."""
    prefixes = tuple(f"{rootpath}/{root}/" for root in _PROJECT_ROOTS)
    frames = [
        f
        for f in traceback.extract_stack()
        if f.filename.startswith(prefixes) and f.filename != __file__
    ]
    if not frames:
        return ""
    return "\n      at " + "\n      at ".join(
        f"{f.filename[len(rootpath) + 1 :]}:{f.lineno} ({f.name})" for f in frames[-3:]
    )

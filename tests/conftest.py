"""Shared fixtures: real servers on free loopback ports, and a leak check."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.examples import QUICK, examples
from tests.realservers import Mosquitto, Snmpd

pytest_plugins = ["pytester", "tests.tiers", "tests.hangs"]  # docs/testing.md

# Property tests draw the same examples on every run: one that finds a new
# counterexample on one run in ten makes a flaky suite (find them with
# --hypothesis-seed=random, then fix them). No per-example deadline: on a loaded machine
# an example's wall time says nothing about the code.
settings.register_profile("lvgw", derandomize=True, deadline=None)
settings.register_profile(
    "lvgw-quick", settings.get_profile("lvgw"), max_examples=examples(100)
)  # make check: a tenth of the examples (tests/examples.py)
settings.load_profile("lvgw-quick" if QUICK else "lvgw")


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[Snmpd]:
    agent = Snmpd(tmp_path / "snmpd")
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


def _current_tasks() -> set[asyncio.Task[object]]:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return set()
    return set(asyncio.all_tasks(loop))


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves threads running behind it."""
    before = set(threading.enumerate())
    yield
    deadline = threading.Event()
    for _ in range(50):  # give finishing threads up to 1 s to join
        extra = [
            t
            for t in threading.enumerate()
            # the shared loop's default executor keeps its pooled workers: not a leak
            if t not in before and t.is_alive() and not t.name.startswith("asyncio_")
        ]
        if not extra:
            return
        deadline.wait(0.02)
    pytest.fail(f"test left threads behind: {[t.name for t in extra]}")


@pytest.fixture(autouse=True)
async def _no_leftover_tasks(request: pytest.FixtureRequest) -> object:
    """Fail a test that leaves asyncio tasks running on the shared loop."""
    from tests.hangs import note_loop  # imported once pytest has registered the plugin

    note_loop(request.node, asyncio.get_running_loop())  # for a timeout's report
    before = _current_tasks()
    yield
    for _ in range(50):
        extra = {
            t for t in _current_tasks() - before if not t.done() and t is not asyncio.current_task()
        }
        if not extra:
            return
        await asyncio.sleep(0.02)
    for t in extra:
        t.cancel()
    pytest.fail(f"test left asyncio tasks behind: {sorted(t.get_name() for t in extra)}")

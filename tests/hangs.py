"""A hung test fails with the stacks of what it waits on, and the run goes on.

pytest-timeout (the ``timeout`` settings in pyproject.toml) fails a test that runs
past its limit, with the stacks of the process's threads. Most tests here are
coroutines on one shared event loop, whose thread stack at a hang is only the
loop's ``select()``: this plugin adds the stack of every coroutine still pending on
that loop to the failed test's report (section "asyncio tasks at the timeout"), which
is where the hang is.

Loaded by tests/conftest.py; a pytest run of another directory loads it with
``-p tests.hangs``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Generator

import pytest

LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()


def note_loop(item: pytest.Item, loop: asyncio.AbstractEventLoop) -> None:
    """The event loop the test runs on (called by the task-leak check at set-up)."""
    item.stash[LOOP] = loop


def tasks_report(loop: asyncio.AbstractEventLoop) -> str:
    """Every pending task of ``loop``, each with its coroutine's stack."""
    out = io.StringIO()
    for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
        if not task.done():
            task.print_stack(limit=30, file=out)
    return out.getvalue()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    # pytest-timeout fails the test with "Timeout (>300.0s) from pytest-timeout."
    if report.failed and excinfo is not None and str(excinfo.value).startswith("Timeout"):
        loop = item.stash.get(LOOP, None)
        if loop is not None and not loop.is_closed():
            report.sections.append(("asyncio tasks at the timeout", tasks_report(loop)))

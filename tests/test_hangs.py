"""A hung test fails after its timeout with the stack of the coroutine that hangs, its
fixtures are cleaned up, and the tests after it still run (pytest-timeout with
SIGALRM, tests/hangs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # it runs pytest in a subprocess

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import asyncio
import pytest

@pytest.fixture(autouse=True)
async def _loop_noted(request):
    from tests.hangs import note_loop
    note_loop(request.node, asyncio.get_running_loop())
    yield
"""

HANGING = """
import asyncio
import pytest

CLEANED = []

@pytest.fixture
def server():
    yield "server"
    CLEANED.append("server")
    print("server stopped")

async def waits_for_a_reply_that_never_comes():
    await asyncio.Event().wait()

async def test_hangs(server):
    await waits_for_a_reply_that_never_comes()

def test_after_it_runs():
    assert CLEANED == ["server"]
"""


def test_a_hung_test_fails_with_its_coroutines_stack_and_the_run_goes_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_hanging=HANGING)
    result = pytester.runpytest_subprocess(
        "-p", "tests.hangs", "-o", "asyncio_mode=auto", "-o", "timeout=2",
        "-o", "timeout_method=signal", "-o", "asyncio_default_fixture_loop_scope=session",
        "-o", "asyncio_default_test_loop_scope=session", "-p", "no:cacheprovider",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "Timeout (>2.0s)" in out, out
    assert "asyncio tasks at the timeout" in out, out
    assert "waits_for_a_reply_that_never_comes" in out, out

"""The demo's Ctrl-C ends its live ticket view even when one cancel is lost."""

from __future__ import annotations

import asyncio

import pytest

from gateway.demo.run import _until_cancelled


async def test_a_job_that_loses_a_cancel_is_cancelled_again() -> None:
    cancels = 0
    started = asyncio.Event()

    async def stubborn() -> None:
        nonlocal cancels
        started.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancels += 1
                if cancels == 1:
                    continue  # lost, as Python 3.11's asyncio.wait_for can lose one
                raise

    outer = asyncio.create_task(_until_cancelled(stubborn()))
    await started.wait()
    outer.cancel()
    async with asyncio.timeout(10):
        await asyncio.wait({outer})
    assert outer.cancelled()
    assert cancels == 2


async def test_a_failing_job_fails_the_demo() -> None:
    async def broken() -> None:
        raise RuntimeError("broker gone")

    with pytest.raises(RuntimeError, match="broker gone"):
        await _until_cancelled(broken())

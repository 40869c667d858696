"""Stopping asyncio tasks for certain, even when a library loses a cancellation.

Python 3.11's ``asyncio.wait_for`` drops a cancellation that arrives just as its inner
awaitable completes (CPython gh-86296); aiomqtt's publish and subscribe wait on it,
and so may any library. A task cancelled once and then awaited can so run on for
ever, and whatever awaits it (the agent's shutdown, lvgw-center's, a test's clean-up)
never returns. `stop_task` cancels again until the task has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any], every: float = 1.0, *, reraise: bool = False) -> None:
    """Cancel ``task`` and wait until it has finished, cancelling it again every
    ``every`` seconds while it runs on. With ``reraise`` an error the task ended with
    (rather than its cancellation) is raised here; otherwise its outcome is left in it.
    A cancellation of the caller itself is not swallowed."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if reraise and not task.cancelled():
        task.result()


async def stop_tasks(*tasks: asyncio.Task[Any], every: float = 1.0) -> None:
    """`stop_task` for several tasks at once (cancelled together, each until it ends)."""
    await asyncio.gather(*(stop_task(task, every) for task in tasks))

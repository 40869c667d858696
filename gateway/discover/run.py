"""One discovery run: probe every address and port of the scope with bounded
concurrency, classify what answered, propose the links."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from drivers.snmp import SnmpClient
from gateway.config.profile import Profile
from gateway.discover.classify import Chosen, Unclassified, classify
from gateway.discover.draft import Sweep
from gateway.discover.links import Key, key_of, propose
from gateway.discover.probe import Asking, Failed, Found, probe
from gateway.discover.scope import Scope

Progress = Callable[[int, int, int], None]  # probed, total, answered


@dataclass(frozen=True, slots=True)
class Plan:
    scope: Scope
    asking: Asking
    concurrency: int = 16  # addresses probed at once


async def sweep(
    plan: Plan,
    profiles: Mapping[str, Profile],
    client: SnmpClient,
    progress: Progress | None = None,
    requests: Callable[[], int] = lambda: 0,
) -> Sweep:
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    targets = [(a, p) for a in plan.scope.addresses() for p in plan.scope.ports]
    queue = iter(targets)
    results: list[Found | Failed] = []
    answered = 0

    async def worker() -> None:
        nonlocal answered
        for address, port in queue:  # the workers share one iterator: each target once
            result = await probe(client, address, port, plan.asking)
            results.append(result)
            answered += isinstance(result, Found)
            if progress is not None:
                progress(len(results), len(targets), answered)

    async with asyncio.TaskGroup() as group:
        for n in range(max(1, min(plan.concurrency, len(targets)))):
            group.create_task(worker(), name=f"discover-probe-{n}")
    found = [r for r in results if isinstance(r, Found)]
    failed = sorted((r for r in results if isinstance(r, Failed)), key=lambda r: r.address)
    classes: dict[Key, Chosen | Unclassified] = {
        key_of(f): classify(profiles, f.identity) for f in found
    }
    switches = [k for k, c in classes.items() if isinstance(c, Chosen) and c.kind == "switch"]
    return Sweep(
        ranges=[str(n) for n in plan.scope.networks],
        ports=plan.scope.ports,
        asked_with=[c.label for c in plan.asking.credentials],
        found=found,
        classes=classes,
        failed=failed,
        links=propose(found, switches),
        started=started,
        seconds=time.monotonic() - clock,
        requests=requests(),
    )

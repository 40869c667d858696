"""One discovery run: probe every address and port of the scope with bounded
concurrency, classify what answered, propose the links."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from drivers.snmp import SnmpClient
from drivers.snmp.pacing import Pacer
from gateway.config.profile import Profile
from gateway.discover.ami import AmiLogin, AmiVersion, ami_version
from gateway.discover.classify import Chosen, Identity, Unclassified, classify
from gateway.discover.draft import Sweep
from gateway.discover.isapi import IsapiInfo, IsapiLogin, device_info
from gateway.discover.links import Key, key_of, propose
from gateway.discover.modbus import ModbusAnswer, ModbusAsking, modbus_answer
from gateway.discover.probe import Asking, Failed, Found, Neighbours, probe
from gateway.discover.scope import OutOfScope, Scope

Progress = Callable[[int, int, int], None]  # probed, total, answered


@dataclass(frozen=True, slots=True)
class Plan:
    scope: Scope
    asking: Asking
    concurrency: int = 16  # addresses probed at once
    isapi: IsapiLogin | None = None  # also ask each address for ISAPI deviceInfo
    modbus: ModbusAsking | None = None  # also ask each address over Modbus TCP
    ami: AmiLogin | None = None  # also ask each address for an Asterisk manager


async def sweep(
    plan: Plan,
    profiles: Mapping[str, Profile],
    client: SnmpClient,
    progress: Progress | None = None,
    pacer: Pacer | None = None,
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

    await _workers(worker, plan.concurrency, len(targets))
    found = [r for r in results if isinstance(r, Found)]
    failed = [r for r in results if isinstance(r, Failed)]
    pace = pacer or Pacer(50.0)
    known = {key_of(f): classify(profiles, f.identity) for f in found}
    if plan.isapi is not None:
        isapi = plan.isapi
        await _ask_api(
            plan, "nvr", known, lambda a: device_info(a, isapi, pace), found, failed, isapi.port
        )
    if plan.ami is not None:
        ami = plan.ami
        await _ask_api(
            plan, "pbx", known, lambda a: ami_version(a, ami, pace), found, failed, ami.port
        )
    failed.sort(key=lambda r: r.address)
    classes: dict[Key, Chosen | Unclassified] = {
        key_of(f): classify(profiles, f.identity) for f in found
    }
    modbus: list[ModbusAnswer] = []
    if plan.modbus is not None:
        recognised = {k[0] for k, c in classes.items() if isinstance(c, Chosen)}
        await _modbus(plan, plan.modbus, pace, recognised, modbus)
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
        requests=pacer.sent if pacer is not None else 0,
        isapi=plan.isapi,
        ami=plan.ami,
        modbus=sorted(modbus, key=lambda m: m.address),
    )


async def _workers(
    worker: Callable[[], Coroutine[Any, Any, None]], concurrency: int, jobs: int
) -> None:
    async with asyncio.TaskGroup() as group:
        for n in range(max(1, min(concurrency, jobs))):
            group.create_task(worker(), name=f"discover-probe-{n}")


async def _ask_api(
    plan: Plan,
    kind: str,
    known: dict[Key, Chosen | Unclassified],
    ask: Callable[[str], Coroutine[Any, Any, object]],
    found: list[Found],
    failed: list[Failed],
    port: int,
) -> None:
    """Ask every address of the scope that is not already known as another kind of
    device than ``kind`` over a device API; what answers is added (or told apart),
    a refusal listed."""
    others = {key[0] for key, c in known.items() if isinstance(c, Chosen) and c.kind != kind}
    addresses = [a for a in plan.scope.addresses() if a not in others]
    queue = iter(addresses)

    async def worker() -> None:
        for address in queue:
            if not plan.scope.contains(address):
                raise OutOfScope(f"{address} is outside the ranges given")
            answer = await ask(address)
            if isinstance(answer, str):
                failed.append(Failed(address, port, answer, silent=False))
            elif answer is not None:
                _add_api(found, address, port, answer)

    await _workers(worker, plan.concurrency, len(addresses))


async def _modbus(
    plan: Plan, asking: ModbusAsking, pacer: Pacer, skip: set[str], out: list[ModbusAnswer]
) -> None:
    """Ask every address of the scope that no profile recognised over Modbus TCP."""
    addresses = [a for a in plan.scope.addresses() if a not in skip]
    queue = iter(addresses)

    async def worker() -> None:
        for address in queue:
            if not plan.scope.contains(address):
                raise OutOfScope(f"{address} is outside the ranges given")
            answer = await modbus_answer(address, asking, pacer)
            if answer is not None:
                out.append(answer)

    await _workers(worker, plan.concurrency, len(addresses))


def _add_api(found: list[Found], address: str, port: int, answer: object) -> None:
    """A device API's answer joined to the device found at its address over SNMP,
    or a device of its own."""
    if isinstance(answer, IsapiInfo):
        extra: dict[str, Any] = {"isapi_type": answer.device_type}
        descr, name = f"{answer.model} firmware {answer.firmware}".strip(), answer.name
    elif isinstance(answer, AmiVersion):
        extra = {"ami_version": answer.version}
        descr, name = f"Asterisk Call Manager/{answer.version}", ""
    else:
        return
    on = {"isapi": answer} if isinstance(answer, IsapiInfo) else {"ami": answer}
    for i, f in enumerate(found):
        if f.address == address:
            identity = dataclasses.replace(f.identity, **extra)
            found[i] = dataclasses.replace(f, identity=identity, **on)
            return
    identity = Identity("", descr, name, **extra)
    found.append(Found(address, port, None, identity, Neighbours(), **on))

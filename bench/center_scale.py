"""lvgw-center scale-out: many sites, a storm of ticket events, 1, 2 and 4 workers on
one PostgreSQL behind one shared subscription.

    .venv/bin/python bench/center_scale.py [--quick] [--sites N] [--events N]

Everything is real and on loopback: mosquitto (tests/center/scale.py's broker
settings), PostgreSQL from Debian's packages (tests/postgres.py: initdb in a temporary
directory, fsync on), each worker ``python -m center run`` in its own process with
the webhook adapter, and a local aiohttp webhook receiver that checks every signature.
The load generator is this process: one MQTT v5 connection per simulated site (up to
2,000), each publishing its retained status and then its tickets' events at QoS 1.

1. storm: SITES sites publish EVENTS ticket events (each site 2 tickets, the events of
   each in seq order, interleaved across sites) as fast as the generator can, with 1,
   2 and 4 workers on a fresh database each. Ingest events/s is the events over the
   time from the first to the last one stored (the ledger's ``received_at``);
   broker -> ledger is from the moment the site sent it to ``received_at``;
   broker -> webhook to the receiver's arrival time. In a storm the latencies are the
   queue the storm builds.
2. steady: 2 workers, 200 events/s for 30 s (10 s with --quick): p50 and p99 broker ->
   ledger and broker -> webhook.
3. outage: 2 workers, the webhook answering 503 while a backlog of BACKLOG events is
   ingested and retried (backoff up to 2 s), then 204: the time the backlog takes to
   drain, checked in seq order per ticket and complete (an hour's outage is this
   backlog scaled: at the measured drain rate it drains in backlog / rate seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from center.ledger import Ledger, LedgerUrl
from tests.center.scale import (
    BROKER_CONFIG,
    Event,
    HookReceiver,
    publish,
    storm,
    wait_until,
    workers,
    write_config,
)
from tests.postgres import Postgres, running_postgres
from tests.realservers import Mosquitto


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def fresh(pg: Postgres) -> LedgerUrl:
    url = LedgerUrl(pg.url(pg.create_database()), pg.password_file)
    ledger = Ledger.connect(url)
    ledger.tickets()  # the schema, before the workers race for it
    ledger.close()
    return url


def stored(pg: Postgres, url: LedgerUrl) -> dict[str, float]:
    with psycopg.connect(pg.admin_url(url.url.rsplit("/", 1)[1])) as conn:
        return dict(conn.execute("SELECT event_id, received_at FROM events").fetchall())


def count(pg: Postgres, url: LedgerUrl) -> int:
    with psycopg.connect(pg.admin_url(url.url.rsplit("/", 1)[1])) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0


async def run_storm(
    work: Path, broker: Mosquitto, pg: Postgres, n: int, events: list[Event], sites: int
) -> dict[str, float]:
    url = fresh(pg)
    hook = HookReceiver()
    await hook.start()
    configs = [
        write_config(work / f"storm{n}", broker, url, hook, f"s{n}w{i}", f"storm{n}")
        for i in range(n)
    ]
    try:
        with workers(configs) as running:
            for worker in running:
                await worker.subscribed()
            began = time.time()
            sent = await publish(broker, events, clients=sites, statuses=True)
            published = time.time()
            await wait_until(lambda: count(pg, url) >= len(events), 600, "the storm stored", 0.5)
            await wait_until(lambda: len(hook.received()) >= len(events), 900,
                             "the storm delivered", 0.5)  # fmt: skip
            delivered = time.time()
    finally:
        await hook.stop()
    at = stored(pg, url)
    first, last = min(at.values()), max(at.values())
    arrived = {r.event_id: r.at for r in reversed(hook.receipts)}  # the first receipt
    return {
        "workers": n,
        "publish_s": published - began,
        "ingest_eps": len(events) / max(last - first, 1e-9),
        "ledger_p99": pct([at[e] - sent[e] for e in sent], 0.99),
        "hook_p99": pct([arrived[e] - sent[e] for e in sent], 0.99),
        "deliver_eps": len(events) / (delivered - began),
        "duplicates": len(hook.duplicates()),
        "out_of_order": len(hook.out_of_order()),
    }


async def run_steady(
    work: Path, broker: Mosquitto, pg: Postgres, seconds: float, rate: float
) -> dict[str, float]:
    url = fresh(pg)
    hook = HookReceiver()
    await hook.start()
    total = int(seconds * rate)
    events = storm(sites=max(1, total // 10), tickets_per_site=2, events_per_ticket=5)[:total]
    configs = [
        write_config(work / "steady", broker, url, hook, f"steady{i}", "steady") for i in range(2)
    ]
    try:
        with workers(configs) as running:
            for worker in running:
                await worker.subscribed()
            sent = await publish(broker, events, clients=50, rate=rate)
            await wait_until(lambda: len(hook.received()) >= len(events), 300,
                             "the steady stream delivered", 0.2)  # fmt: skip
    finally:
        await hook.stop()
    at = stored(pg, url)
    arrived = {r.event_id: r.at for r in reversed(hook.receipts)}
    to_ledger = [at[e] - sent[e] for e in sent]
    to_hook = [arrived[e] - sent[e] for e in sent]
    return {
        "events": len(events),
        "rate": rate,
        "ledger_p50": pct(to_ledger, 0.5),
        "ledger_p99": pct(to_ledger, 0.99),
        "hook_p50": pct(to_hook, 0.5),
        "hook_p99": pct(to_hook, 0.99),
    }


async def run_outage(work: Path, broker: Mosquitto, pg: Postgres, backlog: int) -> dict[str, float]:
    url = fresh(pg)
    hook = HookReceiver(status=503)
    await hook.start()
    events = storm(sites=max(1, backlog // 10), tickets_per_site=2, events_per_ticket=5)[:backlog]
    configs = [
        write_config(work / "outage", broker, url, hook, f"outage{i}", "outage") for i in range(2)
    ]
    try:
        with workers(configs) as running:
            for worker in running:
                await worker.subscribed()
            await publish(broker, events, clients=50)
            await wait_until(lambda: count(pg, url) >= len(events), 600, "the backlog stored", 0.5)
            await asyncio.sleep(3.0)  # every ticket's first delivery refused at least once
            refused = hook.refused
            back = time.time()
            hook.status = 204
            await wait_until(lambda: len(hook.received()) >= len(events), 1800,
                             "the backlog drained", 0.5)  # fmt: skip
            drained = time.time() - back
    finally:
        await hook.stop()
    return {
        "backlog": len(events),
        "refused_503": refused,
        "drain_s": drained,
        "drain_eps": len(events) / drained,
        "lost": len({e.event_id for e in events} - hook.received()),
        "duplicates": len(hook.duplicates()),
        "out_of_order": len(hook.out_of_order()),
    }


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    work = Path(tempfile.mkdtemp(prefix="lvgw-center-bench-"))
    broker = Mosquitto(work / "mosquitto", extra_config=BROKER_CONFIG)
    broker.start()
    try:
        with running_postgres() as pg:
            events = storm(args.sites, 2, max(1, args.events // (args.sites * 2)))
            print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores,"
                  f" load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip
            print(f"storm: {len(events)} events from {args.sites} sites (connections)")
            print("| workers | publish s | ingest ev/s | ->ledger p99 s | ->webhook p99 s |"
                  " delivered ev/s | dup | out of order |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|")
            for n in args.workers:
                r = await run_storm(work, broker, pg, n, events, args.sites)
                cells = [n, f"{r['publish_s']:.1f}", f"{r['ingest_eps']:.0f}",
                         f"{r['ledger_p99']:.2f}", f"{r['hook_p99']:.2f}",
                         f"{r['deliver_eps']:.0f}", r["duplicates"], r["out_of_order"]]  # fmt: skip
                print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
            s = await run_steady(work, broker, pg, args.steady, 200.0)
            print(f"steady: {s['events']:.0f} events at {s['rate']:.0f}/s, 2 workers:"
                  f" broker->ledger p50 {s['ledger_p50']:.3f} s p99 {s['ledger_p99']:.3f} s;"
                  f" broker->webhook p50 {s['hook_p50']:.3f} s p99 {s['hook_p99']:.3f} s",
                  flush=True)  # fmt: skip
            o = await run_outage(work, broker, pg, args.backlog)
            print(f"outage: {o['backlog']:.0f} events held by a 503 webhook"
                  f" ({o['refused_503']:.0f} attempts refused), drained in {o['drain_s']:.1f} s"
                  f" ({o['drain_eps']:.0f} ev/s), lost {o['lost']:.0f}, duplicates"
                  f" {o['duplicates']:.0f}, out of order {o['out_of_order']:.0f}")  # fmt: skip
            print(f"load average at end {os.getloadavg()[0]:.1f}")
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run: 200 sites, 2,000")
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steady", type=float, default=30.0, help="seconds at 200 events/s")
    parser.add_argument("--backlog", type=int, default=20000)
    args = parser.parse_args()
    if args.quick:
        args.sites, args.events, args.workers = 200, 2000, [1, 2]
        args.steady, args.backlog = 10.0, 2000
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))

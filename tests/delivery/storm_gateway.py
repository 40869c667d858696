"""A gateway process for the crash test: the storm of tests/delivery/site.py through the
real pipeline, outbox and uplink, on a state dir that outlives the process.

    python -m tests.delivery.storm_gateway SITE_FILE

Prints ``loaded N`` (open tickets found on disk), then ``decided EVENT_ID`` for each
event once it is stored durably, ``drained`` once the storm is over and the outbox is
empty, ``confirmed N`` (loaded tickets whose fault was raised again, not re-opened);
then runs until SIGTERM. The poll round reached is kept in the state dir, so a
restarted process carries on with the storm where the killed one stopped (the devices
that were down are still down).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from gateway.config.load import load_config
from gateway.model import TicketEvent
from tests.delivery.gateway import Gateway
from tests.delivery.site import Storm, drive

STORM = Storm(devices=50, cycles=10)


def say(line: str) -> None:
    print(line, flush=True)


async def main(site_file: Path) -> None:
    config = load_config(site_file)
    progress = config.site_file.agent.state_dir / "storm-round"
    first_round = int(progress.read_text()) + 1 if progress.exists() else 0

    def round_done(round_no: int) -> None:
        scratch = progress.with_suffix(".new")
        scratch.write_text(str(round_no))
        scratch.replace(progress)

    async def decided(events: list[TicketEvent]) -> None:
        for event in events:
            say(f"decided {event.event_id}")

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Gateway(config) as gateway:
        loaded = list(gateway.pipeline.open_tickets.values())
        say(f"loaded {len(loaded)}")
        await drive(
            gateway.pipeline, STORM, first_round=first_round, decided=decided, round_done=round_done
        )
        while await gateway.backlog():
            await asyncio.sleep(0.05)
        say("drained")
        say(f"confirmed {sum(ticket.confirmed for ticket in loaded)}")
        await stop.wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main(Path(sys.argv[1])))

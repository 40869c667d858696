"""The log handler's bounds: long lines cut, each kind of line rate-limited."""

from __future__ import annotations

import io
import logging

from gateway.logs import KeyValueFormatter, RateLimit


def handler(clock: list[float], per_minute: int = 3) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    out = logging.StreamHandler(stream)
    out.setFormatter(KeyValueFormatter(300))
    out.addFilter(RateLimit(per_minute, clock=lambda: clock[0]))
    logger = logging.getLogger("lvgw.test-logs")
    logger.handlers[:] = [out]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_a_kind_of_line_is_held_back_past_its_rate_and_counted_later() -> None:
    clock = [0.0]
    logger, stream = handler(clock)
    for i in range(10):
        logger.warning("refused sender=%s", f"10.0.0.{i}")
    logger.warning("another kind")  # its own budget
    lines = stream.getvalue().splitlines()
    assert [line.split("msg=")[1] for line in lines] == [
        "refused sender=10.0.0.0",
        "refused sender=10.0.0.1",
        "refused sender=10.0.0.2 (lines like this are suppressed for up to 60 s)",
        "another kind",
    ]
    clock[0] = 61.0
    logger.warning("refused sender=%s", "10.0.0.99")
    assert (
        stream.getvalue()
        .splitlines()[-1]
        .endswith("refused sender=10.0.0.99 (7 more like this were held back)")
    )


def test_a_long_line_is_cut_and_says_by_how_much() -> None:
    logger, stream = handler([0.0])
    logger.warning("oid=%s", "1." * 5000)
    (line,) = stream.getvalue().splitlines()
    assert len(line) <= 300
    assert line.endswith("more chars]")

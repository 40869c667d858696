"""DC-09 frames built with pysiaalarm's own CRC and encryption, for the receiver's
tests: the frames a third-party implementation sends, not our codec's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent


def stamp(offset: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset)).strftime("_%H:%M:%S,%m-%d-%Y")


def pysia_frame(
    text: str,
    account: str = "1234",
    seq: str = "0001",
    token: str = "SIA-DCS",
    key: str | None = None,
    receiver: str | None = None,
    prefix: str = "0",
) -> bytes:
    """A whole frame (LF ... CR) of ``text`` (``|Nri1/AT0]_...``), encrypted with the
    text key ``key`` when given."""
    head = f'"{"*" if key else ""}{token}"{seq}{f"R{receiver}" if receiver else ""}'
    head += f"L{prefix}#{account}["
    if key is None:
        body = head + text
    else:
        event = SIAEvent(sia_account=SIAAccount(account, key))
        body = head + str(event.encrypt_content(text))
    return f"\n{SIAEvent._crc_calc(body)}0{len(body):03X}{body}\r".encode("ascii")


def with_bad_crc(data: bytes) -> bytes:
    """``data`` (a whole frame) with a CRC field one off."""
    return data[:1] + b"%04X" % ((int(data[1:5], 16) + 1) & 0xFFFF) + data[5:]


def longer_than_it_says(data: bytes) -> bytes:
    """``data`` (a whole frame) with a length field one more than its message."""
    return data[:5] + b"0%03X" % (len(data) - 10 + 1) + data[9:]

"""The DC-09 message frame: LF, CRC, length, ID token, sequence, account, data, CR.

ANSI/SIA DC-09-2013, "Internet Protocol Event Reporting", section 5.5.1 (the message
frame and its fields) and 5.5.3 (the receiver's answers)::

    <LF><crc><0LLL>"<id>"<seq>[R<rcvr>]L<pref>#<acct>[<data>...<CR>

``crc`` is four hex digits of the CRC-16 of SIA DC-07 (polynomial 0x8005 reflected,
initial value 0: CRC-16/ARC) over everything from the opening quote of the ID token to
the last character before the CR; ``0LLL`` is "0" and three hex digits of the length
of that same span. The sequence number is four decimal digits, the receiver number
(optional) and the account prefix one to six hex digits, the account three to sixteen.
Nothing here knows keys or accounts: ``parse`` checks the frame, ``build`` writes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LF = 0x0A
CR = 0x0D
MAX_BODY = 0xFFF  # the length field: "0" and three hex digits
MAX_FRAME = 1 + 4 + 4 + MAX_BODY + 1  # LF, CRC, length, body, CR

_HEADER = re.compile(
    r'^"(?P<star>\*?)(?P<token>[A-Z][A-Z0-9-]{1,15})"'
    r"(?P<seq>[0-9]{4})"
    r"(?:R(?P<receiver>[0-9A-Fa-f]{1,6}))?"
    r"L(?P<prefix>[0-9A-Fa-f]{1,6})"
    r"(?:#(?P<account>[0-9A-Fa-f]{3,16})|A(?P<nak>0))"  # "A0": the NAK's (5.5.3.2)
    r"\[(?P<data>.*)$",
    re.DOTALL,
)


class FrameError(ValueError):
    """A frame that was not received correctly; ``cause`` names why (counted, logged)."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail


def crc16(data: bytes) -> int:
    """CRC-16/ARC, as SIA DC-07 defines it for DC-09 frames."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame's fields. ``data`` is what follows the ``[``: the message data, its
    extended data and timestamp in plain text, or their ciphertext in hex."""

    token: str  # "SIA-DCS", "ADM-CID", "NULL", "ACK", ... without the "*"
    encrypted: bool
    seq: str
    receiver: str | None
    prefix: str
    account: str
    data: str

    @property
    def id_token(self) -> str:
        return ("*" if self.encrypted else "") + self.token


def split_body(frame: bytes) -> bytes:
    """The body of a whole frame (LF ... CR), its CRC and length checked.

    Raises FrameError: ``framing`` (no LF/CR, too long, not ASCII), ``length`` (the
    length field is not "0LLL" or does not match), ``crc``.
    """
    if len(frame) > MAX_FRAME:
        raise FrameError("framing", f"{len(frame)} bytes, more than a frame can hold")
    if len(frame) < 10 or frame[0] != LF or frame[-1] != CR:
        raise FrameError("framing", "not a frame (LF, CRC, length, message, CR)")
    crc_field, length_field, body = frame[1:5], frame[5:9], frame[9:-1]
    if not body.isascii() or any(b < 0x20 or b == 0x7F for b in body):
        raise FrameError("framing", "control or non-ASCII characters in the message")
    if not re.fullmatch(rb"0[0-9A-Fa-f]{3}", length_field):
        raise FrameError("length", f"length field {length_field!r} is not 0LLL")
    if int(length_field, 16) != len(body):
        raise FrameError("length", f"length field says {int(length_field, 16)}, got {len(body)}")
    if not re.fullmatch(rb"[0-9A-Fa-f]{4}", crc_field):
        raise FrameError("crc", f"CRC field {crc_field!r} is not four hex digits")
    if int(crc_field, 16) != crc16(body):
        raise FrameError("crc", f"CRC {crc_field.decode()} does not match {crc16(body):04X}")
    return body


def parse(frame: bytes) -> Frame:
    """A whole frame's fields (see ``split_body`` for its errors; ``format``: the
    fields after the length are not those of DC-09)."""
    body = split_body(frame).decode("ascii")
    match = _HEADER.match(body)
    if match is None:
        raise FrameError("format", "no ID token, sequence, prefix and account")
    return Frame(
        token=match["token"],
        encrypted=bool(match["star"]),
        seq=match["seq"],
        receiver=match["receiver"].upper() if match["receiver"] else None,
        prefix=match["prefix"].upper(),
        account=(match["account"] or match["nak"]).upper(),
        data=match["data"],
    )


def build(frame: Frame) -> bytes:
    """The bytes of ``frame``: LF, CRC, length, body, CR."""
    receiver = f"R{frame.receiver}" if frame.receiver is not None else ""
    body = (
        f'"{frame.id_token}"{frame.seq}{receiver}L{frame.prefix}#{frame.account}[{frame.data}'
    ).encode("ascii")
    if len(body) > MAX_BODY:
        raise ValueError(f"a message of {len(body)} characters does not fit a frame")
    return b"\n%04X0%03X%s\r" % (crc16(body), len(body), body)

"""The DC-09 wire format as a panel (the standard's premises equipment, PE) writes and
reads it, written from ANSI/SIA DC-09-2013 and independent of any receiver.

A message (section 5.5.1)::

    <LF><crc><0LLL>"<id>"<seq>[R<rcvr>]L<pref>#<acct>[<data>]<timestamp><CR>

``crc`` is the CRC-16 of SIA DC-07 (polynomial x^16 + x^15 + x^2 + 1 taken
LSB-first, 0xA001, from 0: the one known as CRC-16/ARC) over the characters from the
opening quote of the ID token to the last one before the CR, in four uppercase hex
digits; ``0LLL`` is "0" and the length of that same span in three hex digits.
``seq`` is four decimal digits, 0001 to 9999 then 0001 again; a message sent again
keeps its number. The timestamp (5.5.1.9) is UTC, ``_HH:MM:SS,MM-DD-YYYY``.

Encryption (5.4.6): the ID token gets a ``*`` and everything after the ``[`` (up to the
CR) becomes the hex of AES-CBC, key of 128, 192 or 256 bits, initialization vector
zero, over ``<pad>|<data>]<timestamp>``: the pad is random characters other than
``|``, ``[`` and ``]`` that make the text a whole number of 16-byte blocks.

The receiver answers (5.5.3) ``"ACK"`` (``"*ACK"`` with encrypted data for an
encrypted message), ``"NAK"`` with its own time (``"NAK"0000R0L0A0[]<timestamp>``)
when the timestamp is outside its window, or ``"DUH"`` when it cannot process the
message; ``parse_answer`` reads them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

LF, CR = b"\n", b"\r"
AES_BLOCK = 16
KEY_SIZES = (16, 24, 32)
PAD_ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "|[]")
STAMP_FORMAT = "_%H:%M:%S,%m-%d-%Y"
ANSWERS = ("ACK", "NAK", "DUH")


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ (0xA001 if value & 1 else 0)
        table.append(value)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """SIA DC-07's CRC-16 (reflected 0x8005, initial value 0), byte by byte from a table."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def frame(body: str) -> bytes:
    """LF, CRC, length, the body (from the ID token's opening quote), CR."""
    raw = body.encode("ascii")
    if len(raw) > 0xFFF:
        raise ValueError(f"a DC-09 message holds at most 4095 characters, not {len(raw)}")
    return LF + f"{crc16(raw):04X}0{len(raw):03X}".encode() + raw + CR


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(STAMP_FORMAT)


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) not in KEY_SIZES:
        raise ValueError(f"an AES key has 16, 24 or 32 bytes, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.CBC(bytes(AES_BLOCK)))


def encrypt(key: bytes, text: str) -> str:
    """``<pad>|text`` encrypted, in uppercase hex; the pad is 1 to 16 characters."""
    pad_length = AES_BLOCK - (len(text) + 1) % AES_BLOCK or AES_BLOCK
    pad = "".join(secrets.choice(PAD_ALPHABET) for _ in range(pad_length))
    encryptor = _cipher(key).encryptor()
    data = encryptor.update(f"{pad}|{text}".encode("ascii")) + encryptor.finalize()
    return data.hex().upper()


def decrypt(key: bytes, hex_text: str) -> str | None:
    """The text of encrypted data, None when it is not whole blocks of ASCII (a wrong
    key, or not encrypted at all)."""
    try:
        data = bytes.fromhex(hex_text)
    except ValueError:
        return None
    if not data or len(data) % AES_BLOCK:
        return None
    decryptor = _cipher(key).decryptor()
    try:
        text = (decryptor.update(data) + decryptor.finalize()).decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


@dataclass(frozen=True, slots=True)
class Account:
    """Who a panel is to its receiver: account number, account prefix (``L``),
    receiver number (``R``, optional) and the AES key of an encrypted account."""

    number: str
    prefix: str = "0"
    receiver: str | None = None
    key: bytes | None = None

    def header(self) -> str:
        receiver = f"R{self.receiver}" if self.receiver is not None else ""
        return f"{receiver}L{self.prefix}#{self.number}"


def message(token: str, seq: int, account: Account, data: str, at: datetime) -> bytes:
    """One message: ``data`` is what goes between ``#acct|`` and ``]`` (an event
    block, or nothing for a NULL message), sent at ``at`` by the panel's clock."""
    tail = f"{data}]{stamp(at)}"
    if account.key is None:
        prefix = f"#{account.number}|" if data else ""
        return frame(f'"{token}"{seq:04d}{account.header()}[{prefix}{tail}')
    return frame(f'"*{token}"{seq:04d}{account.header()}[{encrypt(account.key, tail)}')


def next_sequence(seq: int) -> int:
    return seq % 9999 + 1


_ANSWER = re.compile(
    r'^"(?P<star>\*?)(?P<token>ACK|NAK|DUH)"(?P<seq>\d{4})'
    r"(?:R(?P<receiver>[0-9A-Fa-f]{1,6}))?L(?P<prefix>[0-9A-Fa-f]{1,6})"
    r"(?:#(?P<account>[0-9A-Fa-f]{3,16})|A0)\[(?P<data>.*)$"
)
_STAMP = re.compile(r"_(\d\d:\d\d:\d\d,\d\d-\d\d-\d{4})")


@dataclass(frozen=True, slots=True)
class Answer:
    token: str  # ACK, NAK or DUH
    encrypted: bool
    seq: int
    account: str | None  # None in a NAK ("A0")
    data: str  # after the "[": plain, or the hex of encrypted data

    def time(self, key: bytes | None = None) -> datetime | None:
        """The receiver's time the answer carries (a NAK's, or an encrypted ACK's)."""
        text = self.data
        if self.encrypted:
            if key is None:
                return None
            text = decrypt(key, self.data) or ""
        found = _STAMP.search(text)
        if found is None:
            return None
        try:
            return datetime.strptime(found.group(1), "%H:%M:%S,%m-%d-%Y").replace(tzinfo=UTC)
        except ValueError:
            return None


class AnswerError(ValueError):
    """Bytes from the receiver that are no well-formed answer."""


def parse_answer(raw: bytes) -> Answer:
    """An answer frame (LF ... CR) checked: length, CRC, then its fields."""
    start = raw.find(LF)
    if start < 0 or not raw.endswith(CR) or len(raw) - start < 11:
        raise AnswerError("not a frame")
    head, body = raw[start + 1 : start + 9], raw[start + 9 : -1]
    try:
        crc, length = int(head[:4], 16), head[4:8]
    except ValueError:
        raise AnswerError(f"bad CRC field {head[:4]!r}") from None
    if length[:1] != b"0" or not re.fullmatch(rb"0[0-9A-Fa-f]{3}", length):
        raise AnswerError(f"bad length field {length!r}")
    if int(length, 16) != len(body):
        raise AnswerError(f"length field {length.decode()} for {len(body)} characters")
    if crc != crc16(body):
        raise AnswerError(f"CRC {crc:04X}, computed {crc16(body):04X}")
    match = _ANSWER.match(body.decode("ascii", errors="replace"))
    if match is None:
        raise AnswerError("not an ACK, NAK or DUH")
    return Answer(
        token=match["token"],
        encrypted=bool(match["star"]),
        seq=int(match["seq"]),
        account=match["account"].upper() if match["account"] else None,
        data=match["data"],
    )

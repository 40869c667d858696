"""What a DC-09 message carries: its events, extended data and timestamp; encryption.

The data of a message (ANSI/SIA DC-09-2013, 5.5.1.7 to 5.5.1.9) is, in plain text::

    [#acct|<events>]<[extended]...>_HH:MM:SS,MM-DD-YYYY

``#acct|`` (the account in the SIA DC-07 form) is optional; the timestamp is UTC,
optional in plain messages and required in encrypted ones. An encrypted message's
data is the hex of AES-CBC (128, 192 or 256 bit key, initialization vector zero) over
``<pad>|<the same text>``, the pad being characters other than ``|``, ``[`` and ``]``
that fill the text to a whole number of 16-byte blocks (DC-09-2013, 5.4.6).

Events (``<events>``):
- ``SIA-DCS``: SIA DC-03 event blocks, ``N`` (new) or ``O`` (old) then elements
  separated by ``/``: modifiers ``ri<area>``, ``id<user>``, ``ti<hh:mm>``, ``pi<n>``
  and events ``<two-letter code><zone, point or user number>`` (an ``^name^`` may
  follow).
- ``ADM-CID``: Contact ID (SIA DC-05), ``QEEE GG ZZZ``: qualifier (1 new event or
  opening, 3 new restore or closing, 6 still present), event code, group or partition,
  zone or user. Its code here is the qualifier and the event code together, ``1301``.
- ``NULL``: none (a link test, 5.5.2.1).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
ZERO_IV = bytes(BLOCK)
KEY_BYTES = (16, 24, 32)  # AES-128, -192, -256
_PAD_CHARS = [chr(c) for c in range(0x21, 0x7F) if chr(c) not in "|[]"]
_TIMESTAMP = re.compile(r"_(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})$")
_EXTENDED = re.compile(r"\[([^\[\]]*)\]")
_CID = re.compile(r"^([136])([0-9]{3}) ?([0-9]{2}) ?([0-9]{3})$")
_SIA_ELEMENT = re.compile(
    r"^(?P<mods>(?:(?:ri|id|pi)[0-9]{1,4}|ti[0-9]{2}:[0-9]{2})*)"
    r"(?:(?P<code>[A-Z]{2})(?P<number>[0-9]{0,4})(?:\^[^\^]*\^)?)?"
    r"(?P<rest>.*)$"
)
_MODIFIER = re.compile(r"(ri|id|pi)([0-9]{1,4})|ti[0-9]{2}:[0-9]{2}")


class ContentError(ValueError):
    """Message data this receiver cannot use; ``cause`` names why."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a message: a SIA DC-03 code (``AT``) or a Contact ID qualifier and
    event code (``1301``), the zone, point or user number it concerns (0 when none:
    the system itself), and the area or partition when the message gives one."""

    code: str
    number: int = 0
    area: int | None = None


@dataclass(frozen=True, slots=True)
class Content:
    events: tuple[Event, ...]
    extended: tuple[str, ...]
    timestamp: datetime | None


def cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) not in KEY_BYTES:
        raise ValueError(f"an AES key has 16, 24 or 32 bytes, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.CBC(ZERO_IV))


def encrypt(key: bytes, text: str) -> str:
    """The hex ciphertext of ``<pad>|<text>``, padded to whole blocks (at least one
    pad character, since the ``|`` separates it)."""
    plain = text.encode("ascii")
    pad = BLOCK - (len(plain) + 1) % BLOCK
    pad = pad or BLOCK
    filler = "".join(secrets.choice(_PAD_CHARS) for _ in range(pad)).encode("ascii")
    encryptor = cipher(key).encryptor()
    return (encryptor.update(filler + b"|" + plain) + encryptor.finalize()).hex().upper()


def decrypt(key: bytes, data: str) -> str:
    """The text of an encrypted message's data, its pad removed.

    A wrong key gives bytes that are not the pad, ``|`` and ASCII text: ``key``.
    """
    if len(data) % (2 * BLOCK) or not re.fullmatch(r"[0-9A-Fa-f]*", data) or not data:
        raise ContentError("key", "encrypted data is not whole 16-byte blocks in hex")
    decryptor = cipher(key).decryptor()
    plain = decryptor.update(bytes.fromhex(data)) + decryptor.finalize()
    try:
        text = plain.decode("ascii")
    except UnicodeDecodeError:
        raise ContentError("key", "decrypted data is not ASCII (wrong key?)") from None
    pad, bar, rest = text.partition("|")
    if not bar or "[" in pad or "]" in pad or not text.isprintable():
        raise ContentError("key", "decrypted data has no pad and '|' (wrong key?)")
    return rest


def timestamp_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("_%H:%M:%S,%m-%d-%Y")


def parse(token: str, text: str) -> Content:
    """The events, extended data and timestamp of a message's (decrypted) data."""
    events_part, bracket, tail = text.partition("]")
    if not bracket:
        raise ContentError("format", "no ']' after the message data")
    timestamp = None
    found = _TIMESTAMP.search(tail)
    if found is not None:
        timestamp = _parse_time(found)
        tail = tail[: found.start()]
    extended = tuple(m.group(1) for m in _EXTENDED.finditer(tail))
    if _EXTENDED.sub("", tail):
        raise ContentError("format", "unexpected text after the message data")
    if events_part.startswith("|"):  # no account before the bar (as pysiaalarm writes it)
        events_part = events_part[1:]
    elif events_part.startswith("#"):
        _account, bar, events_part = events_part.partition("|")
        if not bar:
            raise ContentError("format", "no '|' after the account in the message data")
    if token == "NULL":
        if events_part:
            raise ContentError("format", "a NULL message carries no events")
        events: tuple[Event, ...] = ()
    elif token == "ADM-CID":
        events = (_contact_id(events_part),)
    elif token == "SIA-DCS":
        events = _sia_blocks(events_part)
    else:
        raise ContentError("token", f"unsupported ID token {token!r}")
    return Content(events, extended, timestamp)


def _parse_time(found: re.Match[str]) -> datetime:
    hour, minute, second, month, day, year = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise ContentError("format", f"impossible timestamp {found.group(0)!r}") from None


def _contact_id(text: str) -> Event:
    match = _CID.match(text.strip())
    if match is None:
        raise ContentError("format", "Contact ID data is not 'QEEE GG ZZZ'")
    qualifier, code, group, number = match.groups()
    return Event(qualifier + code, int(number), int(group))


def _sia_blocks(text: str) -> tuple[Event, ...]:
    if text[:1] not in ("N", "O"):
        if text[:1] == "A":  # a text message: no event
            return ()
        raise ContentError("format", "SIA DC-03 data does not start with N or O")
    area: int | None = None
    events = []
    for element in text[1:].split("/"):
        match = _SIA_ELEMENT.match(element)
        assert match is not None  # every part is optional
        for modifier in _MODIFIER.finditer(match["mods"]):
            if modifier.group(1) == "ri":
                area = int(modifier.group(2))
        rest = match["rest"]
        if rest and not rest.startswith("|A"):  # a text after the event is allowed
            raise ContentError("format", "SIA DC-03 data element not understood")
        if match["code"]:
            events.append(Event(match["code"], int(match["number"] or 0), area))
    return tuple(events)

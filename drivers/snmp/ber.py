"""A minimal BER codec for SNMP v1/v2c messages: the requests we send, the responses we read.

Only what a poller needs: GetRequest / GetNextRequest / GetBulkRequest out, Response
(and Report) in. OIDs stay as their BER content bytes inside the driver, because a
walk only has to compare prefixes and feed the agent's OIDs back into the next
request; they become dotted strings once, at the edge, through a bounded cache.

The decoder treats every packet as hostile: each length is checked against its
enclosing element before use, integers and OIDs have bounded sizes, the work is
linear in the packet size, and any malformation raises ``SnmpProtocolError`` and
nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from drivers.snmp.base import NO_SUCH, SnmpProtocolError, SnmpValue
from drivers.snmp.oidcache import ByteBoundedCache

VERSION_1: Final = 0
VERSION_2C: Final = 1

GET_REQUEST: Final = 0xA0
GET_NEXT_REQUEST: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK_REQUEST: Final = 0xA5
REPORT: Final = 0xA8

ERROR_STATUS_NAMES: Final = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
    "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
    "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
    "authorizationError", "notWritable", "inconsistentName",
)  # fmt: skip

_SEQUENCE: Final = 0x30
_INTEGER: Final = 0x02
_OCTET_STRING: Final = 0x04
_NULL: Final = 0x05
_OID: Final = 0x06
_IP_ADDRESS: Final = 0x40
_COUNTER32: Final = 0x41
_GAUGE32: Final = 0x42  # also Unsigned32
_TIMETICKS: Final = 0x43
_OPAQUE: Final = 0x44
_COUNTER64: Final = 0x46
_NO_SUCH_OBJECT: Final = 0x80
_NO_SUCH_INSTANCE: Final = 0x81
_END_OF_MIB_VIEW: Final = 0x82

_UNSIGNED_TAGS: Final = frozenset((_COUNTER32, _GAUGE32, _TIMETICKS, _COUNTER64))
_BYTES_TAGS: Final = frozenset((_OCTET_STRING, _OPAQUE))
_NO_SUCH_TAGS: Final = frozenset((_NULL, _NO_SUCH_OBJECT, _NO_SUCH_INSTANCE, _END_OF_MIB_VIEW))

# Counter64 needs 9 content bytes (a leading zero); anything longer is not SNMP.
_MAX_INTEGER_BYTES: Final = 9
# RFC 2578 caps an OID at 128 sub-identifiers of at most 32 bits (5 bytes each).
_MAX_OID_ARCS: Final = 128
_MAX_OID_BYTES: Final = _MAX_OID_ARCS * 5
_MAX_ARC: Final = 0xFFFFFFFF
# Dotted strings of OIDs seen in responses, by content bytes. Instance OIDs repeat
# across devices and polls (ifDescr.1 ...), so a cache saves most decoding. Each of the
# two caches holds at most this many bytes (limits.oid_cache_bytes of the site file).
DEFAULT_OID_CACHE_BYTES: Final = 4 * 1024 * 1024

_oid_str_cache: ByteBoundedCache[bytes, str] = ByteBoundedCache(DEFAULT_OID_CACHE_BYTES)
_oid_bytes_cache: ByteBoundedCache[str, bytes] = ByteBoundedCache(DEFAULT_OID_CACHE_BYTES)


def set_oid_cache_bytes(max_bytes: int) -> None:
    """Bound each OID cache (dotted -> bytes, bytes -> dotted) to ``max_bytes``."""
    for cache in (_oid_str_cache, _oid_bytes_cache):
        cache.max_bytes = max_bytes
        cache.clear()


def clear_oid_caches() -> None:
    _oid_str_cache.clear()
    _oid_bytes_cache.clear()


@dataclass(slots=True)
class Response:
    """A decoded Response or Report PDU; OIDs as BER content bytes."""

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[bytes, SnmpValue]]


def error_status_name(status: int) -> str:
    if 0 <= status < len(ERROR_STATUS_NAMES):
        return ERROR_STATUS_NAMES[status]
    return f"error-status {status}"


# --- encoding ---------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """A minimal two's-complement INTEGER TLV."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return _tlv(_INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(dotted: str) -> bytes:
    """The BER content bytes (no tag, no length) of a dotted numeric OID."""
    cached = _oid_bytes_cache.get(dotted)
    if cached is not None:
        return cached
    try:
        arcs = [int(part) for part in dotted.strip(".").split(".")]
    except ValueError:
        raise ValueError(f"not a numeric OID: {dotted!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not a valid OID: {dotted!r}")
    if len(arcs) > _MAX_OID_ARCS or any(arc < 0 or arc > _MAX_ARC for arc in arcs[2:]):
        raise ValueError(f"OID out of range: {dotted!r}")
    out = bytearray()
    for arc in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    encoded = bytes(out)
    _oid_bytes_cache.put(dotted, encoded)
    return encoded


def encode_varbind_list(oids: Sequence[bytes]) -> bytes:
    """The VarBindList SEQUENCE with a NULL value for each OID (content bytes)."""
    parts = []
    for oid in oids:
        vb = b"\x06" + _length(len(oid)) + oid + b"\x05\x00"
        parts.append(b"\x30" + _length(len(vb)) + vb)
    return _tlv(_SEQUENCE, b"".join(parts))


def encode_message_prefix(version: int, community: bytes) -> bytes:
    """version + community: the part of the message that is the same for every request."""
    return encode_integer(version) + _tlv(_OCTET_STRING, community)


def encode_request(
    prefix: bytes,
    pdu_type: int,
    request_id: int,
    varbind_list: bytes,
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A whole request message from its precomputed pieces.

    ``prefix`` comes from :func:`encode_message_prefix`, ``varbind_list`` from
    :func:`encode_varbind_list`: a poller builds both once per target and OID set.
    For a GetBulkRequest the two counters are non-repeaters and max-repetitions;
    other requests send zeros there (error-status and error-index).
    """
    pdu = encode_integer(request_id)
    if non_repeaters or max_repetitions:
        pdu += encode_integer(non_repeaters) + encode_integer(max_repetitions)
    else:
        pdu += b"\x02\x01\x00\x02\x01\x00"
    pdu += varbind_list
    body = prefix + bytes((pdu_type,)) + _length(len(pdu)) + pdu
    return b"\x30" + _length(len(body)) + body


# --- decoding ---------------------------------------------------------------------------


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``, bounded by ``end``."""
    if pos + 2 > end:
        raise SnmpProtocolError("truncated packet")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 3 or pos + k > end:
            raise SnmpProtocolError("bad length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    stop = pos + n
    if stop > end:
        raise SnmpProtocolError("length beyond the end of the packet")
    return tag, pos, stop


def _integer(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = _header(data, pos, end)
    if tag != _INTEGER or not 0 < stop - start <= 5:
        raise SnmpProtocolError("expected a 32-bit INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def decode_oid(content: bytes) -> str:
    """Dotted string of OID content bytes; cached, since the same OIDs keep coming back."""
    cached = _oid_str_cache.get(content)
    if cached is not None:
        return cached
    if not content or len(content) > _MAX_OID_BYTES or content[-1] & 0x80:
        raise SnmpProtocolError("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    arc = 0
    for byte in content:
        if arc == 0 and byte == 0x80:
            raise SnmpProtocolError("non-minimal OID sub-identifier")
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    first = arcs[0]
    if first > _MAX_ARC + 80 or len(arcs) >= _MAX_OID_ARCS or max(arcs[1:], default=0) > _MAX_ARC:
        raise SnmpProtocolError("OID sub-identifier out of range")
    head = f"{first // 40}.{first % 40}" if first < 80 else f"2.{first - 80}"
    dotted = head + "".join(f".{a}" for a in arcs[1:])
    _oid_str_cache.put(content, dotted)
    return dotted


def _value(tag: int, data: bytes, start: int, stop: int) -> SnmpValue:
    if tag in _BYTES_TAGS:
        return data[start:stop]
    if tag == _INTEGER:
        if not 0 < stop - start <= 5:
            raise SnmpProtocolError("INTEGER out of range")
        return int.from_bytes(data[start:stop], "big", signed=True)
    if tag in _UNSIGNED_TAGS:
        if not 0 < stop - start <= _MAX_INTEGER_BYTES:
            raise SnmpProtocolError("unsigned integer out of range")
        return int.from_bytes(data[start:stop], "big")
    if tag in _NO_SUCH_TAGS:
        return NO_SUCH
    if tag == _OID:
        return decode_oid(data[start:stop])
    if tag == _IP_ADDRESS:
        if stop - start != 4:
            raise SnmpProtocolError("IpAddress is not 4 bytes")
        return "{}.{}.{}.{}".format(*data[start:stop])
    if tag & 0x1F == 0x1F:
        raise SnmpProtocolError("multi-byte tags are not SNMP")
    # An application type we do not know (NsapAddress, a future type): keep the bytes.
    return data[start:stop]


def peek_request_id(data: bytes) -> int | None:
    """The request-id of a v1/v2c message, or None if the header is not even that."""
    try:
        _, pos, end = _header(data, 0, len(data))
        _, pos = _integer(data, pos, end)
        tag, _start, pos = _header(data, pos, end)
        if tag != _OCTET_STRING:
            return None
        tag, pos, end = _header(data, pos, end)
        return _integer(data, pos, end)[0]
    except SnmpProtocolError:
        return None


def decode_response(data: bytes) -> Response:
    """Decode a v1/v2c Response or Report message; SnmpProtocolError if malformed."""
    end = len(data)
    tag, pos, end = _header(data, 0, end)
    if tag != _SEQUENCE:
        raise SnmpProtocolError("not an SNMP message")
    version, pos = _integer(data, pos, end)
    tag, start, pos = _header(data, pos, end)
    if tag != _OCTET_STRING:
        raise SnmpProtocolError("community is not an OCTET STRING")
    community = data[start:pos]
    pdu_type, pos, end = _header(data, pos, end)
    if pdu_type != RESPONSE and pdu_type != REPORT:
        raise SnmpProtocolError(f"unexpected PDU type 0x{pdu_type:02x}")
    request_id, pos = _integer(data, pos, end)
    error_status, pos = _integer(data, pos, end)
    error_index, pos = _integer(data, pos, end)
    tag, pos, end = _header(data, pos, end)
    if tag != _SEQUENCE:
        raise SnmpProtocolError("varbind list is not a SEQUENCE")
    return Response(
        version, community, pdu_type, request_id, error_status, error_index,
        _varbinds(data, pos, end),
    )  # fmt: skip


def _varbinds(data: bytes, pos: int, end: int) -> list[tuple[bytes, SnmpValue]]:
    """The varbinds between ``pos`` and ``end``: the hot loop of every poll.

    Short-form lengths (under 128 bytes: nearly every varbind) are read inline;
    anything else goes through ``_header``. Reading past the packet raises
    IndexError, turned into SnmpProtocolError.
    """
    varbinds: list[tuple[bytes, SnmpValue]] = []
    append = varbinds.append
    from_bytes = int.from_bytes
    try:
        while pos < end:
            if data[pos] != _SEQUENCE:
                raise SnmpProtocolError("varbind is not a SEQUENCE")
            n = data[pos + 1]
            if n < 0x80:
                pos += 2
                vb_end = pos + n
                if vb_end > end:
                    raise SnmpProtocolError("varbind beyond the end of the packet")
            else:
                _, pos, vb_end = _header(data, pos, end)
            if data[pos] != _OID:
                raise SnmpProtocolError("varbind name is not an OBJECT IDENTIFIER")
            n = data[pos + 1]
            if not 0 < n < 0x80:  # longer than any OID we poll: take the careful path
                tag, start, pos = _header(data, pos, vb_end)
                if not 0 < pos - start <= _MAX_OID_BYTES:
                    raise SnmpProtocolError("OBJECT IDENTIFIER of bad length")
                oid = data[start:pos]
            else:
                pos += 2 + n
                if pos > vb_end:
                    raise SnmpProtocolError("OBJECT IDENTIFIER beyond its varbind")
                oid = data[pos - n : pos]
            tag = data[pos]
            n = data[pos + 1]
            if n < 0x80:
                start = pos + 2
                pos = start + n
            else:
                tag, start, pos = _header(data, pos, vb_end)
            if pos != vb_end:
                raise SnmpProtocolError("varbind of inconsistent length")
            if tag == _OCTET_STRING:
                append((oid, data[start:pos]))
            elif tag in _UNSIGNED_TAGS and 0 < n <= _MAX_INTEGER_BYTES:
                append((oid, from_bytes(data[start:pos], "big")))
            else:
                append((oid, _value(tag, data, start, pos)))
    except IndexError:
        raise SnmpProtocolError("truncated varbind") from None
    return varbinds

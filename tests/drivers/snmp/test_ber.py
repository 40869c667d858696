"""The BER codec, cross-checked against pysnmp's encoder and fuzzed with hostile bytes."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysnmp.proto import rfc1902, rfc1905

from drivers.snmp import ber
from drivers.snmp.base import NO_SUCH, SnmpProtocolError
from drivers.snmp.walkstate import oid_after
from tests.drivers.snmp import pysnmp_messages as pm
from tests.examples import examples

arcs = st.integers(0, 2**32 - 1)
oids = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39), st.lists(arcs, max_size=20)),
    st.tuples(st.just(2), st.integers(0, 2**32 - 81), st.lists(arcs, max_size=20)),
).map(lambda t: ".".join(map(str, (t[0], t[1], *t[2]))))
# The client only sends positive request-ids; pyasn1 also encodes some negative
# numbers non-minimally (-128 as ff 80), which X.690 forbids: see the test below.
request_ids = st.integers(0, 2**31 - 1)
communities = st.binary(max_size=300)

# (pysnmp value, what the driver must decode it to)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda i: (rfc1902.Integer32(i), i)),
    st.binary(max_size=400).map(lambda b: (rfc1902.OctetString(b), b)),
    oids.map(lambda o: (rfc1902.ObjectIdentifier(o), o)),
    st.tuples(*[st.integers(0, 255)] * 4).map(
        lambda q: (rfc1902.IpAddress(".".join(map(str, q))), ".".join(map(str, q)))
    ),
    st.integers(0, 2**32 - 1).map(lambda i: (rfc1902.Counter32(i), i)),
    st.integers(0, 2**32 - 1).map(lambda i: (rfc1902.Gauge32(i), i)),
    st.integers(0, 2**32 - 1).map(lambda i: (rfc1902.TimeTicks(i), i)),
    st.integers(0, 2**32 - 1).map(lambda i: (rfc1902.Unsigned32(i), i)),
    st.integers(0, 2**64 - 1).map(lambda i: (rfc1902.Counter64(i), i)),
    st.binary(max_size=50).map(lambda b: (rfc1902.Opaque(b), b)),
    st.sampled_from(
        [
            (rfc1905.noSuchObject, NO_SUCH),
            (rfc1905.noSuchInstance, NO_SUCH),
            (rfc1905.endOfMibView, NO_SUCH),
            (rfc1902.Null(""), NO_SUCH),
        ]
    ),
)


@given(
    version=st.sampled_from([ber.VERSION_1, ber.VERSION_2C]),
    kind=st.sampled_from(["get", "next", "bulk"]),
    community=communities,
    request_id=request_ids,
    oid_list=st.lists(oids, min_size=1, max_size=30),
    max_repetitions=st.integers(1, 2**31 - 1),
)
def test_requests_are_byte_for_byte_what_pysnmp_encodes(
    version: int,
    kind: str,
    community: bytes,
    request_id: int,
    oid_list: list[str],
    max_repetitions: int,
) -> None:
    if kind == "bulk":
        version = ber.VERSION_2C  # GETBULK does not exist in v1
    pdu_type = {"get": ber.GET_REQUEST, "next": ber.GET_NEXT_REQUEST, "bulk": ber.GET_BULK_REQUEST}
    ours = ber.encode_request(
        ber.encode_message_prefix(version, community),
        pdu_type[kind],
        request_id,
        ber.encode_varbind_list([ber.encode_oid(o) for o in oid_list]),
        0,
        max_repetitions if kind == "bulk" else 0,
    )
    assert ours == pm.request(version, community, kind, request_id, oid_list, max_repetitions)


@given(
    version=st.sampled_from([ber.VERSION_1, ber.VERSION_2C]),
    community=communities,
    request_id=request_ids,
    varbinds=st.lists(st.tuples(oids, values), max_size=40),
    error_status=st.integers(0, 18),
    error_index=st.integers(0, 40),
)
def test_decodes_what_pysnmp_encodes(
    version: int,
    community: bytes,
    request_id: int,
    varbinds: list[tuple[str, tuple[object, object]]],
    error_status: int,
    error_index: int,
) -> None:
    if version == ber.VERSION_1:  # v1 has neither Counter64 nor exception values
        varbinds = [
            vb
            for vb in varbinds
            if not isinstance(vb[1][0], rfc1902.Counter64 | rfc1905.NoSuchObject)
            and vb[1][0] not in (rfc1905.noSuchInstance, rfc1905.endOfMibView)
        ]
    data = pm.response(
        version,
        community,
        request_id,
        [(oid, value) for oid, (value, _) in varbinds],
        error_status,
        error_index,
    )
    got = ber.decode_response(data)
    assert (got.version, got.community, got.pdu_type) == (version, community, ber.RESPONSE)
    assert (got.request_id, got.error_status, got.error_index) == (
        request_id,
        error_status,
        error_index,
    )
    assert [(ber.decode_oid(oid), value) for oid, value in got.varbinds] == [
        (oid, expected) for oid, (_, expected) in varbinds
    ]
    assert ber.peek_request_id(data) == request_id


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "020100"), (127, "02017f"), (128, "02020080"), (-1, "0201ff"), (-128, "020180"),
     (-129, "0202ff7f"), (2**31 - 1, "02047fffffff"), (-(2**31), "020480000000")],
)  # fmt: skip
def test_integers_are_minimal_twos_complement(value: int, encoded: str) -> None:
    assert ber.encode_integer(value).hex() == encoded


@given(oids)
def test_oid_round_trip(oid: str) -> None:
    assert ber.decode_oid(ber.encode_oid(oid)) == oid


@given(oids, oids)
def test_oid_order_on_bytes_is_numeric_order(a: str, b: str) -> None:
    ta, tb = pm.oid_tuple(a), pm.oid_tuple(b)
    assert oid_after(ber.encode_oid(a), ber.encode_oid(b)) == (ta > tb)


def _decode_or_protocol_error(data: bytes) -> None:
    try:
        response = ber.decode_response(data)
    except SnmpProtocolError:
        return
    for oid, _ in response.varbinds:  # OIDs handed out later must be decodable too
        with contextlib.suppress(SnmpProtocolError):
            ber.decode_oid(oid)
    ber.peek_request_id(data)


@settings(max_examples=examples(300))
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    _decode_or_protocol_error(data)
    assert ber.peek_request_id(data) is None or isinstance(ber.peek_request_id(data), int)


@settings(max_examples=examples(300))
@given(
    varbinds=st.lists(st.tuples(oids, values), min_size=1, max_size=10),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
)
def test_mutated_and_truncated_responses_raise_only_protocol_errors(
    varbinds: list[tuple[str, tuple[object, object]]],
    edits: list[tuple[int, int]],
    cut: int,
) -> None:
    data = bytearray(pm.response(1, b"public", 7, [(o, v) for o, (v, _) in varbinds]))
    for position, byte in edits:
        data[position % len(data)] = byte
    _decode_or_protocol_error(bytes(data))
    _decode_or_protocol_error(bytes(data[: cut % (len(data) + 1)]))


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("30 84 ff ff ff ff 02 01 01"),  # 4-byte length
        bytes.fromhex("30 83 ff ff ff 02 01 01"),  # length past the end
        bytes.fromhex("30 80 02 01 01 00 00"),  # indefinite length
        bytes.fromhex("30 0c 02 01 01 04 00 a2 05 02 09 01 02 03 04 05 06 07 08 09"),  # long id
        b"\x30\x03\x02\x01",  # truncated inside
        b"",
    ],
)
def test_hostile_headers_are_refused(data: bytes) -> None:
    with pytest.raises(SnmpProtocolError):
        ber.decode_response(data)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x2b\x86", b"\x2b\x80\x01", b"\x2b" + b"\x01" * 200, b"\x2b\x90\x80\x80\x80\x00"],
)
def test_malformed_oids_are_refused(content: bytes) -> None:
    # empty, unterminated, non-minimal, more than 128 arcs, an arc above 2**32 - 1
    with pytest.raises(SnmpProtocolError):
        ber.decode_oid(content)


def test_a_large_packet_decodes_in_linear_time() -> None:
    many = [(f"1.3.6.1.2.1.2.2.1.2.{i}", rfc1902.OctetString(b"x")) for i in range(6000)]
    data = pm.response(1, b"public", 1, many)
    started = time.process_time()
    assert len(ber.decode_response(data).varbinds) == 6000
    assert time.process_time() - started < 0.5

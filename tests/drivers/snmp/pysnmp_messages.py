"""SNMP v1/v2c messages built and read with pysnmp's own encoder: the independent side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def module(version: int) -> Any:
    return V1 if version == 0 else V2C


def oid_tuple(dotted: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in dotted.split("."))


def request(
    version: int,
    community: bytes,
    kind: str,
    request_id: int,
    oids: Sequence[str],
    max_repetitions: int = 0,
) -> bytes:
    """A GET / GETNEXT / GETBULK request message, encoded by pyasn1."""
    p = module(version)
    pdu = {"get": p.GetRequestPDU, "next": p.GetNextRequestPDU, "bulk": V2C.GetBulkRequestPDU}[
        kind
    ]()
    api_pdu = V2C.apiBulkPDU if kind == "bulk" else p.apiPDU
    api_pdu.set_defaults(pdu)
    api_pdu.set_request_id(pdu, request_id)
    if kind == "bulk":
        api_pdu.set_non_repeaters(pdu, 0)
        api_pdu.set_max_repetitions(pdu, max_repetitions)
    api_pdu.set_varbinds(pdu, [(oid_tuple(o), p.Null("")) for o in oids])
    return message(version, community, pdu)


def message(version: int, community: bytes, pdu: Any) -> bytes:
    p = module(version)
    msg = p.Message()
    p.apiMessage.set_defaults(msg)
    p.apiMessage.set_community(msg, community)
    p.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def response(
    version: int,
    community: bytes,
    request_id: int,
    varbinds: Sequence[tuple[str, Any]],
    error_status: int = 0,
    error_index: int = 0,
) -> bytes:
    """A Response message with pysnmp value objects."""
    p = module(version)
    pdu = p.GetResponsePDU()
    p.apiPDU.set_defaults(pdu)
    p.apiPDU.set_request_id(pdu, request_id)
    p.apiPDU.set_error_status(pdu, error_status)
    p.apiPDU.set_error_index(pdu, error_index)
    p.apiPDU.set_varbinds(pdu, [(oid_tuple(o), v) for o, v in varbinds])
    return message(version, community, pdu)


def parse_request(data: bytes) -> tuple[int, bytes, Any]:
    """(version, community, PDU) of a request, decoded by pyasn1."""
    version = int(api.decodeMessageVersion(data))
    p = module(version)
    msg, _ = decoder.decode(data, asn1Spec=p.Message())
    return version, bytes(p.apiMessage.get_community(msg)), p.apiMessage.get_pdu(msg)

"""Finding 13: the caches of OID strings are bounded in bytes, not in entries.

65,536 entries of the longest OIDs (128 sub-identifiers of 32 bits) held 156 MB; an
agent chooses the OIDs it answers with, so the bound has to be in bytes."""

from __future__ import annotations

import sys

from drivers.snmp import ber

MiB = 1024 * 1024


def longest_oid(n: int) -> str:
    return "1.3." + ".".join(["4294967295"] * 125) + f".{n}"


def held(cache: object) -> int:
    """Bytes of the keys and values a cache holds."""
    items = cache.items()  # type: ignore[attr-defined]
    return sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in items)


def test_decoded_oids_hold_at_most_the_cache_budget() -> None:
    contents = [ber.encode_oid(longest_oid(n)) for n in range(10_000)]
    for content in contents:
        ber.decode_oid(content)
    assert held(ber._oid_str_cache) <= ber.DEFAULT_OID_CACHE_BYTES


def test_encoded_oids_hold_at_most_the_cache_budget() -> None:
    for n in range(10_000):
        ber.encode_oid(longest_oid(n))
    assert held(ber._oid_bytes_cache) <= ber.DEFAULT_OID_CACHE_BYTES


def test_the_budget_is_set_by_the_site() -> None:
    contents = [ber.encode_oid(longest_oid(n)) for n in range(2_000)]
    ber.set_oid_cache_bytes(256 * 1024)
    try:
        for content in contents:
            ber.decode_oid(content)
        assert held(ber._oid_str_cache) <= 256 * 1024
        # Still a cache: the same OID decodes to the very same string object.
        assert ber.decode_oid(contents[-1]) is ber.decode_oid(contents[-1])
    finally:
        ber.set_oid_cache_bytes(ber.DEFAULT_OID_CACHE_BYTES)

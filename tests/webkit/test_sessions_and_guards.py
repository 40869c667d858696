"""The session store (values, expiry, bound) and the redirect targets, in-process."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from gateway.webkit.guards import same_site_target
from gateway.webkit.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_random_valid_until_it_expires_and_kept_only_as_a_hash() -> None:
    clock = Clock()
    store = SessionStore(60, clock=clock)
    first, second = store.open(), store.open()
    assert first != second and len(first) >= 43  # 32 random bytes, base64url
    assert store.valid(first) and store.valid(second)
    assert first.encode() not in b"".join(store._expiry)  # the store keeps digests
    clock.now += 59.9
    assert store.valid(first)
    clock.now += 0.1
    assert not store.valid(first)
    assert len(store) == 1  # the expired one looked up is gone; the other goes at the next open
    store.open()
    assert len(store) == 1
    assert not store.valid(second)


@pytest.mark.parametrize("forged", ["", "x", "A" * 43, "s3cret-token-0123456789", "\udcff"])
def test_a_value_the_store_did_not_hand_out_is_refused(forged: str) -> None:
    store = SessionStore(60)
    store.open()
    assert not store.valid(forged)
    assert not store.valid(None)


def test_the_store_holds_at_most_max_sessions_dropping_the_oldest() -> None:
    store = SessionStore(3600, max_sessions=3)
    values = [store.open() for _ in range(5)]
    assert len(store) == 3
    assert [store.valid(v) for v in values] == [False, False, True, True, True]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/device/ups-1", "/device/ups-1"),
        ("//evil.example/x", "/evil.example/x"),
        ("///evil.example", "/evil.example"),
        ("/\\evil.example", "/%5Cevil.example"),
        ("/\\/evil.example", "/%5C/evil.example"),
        ("https://evil.example/", "/https%3A//evil.example/"),
        ("/a b\r\nSet-Cookie: x=1", "/a%20b%0D%0ASet-Cookie%3A%20x%3D1"),
        ("", "/"),
    ],
)
def test_redirect_targets_stay_on_this_site(path: str, expected: str) -> None:
    target = same_site_target(path)
    assert target == expected
    resolved = urlsplit(urljoin("http://192.0.2.7:8780/page", target))
    assert resolved.netloc == "192.0.2.7:8780" and resolved.scheme == "http"


def test_redirect_target_keeps_the_rest_of_the_query() -> None:
    assert same_site_target("/device/ups-1", {"a": ["1", "2"], "b": ["x&y"]}) == (
        "/device/ups-1?a=1&a=2&b=x%26y"
    )

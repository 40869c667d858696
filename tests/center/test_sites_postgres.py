"""Sites and replies on a real PostgreSQL (Debian's), as on SQLite (test_sites.py): the
same tests, on a fresh database each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from center.ledger import Ledger, LedgerUrl
from tests.center import test_sites as on_sqlite

pytestmark = pytest.mark.integration

test_since_moves_only_when_the_site_goes_online_or_offline = (
    on_sqlite.test_since_moves_only_when_the_site_goes_online_or_offline
)
test_a_reply_is_kept_once_and_found_by_request = (
    on_sqlite.test_a_reply_is_kept_once_and_found_by_request
)


@pytest.fixture
def ledger(pg_ledger: LedgerUrl) -> Iterator[Ledger]:
    opened = Ledger.connect(pg_ledger)
    yield opened
    opened.close()

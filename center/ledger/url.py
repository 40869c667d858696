"""Where the ledger is: ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``.

The PostgreSQL password never sits in the URL (CENTER.yaml is no place for a secret):
it is the first line of ``password_file``. Anything else libpq takes may follow in the
URL's query (``?sslmode=verify-full&sslrootcert=/etc/lvgw-center/pg-ca.pem``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Engine = Literal["sqlite", "postgresql"]
_SQLITE = "sqlite:///"
_POSTGRESQL = ("postgresql://", "postgres://")


def check_url(url: str) -> str:
    """``url`` if the ledger can be there; ValueError saying why not."""
    if url.startswith(_POSTGRESQL):
        parts = urlsplit(url)
        if parts.password is not None:
            raise ValueError("no password in the URL: put it in database.password_file")
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError(f"no host in {url!r}: postgresql://USER@HOST:PORT/DB")
        if not parts.path.strip("/"):
            raise ValueError(f"no database name in {url!r}: postgresql://USER@HOST:PORT/DB")
        return url
    if not url.startswith(_SQLITE) or len(url) == len(_SQLITE):
        raise ValueError(f"not sqlite:///PATH nor postgresql://USER@HOST/DB: {url!r}")
    return url


@dataclass(frozen=True, slots=True)
class LedgerUrl:
    url: str
    password_file: Path | None = None

    @property
    def engine(self) -> Engine:
        return "postgresql" if self.url.startswith(_POSTGRESQL) else "sqlite"

    @property
    def path(self) -> Path:
        """The SQLite file: sqlite:///var/lib/c.db is /var/lib/c.db (sqlite:////... too)."""
        return Path("/" + self.url.removeprefix(_SQLITE).lstrip("/"))

    @property
    def where(self) -> str:
        """The ledger in messages: the file, or the URL (which holds no password)."""
        return str(self.path) if self.engine == "sqlite" else self.url

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        lines = self.password_file.read_text().splitlines()
        return lines[0] if lines else ""

    def __str__(self) -> str:
        return self.where

"""The people who sign in to the center's web app: ``web.users_file``.

```yaml
users:
  - {name: dora, role: dispatcher, password: "$argon2id$v=19$m=65536,t=3,p=4$..."}
  - {name: tom, role: technician, password: "$argon2id$..."}
  - {name: acme, role: customer, customers: [ACME], password: "$argon2id$..."}
```

Passwords are kept as argon2id hashes (argon2-cffi, the reference implementation's
binding, with its default parameters, RFC 9106's second recommended choice), written
by ``lvgw-center user add NAME --role ROLE``; the file never holds a password. A
customer's ``customers`` name the customers (the ticket events' ``site.customer.name``)
whose sites and reports the account may see. Loaded with the house's YAML loader:
a mistake is ``FILE:LINE: message``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import Field, model_validator

from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.load import _validate
from gateway.config.types import Strict
from gateway.config.yamlsource import load_yaml

Role = Literal["dispatcher", "technician", "customer"]
ROLES: tuple[Role, ...] = ("dispatcher", "technician", "customer")
USER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
_HASHER = PasswordHasher()
# Checked when the name is unknown, so a wrong name takes as long as a wrong password.
_DECOY = _HASHER.hash("not a password of anyone")


class User(Strict):
    name: Annotated[str, Field(pattern=USER_NAME)]
    role: Role
    password: Annotated[str, Field(pattern=r"^\$argon2id?\$")]
    customers: list[Annotated[str, Field(min_length=1, max_length=200)]] = []

    @model_validator(mode="after")
    def _customer_needs_customers(self) -> User:
        if self.role == "customer" and not self.customers:
            raise ValueError("a customer account needs customers: the customer names it may see")
        if self.role != "customer" and self.customers:
            raise ValueError(f"customers: only a customer account has them, not a {self.role}")
        return self

    def sees_customer(self, customer: str | None) -> bool:
        """Whether this account may see what belongs to ``customer``."""
        return self.role != "customer" or (customer is not None and customer in self.customers)


class UsersFile(Strict):
    users: list[User] = []


def load_users(path: Path) -> dict[str, User]:
    """The users of ``path`` by name; ConfigError (FILE:LINE) when it has a mistake."""
    raw, linemap = load_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(path, 1, "expected a mapping with users: [...]")])
    loaded, problems = _validate(UsersFile, raw, linemap)
    if problems or loaded is None:
        raise ConfigError(problems)
    users: dict[str, User] = {}
    for i, user in enumerate(loaded.users):
        if user.name in users:
            where = linemap.line_of(("users", i, "name"))
            raise ConfigError([ConfigProblem(path, where, f"user {user.name!r} is listed twice")])
        users[user.name] = user
    return users


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; as slow for an unknown user (None)."""
    try:
        return _HASHER.verify(user.password if user else _DECOY, password) and user is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def add_user(path: Path, name: str, role: Role, customers: list[str], password: str) -> bool:
    """Add ``name`` to ``path`` (created when missing) or set its role, customers and
    password; True when it was new. Written to a temporary file and renamed over, mode
    0600; the file's other entries are kept as they are."""
    entry = User(name=name, role=role, password=hash_password(password), customers=customers)
    data: dict[str, Any] = {"users": []}
    if path.exists():
        load_users(path)  # refuse to rewrite a file that has mistakes
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"users": []}
        data.setdefault("users", [])
    fields = entry.model_dump(exclude_defaults=True)
    fields["role"] = role
    old = [u for u in data["users"] if u.get("name") == name]
    data["users"] = [u if u.get("name") != name else fields for u in data["users"]]
    if not old:
        data["users"].append(fields)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return not old

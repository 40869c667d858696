"""Secret files, opened at check time as the service reads them.

A secret the service cannot read, or an empty one, would otherwise pass
``check-config`` and stop ``lvgw run`` later, in a restart loop. A secret that other
users may read is allowed (the site decides) but warned about.
"""

from __future__ import annotations

import stat
from pathlib import Path

# Keys whose file holds a secret (``tls.key`` too: a client certificate's private key).
SECRET_KEYS = frozenset(
    {
        "password_file",
        "token_file",
        "auth_key_file",
        "priv_key_file",
        "status_token_file",
        "command_key_file",
        "key_file",
        "secret_file",  # lvgw-center: a webhook's HMAC key; a PBX's AMI secret
        "url_file",  # lvgw-center: a chat robot's webhook URL, which holds its key
    }
)
# Read as raw bytes (an HMAC key, a PEM key), not as a line of UTF-8 text.
BINARY_KEYS = frozenset({"command_key_file", "secret_file", "key"})


def is_secret(key: str, in_tls: bool) -> bool:
    return key in SECRET_KEYS or (in_tls and key == "key")


def read_problem(path: Path, key: str) -> str | None:
    """Why the service could not use the secret in ``path``, or None when it can."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if key not in BINARY_KEYS:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"{path} is not UTF-8 text"
        # The service uses the first line (read_secret_file).
        data = (text.splitlines()[0] if text else "").strip().encode()
    if not data.strip():
        return f"{path} is empty"
    return None


def exposure_warning(path: Path) -> str | None:
    """A warning when users other than the owner may read ``path``."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        who = "everyone" if mode & stat.S_IROTH else "its group"
        return f"{path} can be read by {who} (mode {stat.S_IMODE(mode):o}): chmod 600 it"
    return None

"""Secret files handed to the service by systemd (``LoadCredential=``).

A site file names such a file ``${CREDENTIALS_DIRECTORY}/NAME``. Under systemd the
variable is the directory the service manager fills, readable by the service's user
only, which may be a dynamic one (systemd.exec(5), "Credentials"). Anywhere else (an
administrator's shell running ``lvgw status`` or ``check-config``) it is ``credentials/``
beside the site file: the directory the installed unit loads the credentials from
(/etc/lvgw/credentials for /etc/lvgw/site.yaml), so the same site file works in both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

VARIABLE = "CREDENTIALS_DIRECTORY"
PREFIX = "${" + VARIABLE + "}/"


def expand(value: str, site_file: Path, environ: Mapping[str, str] = os.environ) -> str:
    """``value`` with a leading ``${CREDENTIALS_DIRECTORY}/`` replaced (see above)."""
    if not value.startswith(PREFIX):
        return value
    directory = environ.get(VARIABLE) or str(site_file.parent.resolve() / "credentials")
    return str(Path(directory) / value.removeprefix(PREFIX))

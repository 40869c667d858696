"""Warnings about what a site file leaves open to whoever can reach the broker.

Not errors: a lab or the demo may run this way on purpose, and says so. A real site
sets a command key (so that only the service center can acknowledge tickets or set
maintenance) and talks to its broker over TLS as a user of its own
(docs/security.md).
"""

from __future__ import annotations

from gateway.config.errors import ConfigProblem
from gateway.config.site import SiteFile
from gateway.config.yamlsource import LineMap


def uplink_warnings(site: SiteFile, linemap: LineMap) -> list[ConfigProblem]:
    warnings = []
    uplink = site.uplink
    if uplink.command_key_file is None:
        warnings.append(
            linemap.problem(
                ("uplink",),
                "warning: field 'uplink.command_key_file' is not set: anyone who can"
                " publish to the site's topics can acknowledge its tickets and put it in"
                " maintenance (see docs/security.md, Command keys)",
            )
        )
    mqtt = uplink.mqtt
    if mqtt.tls is None and mqtt.username is None:
        warnings.append(
            linemap.problem(
                ("uplink", "mqtt"),
                f"warning: field 'uplink.mqtt': the broker {mqtt.host}:{mqtt.port} is"
                " reached over plain TCP and anonymously: give tls and a username (or a"
                " client certificate) so that only this gateway can publish as this site",
            )
        )
    return warnings

"""The ISAPI driver of an agent: one HTTP session per device, made at its first poll."""

from __future__ import annotations

from gateway.config.load import LoadedConfig
from gateway.config.protocols.isapi import ISAPI, isapi_settings
from gateway.protocols.http.driver import HttpShared
from gateway.protocols.isapi.dialect import IsapiDialect


class IsapiShared(HttpShared):
    """The sessions of the site's ISAPI devices (each keeps its digest nonce)."""

    def __init__(self, config: LoadedConfig) -> None:
        super().__init__(config, ISAPI.name, isapi_settings, IsapiDialect)

"""Hikvision ISAPI: HTTP(S) with digest authentication; the alertStream as push source."""

from gateway.config.protocols.isapi import ISAPI
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.isapi.driver import IsapiShared

ENTRY = ProtocolEntry(ISAPI, open_driver=IsapiShared)

__all__ = ["ENTRY"]

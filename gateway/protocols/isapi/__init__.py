"""Hikvision ISAPI: HTTP(S) with digest authentication; the alertStream as push source."""

from gateway.config.protocols.isapi import ISAPI
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.isapi.driver import IsapiShared
from gateway.protocols.isapi.events import isapi_event_source

ENTRY = ProtocolEntry(ISAPI, open_driver=IsapiShared, push_source=isapi_event_source)

__all__ = ["ENTRY"]

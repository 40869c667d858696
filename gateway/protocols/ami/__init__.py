"""The Asterisk Manager Interface: one manager session per PBX, its events as the push
source (docs/ami.md)."""

from gateway.config.protocols.ami import AMI
from gateway.protocols.ami.driver import AmiShared
from gateway.protocols.base import ProtocolEntry

ENTRY = ProtocolEntry(AMI, open_driver=AmiShared, driver_push=AmiShared.push_source)

__all__ = ["ENTRY"]

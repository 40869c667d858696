"""SNMP drivers: one narrow client interface, converted errors, numeric OIDs only."""

from drivers.snmp.base import (
    NO_SUCH,
    NoSuch,
    SnmpAuthError,
    SnmpClient,
    SnmpError,
    SnmpProtocolError,
    SnmpTarget,
    SnmpTimeout,
    SnmpValue,
    V3Credentials,
    VarBind,
)
from drivers.snmp.driver import SnmpDriver
from drivers.snmp.fake import FakeSnmpClient
from drivers.snmp.lean import LeanSnmpClient

__all__ = [
    "NO_SUCH",
    "FakeSnmpClient",
    "LeanSnmpClient",
    "NoSuch",
    "SnmpAuthError",
    "SnmpClient",
    "SnmpDriver",
    "SnmpError",
    "SnmpProtocolError",
    "SnmpTarget",
    "SnmpTimeout",
    "SnmpValue",
    "V3Credentials",
    "VarBind",
]

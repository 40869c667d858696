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

__all__ = [
    "NO_SUCH",
    "NoSuch",
    "SnmpAuthError",
    "SnmpClient",
    "SnmpError",
    "SnmpProtocolError",
    "SnmpTarget",
    "SnmpTimeout",
    "SnmpValue",
    "V3Credentials",
    "VarBind",
]

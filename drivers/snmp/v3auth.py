"""SNMPv3 credentials (base.V3Credentials) to pysnmp's USM user data."""

from __future__ import annotations

from typing import Any

from pysnmp.hlapi.v3arch.asyncio import UsmUserData, auth

from drivers.snmp.base import SnmpError, V3Credentials

AUTH_PROTOCOLS: dict[str, Any] = {
    "none": auth.USM_AUTH_NONE,
    "md5": auth.USM_AUTH_HMAC96_MD5,
    "sha": auth.USM_AUTH_HMAC96_SHA,
    "sha224": auth.USM_AUTH_HMAC128_SHA224,
    "sha256": auth.USM_AUTH_HMAC192_SHA256,
    "sha384": auth.USM_AUTH_HMAC256_SHA384,
    "sha512": auth.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS: dict[str, Any] = {
    "none": auth.USM_PRIV_NONE,
    "des": auth.USM_PRIV_CBC56_DES,
    "aes": auth.USM_PRIV_CFB128_AES,
    "aes192": auth.USM_PRIV_CFB192_AES,
    "aes256": auth.USM_PRIV_CFB256_AES,
}


def usm_user_data(creds: V3Credentials) -> Any:
    """The pysnmp UsmUserData for noAuthNoPriv, authNoPriv or authPriv credentials."""
    auth_protocol = AUTH_PROTOCOLS.get(creds.auth_protocol)
    priv_protocol = PRIV_PROTOCOLS.get(creds.priv_protocol)
    if auth_protocol is None or priv_protocol is None:
        raise SnmpError(f"unsupported SNMPv3 protocols {creds.auth_protocol}/{creds.priv_protocol}")
    if creds.priv_protocol != "none" and creds.auth_protocol == "none":
        raise SnmpError("SNMPv3 privacy needs authentication (authPriv)")
    return UsmUserData(
        creds.user,
        authKey=creds.auth_key or None,
        privKey=creds.priv_key or None,
        authProtocol=auth_protocol,
        privProtocol=priv_protocol,
    )

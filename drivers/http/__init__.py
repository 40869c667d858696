"""HTTP(S) with digest authentication (RFC 7616 / 2617) for device APIs: Hikvision
ISAPI, the Dahua HTTP API. One ``HttpDevice`` per device; every request and every
response is bounded in bytes and time, and every failure is one ``HttpError`` of a
class a reader can tell apart (auth, TLS, timeout, status, content)."""

from drivers.http.client import (
    HttpAuthError,
    HttpConnectError,
    HttpContentError,
    HttpDevice,
    HttpError,
    HttpErrorAnswer,
    HttpStatusError,
    HttpTarget,
    HttpTimeout,
    HttpTlsError,
    HttpTooLarge,
)

__all__ = [
    "HttpAuthError",
    "HttpConnectError",
    "HttpContentError",
    "HttpDevice",
    "HttpError",
    "HttpErrorAnswer",
    "HttpStatusError",
    "HttpTarget",
    "HttpTimeout",
    "HttpTlsError",
    "HttpTooLarge",
]

"""What can go wrong talking to an Asterisk Manager Interface, one class per cause a
technician acts on differently. ``kind`` names the class in log lines and readings."""

from __future__ import annotations


class AmiError(Exception):
    """Base of the AMI driver's errors."""

    kind = "AMI error"


class AmiConnectError(AmiError):
    """No TCP connection: refused, no route, name not found."""

    kind = "no connection"


class AmiTimeout(AmiError):
    """Connected (or not) but no answer in time: a slow or stuck device."""

    kind = "timeout"


class AmiTlsError(AmiError):
    """The TLS handshake failed: a certificate refused, a plain port spoken TLS to."""

    kind = "TLS error"


class AmiAuthError(AmiError):
    """``Action: Login`` answered ``Response: Error`` (``Authentication failed``)."""

    kind = "auth failed"


class AmiProtocolError(AmiError):
    """The peer does not speak AMI: no banner, a line or message over the bounds."""

    kind = "protocol error"


class AmiClosed(AmiError):
    """The connection ended (Asterisk stopped or restarted, or the link dropped)."""

    kind = "connection lost"


class AmiActionError(AmiError):
    """An action answered ``Response: Error``: ``Permission denied`` (the account's
    ``write`` classes do not allow it), ``Invalid/unknown command`` (the module is not
    loaded, e.g. chan_sip on Asterisk 21 and later)."""

    kind = "action refused"

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message

    @property
    def unknown_action(self) -> bool:
        return self.message.startswith("Invalid/unknown command")

    @property
    def denied(self) -> bool:
        return self.message.startswith("Permission denied")

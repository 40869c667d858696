"""An aiomqtt client that reports the broker's PUBACK reason code and handshake errors.

aiomqtt resolves a QoS 1 publish when the PUBACK arrives but drops its reason code,
so a publish the broker refused (e.g. 0x87 "not authorized" from an ACL) looks
delivered. This subclass records the code per message id and returns it.

aiomqtt also ignores a connection that closes before the CONNACK (a TLS listener that
wants a client certificate closes it right after the handshake) and reports only
"Operation timed out" ten seconds later. This subclass fails the connect at once with
the socket's own error.
"""

from __future__ import annotations

import contextvars
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

# The MQTTMessageInfo of the publish made in the current task.
_current_info: contextvars.ContextVar[paho.MQTTMessageInfo | None] = contextvars.ContextVar(
    "lvgw_publish_info", default=None
)

SUCCESS = 0


class ClosedBeforeConnack(aiomqtt.MqttError):
    """The connection closed before the broker answered CONNECT. With no socket error
    (``socket_error`` empty) the broker hung up on us: what a broker that does not
    speak the protocol version asked for may do. With one, it is TLS or the network."""

    def __init__(self, message: str, socket_error: str = "") -> None:
        super().__init__(message)
        self.socket_error = socket_error


class AckingClient(aiomqtt.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._puback_codes: dict[int, int] = {}
        publish = self._client.publish

        def remembering_publish(*a: Any, **k: Any) -> paho.MQTTMessageInfo:
            info = publish(*a, **k)
            _current_info.set(info)
            return info

        self._client.publish = remembering_publish  # type: ignore[method-assign]
        self.last_socket_error = ""
        self._client.on_log = self._remember_error

    def _remember_error(self, client: paho.Client, userdata: Any, level: int, text: str) -> None:
        if level == paho.MQTT_LOG_ERR:
            self.last_socket_error = text

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Any = None,
    ) -> None:
        if not self._connected.done():
            cause = self.last_socket_error or f"reason {reason_code}"
            self._connected.set_exception(
                ClosedBeforeConnack(
                    f"connection closed before the broker accepted it: {cause}",
                    self.last_socket_error,
                )
            )
        super()._on_disconnect(client, userdata, flags, reason_code, properties)

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason_code: Any, properties: Any
    ) -> None:
        # MQTT 3.1.1 has no reason code in PUBACK: paho reports success there.
        self._puback_codes[mid] = int(getattr(reason_code, "value", SUCCESS))
        super()._on_publish(client, userdata, mid, reason_code, properties)

    async def publish_acked(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> int:
        """Publish and return the PUBACK reason code (0 success, >= 0x80 refused).

        QoS 0 has no PUBACK: it returns 0 once handed to the socket. Call it in its
        own task (or sequentially) so the message id is read from this publish.
        """
        await self.publish(topic, payload, qos, retain)
        info = _current_info.get()
        if info is None or qos == 0:
            return SUCCESS
        return self._puback_codes.pop(info.mid, SUCCESS)


# Known causes of a failed connect, and what to check.
_HINTS = (
    ("CERTIFICATE_REQUIRED", "the broker requires a client certificate: set tls.cert and key"),
    ("UNKNOWN_CA", "the broker does not trust the client certificate (signed by another CA?)"),
    ("BAD_CERTIFICATE", "the broker refused the client certificate"),
    ("CERTIFICATE_EXPIRED", "a certificate has expired"),
    ("CERTIFICATE_VERIFY_FAILED", "tls.ca does not trust the broker's certificate, or its host"),
    ("WRONG_VERSION_NUMBER", "the broker's port does not speak TLS, or tls is missing"),
    ("not authori", "the broker refused the user name, password or certificate identity"),
    ("Bad user name or password", "the broker refused the user name or password"),
)


def connect_hint(error: str) -> str:
    """What to check for a failed connect, or "" when the cause is not recognised."""
    lowered = error.lower()
    return next((hint for marker, hint in _HINTS if marker.lower() in lowered), "")


def reason_name(code: int) -> str:
    names = {
        0x10: "no matching subscribers",
        0x80: "unspecified error",
        0x83: "implementation specific error",
        0x87: "not authorized",
        0x90: "topic name invalid",
        0x91: "packet identifier in use",
        0x97: "quota exceeded",
        0x99: "payload format invalid",
    }
    return names.get(code, f"reason code 0x{code:02x}")

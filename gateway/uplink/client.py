"""An aiomqtt client that reports the broker's PUBACK reason code.

aiomqtt resolves a QoS 1 publish when the PUBACK arrives but drops its reason code,
so a publish the broker refused (e.g. 0x87 "not authorized" from an ACL) looks
delivered. This subclass records the code per message id and returns it.
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

"""The status snapshot as a frozen, typed model, and its JSON.

The JSON is the document the agent writes to ``<state_dir>/status.json`` and that
`lvgw status --json` and the status page's ``/api/status`` print (they add
``agent_state``): an object with ``site``, ``generated_at``, ``agent``, ``uplink``,
``devices`` and ``open_tickets``. Times are RFC 3339 UTC with milliseconds
(``2026-11-20T09:29:40.000Z``); the model keeps them as aware UTC datetimes cut to
the millisecond, so a snapshot read back from its JSON equals the one written.
Keys a newer agent adds are ignored by an older reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from gateway.model import Level, Value
from gateway.tickets.wire import rfc3339


def _utc_milliseconds(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time without a time zone")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _rfc3339(value: datetime) -> str:
    return rfc3339(value) or ""


Timestamp = Annotated[
    datetime,
    AfterValidator(_utc_milliseconds),
    PlainSerializer(_rfc3339, return_type=str, when_used="json"),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SiteInfo(_Frozen):
    id: str
    name: str
    customer: str  # the customer's name


class IntakeStatus(_Frozen):
    """What a receiver of messages that devices push (the DC-09 receiver) took and
    refused since the agent started; refusals by cause."""

    accepted: int = 0
    duplicates: int = 0  # taken again (a retransmission or a replay): answered, not used
    refused: Mapping[str, int] = {}


class AgentInfo(_Frozen):
    version: str
    pid: int
    # Parts that failed and are being restarted (gateway/supervisor.py), and how often
    # each part has failed since the agent started; in the JSON only when not empty.
    degraded: tuple[str, ...] = ()
    failures: Mapping[str, int] = {}
    # The push sources that count what they take, by name ("sia"); only when there are.
    intake: Mapping[str, IntakeStatus] = {}

    @model_serializer(mode="wrap")
    def _only_when_something_failed(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for key in ("degraded", "failures", "intake"):
                if not data.get(key):
                    data.pop(key, None)
        return data


class UplinkStatus(_Frozen):
    """The MQTT uplink's figures when the snapshot was taken."""

    connected: bool = False
    protocol: str = ""  # the MQTT protocol version in use ("5", "3.1.1")
    delivered: int = 0
    refused: int = 0  # PUBACKs with a failure reason code
    last_refusal: str | None = None
    backlog: Mapping[str, int] = {}  # messages waiting, by outbox class (only classes with some)


class ReadingValue(_Frozen):
    value: Value
    unit: str = ""


class DeviceStatus(_Frozen):
    id: str
    name: str = ""
    kind: str
    address: str
    parent: str | None = None
    reachable: bool | None = None  # None: not polled yet
    last_poll: Timestamp | None = None
    error: str | None = None
    worst_level: Level | None = None  # the most severe open ticket listing the device
    readings: Mapping[str, ReadingValue] = {}  # a few scalar readings, by point
    # Table states and labels (disk status, zone and port names): point -> instance -> text.
    tables: Mapping[str, Mapping[str, str]] = {}
    # The readings that carry a meaning in the device's profile (gateway/config/meanings.py),
    # by reading, then instance ("" for a scalar): what the summaries and the device
    # page's tables are made of (disk free and capacity, port errors, charge...).
    meant: Mapping[str, Mapping[str, Value]] = {}

    @model_serializer(mode="wrap")
    def _meant_only_when_read(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and not data.get("meant"):
            data.pop("meant", None)  # a document without figures reads as it always did
        return data


class TicketStatus(_Frozen):
    """One open ticket with its deadlines."""

    ticket_id: str
    device: str
    fault: str
    instance: str | None = None
    severity: Level
    title: str
    occurred_at: Timestamp
    response_due: Timestamp | None = None
    onsite_due: Timestamp | None = None
    acknowledged_by: str | None = None
    related_devices: tuple[str, ...] = ()

    def concerns(self, device_id: str) -> bool:
        """Filed against the device, or lists it among the incident's devices."""
        return self.device == device_id or device_id in self.related_devices


class StatusSnapshot(_Frozen):
    site: SiteInfo
    generated_at: Timestamp
    agent: AgentInfo
    uplink: UplinkStatus = UplinkStatus()
    devices: tuple[DeviceStatus, ...] = ()
    open_tickets: tuple[TicketStatus, ...] = ()  # most severe first, then oldest

    def device(self, device_id: str) -> DeviceStatus | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def tables(self, device_id: str) -> Mapping[str, Mapping[str, str]]:
        """A device's table states and labels (none for a device not in the snapshot)."""
        device = self.device(device_id)
        return {} if device is None else device.tables

    def to_jsonable(self) -> dict[str, Any]:
        """The JSON document as Python values (for ``json.dump``). A device entry
        that is the same object as in the previous call (the agent rebuilds only the
        devices that changed) is not converted again."""
        global _DEVICE_JSON
        data = self.model_dump(mode="json", exclude={"devices"})
        known, made = _DEVICE_JSON, {}
        devices = []
        for device in self.devices:
            found = known.get(id(device))
            jsonable = found[1] if found is not None and found[0] is device else None
            if jsonable is None:
                jsonable = device.model_dump(mode="json")
            made[id(device)] = (device, jsonable)
            devices.append(jsonable)
        _DEVICE_JSON = made  # only this snapshot's devices: the cache stays bounded
        return {key: devices if key == "devices" else data[key] for key in _FIELD_ORDER}

    def to_json(self) -> str:
        """The JSON document as text: what ``json.dumps(self.to_jsonable(),
        ensure_ascii=False)`` gives, but a device entry that is the same object as in
        the previous call keeps its text (the agent writes the file every few seconds
        and rebuilds only the devices that were polled since: at a thousand devices
        encoding them all again was most of the file's cost)."""
        global _DEVICE_TEXT
        data = self.model_dump(mode="json", exclude={"devices"})
        known, made = _DEVICE_TEXT, {}
        texts = []
        for device in self.devices:
            found = known.get(id(device))
            text = found[1] if found is not None and found[0] is device else None
            if text is None:
                text = json.dumps(device.model_dump(mode="json"), ensure_ascii=False)
            made[id(device)] = (device, text)
            texts.append(text)
        _DEVICE_TEXT = made  # only this snapshot's devices: the cache stays bounded
        # json.dumps's own layout: ", " between items, ": " after a key.
        fields = (
            json.dumps(key, ensure_ascii=False)
            + ": "
            + ("[" + ", ".join(texts) + "]" if key == "devices" else _text(data[key]))
            for key in _FIELD_ORDER
        )
        return "{" + ", ".join(fields) + "}"

    @classmethod
    def from_json(cls, text: str | bytes) -> StatusSnapshot:
        """Raises ``ValueError`` (a pydantic ``ValidationError``) for a document that is
        not a status snapshot."""
        return cls.model_validate_json(text)


# Field order of the document (as model_dump gives it).
_FIELD_ORDER = tuple(StatusSnapshot.model_fields)
# The JSON form of the device entries of the last snapshot converted, by object id
# (the entry is kept beside it, so the id cannot be reused while it is cached).
_DEVICE_JSON: dict[int, tuple[DeviceStatus, dict[str, Any]]] = {}
# The same for `StatusSnapshot.to_json`: each device entry's JSON text.
_DEVICE_TEXT: dict[int, tuple[DeviceStatus, str]] = {}


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)

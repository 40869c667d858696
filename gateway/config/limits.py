"""Bounds on everything that comes from outside the box (docs/security.md).

Each is a documented default a site may change in its ``limits:`` section; the
defaults hold a Raspberry Pi-class box within a few tens of MB whatever a device, a
LAN neighbour or a broker client sends.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gateway.config.types import ByteSize, Duration
from gateway.logs import LINE_CHARS, LINES_PER_MINUTE

MiB = 1024 * 1024


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Polls: a device (or something answering in its place) decides how much it sends.
    poll_deadline: Duration = 60.0  # a poll that takes longer fails: device unreachable
    poll_bytes: ByteSize = 8 * MiB  # values and OIDs received in one poll
    walk_bytes: ByteSize = 4 * MiB  # values and OIDs received in one table walk
    walk_varbinds: Annotated[int, Field(ge=1)] = 100_000  # rows x columns of one walk
    # Caches of what devices send: bounded in bytes (an agent picks its OIDs' length).
    oid_cache_bytes: ByteSize = 4 * MiB  # each of the two OID caches of the SNMP codec
    # Recent samples the embedded metric store keeps in memory for charts; older ones
    # are read from its file (thousands of series polled every second would grow it).
    metrics_recent_bytes: Annotated[ByteSize, Field(ge=65536)] = 16 * MiB
    # Rows read of a Modbus table sized by a point (count_point), whatever count the
    # device reports; and the read plans kept per device for such tables (about 1.3 MB
    # each at 1,024 rows): a device that changes its count at every poll is re-planned.
    modbus_table_rows: Annotated[int, Field(ge=1, le=65535)] = 1024
    modbus_plans: Annotated[int, Field(ge=1, le=64)] = 2

    # Traps: anyone on the LAN can send them, from any address.
    trap_poll_every: Duration = 10.0  # at most one trap-asked poll per device this often
    trap_senders: Annotated[int, Field(ge=1)] = 1024  # unknown senders remembered
    trap_oids: Annotated[int, Field(ge=1)] = 1024  # undeclared trap OIDs remembered
    trap_queue_bytes: Annotated[ByteSize, Field(ge=65536)] = 8 * MiB  # received, not yet handled

    # HTTP device APIs (ISAPI, Dahua) and AMI sessions: answers and event streams the
    # device sizes.
    http_answer_bytes: ByteSize = 1 * MiB  # one answer to one request
    event_line_bytes: Annotated[ByteSize, Field(ge=256)] = 8 * 1024  # a line of an event stream
    event_part_bytes: Annotated[ByteSize, Field(ge=1024)] = 64 * 1024  # one event of a stream
    event_idle: Duration = 90.0  # a stream silent this long (no heartbeat) is reconnected
    event_backoff_max: Duration = 300.0  # the longest wait between two reconnects

    # MQTT: anyone with publish rights on the broker can send acks and commands.
    mqtt_inbound_queue: Annotated[int, Field(ge=1)] = 100  # received, not yet handled
    # One reply message at most; a longer answer (a report) goes in numbered parts.
    mqtt_reply_bytes: Annotated[ByteSize, Field(ge=4096, le=16 * MiB)] = 64 * 1024

    # DC-09 receiver: any host that reaches its port can connect and send.
    sia_connections: Annotated[int, Field(ge=1, le=4096)] = 64  # TCP connections at once
    sia_queue: Annotated[int, Field(ge=1)] = 1024  # messages acknowledged, not yet handled

    # Logs: what outsiders send ends up in log lines.
    log_line_chars: Annotated[int, Field(ge=200)] = LINE_CHARS  # a longer line is cut
    log_lines_per_minute: Annotated[int, Field(ge=1)] = LINES_PER_MINUTE  # per kind of line


DEFAULT_LIMITS = Limits()

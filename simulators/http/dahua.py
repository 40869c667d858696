"""A simulated NVR's Dahua HTTP API: the answers a recorder gives, from its model.

Answers are ``key=value`` lines (CR LF), as the Dahua HTTP API documents and
python-amcrest reads them: ``magicBox.cgi`` (machine name, system info, software
version), ``global.cgi?action=getCurrentTime`` (the wall clock, no offset),
``storageDevice.cgi?action=getDeviceAllInfo`` (per disk ``list.info[N]``: ``Name``,
``State``, and per partition ``Detail[M]``: ``Path``, ``Type``, ``TotalBytes``,
``UsedBytes``, ``IsError``), ``configManager.cgi?action=getConfig`` of
``ChannelTitle`` and ``RecordMode`` (``Mode`` 0 automatic, 1 manual, 2 stop),
``eventManager.cgi?action=getEventIndexes`` (``channels[K]=N``, the channels, from 0,
where the event is on; ``Error`` when there are none) and the ``attach`` stream's
parts (``Code=VideoLoss;action=Start;index=0``, ``Heartbeat``). A request the
recorder does not know is answered ``Error`` / ``Bad Request!`` with status 400.
"""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from simulators.models.events import DiskChanged, Event, VideoChanged
from simulators.models.nvr import DISK_NORMAL, Disk, NvrModel

MODEL = "DHI-NVR5216-16P-4KS2"
SOFTWARE = "4.001.0000000.3.R,build:2023-05-18"
BOUNDARY = "myboundary"
MiB = 1024 * 1024
PARTITIONS = 2  # each disk is split in two, as recorders do
ERROR = "Error\r\nBad Request!\r\n"
NO_EVENTS = "Error\r\n"


def lines(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f"{key}={value}\r\n" for key, value in pairs)


def serial(model: NvrModel) -> str:
    return f"7K{zlib.crc32(model.id.encode()) % 10**11:011d}"


def machine_name(model: NvrModel, zone: ZoneInfo) -> str:
    return lines([("name", model.id)])


def system_info(model: NvrModel, zone: ZoneInfo) -> str:
    return lines(
        [
            ("appAutoStart", "true"),
            ("deviceType", MODEL),
            ("hardwareVersion", "1.00"),
            ("processor", "ST7108"),
            ("serialNumber", serial(model)),
            ("updateSerial", MODEL.removeprefix("DHI-")),
        ]
    )


def software_version(model: NvrModel, zone: ZoneInfo) -> str:
    return lines([("version", SOFTWARE)])


def device_type(model: NvrModel, zone: ZoneInfo) -> str:
    return lines([("type", MODEL)])


def serial_no(model: NvrModel, zone: ZoneInfo) -> str:
    return lines([("sn", serial(model))])


def vendor(model: NvrModel, zone: ZoneInfo) -> str:
    return lines([("vendor", "Dahua")])


def current_time(model: NvrModel, zone: ZoneInfo) -> str:
    """The recorder's wall clock in its time zone, without an offset."""
    wall = datetime.datetime.fromtimestamp(model.wall_clock(), zone)
    return lines([("result", wall.strftime("%Y-%m-%d %H:%M:%S"))])


def _partitions(model: NvrModel, disk: Disk) -> list[tuple[int, int]]:
    """(total, used) bytes of each partition; the first fills first."""
    first = disk.capacity_mb // PARTITIONS
    sizes = [first] * (PARTITIONS - 1) + [disk.capacity_mb - first * (PARTITIONS - 1)]
    used = disk.capacity_mb - disk.free_mb(model.now)
    out = []
    for size in sizes:
        taken = min(used, size)
        used -= taken
        out.append((size * MiB, taken * MiB))
    return out


def storage(model: NvrModel, zone: ZoneInfo) -> str:
    """Every disk: healthy ``Success``; a failed disk ``Failure``, its partitions in error."""
    pairs: list[tuple[str, object]] = []
    for n, disk in enumerate(model.disks):
        failed = disk.status != DISK_NORMAL
        name = f"/dev/sd{chr(ord('a') + n % 26)}"
        for m, (total, used) in enumerate(_partitions(model, disk)):
            detail = f"list.info[{n}].Detail[{m}]"
            pairs += [
                (f"{detail}.IsError", "true" if failed else "false"),
                (f"{detail}.Path", f"{name}{m}"),
                (f"{detail}.TotalBytes", f"{total:.6f}"),
                (f"{detail}.Type", "ReadWrite"),
                (f"{detail}.UsedBytes", f"{used:.6f}"),
            ]
        pairs += [
            (f"list.info[{n}].Name", name),
            (f"list.info[{n}].State", "Failure" if failed else "Success"),
        ]
    return lines(pairs)


def channel_titles(model: NvrModel) -> str:
    return lines((f"table.ChannelTitle[{c.channel - 1}].Name", c.name) for c in model.cameras)


def record_modes(model: NvrModel) -> str:
    """Mode 0 (automatic: the schedule) while a channel records, 2 (stop) when the
    recorder stopped recording (the model's recording_stopped fault)."""
    return lines(
        (
            f"table.RecordMode[{c.channel - 1}].Mode",
            0 if model.recording_enabled and c.recording else 2,
        )
        for c in model.cameras
    )


CONFIGS: dict[str, Callable[[NvrModel], str]] = {
    "ChannelTitle": channel_titles,
    "RecordMode": record_modes,
}


def event_indexes(model: NvrModel, code: str) -> str:
    """The channels (from 0) where the event is on, or ``Error`` when there are none."""
    if code == "VideoLoss":
        on = [c.channel - 1 for c in model.cameras if not c.online]
    elif code == "StorageFailure":
        on = [d.index - 1 for d in model.disks if d.status != DISK_NORMAL]
    else:
        on = []
    return lines((f"channels[{k}]", n) for k, n in enumerate(on)) if on else NO_EVENTS


def event_text(event: Event) -> tuple[str, str] | None:
    """(code, part text) of a model event on the attach stream; None if it is none."""
    if isinstance(event, VideoChanged):
        action = "Start" if event.lost else "Stop"
        return "VideoLoss", f"Code=VideoLoss;action={action};index={event.channel - 1}"
    if isinstance(event, DiskChanged):
        action = "Start" if event.failed else "Stop"
        return "StorageFailure", f"Code=StorageFailure;action={action};index={event.disk - 1}"
    return None


def stream_part(text: str) -> bytes:
    """One part, as in the API's example: an event's length counts its line's CR LF
    (``Code=VideoMotion;action=Start;index=0`` is 39), the heartbeat's does not (9)."""
    length = len(text) if text == "Heartbeat" else len(text) + 2
    head = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    return (head + text + "\r\n\r\n").encode("utf-8")


MAGIC_BOX: dict[str, Callable[[NvrModel, ZoneInfo], str]] = {
    "getMachineName": machine_name,
    "getSystemInfo": system_info,
    "getSoftwareVersion": software_version,
    "getDeviceType": device_type,
    "getSerialNo": serial_no,
    "getVendor": vendor,
}

"""A simulated NVR's Hikvision ISAPI: the documents a recorder serves, from its model.

Written from Hikvision's "Intelligent Security API (ISAPI)" documents as the peers
quote them (docs/isapi.md cites each): the root elements, their default namespace
``http://www.hikvision.com/ver20/XMLSchema`` and ``version="2.0"``, the HDD status
words (``ok``, ``unformatted``, ``error``, ``smartFailed``, ``mismatch``, ``idle``,
``offline``, ``reparing``, ``formating``: the firmware's spelling), channel
``online`` as ``true``/``false``, and the ``alertStream``: an endless
``multipart/mixed`` body of ``EventNotificationAlert`` parts.
"""

from __future__ import annotations

import datetime
import zlib
from typing import Any
from xml.sax.saxutils import escape

from simulators.models.nvr import Camera, Disk, NvrModel

NS = "http://www.hikvision.com/ver20/XMLSchema"
BOUNDARY = "boundary"

# hikDiskStatus codes of the model -> the ISAPI words for the same states.
HDD_STATUS = {
    0: "ok",
    1: "unformatted",
    2: "error",
    3: "smartFailed",
    4: "mismatch",
    5: "idle",
    6: "offline",
    10: "reparing",
    11: "formating",
}


def _doc(root: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} version="2.0" xmlns="{NS}">\n{body}</{root}>\n'
    )


def _el(name: str, value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>\n"


def _serial(model: NvrModel) -> str:
    return f"DS-7716NI-K41620210101CCRR{zlib.crc32(model.id.encode()) % 10**9:09d}"


def device_info(model: NvrModel) -> str:
    flavour = model.device.flavour
    return _doc(
        "DeviceInfo",
        _el("deviceName", model.id)
        + _el(
            "deviceID",
            f"48363230-3531-3{zlib.crc32(model.id.encode()) % 1000:03d}-3030-c42f90a1b2c3",
        )
        + _el("model", getattr(flavour, "model", "DS-7716NI-K4"))
        + _el("serialNumber", _serial(model))
        + _el("macAddress", "c4:2f:90:a1:b2:c3")
        + _el("firmwareVersion", "V4.62.210")
        + _el("firmwareReleasedDate", "build 230512")
        + _el("deviceType", "NVR"),
    )


def _local_time(model: NvrModel) -> str:
    wall = datetime.datetime.fromtimestamp(model.wall_clock(), datetime.UTC)
    return wall.replace(microsecond=0).isoformat()  # 2026-12-06T01:02:03+00:00


def device_status(model: NvrModel) -> str:
    return _doc(
        "DeviceStatus",
        _el("currentDeviceTime", _local_time(model))
        + _el("deviceUpTime", int(model.uptime()))
        + "<CPUList>\n<CPU>\n"
        + _el("cpuDescription", "2786.91")
        + _el("cpuUtilization", 12)
        + "</CPU>\n</CPUList>\n<MemoryList>\n<Memory>\n"
        + _el("memoryDescription", "DDR Memory")
        + _el("memoryUsage", model.memory_usage())
        + _el("memoryAvailable", 100 - model.memory_usage())
        + "</Memory>\n</MemoryList>\n",
    )


def time_doc(model: NvrModel) -> str:
    return _doc(
        "Time",
        _el("timeMode", "NTP")
        + _el("localTime", _local_time(model))
        + _el("timeZone", "CST+0:00:00"),
    )


def _hdd(model: NvrModel, disk: Disk) -> str:
    return (
        f'<hdd version="2.0" xmlns="{NS}">\n'
        + _el("id", disk.index)
        + _el("hddName", f"hdd{disk.index}")
        + "<hddPath></hddPath>\n"
        + _el("hddType", "SATA")
        + _el("status", HDD_STATUS.get(disk.status, "error"))
        + _el("capacity", disk.capacity_mb)
        + _el("freeSpace", disk.free_mb(model.now))
        + _el("property", "RW")
        + "</hdd>\n"
    )


def hdd_list(model: NvrModel) -> str:
    return _doc("hddList", "".join(_hdd(model, d) for d in model.disks))


def storage(model: NvrModel) -> str:
    hdds = "".join(_hdd(model, d) for d in model.disks)
    return _doc(
        "storage",
        f'<hddList version="2.0">\n{hdds}</hddList>\n<nasList version="2.0"></nasList>\n'
        + _el("workMode", "group"),
    )


def _source(camera: Camera) -> str:
    return (
        "<sourceInputPortDescriptor>\n"
        + _el("proxyProtocol", "HIKVISION")
        + _el("addressingFormatType", "ipaddress")
        + _el("ipAddress", f"192.168.254.{camera.channel + 1}")
        + _el("managePortNo", 8000)
        + _el("srcInputPort", 1)
        + _el("userName", "admin")
        + _el("streamType", "auto")
        + "</sourceInputPortDescriptor>\n"
    )


def input_proxy_channels(model: NvrModel) -> str:
    body = "".join(
        '<InputProxyChannel version="2.0">\n'
        + _el("id", c.channel)
        + _el("name", c.name)
        + _source(c)
        + "</InputProxyChannel>\n"
        for c in model.cameras
    )
    return _doc("InputProxyChannelList", body)


def input_proxy_status(model: NvrModel) -> str:
    body = "".join(
        "<InputProxyChannelStatus>\n"
        + _el("id", c.channel)
        + _source(c)
        + _el("online", c.online)
        + _el("chanDetectResult", "connect" if c.online else "offline")
        + "</InputProxyChannelStatus>\n"
        for c in model.cameras
    )
    return _doc("InputProxyChannelStatusList", body)


def record_tracks(model: NvrModel) -> str:
    """One main-stream track per channel (id = channel * 100 + 1). The record schedule
    is enabled while the channel records: a recorder that stopped recording (the
    model's recording_stopped fault) shows every schedule off."""
    body = ""
    for c in model.cameras:
        track = c.channel * 100 + 1
        body += (
            '<Track version="2.0">\n'
            + _el("id", track)
            + _el("Channel", track)
            + _el("Enable", True)
            + _el("Description", "trackType=standard,trackStreamType=main")
            + _el("Duration", "P10DT0H0M0S")
            + _el("DefaultRecordingMode", "CMR")
            + _el("LoopEnable", True)
            + "<SrcDescriptor>\n"
            + _el("SrcChannel", c.channel)
            + _el("StreamHint", "trackType=standard,trackStreamType=main")
            + _el("SrcDriver", "RTSP")
            + _el("SrcType", "DV")
            + "</SrcDescriptor>\n<CustomExtensionList>\n<CustomExtension>\n"
            + _el("enableSchedule", model.recording_enabled and c.recording)
            + _el("SaveAudio", False)
            + _el("PreRecordTimeSeconds", 5)
            + _el("PostRecordTimeSeconds", 5)
            + "</CustomExtension>\n</CustomExtensionList>\n</Track>\n"
        )
    return _doc("TrackList", body)


def event_triggers(model: NvrModel) -> str:
    """The events the recorder notifies the surveillance centre of."""

    def trigger(ident: str, event_type: str, channel: int | None) -> str:
        chan = _el("videoInputChannelID", channel) if channel else ""
        return (
            "<EventTrigger>\n"
            + _el("id", ident)
            + _el("eventType", event_type)
            + chan
            + "<EventTriggerNotificationList>\n<EventTriggerNotification>\n"
            + _el("id", "center")
            + _el("notificationMethod", "center")
            + "</EventTriggerNotification>\n</EventTriggerNotificationList>\n</EventTrigger>\n"
        )

    body = "".join(trigger(f"VL-{c.channel}", "videoloss", c.channel) for c in model.cameras)
    body += trigger("diskerror", "diskerror", None) + trigger("illaccess", "illaccess", None)
    return _doc("EventTriggerList", body)


def response_status(url: str, code: int, text: str, sub: str) -> str:
    """ISAPI's error document (statusCode 4 "Invalid Operation" for an unknown URL)."""
    return _doc(
        "ResponseStatus",
        _el("requestURL", url) + _el("statusCode", code) + _el("statusString", text)
        + _el("subStatusCode", sub),
    )  # fmt: skip


def alert(model: NvrModel, event_type: str, state: str, channel: int | None, text: str) -> str:
    """One ``EventNotificationAlert`` of the alertStream."""
    body = (
        _el("ipAddress", model.device.address)
        + _el("portNo", model.device.port or 80)
        + _el("protocol", "HTTP")
        + _el("macAddress", "c4:2f:90:a1:b2:c3")
        + (_el("channelID", channel) if channel is not None else "")
        + _el("dateTime", _local_time(model))
        + _el("activePostCount", 1)
        + _el("eventType", event_type)
        + _el("eventState", state)
        + _el("eventDescription", text)
    )
    return _doc("EventNotificationAlert", body)


def stream_part(xml: str) -> bytes:
    data = xml.encode("utf-8")
    head = (
        f'--{BOUNDARY}\r\nContent-Type: application/xml; charset="UTF-8"\r\n'
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode("ascii") + data + b"\r\n"


DOCUMENTS = {
    "/ISAPI/System/deviceInfo": device_info,
    "/ISAPI/System/status": device_status,
    "/ISAPI/System/time": time_doc,
    "/ISAPI/ContentMgmt/Storage": storage,
    "/ISAPI/ContentMgmt/Storage/hdd": hdd_list,
    "/ISAPI/ContentMgmt/InputProxy/channels": input_proxy_channels,
    "/ISAPI/ContentMgmt/InputProxy/channels/status": input_proxy_status,
    "/ISAPI/ContentMgmt/record/tracks": record_tracks,
    "/ISAPI/Event/triggers": event_triggers,
}
ALERT_STREAM = "/ISAPI/Event/notification/alertStream"

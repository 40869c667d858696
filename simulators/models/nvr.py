"""A network video recorder: disks that fill while cameras record, camera channels
that can go offline, recording that can stop.

Recording writes the cameras' bit rates onto the healthy disks that still have room,
spread evenly; a full disk is overwritten from its oldest footage, so its free space
stays at zero (Hikvision's default "overwrite" mode).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from simulators.errors import FaultError
from simulators.models.base import Clock, DeviceModel, FaultSpec, Param, Ramp
from simulators.models.events import DiskChanged, VideoChanged

DISK_NORMAL = 0
DISK_FAILURE_CODES = {1, 2, 3, 4, 6}  # unformatted, abnormal, smartfailed, mismatch, offline


@dataclass(slots=True)
class Disk:
    index: int
    capacity_mb: int
    used_mb: Ramp
    status: int = DISK_NORMAL
    used_before_full: float | None = None

    def free_mb(self, now: float) -> int:
        return max(0, round(self.capacity_mb - self.used_mb.at(now)))


@dataclass(slots=True)
class Camera:
    channel: int
    kbps: int
    online: bool = True
    recording: bool = True
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.name = self.name or f"Camera {self.channel:02d}"


class NvrModel(DeviceModel):
    kind = "nvr"

    FAULTS = {
        "disk_failed": FaultSpec(
            "disk_failed",
            "a disk fails: hikDiskStatus abnormal(2) (or --set status=3 smartfailed, 6 offline)",
            (
                Param("disk", int, "disk number", maximum=lambda m: len(m.disks)),
                Param("status", int, "hikDiskStatus code", default=2),
            ),
        ),
        "disk_full": FaultSpec(
            "disk_full",
            "a disk has no free space left",
            (Param("disk", int, "disk number", maximum=lambda m: len(m.disks)),),
        ),
        "camera_offline": FaultSpec(
            "camera_offline",
            "camera channels lose video: --set channel=N, or --set count=K for channels 1..K",
            (
                Param("channel", int, "channel", default=None, maximum=lambda m: len(m.cameras)),
                Param(
                    "count",
                    int,
                    "channels 1..count",
                    default=None,
                    maximum=lambda m: len(m.cameras),
                ),
            ),
        ),
        "recording_stopped": FaultSpec(
            "recording_stopped", "the NVR stops recording every channel (disks stop filling)"
        ),
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        spec = device.spec
        rng = random.Random(f"{device.id}/disks")
        self.disks = [
            Disk(n, spec.disk_capacity_mb, Ramp(0.0, self.now, hi=spec.disk_capacity_mb))
            for n in range(1, spec.disks + 1)
        ]
        for disk in self.disks:
            disk.used_mb.set(self.now, value=disk.capacity_mb * rng.uniform(0.35, 0.8))
        self.cameras = [Camera(n, spec.camera_kbps) for n in range(1, spec.cameras + 1)]
        self.recording_enabled = True
        self._rebalance()

    # -- behaviour -------------------------------------------------------------------

    def recording(self) -> bool:
        return self.recording_enabled and any(c.recording and c.online for c in self.cameras)

    def memory_usage(self) -> int:
        return 38 + sum(c.online for c in self.cameras) // 4

    def _rebalance(self) -> None:
        """Spread the recorded bit rate over the healthy disks that have room."""
        now = self.now
        kbps = sum(c.kbps for c in self.cameras if c.online and c.recording)
        rate_mb = kbps / 8 / 1024 if self.recording_enabled else 0.0
        writable = [d for d in self.disks if d.status == DISK_NORMAL and d.free_mb(now) > 0]
        for disk in self.disks:
            share = rate_mb / len(writable) if disk in writable else 0.0
            disk.used_mb.set(now, rate=share)

    def refresh(self, now: float | None = None) -> None:
        super().refresh(now)
        if any(d.used_mb.rate and d.free_mb(self.now) == 0 for d in self.disks):
            self._rebalance()  # a disk just filled up: the others take its share

    # -- faults ----------------------------------------------------------------------

    def _inject_disk_failed(self, disk: int, status: int) -> None:
        if status not in DISK_FAILURE_CODES:
            raise FaultError(f"disk_failed: status must be one of {sorted(DISK_FAILURE_CODES)}")
        self.disks[disk - 1].status = status
        self._rebalance()
        self.emit(DiskChanged(disk, failed=True))

    def _clear_disk_failed(self, disk: int, status: int) -> None:
        self.disks[disk - 1].status = DISK_NORMAL
        self._rebalance()
        self.emit(DiskChanged(disk, failed=False))

    def _inject_disk_full(self, disk: int) -> None:
        target = self.disks[disk - 1]
        target.used_before_full = target.used_mb.at(self.now)
        target.used_mb.set(self.now, value=target.capacity_mb)
        self._rebalance()

    def _clear_disk_full(self, disk: int) -> None:
        target = self.disks[disk - 1]
        target.used_mb.set(self.now, value=target.used_before_full or 0.0)
        self._rebalance()

    def _offline_channels(self, channel: int | None, count: int | None) -> list[Camera]:
        if (channel is None) == (count is None):
            raise FaultError("camera_offline needs exactly one of --set channel=N or count=K")
        if channel is not None:
            return [self.cameras[channel - 1]]
        return self.cameras[: int(count or 0)]

    def _inject_camera_offline(self, channel: int | None = None, count: int | None = None) -> None:
        for camera in self._offline_channels(channel, count):
            if camera.online:
                camera.online = False
                self.emit(VideoChanged(camera.channel, lost=True))
        self._rebalance()

    def _clear_camera_offline(self, channel: int | None = None, count: int | None = None) -> None:
        for camera in self._offline_channels(channel, count):
            still_off = any(
                f.name == "camera_offline" and _covers(f.params, camera.channel)
                for f in self.active
            )
            if not camera.online and not still_off:
                camera.online = True
                self.emit(VideoChanged(camera.channel, lost=False))
        self._rebalance()

    def _inject_recording_stopped(self) -> None:
        self.recording_enabled = False
        self._rebalance()

    def _clear_recording_stopped(self) -> None:
        self.recording_enabled = True
        self._rebalance()


def _covers(params: Any, channel: int) -> bool:
    if "channel" in params:
        return bool(params["channel"] == channel)
    return bool(channel <= int(params.get("count", 0)))

"""What a simulated NVR serves: system group, HIKVISION-MIB scalars and disk table
(enterprise 50001), and camera channels under the simulation subtree
1.3.6.1.4.1.50001.99 (a convention of these simulators, see docs/simulators.md);
and its traps, also under that subtree. A Synology flavour serves Synology's MIBs
instead (synology_mib), and no traps."""

from __future__ import annotations

import functools
from typing import Any

from simulators.models.events import Booted, DiskChanged, Event, VideoChanged
from simulators.models.nvr import Camera, NvrModel
from simulators.snmp import synology_mib
from simulators.snmp.mibtree import OID, Gauge32, Integer, MibTree, OctetString, TreeBuilder, oid
from simulators.snmp.system_mib import COLD_START, add_system

HIK = "1.3.6.1.4.1.50001.1"
HIK_DISK_ENTRY = f"{HIK}.241.1"
SIM = "1.3.6.1.4.1.50001.99"
SIM_CAMERA_ENTRY = f"{SIM}.2.1"
TRAP_DISK_FAILED = oid(f"{SIM}.0.1")
TRAP_DISK_RECOVERED = oid(f"{SIM}.0.2")
TRAP_VIDEO_LOST = oid(f"{SIM}.0.3")
TRAP_VIDEO_RESTORED = oid(f"{SIM}.0.4")

Notification = tuple[OID, list[tuple[OID, Any]]]


def tree_for(model: NvrModel) -> MibTree:
    if model.device.flavour.vendor_mib == synology_mib.MODULE:
        return synology_mib.tree_for(model)
    return _tree(len(model.disks), len(model.cameras))


def _disk(read: Any) -> Any:
    return lambda index: lambda m: read(m, m.disks[index[0] - 1])


def _camera(read: Any) -> Any:
    return lambda index: lambda m: read(m, m.cameras[index[0] - 1])


@functools.cache
def _tree(disks: int, cameras: int) -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=72)  # applications
    tree.constant(f"{HIK}.100", Integer(2))  # hikEntityType: NVR
    tree.scalar(f"{HIK}.221", lambda m: Integer(m.memory_usage()))  # hikMemoryUsage, %
    tree.constant(f"{HIK}.230", Integer(1))  # hikDeviceStatus: online
    tree.constant(f"{HIK}.240", Integer(disks))  # hikDiskNum
    disk_rows: list[OID] = [(n,) for n in range(1, disks + 1)]

    def disk_col(number: int, read: Any) -> None:
        tree.column(f"{HIK_DISK_ENTRY}.{number}", disk_rows, _disk(read))

    disk_col(1, lambda m, d: Integer(d.index))  # hikDiskIndex
    disk_col(2, lambda m, d: OctetString(f"HDD{d.index}"))  # hikDiskVolume
    disk_col(3, lambda m, d: Integer(d.status))  # hikDiskStatus
    disk_col(4, lambda m, d: Integer(d.free_mb(m.now)))  # hikDiskFreeSpace, MB
    disk_col(5, lambda m, d: Integer(d.capacity_mb))  # hikDiskCapability, MB

    tree.constant(f"{SIM}.1", Integer(cameras))
    camera_rows: list[OID] = [(n,) for n in range(1, cameras + 1)]

    def camera_col(number: int, read: Any) -> None:
        tree.column(f"{SIM_CAMERA_ENTRY}.{number}", camera_rows, _camera(read))

    camera_col(1, lambda m, c: Integer(c.channel))
    camera_col(2, lambda m, c: OctetString(c.name))
    camera_col(3, lambda m, c: Integer(1 if c.online else 2))  # online 1, offline 2
    camera_col(4, lambda m, c: Integer(1 if _recording(m, c) else 2))  # recording 1, no 2
    camera_col(5, lambda m, c: Gauge32(c.kbps if c.online else 0))  # bit rate, kbit/s
    tree.scalar(f"{SIM}.3", lambda m: Integer(1 if m.recording() else 2))
    return tree.freeze()


def _recording(model: NvrModel, camera: Camera) -> bool:
    return model.recording_enabled and camera.online and camera.recording


def notifications(model: NvrModel, event: Event) -> list[Notification]:
    if model.device.flavour.vendor_mib == synology_mib.MODULE:
        return []  # DSM provides no SNMP trap capability (Synology's MIB guide)
    if isinstance(event, Booted):
        return [(COLD_START, [])]
    if isinstance(event, DiskChanged):
        disk = model.disks[event.disk - 1]
        varbinds = [
            (oid(f"{HIK_DISK_ENTRY}.1.{disk.index}"), Integer(disk.index)),
            (oid(f"{HIK_DISK_ENTRY}.3.{disk.index}"), Integer(disk.status)),
        ]
        return [(TRAP_DISK_FAILED if event.failed else TRAP_DISK_RECOVERED, varbinds)]
    if isinstance(event, VideoChanged):
        camera = model.cameras[event.channel - 1]
        varbinds = [
            (oid(f"{SIM_CAMERA_ENTRY}.1.{camera.channel}"), Integer(camera.channel)),
            (oid(f"{SIM_CAMERA_ENTRY}.2.{camera.channel}"), OctetString(camera.name)),
        ]
        return [(TRAP_VIDEO_LOST if event.lost else TRAP_VIDEO_RESTORED, varbinds)]
    return []

"""What a simulated Synology recorder serves (flavour ``synology-dva``): the system
group, HOST-RESOURCES-MIB's clock and Synology's SYNOLOGY-SYSTEM-MIB, SYNOLOGY-DISK-MIB
and SYNOLOGY-RAID-MIB (enterprise 6574) as the "Synology DiskStation MIB Guide" and
its MIB files publish them; nothing of HIKVISION-MIB nor the simulators' camera
subtree. No Synology MIB describes Surveillance Station's cameras, and DSM sends no
traps (the guide says so): the cameras record, but nothing of them is served.

The NVR model's disk states are shown as DSM shows them: a normal disk Normal(1);
an abnormal or missing one Crashed(5); a SMART failure a Normal disk whose
diskHealthStatus is Failing(4); an unformatted one NotInitialized(3); one of another
array Initialized(2). The disks form one volume ("Volume 1", a SHR-1 array that
survives one lost disk): Normal(1), Degrade(11) with one member lost, Crashed(12)
with more (or its only disk). The volume holds what its disks hold: its size and
free space are their sums, in bytes.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

from simulators.models.nvr import Disk, NvrModel
from simulators.snmp.mibtree import OID, Integer, MibTree, OctetString, TreeBuilder, counter64
from simulators.snmp.system_mib import add_system

SYNO_SYSTEM = "1.3.6.1.4.1.6574.1"
SYNO_DISK_ENTRY = "1.3.6.1.4.1.6574.2.1.1"
SYNO_RAID_ENTRY = "1.3.6.1.4.1.6574.3.1.1"
MODULE = "SYNOLOGY-SYSTEM-MIB"  # the flavour's vendor_mib; with it SYNOLOGY-DISK-MIB, -RAID-MIB

# SYNOLOGY-SYSTEM-MIB systemStatus, powerStatus, systemFanStatus, cpuFanStatus
NORMAL = 1
FAILED = 2
# SYNOLOGY-DISK-MIB diskStatus
DISK_NORMAL = 1
DISK_INITIALIZED = 2
DISK_NOT_INITIALIZED = 3
DISK_CRASHED = 5
# SYNOLOGY-DISK-MIB diskHealthStatus
HEALTH_NORMAL = 1
HEALTH_FAILING = 4
# SYNOLOGY-RAID-MIB raidStatus
RAID_NORMAL = 1
RAID_DEGRADE = 11
RAID_CRASHED = 12

# The NVR model's disk states (hikDiskStatus codes) as DSM's diskStatus.
_DISK_STATUS = {0: DISK_NORMAL, 1: DISK_NOT_INITIALIZED, 2: DISK_CRASHED, 3: DISK_NORMAL,
                4: DISK_INITIALIZED, 6: DISK_CRASHED}  # fmt: skip
_SMART_FAILED = 3
MB = 1024 * 1024
BOX_TEMPERATURE_C = 41
DSM_VERSION = "DSM 7.2-64570"


def tree_for(model: NvrModel) -> MibTree:
    return _tree(len(model.disks))


def disk_status(disk: Disk) -> int:
    return _DISK_STATUS.get(disk.status, DISK_CRASHED)


def raid_status(model: NvrModel) -> int:
    lost = sum(1 for d in model.disks if disk_status(d) != DISK_NORMAL)
    if lost == 0:
        return RAID_NORMAL
    return RAID_DEGRADE if lost == 1 and len(model.disks) > 1 else RAID_CRASHED


def _disk(read: Any) -> Any:
    return lambda index: lambda m: read(m, m.disks[index[0]])


@functools.cache
def _tree(disks: int) -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=72)
    # SYNOLOGY-SYSTEM-MIB: systemStatus is Failed(2) when a volume crashed.
    tree.scalar(f"{SYNO_SYSTEM}.1", lambda m: Integer(_system_status(m)))
    tree.constant(f"{SYNO_SYSTEM}.2", Integer(BOX_TEMPERATURE_C))  # temperature, C
    tree.constant(f"{SYNO_SYSTEM}.3", Integer(NORMAL))  # powerStatus
    tree.constant(f"{SYNO_SYSTEM}.4.1", Integer(NORMAL))  # systemFanStatus
    tree.constant(f"{SYNO_SYSTEM}.4.2", Integer(NORMAL))  # cpuFanStatus
    tree.scalar(f"{SYNO_SYSTEM}.5.1", lambda m: OctetString(m.device.flavour.model))  # modelName
    tree.scalar(f"{SYNO_SYSTEM}.5.2", lambda m: OctetString(_serial(m)))  # serialNumber
    tree.constant(f"{SYNO_SYSTEM}.5.3", OctetString(DSM_VERSION))  # version
    tree.constant(f"{SYNO_SYSTEM}.5.4", Integer(2))  # upgradeAvailable: Unavailable(2)

    # SYNOLOGY-DISK-MIB diskTable, diskIndex from 0 as DSM numbers its disks.
    rows: list[OID] = [(n,) for n in range(disks)]

    def disk_col(number: int, read: Any) -> None:
        tree.column(f"{SYNO_DISK_ENTRY}.{number}", rows, _disk(read))

    disk_col(1, lambda m, d: Integer(d.index - 1))  # diskIndex
    disk_col(2, lambda m, d: OctetString(f"Disk {d.index}"))  # diskID
    disk_col(3, lambda m, d: OctetString(_disk_model(d)))  # diskModel
    disk_col(4, lambda m, d: OctetString("SATA"))  # diskType
    disk_col(5, lambda m, d: Integer(disk_status(d)))  # diskStatus
    disk_col(6, lambda m, d: Integer(34 + d.index % 4))  # diskTemperature, C
    disk_col(7, lambda m, d: OctetString("data"))  # diskRole
    disk_col(8, lambda m, d: Integer(0))  # diskRetry
    disk_col(9, lambda m, d: Integer(0))  # diskBadSector
    disk_col(10, lambda m, d: Integer(0))  # diskIdentifyFail
    disk_col(12, lambda m, d: OctetString(f"Drive {d.index}"))  # diskName
    disk_col(13, lambda m, d: Integer(_health(d)))  # diskHealthStatus

    # SYNOLOGY-RAID-MIB raidTable: one volume; raidIndex is not-accessible.
    volume: list[OID] = [(0,)]
    tree.column(f"{SYNO_RAID_ENTRY}.2", volume, lambda i: lambda m: OctetString("Volume 1"))
    tree.column(f"{SYNO_RAID_ENTRY}.3", volume, lambda i: lambda m: Integer(raid_status(m)))
    tree.column(f"{SYNO_RAID_ENTRY}.4", volume, lambda i: lambda m: counter64(_free_bytes(m)))
    tree.column(f"{SYNO_RAID_ENTRY}.5", volume, lambda i: lambda m: counter64(_total_bytes(m)))
    return tree.freeze()


def _system_status(model: NvrModel) -> int:
    return FAILED if raid_status(model) == RAID_CRASHED else NORMAL


def _health(disk: Disk) -> int:
    return HEALTH_FAILING if disk.status == _SMART_FAILED else HEALTH_NORMAL


def _disk_model(disk: Disk) -> str:
    # Synology's own surveillance-grade drives: HAT3300-<size in TB>T.
    return f"HAT3300-{max(1, round(disk.capacity_mb * MB / 1e12))}T"


def _serial(model: NvrModel) -> str:
    return f"21{zlib.crc32(model.id.encode()):010d}"


def _free_bytes(model: NvrModel) -> int:
    return sum(d.free_mb(model.now) for d in model.disks) * MB


def _total_bytes(model: NvrModel) -> int:
    return sum(d.capacity_mb for d in model.disks) * MB

"""Storms: many devices going down together become one root-cause condition.

Two kinds, both on the device that still answers above the devices that do not:

- ``network.segment_down`` on a parent that answers while enough of the devices
  directly behind it stopped answering together (its ports or links to them are
  down); on the pseudo-device ``gateway`` when they are top-level devices.
- ``gateway.network_down`` on ``gateway`` when every top-level device stopped
  answering (nothing of the site can be reached), or when the gateway's own
  network link is down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.correlate.topology import GATEWAY
from gateway.i18n import Translator, translator
from gateway.model import Condition, Level, Reading

SEGMENT_DOWN = "network.segment_down"
GATEWAY_NETWORK_DOWN = "gateway.network_down"


@dataclass(frozen=True, slots=True)
class StormPolicy:
    """When devices behind one parent count as a storm.

    ``min_devices`` devices, or at least ``min_share`` of the parent's children (and
    never fewer than two), whose outages began within ``window`` seconds of each
    other. ``window`` None: one and a half times the longest poll interval among
    the parent's children, the spread that polling alone puts between devices that
    died at the same moment.
    """

    min_devices: int = 3
    min_share: float = 0.5
    window: float | None = None

    def __post_init__(self) -> None:
        if self.min_devices < 2:
            raise ValueError("a storm needs at least two devices (min_devices >= 2)")
        if not 0 < self.min_share <= 1:
            raise ValueError("min_share is a share of the children: 0 < min_share <= 1")
        if self.window is not None and self.window <= 0:
            raise ValueError("window must be greater than zero")

    def is_storm(self, down: int, children: int) -> bool:
        """Whether ``down`` of a parent's ``children`` going down together is a storm."""
        return down >= 2 and (down >= self.min_devices or down >= self.min_share * children)

    def window_for(self, longest_interval: float) -> timedelta:
        return timedelta(seconds=self.window or 1.5 * longest_interval)


@dataclass(slots=True)
class Storm:
    """An active storm: one condition listing the devices it stands for."""

    parent: str  # the device that still answers, or GATEWAY
    code: str
    since: datetime
    members: set[str] = field(default_factory=set)  # devices directly behind ``parent``
    link_problem: str | None = None  # the gateway's own link is down: why

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.parent, self.code, "")

    def base_level(self) -> Level:
        """Its own level, before the devices it lists raise it.

        A segment down is level 2: a major part of the system failed, the rest still
        works. Nothing answering at all is level 1: the gateway cannot tell a
        site-wide outage (every system paralysed) from its own connection failing,
        and a technician must go either way. The gateway's own link down is level 2:
        the site's systems most likely still work, and what is lost is their
        supervision, a fault that affects them indirectly.
        """
        if self.code == SEGMENT_DOWN or self.link_problem is not None:
            return Level.L2
        return Level.L1

    def inherits(self) -> bool:
        """Whether the devices it lists raise its level: not when the gateway's own
        link explains why they do not answer."""
        return self.link_problem is None

    def condition(
        self, level: Level, related: tuple[str, ...], tr: Translator | None = None
    ) -> Condition:
        """The storm's condition, titled in ``tr``'s language (English without one)."""
        evidence: tuple[Reading, ...] = ()
        if self.link_problem is not None:
            evidence = (Reading(GATEWAY, "network.link", self.link_problem, self.since),)
        return Condition(
            device=self.parent,
            code=self.code,
            level=level,
            title=self.title(tr or translator()),
            active=True,
            since=self.since,
            evidence=evidence,
            related=related,
        )

    def title(self, tr: Translator) -> str:
        _ = tr.gettext
        if self.code == SEGMENT_DOWN and self.parent == GATEWAY:
            return _("Devices of the site stopped answering together: a shared cause is likely")
        if self.code == SEGMENT_DOWN:
            return _(
                "Devices behind {parent} stopped answering together, though {parent} answers:"
                " its ports or links to them are down"
            ).format(parent=self.parent)
        if self.link_problem is not None:
            return _("The gateway's own network is down ({problem})").format(
                problem=self.link_problem
            )
        return _("No device of the site answers: the site's network or the gateway's link is down")

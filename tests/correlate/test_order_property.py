"""Property: what is passed on never depends on the order in which devices report.

Whatever the phase of each device's polling (who notices an outage first), the same
outage yields the same incidents: the same root conditions, listing the same devices
at the same level; and when everything comes back, nothing new is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import LoadedConfig
from tests.correlate.kit import SITE, T0, site_config
from tests.correlate.simulation import SiteRun, play
from tests.examples import examples

DEVICES = sorted(SITE)
Step = dict[str, Any]
Incidents = dict[tuple[str, str, str], tuple[int, frozenset[str]]]

phases = st.fixed_dictionaries({d: st.integers(0, 29) for d in DEVICES})
# (what goes wrong at 1m, what puts it right at 10m)
outages = st.one_of(
    st.sets(st.sampled_from(DEVICES), min_size=1).map(
        lambda ds: ({"kill": sorted(ds)}, {"revive": sorted(ds)})
    ),
    st.sampled_from(["sw-core", "sw-1", "sw-2"]).map(lambda p: ({"cut": p}, {"mend": p})),
    st.just(({"link": "down"}, {"link": "up"})),
)


def incidents_at(run: SiteRun, minutes: float) -> Incidents:
    """The incidents open at T0 + ``minutes``: key -> (level, devices listed)."""
    state: Incidents = {}
    for at, c in run.emitted:
        if at > T0 + timedelta(minutes=minutes):
            break
        if c.active:
            state[c.key] = (int(c.level), frozenset(c.related))
        else:
            state.pop(c.key, None)
    return state


def check(
    config: LoadedConfig,
    outage: tuple[Step, Step],
    first: Mapping[str, float],
    second: Mapping[str, float],
) -> None:
    wrong, right = outage
    timeline = [{"at": "1m", **wrong}, {"at": "10m", **right}]
    runs = [play(config, timeline, 16 * 60, phases=p) for p in (first, second)]
    during = [incidents_at(run, 8) for run in runs]
    assert during[0] == during[1]
    assert during[0], "the outage raised nothing"
    for run in runs:
        recovering = [c for at, c in run.emitted if at >= T0 + timedelta(minutes=10) and c.active]
        assert recovering == [], "something was raised while everything came back"
        assert run.open_incidents() == {}, "still open at the end"


def test_roots_do_not_depend_on_polling_order(tmp_path: Path) -> None:
    config = site_config(tmp_path)

    @settings(
        max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(outage=outages, first=phases, second=phases)
    def order_does_not_matter(
        outage: tuple[Step, Step], first: dict[str, int], second: dict[str, int]
    ) -> None:
        check(config, outage, first, second)

    order_does_not_matter()

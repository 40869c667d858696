"""Parent links and the core switch, proposed from what the switches know.

- Switch to switch: LLDP first (a neighbour is matched to a probed device by its
  management address, its chassis id or its sysName); where a switch says nothing over
  LLDP, its forwarding table (BRIDGE-MIB): two switches are adjacent when each learns
  the other and no third switch lies between them (one that both see on the port
  towards the other, and which sees them on different ports).
- The core: the switch with an ARP cache (the site's routing side) and the most
  switch neighbours; parents of the other switches follow from it, breadth first.
- Any other device: the switch that learned its MAC (from the ARP caches) on an edge
  port, one where no other switch is seen; or an LLDP neighbour seen on an edge port.
Nothing is guessed: a device with no such evidence, or with two candidates, gets no
parent and the draft says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gateway.discover.probe import Found

Key = tuple[str, int]  # address, port


def key_of(found: Found) -> Key:
    return found.address, found.port


def mac_text(mac: bytes) -> str:
    return ":".join(f"{octet:02x}" for octet in mac)


@dataclass(slots=True)
class Links:
    parents: dict[Key, tuple[Key, str]] = field(default_factory=dict)  # child -> parent, why
    core: Key | None = None
    core_why: str = ""
    no_parent: dict[Key, str] = field(default_factory=dict)  # why a device has none
    outside: list[str] = field(default_factory=list)  # neighbours seen but not probed


def propose(found: Sequence[Found], switches: Iterable[Key]) -> Links:
    by_key = {key_of(f): f for f in found}
    switch_keys = [k for k in switches if k in by_key]
    macs = _macs(found)
    links = Links()
    ports: dict[Key, dict[Key, tuple[int, str]]] = {k: {} for k in switch_keys}  # S -> T -> port
    resolve = _resolver(found, macs)
    for s in switch_keys:
        for n in by_key[s].neighbours.lldp:
            t = resolve(n.addresses, n.chassis, n.name)
            if t is None:
                if n.addresses or n.name:
                    seen = ", ".join(n.addresses) or "no address"
                    links.outside.append(
                        f"{n.name or mac_text(n.chassis)} ({seen}): LLDP neighbour of "
                        f"{_label(by_key[s])} on port {n.local_port}, not among the devices found"
                    )
                continue
            if t in ports and t != s:
                ports[s][t] = (n.local_port, "LLDP")
    _bridge_adjacency(by_key, switch_keys, macs, ports)
    edges = {s: set(ports[s]) | {t for t in switch_keys if s in ports[t]} for s in ports}
    links.core, links.core_why = _core(by_key, edges)
    if links.core is not None:
        _tree(by_key, links, ports, edges)
    for child in by_key:
        if child in switch_keys or child in links.parents:
            continue
        _end_device(by_key, child, switch_keys, ports, macs, links)
    for s in switch_keys:
        if s != links.core and s not in links.parents:
            links.no_parent[s] = "no link to the core switch was seen (LLDP or forwarding tables)"
    return links


def _label(found: Found) -> str:
    return found.identity.name or found.address


def _macs(found: Sequence[Found]) -> dict[Key, set[bytes]]:
    """Each device's MACs: its own ids, and what the ARP caches say of its address
    (only when no other device found shares that address)."""
    shared = Counter(f.address for f in found)
    arp: dict[str, set[bytes]] = {}
    for f in found:
        for address, mac in f.neighbours.arp.items():
            arp.setdefault(address, set()).add(mac)
    return {
        key_of(f): set(f.neighbours.own_ids)
        | (arp.get(f.address, set()) if shared[f.address] == 1 else set())
        for f in found
    }


def _resolver(
    found: Sequence[Found], macs: dict[Key, set[bytes]]
) -> Callable[[Sequence[str], bytes, str], Key | None]:
    addresses = Counter(f.address for f in found)
    names = Counter(f.identity.name for f in found if f.identity.name)

    def resolve(seen: Sequence[str], chassis: bytes, name: str) -> Key | None:
        for f in found:
            k = key_of(f)
            if chassis and chassis in macs[k]:
                return k
            if any(a == f.address and addresses[a] == 1 for a in seen):
                return k
            if name and name == f.identity.name and names[name] == 1:
                return k
        return None

    return resolve


def _bridge_adjacency(
    by_key: dict[Key, Found],
    switches: list[Key],
    macs: dict[Key, set[bytes]],
    ports: dict[Key, dict[Key, tuple[int, str]]],
) -> None:
    """Adjacent switches from the forwarding tables, for switches LLDP left alone."""

    def sees(s: Key, t: Key) -> int | None:
        fdb = by_key[s].neighbours.fdb
        return next((fdb[m] for m in macs[t] if m in fdb), None)

    for s in switches:
        if ports[s]:
            continue
        for t in switches:
            port, back = sees(s, t) if t != s else None, sees(t, s) if t != s else None
            if port is None or back is None:
                continue
            between = any(
                u not in (s, t)
                and sees(s, u) == port
                and (su := sees(u, s)) is not None
                and (tu := sees(u, t)) is not None
                and su != tu
                for u in switches
            )
            if not between:
                ports[s][t] = (port, "forwarding table")
                ports[t].setdefault(s, (back, "forwarding table"))


def _core(by_key: dict[Key, Found], edges: dict[Key, set[Key]]) -> tuple[Key | None, str]:
    if not edges:
        return None, ""

    def rank(k: Key) -> tuple[bool, int, tuple[int, ...]]:
        address = tuple(int(p) for p in k[0].split(".")) if "." in k[0] else ()
        return bool(by_key[k].neighbours.arp), len(edges[k]), tuple(-p for p in address)

    core = max(edges, key=rank)
    arp = "has the ARP cache of the site, " if by_key[core].neighbours.arp else ""
    return core, f"core switch: {arp}{len(edges[core])} switch neighbour(s)"


def _tree(
    by_key: dict[Key, Found],
    links: Links,
    ports: dict[Key, dict[Key, tuple[int, str]]],
    edges: dict[Key, set[Key]],
) -> None:
    assert links.core is not None
    queue, seen = [links.core], {links.core}
    while queue:
        s = queue.pop(0)
        for t in sorted(edges[s]):
            if t in seen:
                continue
            seen.add(t)
            queue.append(t)
            port, how = ports[s].get(t) or (ports[t][s][0], ports[t][s][1])
            where = f"port {port}" if t in ports[s] else f"its port {port}"
            links.parents[t] = (s, f"{how}: on {_label(by_key[s])} {where}")


def _end_device(
    by_key: dict[Key, Found],
    child: Key,
    switches: list[Key],
    ports: dict[Key, dict[Key, tuple[int, str]]],
    macs: dict[Key, set[bytes]],
    links: Links,
) -> None:
    candidates: list[tuple[Key, str]] = []
    for s in switches:
        uplinks = {port for port, _ in ports[s].values()}
        found = by_key[s]
        for n in found.neighbours.lldp:
            if n.local_port not in uplinks and (
                (n.chassis and n.chassis in macs[child])
                or (child[0] in n.addresses)
                or (n.name and n.name == by_key[child].identity.name)
            ):
                candidates.append((s, f"LLDP: on {_label(found)} port {n.local_port}"))
        fdb = found.neighbours.fdb
        for mac in macs[child]:
            port = fdb.get(mac)
            if port is None or port in uplinks:
                continue
            others = [m for t in switches if t != s for m in macs[t] if fdb.get(m) == port]
            if not others:
                why = f"forwarding table: {mac_text(mac)} on {_label(found)} port {port}"
                candidates.append((s, why))
    parents = {s for s, _ in candidates}
    if len(parents) == 1:
        links.parents[child] = candidates[0]
    elif parents:
        names = ", ".join(sorted(_label(by_key[s]) for s in parents))
        links.no_parent[child] = f"seen on edge ports of several switches ({names})"
    elif not macs[child]:
        links.no_parent[child] = "its MAC address is unknown (in no ARP cache read)"
    else:
        links.no_parent[child] = "not learned on an edge port of any switch found"

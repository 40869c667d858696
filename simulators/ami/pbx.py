"""What a simulated Asterisk answers over AMI, from the PBX model.

Each answer has the shape its Asterisk source gives it (Asterisk 22.10.1 for PJSIP and
the core, 20.20.1 for chan_sip):

- ``CoreStatus`` (main/manager.c ``action_corestatus``): start and reload date and time
  in the PBX's local time, ``CoreCurrentCalls`` (Asterisk puts its count of active
  channels there) and ``CoreProcessedCalls``;
- ``Ping``: ``Ping: Pong`` and the PBX's clock as ``Timestamp`` (seconds.micro);
- ``CoreShowChannels``: one ``CoreShowChannel`` per channel (two per call: the trunk's
  and the phone's, in one bridge), closed by ``CoreShowChannelsComplete``;
- ``PJSIPShowRegistrationsOutbound`` (res_pjsip_outbound_registration.c): one
  ``OutboundRegistrationDetail`` per trunk (its configuration, ``Status`` Registered
  or Rejected, ``NextReg``) followed by the ``AuthDetail`` of its outbound auth, closed
  by ``OutboundRegistrationDetailComplete`` with ``Registered`` / ``NotRegistered``;
- ``PJSIPShowEndpoints`` (pjsip_configuration.c): one ``EndpointList`` per endpoint,
  the trunks' and the phones', with ``DeviceState`` and ``ActiveChannels``;
- ``SIPpeers`` (chan_sip.c): one ``PeerEntry`` per peer, ``Status`` ``OK (n ms)`` or
  ``UNREACHABLE``, closed by ``PeerlistComplete``.

A PBX on PJSIP has no chan_sip actions and one on chan_sip no PJSIP ones: they are
answered ``Invalid/unknown command``, as an Asterisk without the module does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from simulators.ami import wire
from simulators.ami.wire import Headers
from simulators.models.events import Booted, Event, TrunkChanged
from simulators.models.pbx import PbxModel, Trunk

CARRIER = "sip.carrier.example"  # the trunks' registrar (a documentation domain)
QUALIFY_MS = 23  # a trunk's round trip while it answers


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    uniqueid: str
    bridge: str
    caller: str
    exten: str
    seconds: int


def local_date_time(when: float, zone: ZoneInfo | None) -> tuple[str, str]:
    """``ast_localtime`` + ``%Y-%m-%d`` / ``%H:%M:%S``: the PBX's local time (the
    site's time zone when the fleet names one, else this machine's)."""
    moment = datetime.fromtimestamp(when, zone) if zone else datetime.fromtimestamp(when)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


def phones(model: PbxModel) -> list[str]:
    return [str(1000 + n) for n in range(1, sum(t.channels for t in model.trunks) + 1)]


def channels(model: PbxModel) -> Iterator[Channel]:
    """Two channels per active call, the trunk's leg and a phone's, in one bridge."""
    tech = "SIP" if chan_sip(model) else "PJSIP"
    window = int(model.now // 15.0)
    extensions = phones(model)
    slot = 0
    for trunk in model.trunks:
        for call in range(model.trunk_calls(trunk)):
            draw = random.Random(f"{model.id}/{trunk.index}/{window}/{call}")
            serial = draw.randrange(0x10000000, 0xFFFFFFFF)
            bridge = f"{draw.getrandbits(128):032x}"
            base = int(model.started_at)
            seconds = draw.randrange(1, 600)
            phone = extensions[slot % len(extensions)]
            slot += 1
            for leg, name in enumerate((trunk.name, phone)):
                yield Channel(
                    f"{tech}/{name}-{serial + leg:08x}",
                    f"{base}.{2 * slot + leg}",
                    bridge,
                    f"+8610{draw.randrange(10**7, 10**8)}" if leg == 0 else phone,
                    phone,
                    seconds,
                )


def chan_sip(model: PbxModel) -> bool:
    account = model.device.spec.ami
    return account is not None and account.channel_driver == "chan_sip"


def core_status(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    start_date, start_time = local_date_time(model.started_at, zone)
    action_id = wire.header(action, "ActionID")
    return wire.render(
        [
            ("Response", "Success"),
            *([("ActionID", action_id)] if action_id else []),
            ("CoreStartupDate", start_date),
            ("CoreStartupTime", start_time),
            ("CoreReloadDate", start_date),  # no reload since the start
            ("CoreReloadTime", start_time),
            ("CoreCurrentCalls", str(2 * model.active_calls())),
            ("CoreProcessedCalls", str(int(model.calls_processed.at(model.now)))),
        ]
    )


def ping(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    stamp = f"{model.wall_clock():.6f}"
    return wire.success(action, None, ("Ping", "Pong"), ("Timestamp", stamp))


def core_show_channels(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    out = [wire.list_start(action, "Channels will follow")]
    count = 0
    for channel in channels(model):
        hours, rest = divmod(channel.seconds, 3600)
        duration = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        out.append(
            wire.list_event(
                action,
                "CoreShowChannel",
                [
                    ("Channel", channel.name),
                    ("ChannelState", "6"),
                    ("ChannelStateDesc", "Up"),
                    ("CallerIDNum", channel.caller),
                    ("CallerIDName", ""),
                    ("ConnectedLineNum", channel.exten),
                    ("ConnectedLineName", ""),
                    ("Language", "en"),
                    ("AccountCode", ""),
                    ("Context", "from-trunk"),
                    ("Exten", channel.exten),
                    ("Priority", "1"),
                    ("Uniqueid", channel.uniqueid),
                    ("Linkedid", channel.uniqueid.rsplit(".", 1)[0]),
                    ("Application", "Dial"),
                    ("ApplicationData", f"{channel.name.split('/')[0]}/{channel.exten},30"),
                    ("Duration", duration),
                    ("BridgeId", channel.bridge),
                ],
            )
        )
        count += 1
    out.append(wire.list_complete(action, "CoreShowChannelsComplete", count))
    return b"".join(out)


def _client_uri(model: PbxModel, trunk: Trunk) -> str:
    return f"sip:{model.id}-{trunk.index}@{CARRIER}"


def registrations(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    out = [wire.list_start(action, "Following are Events for each Outbound registration")]
    registered = 0
    for trunk in model.trunks:
        registered += trunk.up
        out.append(
            wire.list_event(
                action,
                "OutboundRegistrationDetail",
                [
                    ("ObjectType", "registration"),
                    ("ObjectName", trunk.name),
                    ("MaxRetries", "10"),
                    ("ClientUri", _client_uri(model, trunk)),
                    ("SecurityNegotiation", "no"),
                    ("AuthRejectionPermanent", "yes"),
                    ("ServerUri", f"sip:{CARRIER}"),
                    ("MaxRandomInitialDelay", "10"),
                    ("SupportPath", "no"),
                    ("RetryInterval", "60"),
                    ("ContactHeaderParams", ""),
                    ("Expiration", "3600"),
                    ("Transport", "transport-udp"),
                    ("Line", "no"),
                    ("ContactUser", f"{model.id}-{trunk.index}"),
                    ("Endpoint", trunk.name),
                    ("UserAgent", ""),
                    ("ForbiddenRetryInterval", "0"),
                    ("OutboundAuth", f"{trunk.name}-auth"),
                    ("OutboundProxy", ""),
                    ("FatalRetryInterval", "0"),
                    ("SupportOutbound", "no"),
                    ("Status", "Registered" if trunk.up else "Rejected"),
                    ("NextReg", "3590" if trunk.up else "60"),
                ],
            )
        )
        out.append(
            wire.list_event(
                action,
                "AuthDetail",
                [
                    ("ObjectType", "auth"),
                    ("ObjectName", f"{trunk.name}-auth"),
                    ("Username", f"{model.id}-{trunk.index}"),
                    ("Password", "carrier-secret"),
                    ("Md5Cred", ""),
                    ("Realm", ""),
                    ("NonceLifetime", "32"),
                    ("AuthType", "userpass"),
                ],
            )
        )
    total = len(model.trunks)
    out.append(
        wire.list_complete(
            action,
            "OutboundRegistrationDetailComplete",
            total,
            ("Registered", str(registered)),
            ("NotRegistered", str(total - registered)),
        )
    )
    return b"".join(out)


def endpoints(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    legs: dict[str, int] = {}
    for channel in channels(model):
        endpoint = channel.name.split("/", 1)[1].rsplit("-", 1)[0]
        legs[endpoint] = legs.get(endpoint, 0) + 1
    rows = [(t.name, "Not in use" if t.up else "Unavailable") for t in model.trunks]
    rows += [(phone, "Not in use") for phone in phones(model)]
    message = "A listing of Endpoints follows, presented as EndpointList events"
    out = [wire.list_start(action, message)]
    for name, state in rows:
        busy = legs.get(name, 0)
        if busy and state == "Not in use":
            state = "In use"
        out.append(
            wire.list_event(
                action,
                "EndpointList",
                [
                    ("ObjectType", "endpoint"),
                    ("ObjectName", name),
                    ("Transport", "transport-udp"),
                    ("Aor", name),
                    ("Auths", "" if name.startswith("sip-trunk") else f"{name}-auth,"),
                    ("OutboundAuths", f"{name}-auth," if name.startswith("sip-trunk") else ""),
                    ("Contacts", f"{name}/sip:{name}@{CARRIER},"),
                    ("DeviceState", state),
                    ("ActiveChannels", str(busy)),
                ],
            )
        )
    out.append(wire.list_complete(action, "EndpointListComplete", len(rows)))
    return b"".join(out)


def sip_peers(model: PbxModel, action: Headers, zone: ZoneInfo | None) -> bytes:
    out = [wire.list_start(action, "Peer status list will follow")]
    peers = [(t.name, "no", f"OK ({QUALIFY_MS} ms)" if t.up else "UNREACHABLE", "198.51.100.7")
             for t in model.trunks]  # fmt: skip
    peers += [(phone, "yes", "Unmonitored", "-none-") for phone in phones(model)]
    for name, dynamic, status, address in peers:
        fields = [
            ("Channeltype", "SIP"), ("ObjectName", name), ("ChanObjectType", "peer"),
            ("IPaddress", address), ("IPport", "5060" if address != "-none-" else "0"),
            ("Dynamic", dynamic), ("AutoForcerport", "no"), ("Forcerport", "no"),
            ("AutoComedia", "no"), ("Comedia", "no"), ("VideoSupport", "no"),
            ("TextSupport", "no"), ("ACL", "no"), ("Status", status),
            ("RealtimeDevice", "no"), ("Description", ""), ("Accountcode", ""),
        ]  # fmt: skip
        out.append(wire.list_event(action, "PeerEntry", fields))
    out.append(wire.list_complete(action, "PeerlistComplete", len(peers)))
    return b"".join(out)


# action -> (answer, the write class Asterisk registers it with, PJSIP or chan_sip only)
ACTIONS = {
    "corestatus": (core_status, {"system", "reporting"}, None),
    "ping": (ping, set(), None),
    "coreshowchannels": (core_show_channels, {"system", "reporting"}, None),
    "pjsipshowregistrationsoutbound": (registrations, {"system", "reporting"}, "pjsip"),
    "pjsipshowendpoints": (endpoints, {"system"}, "pjsip"),
    "sippeers": (sip_peers, {"system", "reporting"}, "chan_sip"),
}


def pushed(model: PbxModel, event: Event) -> list[tuple[str, bytes]]:
    """The events Asterisk pushes when the model changes: (class, bytes)."""
    if isinstance(event, TrunkChanged):
        trunk = model.trunks[event.trunk - 1]
        if chan_sip(model):
            return [
                ("system", wire.pushed("PeerStatus", "system", [
                    ("ChannelType", "SIP"), ("Peer", f"SIP/{trunk.name}"),
                    ("PeerStatus", "Reachable" if event.up else "Unreachable"),
                    ("Time", str(QUALIFY_MS) if event.up else "-1")])),
                ("call", wire.pushed("DeviceStateChange", "call", [
                    ("Device", f"SIP/{trunk.name}"),
                    ("State", "NOT_INUSE" if event.up else "UNAVAILABLE")])),
            ]  # fmt: skip
        return [
            ("system", wire.pushed("Registry", "system", [
                ("ChannelType", "PJSIP"), ("Username", _client_uri(model, trunk)),
                ("Domain", f"sip:{CARRIER}"),
                ("Status", "Registered" if event.up else "Rejected")])),
            ("system", wire.pushed("ContactStatus", "system", [
                ("URI", f"sip:{CARRIER}"),
                ("ContactStatus", "Reachable" if event.up else "Unreachable"),
                ("AOR", trunk.name), ("EndpointName", trunk.name),
                ("RoundtripUsec", str(QUALIFY_MS * 1000) if event.up else "0")])),
            ("call", wire.pushed("DeviceStateChange", "call", [
                ("Device", f"PJSIP/{trunk.name}"),
                ("State", "NOT_INUSE" if event.up else "UNAVAILABLE")])),
        ]  # fmt: skip
    if isinstance(event, Booted):
        fields = [("Shutdown", "Cleanly"), ("Restart", "True")]
        return [("system", wire.pushed("Shutdown", "system", fields))]
    return []


def fully_booted(model: PbxModel) -> bytes:
    """What Login sends a session that reads system events (``action_login``)."""
    uptime = int(model.wall_clock() - model.started_at)
    fields = [("Uptime", str(uptime)), ("LastReload", str(uptime)), ("Status", "Fully Booted")]
    return wire.pushed("FullyBooted", "system", fields)

"""Fuzzing what comes from outside: the BER codec and a walk's state, the trap intake
(datagrams and notifications), inbound MQTT messages and the YAML loader.

Each target may only answer the ways it documents (a protocol error, an error reply,
a ``FILE:LINE`` problem), never with another exception, and stays within its bounds.
Every test is derandomized (a fixed seed: the same examples on every run, in CI as on
a laptop) and bounded in examples, so the suite stays within a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.snmp import NO_SUCH, SnmpProtocolError, ber
from drivers.snmp.traps import TrapMessage, TrapReceiver, TrapReceiverConfig
from drivers.snmp.walkstate import MultiColumnWalk
from gateway import signing
from gateway.config import ConfigError, load_config
from gateway.config.errors import ConfigProblem
from gateway.config.load import LoadedConfig
from gateway.config.yamlsource import load_yaml
from gateway.protocols.snmp.traps import TrapIntake
from gateway.uplink.inbound import MAX_ERROR_CHARS, Inbound
from tests.drivers.snmp import pysnmp_messages as pm
from tests.drivers.snmp_traps.test_burst import encoded_trap
from tests.examples import examples

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=examples(300),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The targets whose every example does more work (an event loop, a file written).
FUZZ_SLOW = settings(FUZZ, max_examples=100)
EXAMPLE_SITE = Path(__file__).parents[2] / "config" / "site.example.yaml"

# -- the BER codec and the walk -------------------------------------------------------

arcs = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20)
oids = st.builds(lambda rest: "1.3." + ".".join(map(str, rest)), arcs)
values = st.one_of(
    st.binary(max_size=300).map(lambda b: pm.V2C.OctetString(b)),
    st.integers(-(2**31), 2**31 - 1).map(lambda i: pm.V2C.Integer(i)),
    st.integers(0, 2**32 - 1).map(lambda i: pm.V2C.Gauge32(i)),
    st.integers(0, 2**64 - 1).map(lambda i: pm.V2C.Counter64(i)),
    oids.map(lambda o: pm.V2C.ObjectIdentifier(o)),
)


def decodes_or_refuses(data: bytes) -> None:
    try:
        response = ber.decode_response(data)
    except SnmpProtocolError:
        return
    for oid, _ in response.varbinds:
        with contextlib.suppress(SnmpProtocolError):
            ber.decode_oid(oid)


@FUZZ
@given(
    varbinds=st.lists(st.tuples(oids, values), min_size=1, max_size=12),
    edits=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), max_size=10),
    cut=st.integers(0, 100_000),
    splice=st.binary(max_size=64),
)
def test_ber_mutated_responses_decode_or_raise_a_protocol_error(
    varbinds: list[tuple[str, Any]], edits: list[tuple[int, int]], cut: int, splice: bytes
) -> None:
    data = bytearray(pm.response(1, b"public", 7, varbinds))
    for position, byte in edits:
        data[position % len(data)] = byte
    at = cut % (len(data) + 1)
    decodes_or_refuses(bytes(data))
    decodes_or_refuses(bytes(data[:at]))
    decodes_or_refuses(bytes(data[:at]) + splice + bytes(data[at:]))


raw_oids = st.binary(min_size=1, max_size=40)
raw_values = st.one_of(st.binary(max_size=2000), st.integers(), st.just(NO_SUCH), st.text())


@FUZZ
@given(
    roots=st.lists(raw_oids, min_size=1, max_size=4),
    answers=st.lists(
        st.tuples(
            st.integers(0, 20), st.integers(0, 10), st.lists(st.tuples(raw_oids, raw_values))
        ),
        max_size=20,
    ),
)
def test_a_walk_fed_anything_ends_or_raises_a_protocol_error(
    roots: list[bytes], answers: list[tuple[int, int, list[tuple[bytes, Any]]]]
) -> None:
    walk = MultiColumnWalk(roots, max_varbinds=200, max_bytes=20_000)
    try:
        for status, index, varbinds in answers:
            if walk.done:
                break
            walk.take_answer(status, index, varbinds, bulk=True, max_repetitions=10)
    except SnmpProtocolError:
        return
    assert len(walk.results()) <= 200
    assert walk.received_bytes <= 20_000


# -- the trap intake ------------------------------------------------------------------


def fuzz_site(directory: Path) -> LoadedConfig:
    path = directory / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}, timezone: UTC}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "traps: {listen: '127.0.0.1:0'}\n"
        "limits: {trap_senders: 16, trap_oids: 16}\n"
        "devices:\n"
        "  - {id: sw, kind: switch, profile: switch-generic, address: 192.0.2.1}\n"
        "  - {id: ups, kind: ups, profile: ups-rfc1628, address: 192.0.2.2}\n"
    )
    return load_config(path)


@pytest.fixture(scope="module")
def intake_site() -> Any:
    with tempfile.TemporaryDirectory() as directory:
        yield fuzz_site(Path(directory))


LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
trap_oids = st.one_of(st.sampled_from([LINK_DOWN, "1.3.6.1.2.1.33.2.0.1"]), oids)
senders = st.one_of(st.sampled_from(["192.0.2.1", "192.0.2.2"]), st.ip_addresses().map(str))
trap_values = st.one_of(st.binary(max_size=500), st.integers(), st.text(max_size=200), oids)


@FUZZ_SLOW
@given(
    messages=st.lists(
        st.tuples(senders, trap_oids, st.lists(st.tuples(oids, trap_values), max_size=8)),
        max_size=30,
    )
)
def test_the_intake_takes_any_notification_within_its_bounds(
    intake_site: LoadedConfig, messages: list[tuple[str, str, list[tuple[str, Any]]]]
) -> None:
    polled: list[str] = []
    intake = TrapIntake(intake_site, asyncio.Queue(), polled.append)
    for sender, trap_oid, varbinds in messages:
        message = TrapMessage(sender, 162, "2c", "public", trap_oid, 0, tuple(varbinds), 0.0)
        result = intake.readings(message)
        if result is not None:
            assert result.device in ("sw", "ups") and result.source == "trap"
    assert len(intake.unknown_senders) <= 16 and len(intake.undeclared) <= 16
    assert set(polled) <= {"sw", "ups"}


@pytest.fixture
async def receiver() -> AsyncIterator[TrapReceiver]:
    config = TrapReceiverConfig(host="127.0.0.1", port=0, communities=("public",))
    async with TrapReceiver(config) as started:
        yield started


@pytest.mark.integration
async def test_the_receiver_survives_mutated_datagrams(receiver: TrapReceiver) -> None:
    """Datagrams made from a valid trap by hypothesis (fixed seed), all sent before the
    receiver reads one; then a valid trap must still come through."""
    sent: list[bytes] = []
    valid = encoded_trap(1)

    @FUZZ
    @given(
        edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
        cut=st.integers(0, 10_000),
        noise=st.binary(max_size=200),
    )
    def send(edits: list[tuple[int, int]], cut: int, noise: bytes) -> None:
        data = bytearray(valid)
        for position, byte in edits:
            data[position % len(data)] = byte
        datagram = bytes(data[: max(1, cut % (len(data) + 1))]) + noise
        sent.append(datagram)
        sock.sendto(datagram, receiver.address)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        send()
        sock.sendto(encoded_trap(424242), receiver.address)
    async with asyncio.timeout(20):
        while True:
            message = await receiver.get()
            if message.uptime == 424242:
                break
    stats = receiver.stats()
    assert stats.received + stats.rejected + (stats.socket_drops or 0) >= len(sent) // 2


# -- inbound MQTT ---------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=50)),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=30,
)
GOOD_ACK = {"ticket_id": "t-1", "action": "ack", "by": "desk-7"}
GOOD_SET = {"action": "set", "target": "site", "for": "1h", "by": "Li"}
KEY = b"fuzzing-key"


def mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from([*base, "ts", "nonce", "sig", "request_id", "note", "x"]),
        json_values,
        max_size=8,
    ).map(lambda extra: {**base, **extra})


payloads = st.one_of(
    st.binary(max_size=3000),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated(GOOD_ACK).map(lambda v: json.dumps(v).encode()),
    mutated(GOOD_SET).map(lambda v: json.dumps(v).encode()),
    mutated(GOOD_SET).map(lambda v: json.dumps(signing.sign(v, KEY)).encode()),
)
suffixes = st.one_of(
    st.sampled_from(["acks", "cmd/maintenance", "cmd/", "cmd/x", "acks-reply"]),
    st.text(max_size=80).map(lambda t: "cmd/" + t),
)


@pytest.fixture(scope="module")
def maintenance_dir() -> Any:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


@FUZZ_SLOW
@given(
    messages=st.lists(st.tuples(suffixes, payloads), min_size=1, max_size=6), signed=st.booleans()
)
def test_inbound_answers_every_message_and_never_raises(
    maintenance_dir: Path, messages: list[tuple[str, bytes]], signed: bool
) -> None:
    from gateway.correlate import (
        MAINTENANCE_COMMAND_SCHEMA,
        MaintenanceStore,
        handle_maintenance_command,
    )

    store = MaintenanceStore(maintenance_dir, ["sw"])

    async def on_ack(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": False, "error": f"no open ticket {str(body['ticket_id'])[:50]!r}"}

    async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
        return handle_maintenance_command(store, body)

    verifier = signing.Verifier(KEY) if signed else None
    inbound = Inbound(on_ack, {"maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)}, verifier)

    async def run() -> None:
        for suffix, payload in messages:
            reply = await inbound.handle(suffix, payload)
            if reply is None:
                assert suffix == "acks-reply"
                continue
            _, body = reply
            assert isinstance(body["ok"], bool)
            if not body["ok"]:
                assert len(body["error"]) <= MAX_ERROR_CHARS
            json.dumps(body)  # a reply can always be sent

    asyncio.run(run())
    for window in store.maintenance(datetime.now(UTC)):
        assert (window.until - window.set_at).total_seconds() <= 24 * 3600


# -- the YAML loader ------------------------------------------------------------------

yaml_fragments = st.sampled_from(
    [
        "a: 1\n", "- x\n", "&a [1]\n", "*a\n", "!!python/object:os.system {}\n", "{", "}",
        "[", "]", ": ", "key: value\n", "  nested:\n    deeper: 1\n", "\t", "\x00", "\ufeff",
        "2027-02-30", "9" * 5000, "!!binary AAAA\n", "? [a]\n: b\n", "%YAML 1.1\n---\n",
        "<<: *a\n", "'unterminated", '"\\x"\n', "\r\n", "...\n", "!!set {a, b}\n",
    ]
)  # fmt: skip
yaml_texts = st.one_of(
    st.text(max_size=500),
    st.lists(yaml_fragments, max_size=30).map("".join),
    st.binary(max_size=500).map(lambda b: b.decode("latin-1")),
)


def problems_of(load: Callable[[], object]) -> tuple[ConfigProblem, ...]:
    """What ``load()`` reported: nothing when it loaded, else at least one problem."""
    try:
        load()
    except ConfigError as exc:
        problems = exc.problems
    else:
        return ()
    assert problems, "a ConfigError names its problems"
    return problems


@FUZZ
@given(text=yaml_texts)
def test_the_yaml_loader_returns_data_or_a_problem(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        problems = problems_of(lambda: load_yaml(path))
        assert all(p.file == path and p.line >= 1 for p in problems)


example_lines = EXAMPLE_SITE.read_text().splitlines(keepends=True)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(example_lines) - 1), st.one_of(yaml_fragments, st.text(max_size=40))
        ),
        min_size=1,
        max_size=5,
    )
)
def test_a_mangled_example_site_loads_or_says_where(edits: list[tuple[int, str]]) -> None:
    lines = list(example_lines)
    for index, text in edits:
        lines[index] = text + "\n"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "site.yaml"
        path.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")
        for problem in problems_of(lambda: load_config(path)):
            assert problem.line >= 1 and str(problem).startswith(f"{problem.file}:")

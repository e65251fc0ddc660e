"""``messenger-bench``: its checks fail when they should, and tiny scenarios run end to end
against the real server and the relay."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from messenger_server import protocol
from messenger_server.bench import conversation, scenarios, wire
from messenger_server.bench.client import BenchClient, Identity
from messenger_server.bench.relay import Relay
from messenger_server.bench.scenarios import Options
from messenger_server.bench.target import Target
from messenger_server.bench.verify import Verifier
from tests.engines import need

StartRelay = Callable[[str | None], Awaitable[Target]]
"""Starts a relay in the test's loop (with a ``--fault``, or faithful with ``None``)."""

ALICE, BOB, CAROL = "AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"
GROUP = "G-GGGG-GGGG"


def alice_writes_to_bob(count: int) -> tuple[Verifier, list[int]]:
    """Alice has sent ``count`` messages to Bob, each answered with `sent`."""
    verifier = Verifier()
    alice = verifier.outbox(ALICE)
    verifier.inbox(BOB)
    numbers = [verifier.sending(alice, BOB, started=0) for _ in range(count)]
    for n in numbers:
        verifier.replied(alice, n, message_id=100 + n, duplicate=False, now=1)
    return verifier, numbers


def deliver(verifier: Verifier, to: str, n: int, *, sender: str = ALICE, group: str | None = None,
            seq: int | None = None) -> bool:  # fmt: skip
    return verifier.delivered(
        verifier.inbox(to), sender, group, n, 100 + n, 100 + n if seq is None else seq, now=2
    )


def failed(verifier: Verifier) -> str:
    verifier.finish()
    assert not verifier.ok
    return "\n".join(verifier.describe())


# --- the verifier, fed by hand ---


def test_every_message_sent_once_and_delivered_once_in_order_is_valid() -> None:
    verifier, numbers = alice_writes_to_bob(3)
    for n in numbers:
        assert deliver(verifier, BOB, n)
    verifier.finish()
    assert verifier.ok, verifier.describe()
    assert verifier.completed == 3


def test_a_message_delivered_twice_fails_as_a_duplicate() -> None:
    verifier, _ = alice_writes_to_bob(3)
    deliver(verifier, BOB, 0)
    deliver(verifier, BOB, 1)
    deliver(verifier, BOB, 1)
    deliver(verifier, BOB, 2)
    assert "duplicate: message 1 from AAAA-AAAA" in failed(verifier)


def test_a_duplicate_cannot_hide_a_loss() -> None:
    """Three deliveries for three messages, but one of them twice: a frame count says
    all is well, the verifier does not."""
    verifier, _ = alice_writes_to_bob(3)
    for n in (0, 1, 1):
        deliver(verifier, BOB, n)
    report = failed(verifier)
    assert "duplicate" in report
    assert "BBBB-BBBB: missing message 2 from AAAA-AAAA" in report


def test_a_message_never_delivered_is_missing_at_the_end() -> None:
    verifier, _ = alice_writes_to_bob(3)
    deliver(verifier, BOB, 0)
    deliver(verifier, BOB, 1)
    assert "BBBB-BBBB: missing message 2 from AAAA-AAAA" in failed(verifier)


def test_a_message_without_its_sent_reply_is_missing() -> None:
    verifier = Verifier()
    alice = verifier.outbox(ALICE)
    verifier.sending(alice, BOB, started=0)
    deliver(verifier, BOB, 0)
    assert "AAAA-AAAA: no `sent` for message 0" in failed(verifier)


def test_messages_delivered_out_of_order_fail() -> None:
    verifier, _ = alice_writes_to_bob(3)
    deliver(verifier, BOB, 0)
    deliver(verifier, BOB, 2, seq=102)
    deliver(verifier, BOB, 1, seq=103)
    report = failed(verifier)
    assert "out of order: message 2 from AAAA-AAAA arrived before 1 earlier one(s)" in report
    assert "out of order: message 1 from AAAA-AAAA came late" in report


def test_a_seq_that_does_not_grow_fails() -> None:
    verifier, _ = alice_writes_to_bob(2)
    deliver(verifier, BOB, 0, seq=7)
    deliver(verifier, BOB, 1, seq=7)
    assert "has seq 7, not above the previous 7" in failed(verifier)


def test_a_delivery_to_someone_else_fails() -> None:
    verifier, _ = alice_writes_to_bob(1)
    verifier.inbox(CAROL)
    deliver(verifier, CAROL, 0)
    assert "CCCC-CCCC: message 0 from AAAA-AAAA (sent to BBBB-BBBB)" in failed(verifier)


def test_a_message_nobody_sent_fails() -> None:
    verifier, _ = alice_writes_to_bob(1)
    deliver(verifier, BOB, 0)
    deliver(verifier, BOB, 5)
    deliver(verifier, BOB, 0, sender=CAROL)
    report = failed(verifier)
    assert "a message 5 from AAAA-AAAA, who never sent it" in report
    assert "a message 0 from CCCC-CCCC, who never sent it" in report


def test_a_second_or_duplicate_sent_reply_fails() -> None:
    verifier, _ = alice_writes_to_bob(2)
    alice = verifier.outbox(ALICE)
    verifier.replied(alice, 0, message_id=100, duplicate=False, now=3)
    report = failed(verifier)
    assert "a second `sent` for message 0" in report
    verifier = Verifier()
    alice = verifier.outbox(ALICE)
    verifier.sending(alice, BOB, started=0)
    verifier.replied(alice, 0, message_id=100, duplicate=True, now=1)
    assert "says duplicate" in failed(verifier)


def test_a_delivery_with_another_message_id_than_its_sent_fails() -> None:
    verifier, _ = alice_writes_to_bob(1)
    verifier.delivered(verifier.inbox(BOB), ALICE, None, 0, 999, 100, now=2)
    assert "message 0 came as message_id 999, elsewhere as 100" in failed(verifier)


def test_a_group_message_completes_once_every_other_member_has_it() -> None:
    verifier = Verifier()
    verifier.group(GROUP, [ALICE, BOB, CAROL])
    alice = verifier.outbox(ALICE)
    n = verifier.sending(alice, GROUP, started=0)
    verifier.replied(alice, n, 100, False, now=1)
    deliver(verifier, BOB, n, group=GROUP)
    assert verifier.completed == 0
    deliver(verifier, CAROL, n, group=GROUP)
    assert verifier.completed == 1
    deliver(verifier, ALICE, n, group=GROUP)  # the sender's own message, pushed back
    assert "AAAA-AAAA: message 0 from AAAA-AAAA" in failed(verifier)


def test_a_group_member_left_without_the_message_is_named() -> None:
    verifier = Verifier()
    verifier.group(GROUP, [ALICE, BOB, CAROL])
    alice = verifier.outbox(ALICE)
    n = verifier.sending(alice, GROUP, started=0)
    verifier.replied(alice, n, 100, False, now=1)
    deliver(verifier, BOB, n, group=GROUP)
    assert "CCCC-CCCC: missing message 0 from AAAA-AAAA" in failed(verifier)


# --- the client: frames it does not expect ---


class RecordingTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        pass


async def bob_client(verifier: Verifier) -> BenchClient:
    client = BenchClient(verifier, Identity(BOB, "c" * 20, "Bob", ("127.0.0.1", 0)), False)
    client.transport = RecordingTransport()  # type: ignore[assignment]
    return client


async def test_a_stray_frame_fails_the_run() -> None:
    verifier, _ = alice_writes_to_bob(0)
    bob = await bob_client(verifier)
    bob.data_received(protocol.frame_bytes(b'{"type":"surprise"}'))
    bob.data_received(protocol.encode(protocol.Synced()))  # nobody is logging in
    bob.data_received(protocol.encode(protocol.Pong(id=77, ts=1)))  # nobody asked
    report = failed(verifier)
    assert "unexpected `surprise` frame" in report
    assert "unexpected `synced`" in report
    assert "unexpected `pong` frame (id 77)" in report


async def test_an_error_or_goodbye_fails_the_run() -> None:
    verifier, _ = alice_writes_to_bob(0)
    bob = await bob_client(verifier)
    bob.data_received(protocol.encode(protocol.Error("rate_limited", "slow down", 1 << 32)))
    bob.data_received(protocol.encode(protocol.Goodbye("timeout", "idle")))
    report = failed(verifier)
    assert "message 0 refused: rate_limited" in report
    assert "goodbye timeout" in report


async def test_the_client_checks_and_acknowledges_each_delivery() -> None:
    verifier, numbers = alice_writes_to_bob(2)
    bob = await bob_client(verifier)
    frames = b"".join(
        protocol.encode(
            protocol.Message(100 + n, 100 + n, 1, ALICE, "Alice", f"{n:010d} hi", to=BOB)
        )
        for n in numbers
    )
    bob.data_received(frames[:10])  # a frame split across reads
    bob.data_received(frames[10:])
    verifier.finish()
    assert verifier.ok, verifier.describe()
    transport = bob.transport
    assert isinstance(transport, RecordingTransport)
    assert transport.written == [protocol.encode(protocol.Ack(ids=[101]))]  # cumulative


# --- against a relay that misbehaves on purpose ---


@pytest.fixture
async def relay_factory() -> AsyncIterator[StartRelay]:
    relays: list[Relay] = []

    async def start(fault: str | None) -> Target:
        relay = Relay(fault)
        relays.append(relay)
        port = await relay.start("127.0.0.1", 0)
        return Target("relay", [("127.0.0.1", port)])

    yield start
    for relay in relays:
        await relay.close()


TINY = Options(clients=4, messages=5, group_size=4, backlog=50, idle=5, logins=10, stall=0.5)


async def test_the_direct_scenario_is_valid_against_a_faithful_relay(
    relay_factory: StartRelay,
) -> None:
    measurement = await scenarios.direct(await relay_factory(None), TINY, paced_rate=200)
    assert measurement.valid, measurement.failures
    assert measurement.figures["messages/s"]
    assert measurement.figures["latency p99 ms (paced)"] is not None


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("duplicate", "duplicate: message"),
        ("drop", "missing message"),
        ("reorder", "out of order"),
        ("stray", "unexpected `surprise` frame"),
    ],
)
async def test_a_relay_that_misbehaves_makes_the_run_invalid(
    relay_factory: StartRelay, fault: str, expected: str
) -> None:
    measurement = await scenarios.direct(await relay_factory(fault), TINY)
    assert not measurement.valid
    assert any(expected in failure for failure in measurement.failures), measurement.failures


async def test_typing_and_reactions_are_valid_against_a_faithful_relay(
    relay_factory: StartRelay,
) -> None:
    options = Options(typing=5, typing_peers=2, typing_repeats=3, reactions=4, messages=3,
                      stall=0.5)  # fmt: skip
    typing = await conversation.typing_notices(await relay_factory(None), options)
    assert typing.valid, typing.failures
    assert typing.figures["CPU µs/notice (forwarded)"] is None  # not our process: no CPU
    assert typing.figures["notices/s (forwarded)"]
    reactions = await conversation.reactions(await relay_factory(None), options)
    assert reactions.valid, reactions.failures
    assert reactions.figures["reactions/s"]


async def test_typing_heard_twice_or_from_a_stranger_fails() -> None:
    verifier = Verifier()
    tally = conversation.TypingTally(verifier)
    bob = BenchClient(verifier, Identity(BOB, "c" * 20, "Bob", ("127.0.0.1", 0)), False)
    for sender, on in [(ALICE, True), (ALICE, True), (ALICE, False), (CAROL, True)]:
        tally.heard_typing(bob, wire.Frame(type="typing", sender=sender, on=on))
    tally.check([(BOB, ALICE)], [[True, False]])
    report = failed(verifier)
    assert "BBBB-BBBB: typing from AAAA-AAAA came as [True, True, False]" in report
    assert "BBBB-BBBB: typing from CCCC-CCCC, a stranger: [True]" in report


async def test_a_group_relayed_twice_is_caught(relay_factory: StartRelay) -> None:
    measurement = await scenarios.group(await relay_factory("duplicate"), TINY)
    assert not measurement.valid
    assert any("duplicate" in failure for failure in measurement.failures)


# --- end to end: the command, the real server, the relay ---


def test_tiny_scenarios_run_valid_against_the_server_and_the_relay(tmp_path: Path) -> None:
    results = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            sys.executable, "-m", "messenger_server.bench",
            "--clients", "10", "--messages", "5", "--rate", "200",
            "--group-size", "5", "--backlog", "200", "--backlog-senders", "2",
            "--idle", "20", "--logins", "20", "--logins-parallel", "5",
            "--prelogin", "20", "--flood", "5", "--flood-rate", "100",
            "--typing", "6", "--typing-peers", "2", "--typing-repeats", "3", "--reactions", "4",
            "--strict", "--stall", "5", "--timeout", "60", "--json", str(results),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document = json.loads(results.read_text())
    assert document["valid"]
    assert [s["scenario"] for s in document["scenarios"]] == [
        "direct", "group", "backlog", "idle", "logins", "prelogin", "flood", "typing",
        "reactions",
    ]  # fmt: skip
    for scenario in document["scenarios"]:
        assert set(scenario["results"]) == {"server", "relay"}
        for name, result in scenario["results"].items():
            assert result["valid"], (scenario["scenario"], name, result["failures"])
            assert result["figures"], (scenario["scenario"], name)
    direct = document["scenarios"][0]["results"]
    assert direct["server"]["figures"]["frames/message"] >= 4  # send, sent, message, ack
    assert direct["server"]["figures"]["CPU µs/message"] is not None
    flood = document["scenarios"][6]["results"]["server"]["figures"]
    assert flood["flood pings answered/s"] > 0  # it flooded, and the users' messages all came
    assert flood["latency p99 ms (flood)"] is not None
    typing = document["scenarios"][7]["results"]["server"]["figures"]
    assert typing["CPU µs/notice (forwarded)"] and typing["CPU µs/notice (throttled)"]
    reactions = document["scenarios"][8]["results"]["server"]["figures"]
    assert reactions["CPU µs/reaction"] and reactions["frames/reaction"] >= 4
    assert "server/relay" in completed.stdout
    assert "INVALID" not in completed.stdout


def test_a_cluster_of_nodes_runs_valid_and_compares_with_one_node(tmp_path: Path) -> None:
    need("initdb")
    need("redis-server")
    results = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            sys.executable, "-m", "messenger_server.bench", "--cluster", "2,1",
            "--clients", "10", "--messages", "5", "--group-size", "4",
            "--baseline", "none", "--stall", "10", "--timeout", "60", "--json", str(results),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document = json.loads(results.read_text())
    for scenario in document["scenarios"]:
        assert set(scenario["results"]) == {"2 nodes", "1 node"}
        for name, result in scenario["results"].items():
            assert result["valid"], (scenario["scenario"], name, result["failures"])
            assert result["figures"]["CPU µs/message"] is not None  # nodes, PostgreSQL, Redis
    assert "2 nodes/1 node" in completed.stdout

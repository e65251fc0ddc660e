"""The bus between server nodes, on a real Redis server of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from messenger_server.service.bus import BusEvent, Deliver, Push, RedisBus, Replace, Resync
from messenger_server.service.receipts import Horizon
from tests.engines import RedisServer

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


class Node:
    def __init__(self, url: str, **options: float) -> None:
        self.bus = RedisBus(url, **options)  # type: ignore[arg-type]
        self.received: list[BusEvent] = []
        self.arrived = asyncio.Event()

    async def handle(self, event: BusEvent) -> None:
        self.received.append(event)
        self.arrived.set()

    async def until(self, count: int) -> list[BusEvent]:
        async with asyncio.timeout(10):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


@pytest.fixture
async def nodes(redis: RedisServer) -> AsyncIterator[list[Node]]:
    started = [Node(redis.url), Node(redis.url), Node(redis.url)]
    for node in started:
        await node.bus.start(node.handle)
    yield started
    for node in started:
        await node.bus.close()


async def test_every_other_node_hears_each_event_once_in_the_order_published(
    nodes: list[Node],
) -> None:
    a, b, c = nodes
    events = [
        Deliver("A:B", "A", n, n, n - 1 if n > 1 else 0, ["B"], b"frame %d" % n)
        for n in range(1, 501)
    ]
    for event in events:
        a.bus.publish(event)
    b.bus.publish(Push(["X"], b"typing"))
    assert await b.until(500) == events
    heard = await c.until(501)  # each node's events in order; the nodes' interleaved
    assert [e for e in heard if isinstance(e, Deliver)] == events
    assert [e for e in heard if isinstance(e, Push)] == [Push(["X"], b"typing")]
    # Redis passes messages on in the order it got them: once a hears a fence published
    # after b heard all of a's events, a would have heard its own events too.
    b.bus.publish(Push([], b"fence"))
    assert await a.until(2) == [Push(["X"], b"typing"), Push([], b"fence")]
    assert len(b.received) == 500


async def test_a_login_anywhere_names_the_session_it_replaces(nodes: list[Node]) -> None:
    a, b, _ = nodes
    assert await a.bus.claim("K7QM-4XPA", "t1") is None
    assert await b.bus.claim("K7QM-4XPA", "t2") == (a.bus.node, "t1")
    await a.bus.release("K7QM-4XPA", "t1")  # the replaced session ends: b's claim stays
    assert await a.bus.claim("K7QM-4XPA", "t3") == (b.bus.node, "t2")
    await a.bus.release("K7QM-4XPA", "t3")
    assert await b.bus.claim("K7QM-4XPA", "t4") is None


async def test_a_dead_nodes_sessions_expire_and_a_live_nodes_do_not(redis: RedisServer) -> None:
    alive = Node(redis.url, session_ttl=1, heartbeat=0.2)
    dying = Node(redis.url, session_ttl=1, heartbeat=0.2)
    other = Node(redis.url)
    for node in (alive, dying, other):
        await node.bus.start(node.handle)
    try:
        assert await alive.bus.claim("AAAA-AAAA", "t") is None
        assert await dying.bus.claim("BBBB-BBBB", "t") is None
        await dying.bus.close()  # as after kill -9: nothing refreshes its claims
        await asyncio.sleep(2.0)
        assert await other.bus.claim("AAAA-AAAA", "u") == (alive.bus.node, "t")
        assert await other.bus.claim("BBBB-BBBB", "u") is None
    finally:
        await alive.bus.close()
        await other.bus.close()


async def test_replace_events_round_trip(nodes: list[Node]) -> None:
    a, b, _ = nodes
    a.bus.publish(Replace(b.bus.node, "K7QM-4XPA", "t1"))
    assert await b.until(1) == [Replace(b.bus.node, "K7QM-4XPA", "t1")]


async def test_an_unreachable_bus_fails_the_start_clearly(tmp_path: Path) -> None:
    bus = RedisBus(f"unix://{tmp_path / 'nothing.sock'}")
    with pytest.raises(OSError, match="cannot reach the bus"):
        await bus.start(lambda event: asyncio.sleep(0))


async def test_after_redis_comes_back_every_node_resyncs_and_events_flow_again(
    redis: RedisServer, nodes: list[Node], caplog: pytest.LogCaptureFixture
) -> None:
    a, b, _ = nodes
    redis.stop()
    a.bus.publish(Push(["X"], b"lost"))  # nobody can hear this one
    async with asyncio.timeout(10):
        while "publishing to the bus failed" not in caplog.text:
            await asyncio.sleep(0.05)
    redis.start()
    # b's subscription broke: once subscribed again it reads from storage what it missed
    assert await b.until(1) == [Resync()]
    a.bus.publish(Push(["X"], b"after"))
    # a could not publish: its next event comes after a Resync of its own
    assert await b.until(3) == [Resync(), Resync(), Push(["X"], b"after")]


def test_the_horizon_vouches_only_for_versions_without_a_gap() -> None:
    horizon = Horizon(10)
    horizon.seen(12, now=1.0)  # 11 not heard of yet
    horizon.seen(9, now=1.0)  # long handled
    assert horizon.upto == 10
    assert horizon.gap(older_than=0.5) is None  # too recent to read back
    assert horizon.gap(older_than=1.0) == 12
    horizon.seen(11, now=1.5)
    assert horizon.upto == 12 and horizon.gap(older_than=99.0) is None
    horizon.seen(15, now=2.0)
    horizon.seen(14, now=2.0)
    horizon.filled(14)  # 13 read back (or superseded): 15 follows on
    assert horizon.upto == 15 and horizon.gap(older_than=99.0) is None


async def test_who_is_online_anywhere_is_who_holds_a_session_claim(nodes: list[Node]) -> None:
    a, b, _ = nodes
    assert await a.bus.claimed(["K7QM-4XPA", "B8NZ-2FHC"]) == set()
    await b.bus.claim("K7QM-4XPA", "t1")
    assert await a.bus.claimed(["K7QM-4XPA", "B8NZ-2FHC"]) == {"K7QM-4XPA"}
    await b.bus.release("K7QM-4XPA", "t1")
    assert await a.bus.claimed(["K7QM-4XPA"]) == set()
    assert await a.bus.claimed([]) == set()

"""Several server nodes sharing one PostgreSQL database and one Redis bus: real engines of
the tests' own (tests/engines.py), real nodes, clients spread over them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from messenger_server import protocol
from messenger_server.config import Settings, load_settings
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import MarkerMove, postgresql
from messenger_server.repository.postgresql import PostgreSQLRepository
from messenger_server.server import MessengerServer
from messenger_server.service.bus import RedisBus
from tests.engines import PostgreSQLServer, RedisServer
from tests.wire import Identity, WireClient

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def database(postgresql_server: PostgreSQLServer) -> AsyncIterator[str]:
    """A fresh, migrated database (a schema of its own) on the session's PostgreSQL."""
    dsn = await postgresql_server.create_schema()
    await postgresql.migrate(dsn)
    yield dsn
    await postgresql_server.drop_schema(dsn)


def node_settings(data_dir: Path, dsn: str, bus_url: str, **overrides: Any) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": data_dir,
            "storage": "postgresql",
            "database_url": dsn,
            "bus": "redis",
            "bus_url": bus_url,
            **overrides,
        },
    )


class Node:
    """One server node in this test's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.repository = PostgreSQLRepository(settings.database_url or "")
        self.server: MessengerServer | None = None
        self.clients: list[WireClient] = []

    async def start(self) -> None:
        await self.repository.open()
        self.server = MessengerServer(
            self.settings, self.repository, RedisBus(self.settings.bus_url)
        )
        await self.server.start()

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        if self.server is not None:
            await self.server.stop()
        await self.repository.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    async def connect(self) -> WireClient:
        client = await WireClient.connect(self.port)
        self.clients.append(client)
        return client

    async def user(self, name: str) -> tuple[WireClient, Identity]:
        """A new identity, logged in here."""
        client = await self.connect()
        identity = await client.register(name)
        reply = await client.login(identity)
        assert isinstance(reply, protocol.LoggedIn), reply
        await client.next_event(protocol.Synced)
        return client, identity


@pytest.fixture
async def nodes(tmp_path: Path, database: str, redis: RedisServer) -> AsyncIterator[list[Node]]:
    started: list[Node] = []
    try:
        for index in range(3):
            node = Node(node_settings(tmp_path / f"node{index}", database, redis.url))
            await node.start()
            started.append(node)
        yield started
    finally:
        for node in started:
            await node.stop()


async def contacts(*pairs: tuple[WireClient, Identity]) -> None:
    """Everyone adds everyone: any of them may put the others in a group."""
    for client, me in pairs:
        await client.add_contacts(*(i.client_id for _, i in pairs if i != me))


# --- live across nodes ------------------------------------------------------------------------


async def test_a_message_stored_by_one_node_reaches_its_recipient_on_another_at_once(
    nodes: list[Node],
) -> None:
    ana, ana_id = await nodes[0].user("Ana")
    bia, bia_id = await nodes[1].user("Bia")
    sent = await ana.send("Olá, Bia", to=bia_id.client_id)
    assert isinstance(sent, protocol.Sent)
    [message] = await bia.messages(1)  # acknowledged: the marker moves on node 1
    assert (message.text, message.sender, message.seq) == ("Olá, Bia", ana_id.client_id, sent.seq)
    receipts = await ana.next_event(protocol.Receipts)  # from node 1's commit, via the bus
    assert [(r.by, r.delivered) for r in receipts.receipts] == [(bia_id.client_id, sent.seq)]


async def test_senders_on_three_nodes_and_every_member_sees_one_order(
    nodes: list[Node],
) -> None:
    members = [await node.user(f"Member {i}") for i, node in enumerate(nodes)]
    await contacts(*members)
    creator = members[0][0]
    reply = await creator.request(
        protocol.CreateGroup, name="Trio", members=[i.client_id for _, i in members[1:]]
    )
    assert isinstance(reply, protocol.GroupReply), reply
    group = reply.group.group_id
    count = 60

    async def talk(client: WireClient, name: str) -> list[protocol.ServerFrame]:
        futures = []
        for n in range(count):  # pipelined: the three nodes write the group at once
            frame, future = client.new_request(
                protocol.Send, key=f"{name}-{n}", text=f"{name} {n}", group=group
            )
            client.send_frame(frame)
            futures.append(future)
        client.flush()
        return list(await asyncio.gather(*futures))

    replies = await asyncio.gather(*(talk(c, i.client_id) for c, i in members))
    seqs = [r.seq for sent in replies for r in sent if isinstance(r, protocol.Sent)]
    assert len(seqs) == 3 * count and len(set(seqs)) == 3 * count
    for (client, identity), own in zip(members, replies, strict=True):
        received = await client.messages(2 * count, timeout=30)
        got = [m.seq for m in received]
        assert got == sorted(got), "delivered out of seq order"
        expected = sorted(set(seqs) - {r.seq for r in own if isinstance(r, protocol.Sent)})
        assert got == expected, "a message missing or twice"
        for sender in (i.client_id for _, i in members if i != identity):
            texts = [int(m.text.split()[-1]) for m in received if m.sender == sender]
            assert texts == list(range(count))  # each sender's order kept
        await client.no_event(protocol.Message, within=0.2)


async def test_one_session_per_identity_across_nodes(nodes: list[Node]) -> None:
    first, ana = await nodes[0].user("Ana")
    second = await nodes[2].connect()
    assert isinstance(await second.login(ana), protocol.LoggedIn)
    await first.wait_closed()
    assert first.close_error is not None
    assert first.close_error.code == Code.SESSION_REPLACED
    pong = await second.request(protocol.Ping)
    assert isinstance(pong, protocol.Pong)


async def test_a_group_change_on_one_node_holds_on_the_others_at_once(
    nodes: list[Node],
) -> None:
    ana = await nodes[0].user("Ana")
    bia = await nodes[1].user("Bia")
    caio = await nodes[2].user("Caio")
    await contacts(ana, bia, caio)
    reply = await ana[0].request(protocol.CreateGroup, name="G", members=[bia[1].client_id])
    assert isinstance(reply, protocol.GroupReply)
    group = reply.group.group_id
    await bia[0].next_event(protocol.GroupUpdate)
    # Caio, added on node 0, may write through node 2 as soon as he hears of it
    added = await ana[0].request(protocol.AddMember, group=group, client_id=caio[1].client_id)
    assert isinstance(added, protocol.GroupReply)
    update = await caio[0].next_event(protocol.GroupUpdate)
    assert update.change == "member_added"
    assert isinstance(await caio[0].send("cheguei", group=group), protocol.Sent)
    [message] = await bia[0].messages(1)
    assert message.text == "cheguei"
    # Bia, removed on node 0, may no longer write through node 1
    removed = await ana[0].request(protocol.RemoveMember, group=group, client_id=bia[1].client_id)
    assert isinstance(removed, protocol.GroupReply)
    await bia[0].next_event(protocol.GroupUpdate)
    refused = await bia[0].send("ainda aqui?", group=group)
    assert isinstance(refused, protocol.Error) and refused.code == Code.NOT_A_MEMBER


async def test_a_recipient_who_was_offline_gets_everything_at_login_on_any_node(
    nodes: list[Node],
) -> None:
    ana, _ = await nodes[0].user("Ana")
    bia_client, bia = await nodes[1].user("Bia")
    await bia_client.close()
    keys = [f"m{n}" for n in range(30)]
    for key in keys:
        assert isinstance(await ana.send(key, to=bia.client_id, key=key), protocol.Sent)
    later = await nodes[2].connect()
    logged_in = await later.login(bia)
    assert isinstance(logged_in, protocol.LoggedIn) and logged_in.pending == 30
    assert [m.text for m in await later.messages(30)] == keys
    await later.next_event(protocol.Synced)


async def test_edits_reactions_deletions_and_typing_cross_nodes(nodes: list[Node]) -> None:
    """Conversation features (protocol section 12) with the members on three nodes: the
    entries stored on one node reach the others live, in order, and an offline member
    gets them at login on another node; typing goes through the bus too."""
    ana = await nodes[0].user("Ana")
    bia = await nodes[1].user("Bia")
    caio_client, caio = await nodes[2].user("Caio")
    await contacts(ana, bia, (caio_client, caio))
    reply = await ana[0].request(
        protocol.CreateGroup, name="G", members=[bia[1].client_id, caio.client_id]
    )
    assert isinstance(reply, protocol.GroupReply)
    group = reply.group.group_id
    await bia[0].next_event(protocol.GroupUpdate)
    await caio_client.close()

    first = await ana[0].send("primeira", group=group)
    second = await ana[0].send("segunda", group=group)
    assert isinstance(first, protocol.Sent) and isinstance(second, protocol.Sent)
    edit = await ana[0].request(
        protocol.Edit, key="e1", target=first.seq, text="primeira!", group=group
    )
    react = await bia[0].request(
        protocol.React, key="r1", target=first.seq, emoji="👍", group=group
    )  # Bia's node loads the target from the database
    delete = await ana[0].request(protocol.Delete, key="d1", target=second.seq, group=group)
    assert all(isinstance(r, protocol.Sent) for r in (edit, react, delete))
    live = await bia[0].entries(4)
    assert [type(e).__name__ for e in live] == ["Message", "Message", "Edited", "Deleted"]

    bia[0].typing(group=group)
    typing = await ana[0].next_event(protocol.PeerTyping)
    assert (typing.sender, typing.group) == (bia[1].client_id, group)

    later = await nodes[1].connect()
    assert isinstance(await later.login(caio), protocol.LoggedIn)
    backlog = await later.entries(4)
    assert [type(e).__name__ for e in backlog] == ["Message", "Edited", "Reacted", "Deleted"]
    assert [e.seq for e in backlog] == sorted(e.seq for e in backlog)


async def test_presence_across_nodes(nodes: list[Node]) -> None:
    ana_client, ana = await nodes[0].user("Ana")
    bia_client, bia = await nodes[1].user("Bia")
    await contacts((ana_client, ana), (bia_client, bia))
    for client in (ana_client, bia_client):
        privacy = await client.request(protocol.SetPrivacy, presence="chats")
        assert isinstance(privacy, protocol.Privacy)
    shown = await ana_client.next_event(protocol.Presence)  # Bia started showing hers
    assert (shown.client_id, shown.online) == (bia.client_id, True)
    reply = await ana_client.request(protocol.GetPresence, client_ids=[bia.client_id])
    assert isinstance(reply, protocol.Presences)
    assert reply.presences == [protocol.PresenceInfo(bia.client_id, True, None)]

    again = await nodes[2].connect()  # Bia moves to node 2: nobody sees her go offline
    assert isinstance(await again.login(bia), protocol.LoggedIn)
    back = await ana_client.next_event(protocol.Presence)
    assert (back.client_id, back.online) == (bia.client_id, True)
    await again.close()
    gone = await ana_client.next_event(protocol.Presence)
    assert (gone.client_id, gone.online) == (bia.client_id, False)
    assert gone.last_seen is not None


# --- a node killed under load -------------------------------------------------------------------

LISTENING = re.compile(rb"listening on [^ ]+:(\d+)")


class NodeProcess:
    """A node as its own ``messenger-server`` process (to be killed with SIGKILL)."""

    def __init__(self, data_dir: Path, dsn: str, bus_url: str) -> None:
        self.data_dir = data_dir
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MESSENGER_")},
            "MESSENGER_STORAGE": "postgresql",
            "MESSENGER_DATABASE_URL": dsn,
            "MESSENGER_BUS": "redis",
            "MESSENGER_BUS_URL": bus_url,
        }
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "messenger_server",
            "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data_dir),
            stderr=subprocess.PIPE, env=self.environment,
        )  # fmt: skip
        assert self.process.stderr is not None
        async with asyncio.timeout(30):
            while True:
                line = await self.process.stderr.readline()
                if not line:
                    raise RuntimeError("the node exited before listening")
                if match := LISTENING.search(line):
                    self.port = int(match.group(1))
                    break
        self._drain = asyncio.create_task(self._drain_stderr())
        return self.port

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while await self.process.stderr.readline():
            pass

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)


@pytest.mark.slow
async def test_a_node_killed_under_load_loses_nothing_acknowledged(
    tmp_path: Path, database: str, redis: RedisServer
) -> None:
    processes = [NodeProcess(tmp_path / f"node{i}", database, redis.url) for i in range(3)]
    try:
        ports = [await process.start() for process in processes]
        setup = await WireClient.connect(ports[0])
        receiver = await setup.register("Receiver")
        senders = [await setup.register(f"Sender {i}") for i in range(4)]
        await setup.close()
        # the receiver stays on node 0 throughout; the senders write through node 2
        inbox = await WireClient.connect(ports[0])
        assert isinstance(await inbox.login(receiver), protocol.LoggedIn)
        acknowledged: dict[str, list[str]] = {s.client_id: [] for s in senders}
        attempted: dict[str, list[str]] = {s.client_id: [] for s in senders}
        killed = asyncio.Event()

        received: list[protocol.Message] = []

        async def receive() -> None:  # the receiver stores and acknowledges as it goes
            while True:
                event = await inbox.events.get()
                if isinstance(event, protocol.Message):
                    received.append(event)
                    inbox.ack([event.message_id])

        async def flood(identity: Identity) -> None:
            """Send as fast as `sent`s come back, 50 unanswered at most (a busy client)."""
            client = await WireClient.connect(ports[2])
            await client.login(identity)
            window = asyncio.Semaphore(50)

            def answered(future: asyncio.Future[protocol.ServerFrame], key: str) -> None:
                window.release()
                if (
                    not future.cancelled()
                    and future.exception() is None
                    and isinstance(future.result(), protocol.Sent)
                ):
                    acknowledged[identity.client_id].append(key)

            try:
                for n in range(100_000):
                    await window.acquire()
                    if killed.is_set():
                        break
                    key = f"{identity.client_id}-{n}"
                    frame, future = client.new_request(
                        protocol.Send, key=key, text=key, to=receiver.client_id
                    )
                    attempted[identity.client_id].append(key)
                    client.send_frame(frame)
                    client.flush()
                    future.add_done_callback(lambda f, key=key: answered(f, key))
            except (ConnectionError, OSError):
                pass
            await client.wait_closed(timeout=20)

        receiving = asyncio.create_task(receive())
        floods = [asyncio.create_task(flood(s)) for s in senders]
        async with asyncio.timeout(60):
            while sum(map(len, acknowledged.values())) < 1000:
                await asyncio.sleep(0.01)
        await processes[2].kill()
        killed.set()
        for task in floods:  # their connections are gone: what got no `sent` is unsure
            task.cancel()
        await asyncio.gather(*floods, return_exceptions=True)

        # The senders come back through node 1 and resend what got no `sent` (an outbox).
        unsure = sum(len(attempted[c]) - len(acknowledged[c]) for c in attempted)
        assert unsure > 0  # sends were in flight when the node died
        for sender in senders:
            client = await WireClient.connect(ports[1])
            assert isinstance(await client.login(sender), protocol.LoggedIn)
            done = set(acknowledged[sender.client_id])
            for key in attempted[sender.client_id]:
                if key not in done:
                    reply = await client.request(
                        protocol.Send, key=key, text=key, to=receiver.client_id
                    )
                    assert isinstance(reply, protocol.Sent), reply
                    acknowledged[sender.client_id].append(key)
            await client.close()

        expected = sum(map(len, acknowledged.values()))
        async with asyncio.timeout(60):
            while len(received) < expected:
                await asyncio.sleep(0.01)
        assert isinstance(await inbox.request(protocol.Ping), protocol.Pong)
        receiving.cancel()
        texts = [m.text for m in received]
        assert len(texts) == len(set(texts)), "a message was delivered twice"
        for sender in senders:
            mine = [t for t in texts if t.startswith(sender.client_id)]
            assert set(mine) == set(acknowledged[sender.client_id]), "acknowledged but lost"
            assert mine == sorted(mine, key=lambda t: int(t.rsplit("-", 1)[1])), "out of order"
            seqs = [m.seq for m in received if m.sender == sender.client_id]
            assert seqs == sorted(set(seqs)), "seqs of a conversation out of order"
        await inbox.close()
    finally:
        for process in processes:
            await process.stop()


async def test_a_receipt_lost_on_the_bus_comes_late_and_no_version_runs_ahead_of_it(
    nodes: list[Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, _ = await nodes[2].user("Ana")
    bia, bia_id = await nodes[0].user("Bia")
    caio, caio_id = await nodes[1].user("Caio")
    warm_up = await ana.send("oi", to=bia_id.client_id)  # a first change, heard as usual
    assert isinstance(warm_up, protocol.Sent)
    await bia.messages(1)
    assert (await ana.next_event(protocol.Receipts)).version >= 1
    receipts = nodes[2].server.service.receipts  # type: ignore[union-attr]
    queue = receipts.queue
    dropped: list[MarkerMove] = []

    def lossy(move: MarkerMove) -> None:
        if move.after.member == bia_id.client_id and not dropped:
            dropped.append(move)  # as if Redis had lost it on the way to node 2
            return
        queue(move)

    monkeypatch.setattr(receipts, "queue", lossy)
    to_bia = await ana.send("para a Bia", to=bia_id.client_id)
    to_caio = await ana.send("para o Caio", to=caio_id.client_id)
    assert isinstance(to_bia, protocol.Sent) and isinstance(to_caio, protocol.Sent)
    await bia.messages(1)  # node 0 moves Bia's marker again: node 2 never hears of it
    async with asyncio.timeout(10):
        while not dropped:
            await asyncio.sleep(0.01)
    lost = dropped[0].after.version
    await caio.messages(1)  # node 1 moves Caio's: node 2 hears of that one
    first = await ana.next_event(protocol.Receipts)
    assert [r.by for r in first.receipts] == [caio_id.client_id]
    assert first.version < lost, "a version told ahead of a change not sent"
    late = await ana.next_event(protocol.Receipts, timeout=10)  # read back from the database
    assert (bia_id.client_id, to_bia.seq) in [(r.by, r.delivered) for r in late.receipts]
    assert late.version >= lost

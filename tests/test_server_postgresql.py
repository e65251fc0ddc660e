"""The server on PostgreSQL, end to end: PostgreSQL restarted under load.

The cluster is one of this module's own, with ``fsync`` on (what the restart must keep is
what was committed); without PostgreSQL installed these tests are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from messenger_server import protocol
from tests.conftest import RunningServer
from tests.engines import PostgreSQLServer
from tests.wire import Identity, WireClient

postgresql = pytest.importorskip("messenger_server.repository.postgresql")


async def start_on(database_url: str, data_dir: Path, **overrides: Any) -> RunningServer:
    await postgresql.migrate(database_url)
    running = RunningServer(data_dir, storage="postgresql", database_url=database_url, **overrides)
    await running.start()
    return running


@pytest.fixture(scope="module")
def durable_postgresql() -> Iterator[PostgreSQLServer]:
    """A cluster of this module's own, ``fsync`` on: the tests restart it."""
    server = PostgreSQLServer(durable=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


async def send_until_sent(client: WireClient, text: str, key: str, **to: str) -> protocol.Sent:
    """Send until the server says ``sent``, again with the same key after each
    ``internal_error`` (what the app's outbox does)."""
    while True:
        reply = await client.send(text, key=key, **to)
        if isinstance(reply, protocol.Sent):
            return reply
        assert isinstance(reply, protocol.Error), reply
        assert reply.code == protocol.ErrorCode.INTERNAL_ERROR, reply
        await asyncio.sleep(0.02)


async def test_postgresql_restarted_under_load_loses_nothing_acknowledged(
    durable_postgresql: PostgreSQLServer, tmp_path: Path
) -> None:
    """Three clients send direct and group messages while PostgreSQL restarts (immediate:
    a crash, as far as the data goes); what got ``internal_error`` is sent again with the
    same key. Then an offline recipient gets every message that got ``sent`` exactly once,
    each conversation in seq order without gaps, and an online member got every group
    message live, exactly once, in order."""
    server = await start_on(await durable_postgresql.create_schema(), tmp_path / "server")
    try:
        senders = [await server.user(name) for name in ("Ana", "Bia", "Caio")]
        erin_conn = await server.connect()
        erin = await erin_conn.register("Erin")
        await erin_conn.close()
        watcher, watcher_id = await server.user("Watcher")
        for _, identity in senders:
            await server.introduce(erin, identity)
        for client, _ in [*senders[1:], (watcher, watcher_id)]:
            await client.add_contacts(senders[0][1].client_id)  # Ana may add them
        group = (
            await senders[0][0].request(
                protocol.CreateGroup,
                name="Load",
                members=[erin.client_id, watcher_id.client_id]
                + [identity.client_id for _, identity in senders[1:]],
            )
        ).group.group_id

        per_sender = 40
        sent: dict[str, protocol.Sent] = {}

        async def load(client: WireClient, identity: Identity) -> None:
            for i in range(per_sender):
                text = f"{identity.display_name} {i}"
                to = {"group": group} if i % 2 else {"to": erin.client_id}
                sent[text] = await send_until_sent(client, text, f"load-{i}", **to)
                await asyncio.sleep(0.005)

        async def restart_midway() -> int:
            while len(sent) < len(senders) * per_sender // 3:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(durable_postgresql.restart, immediate=True)
            return len(sent)

        restarted_at, *_ = await asyncio.gather(restart_midway(), *(load(c, i) for c, i in senders))
        # Sends fail while the database restarts (a batch whose COMMIT the restart cut is
        # confirmed once the database is back, and those waiting behind it go through).
        assert restarted_at < len(sent) == len(senders) * per_sender

        group_texts = [text for text in sent if int(text.split()[1]) % 2]
        live = await watcher.messages(len(group_texts))
        assert sorted(m.text for m in live) == sorted(group_texts)  # each once
        assert [m.seq for m in live] == sorted(m.seq for m in live)
        await watcher.no_event(protocol.Message, within=0.2)

        erin_client = await server.connect()
        await erin_client.login(erin)
        received = await erin_client.messages(len(sent))
        await erin_client.no_event(protocol.Message, within=0.2)
        assert sorted(m.text for m in received) == sorted(sent)
        assert {m.message_id for m in received} == {s.message_id for s in sent.values()}
        for _, identity in senders:
            for parity, in_group in ((0, None), (1, group)):
                mine = [
                    m for m in received if m.sender == identity.client_id and m.group == in_group
                ]
                assert [int(m.text.split()[1]) for m in mine] == list(range(parity, per_sender, 2))
        for conversation in {m.group or m.sender for m in received}:
            seqs = [m.seq for m in received if (m.group or m.sender) == conversation]
            assert seqs == list(range(1, len(seqs) + 1))  # in order, and no gap
    finally:
        await server.close_clients()
        await server.stop()

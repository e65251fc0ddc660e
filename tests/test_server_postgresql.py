"""The server on PostgreSQL, end to end: the end-to-end suites again (the tests of
``test_server_e2e.py`` and ``test_conversation_e2e.py`` that involve storage, each on a
schema of its own, on asyncio's loop only), PostgreSQL restarted under load, and a SQLite
store moved to PostgreSQL with ``messenger-server export`` / ``import``.

The restart gets a cluster of its own, with ``fsync`` on (what the restart must keep is
what was committed); without PostgreSQL installed these tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from messenger_server import protocol
from tests import test_conversation_e2e as conversation_on_sqlite
from tests import test_server_e2e as on_sqlite
from tests.conftest import RunningServer
from tests.engines import PostgreSQLServer
from tests.wire import Identity, WireClient

postgresql = pytest.importorskip("messenger_server.repository.postgresql")


async def start_on(database_url: str, data_dir: Path, **overrides: Any) -> RunningServer:
    await postgresql.migrate(database_url)
    running = RunningServer(data_dir, storage="postgresql", database_url=database_url, **overrides)
    await running.start()
    return running


# --- the end-to-end suite, again on PostgreSQL ----------------------------------------------------

NOT_ABOUT_STORAGE = {
    "test_registered_ids_are_random_and_readable",
    "test_protocol_1_clients_are_told_to_update",
    "test_nothing_but_hello_and_login_before_authentication",
    "test_first_frame_must_be_hello",
    "test_unsupported_protocol_version_is_refused",
    "test_oversize_text_gets_an_error_and_the_connection_stays",
    "test_server_text_limit_below_the_protocol_maximum",
    "test_oversize_frame_disconnects_while_others_keep_chatting",
    "test_garbage_frames_get_errors_then_a_disconnect",
    "test_garbage_before_login_disconnects",
    "test_a_client_that_stops_reading_is_cut_off",
    "test_a_flood_is_slowed_down_and_nobody_else_is",
    "test_handshake_timeout_closes_silent_connections",
    "test_ping_is_answered",
    "test_new_requests_take_from_the_rate_limit_like_the_others",
}
"""Tests of the end-to-end suites about the connection alone: they run on SQLite only."""

for _suite in (on_sqlite, conversation_on_sqlite):
    for _name in dir(_suite):
        if _name.startswith("test_") and _name not in NOT_ABOUT_STORAGE:
            assert _name not in globals(), f"two tests named {_name}"
            globals()[_name] = getattr(_suite, _name)


@pytest.fixture
async def server(
    tmp_path: Path, postgresql_server: PostgreSQLServer
) -> AsyncIterator[RunningServer]:
    """What ``test_server_e2e.py`` runs on: here a server on a PostgreSQL schema."""
    dsn = await postgresql_server.create_schema()
    running = await start_on(dsn, tmp_path / "server")
    yield running
    await running.close_clients()
    await running.stop()
    await postgresql_server.drop_schema(dsn)


@pytest.fixture
async def server_factory(
    tmp_path: Path, postgresql_server: PostgreSQLServer
) -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    started: list[tuple[RunningServer, str]] = []

    async def start(**overrides: Any) -> RunningServer:
        dsn = await postgresql_server.create_schema()
        running = await start_on(dsn, tmp_path / f"server{len(started)}", **overrides)
        started.append((running, dsn))
        return running

    yield start
    for running, dsn in started:
        await running.close_clients()
        await running.stop()
        await postgresql_server.drop_schema(dsn)


# --- PostgreSQL restarted under load ------------------------------------------------------------


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


# --- from SQLite to PostgreSQL --------------------------------------------------------------------


def cli(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "messenger_server", *args],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def receipts_at_login(server: RunningServer, identity: Identity) -> list[Any]:
    client = await server.connect()
    await client.login(identity)
    receipts: list[Any] = []
    while True:
        event = await client.next_event((protocol.Receipts, protocol.Synced))
        if isinstance(event, protocol.Synced):
            break
        receipts += [(r.by, r.group, r.delivered, r.read) for r in event.receipts]
    await client.close()
    return receipts


Entry = protocol.Message | protocol.Edited | protocol.Deleted | protocol.Reacted


async def backlog(client: WireClient) -> tuple[list[protocol.GroupUpdate], list[Entry]]:
    """The group updates and conversation entries a client that just logged in is sent
    before ``synced`` (the entries acknowledged)."""
    updates: list[protocol.GroupUpdate] = []
    entries: list[Entry] = []
    while True:
        event = await client.next_event()
        if isinstance(event, protocol.Synced):
            return updates, entries
        if isinstance(event, protocol.GroupUpdate):
            updates.append(event)
        elif isinstance(event, Entry):
            entries.append(event)
            client.ack([event.message_id])


def shapes(entries: list[Entry]) -> list[tuple[str, object]]:
    """(event type, what it says) of each entry."""
    shown: list[tuple[str, object]] = []
    for entry in entries:
        if isinstance(entry, protocol.Message):
            shown.append(("message", (entry.text, entry.reply_to or None)))
        elif isinstance(entry, protocol.Edited):
            shown.append(("edited", (entry.target, entry.text)))
        elif isinstance(entry, protocol.Reacted):
            shown.append(("reacted", (entry.target, entry.emoji, entry.on)))
        else:
            shown.append(("deleted", entry.target))
    return shown


async def test_a_sqlite_store_moves_to_postgresql_with_nothing_lost(
    tmp_path: Path, postgresql_server: PostgreSQLServer
) -> None:
    """Pending direct and group messages (one a reply, one edited, one reacted to), group
    updates (a description, a second admin), delivered and read positions waiting for an
    offline sender, presence settings and a last-seen time, a disabled user and an invite,
    exported from SQLite and imported into PostgreSQL: on the PostgreSQL server, the
    recipient gets exactly the entries it had waiting, as they were, the sender exactly its
    receipts, presence is as it was; a later edit refers to a message from before the move;
    a second import is refused."""
    postgres_dsn = await postgresql_server.create_schema()
    data_dir = tmp_path / "sqlite"
    old = RunningServer(data_dir)
    await old.start()
    alice, alice_id = await old.user("Alice")
    carol, carol_id = await old.user("Carol")
    bob_conn = await old.connect()
    bob_id = await bob_conn.register("Bob")
    dave_id = await bob_conn.register("Dave")
    await bob_conn.close()
    await old.introduce(bob_id, alice_id)
    await carol.add_contacts(alice_id.client_id)
    group = (
        await alice.request(
            protocol.CreateGroup, name="Moving", members=[bob_id.client_id, carol_id.client_id]
        )
    ).group.group_id
    direct = [await alice.send(f"direct {i}", to=bob_id.client_id) for i in range(2)]
    assert all(isinstance(d, protocol.Sent) for d in direct)
    first = direct[0]
    assert isinstance(first, protocol.Sent)
    quote = protocol.ReplyTo(first.seq, alice_id.client_id)
    reply = await alice.request(
        protocol.Send, key="reply", text="direct 2", to=bob_id.client_id, reply_to=quote
    )
    assert isinstance(reply, protocol.Sent), reply
    edit = await alice.request(
        protocol.Edit, key="edit", target=first.seq, text="direct 0, edited", to=bob_id.client_id
    )
    assert isinstance(edit, protocol.Sent), edit
    in_group = [await alice.send(f"group {i}", group=group) for i in range(2)]
    await carol.messages(2)
    for sent in in_group:
        assert isinstance(sent, protocol.Sent)
    group_0, last = in_group
    assert isinstance(group_0, protocol.Sent) and isinstance(last, protocol.Sent)
    await carol.request(protocol.MarkRead, up_to=last.seq, group=group)
    reacted = await carol.request(
        protocol.React, key="react", target=group_0.seq, emoji="👍", group=group
    )
    assert isinstance(reacted, protocol.Sent), reacted
    described = await alice.request(protocol.UpdateGroup, group=group, description="Antes")
    assert isinstance(described, protocol.GroupReply), described
    promoted = await alice.request(
        protocol.SetAdmin, group=group, client_id=carol_id.client_id, admin=True
    )
    assert isinstance(promoted, protocol.GroupReply), promoted
    for client in (alice, carol):
        privacy = await client.request(protocol.SetPrivacy, presence="chats")
        assert isinstance(privacy, protocol.Privacy) and privacy.presence == "chats"
    await alice.close()
    await carol.close()
    assert old.storage is not None
    assert await old.storage.set_client_disabled(dave_id.client_id, True)
    assert await old.storage.create_invite("INVI-TEDX-0001", 2, 2**50, 1)
    waiting = await old.storage.pending_conversations(bob_id.client_id, "-")
    bob_pending = await old.pending(bob_id.client_id)  # 7 entries and 3 group updates
    assert bob_pending == 10
    expected_receipts = await receipts_at_login(old, alice_id)
    assert expected_receipts  # Bob's start in the group, Carol's delivered and read
    carol_seen = (await old.storage.get_presence([carol_id.client_id]))[carol_id.client_id]
    assert carol_seen.visibility == "chats" and carol_seen.last_seen is not None
    await old.close_clients()
    await old.stop()

    exported = await asyncio.to_thread(
        cli, "--data-dir", str(data_dir), "export", str(tmp_path / "store.jsonl")
    )
    assert exported.returncode == 0, exported.stderr
    assert "4 clients" in exported.stdout and "2 presence" in exported.stdout
    assert (tmp_path / "store.jsonl").stat().st_mode & 0o077 == 0
    into_postgresql = {"MESSENGER_STORAGE": "postgresql", "MESSENGER_DATABASE_URL": postgres_dsn}
    imported = await asyncio.to_thread(
        cli, "--data-dir", str(tmp_path / "pg"), "import", str(tmp_path / "store.jsonl"),
        **into_postgresql,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    again = await asyncio.to_thread(
        cli, "--data-dir", str(tmp_path / "pg"), "import", str(tmp_path / "store.jsonl"),
        **into_postgresql,
    )  # fmt: skip
    assert again.returncode == 1 and "not empty" in again.stderr
    users = await asyncio.to_thread(cli, "--data-dir", str(tmp_path / "pg"), "users", "list",
                                    **into_postgresql)  # fmt: skip
    assert users.returncode == 0, users.stderr
    [dave_line] = [line for line in users.stdout.splitlines() if dave_id.client_id in line]
    assert "disabled" in dave_line

    new = await start_on(postgres_dsn, tmp_path / "pg")
    try:
        assert new.storage is not None
        assert await new.storage.pending_conversations(bob_id.client_id, "-") == waiting
        assert [i.code for i in await new.storage.list_invites()] == ["INVI-TEDX-0001"]
        assert await new.storage.get_presence([carol_id.client_id]) == {
            carol_id.client_id: carol_seen
        }
        assert await receipts_at_login(new, alice_id) == expected_receipts
        bob = await new.connect()
        logged_in = await bob.login(bob_id)
        assert isinstance(logged_in, protocol.LoggedIn) and logged_in.pending == bob_pending
        updates, entries = await backlog(bob)
        assert [u.change for u in updates] == ["created", "updated", "promoted"]
        moved = updates[-1].group
        assert (moved.group_id, moved.name, moved.description) == (group, "Moving", "Antes")
        admins = {m.client_id for m in moved.members if m.admin}
        assert admins == {alice_id.client_id, carol_id.client_id}
        assert shapes([e for e in entries if e.group is None]) == [
            ("message", ("direct 0", None)),
            ("message", ("direct 1", None)),
            ("message", ("direct 2", quote)),
            ("edited", (first.seq, "direct 0, edited")),
        ]
        assert shapes([e for e in entries if e.group == group]) == [
            ("message", ("group 0", None)),
            ("message", ("group 1", None)),
            ("reacted", (group_0.seq, "👍", True)),
        ]
        await bob.no_event(protocol.Message, within=0.2)

        alice = await new.connect()
        await alice.login(alice_id)
        later = await alice.request(
            protocol.Edit, key="later", target=direct[1].seq, text="direct 1, edited after",
            to=bob_id.client_id,
        )  # fmt: skip
        assert isinstance(later, protocol.Sent), later
        [edited] = await bob.entries(1)
        assert shapes([edited]) == [("edited", (direct[1].seq, "direct 1, edited after"))]
        assert edited.seq > max(e.seq for e in entries if e.group is None)
        seen = await alice.request(protocol.GetPresence, client_ids=[carol_id.client_id])
        assert isinstance(seen, protocol.Presences)
        assert [(p.online, p.last_seen) for p in seen.presences] == [(False, carol_seen.last_seen)]
        carol = await new.connect()
        await carol.login(carol_id)
        privacy = await carol.request(protocol.SetPrivacy)
        assert isinstance(privacy, protocol.Privacy) and privacy.presence == "chats"
        refused = await new.connect()
        assert isinstance(await refused.login(dave_id), protocol.Error)
    finally:
        await new.close_clients()
        await new.stop()

"""The PostgreSQL repository's own duties, on a throwaway server of the session's own:
its schema (``messenger-server migrate``), its connections, and a whole server on it.

What every store must do is in ``test_repository.py``, which runs on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from messenger_server import protocol
from messenger_server.__main__ import main
from messenger_server.repository import (
    AddMember,
    InsertClient,
    InsertGroup,
    InsertMessage,
    InsertNotices,
    MarkerMove,
    MessageSaved,
    MoveMarkers,
    SQLiteRepository,
    StorageError,
    dump,
)
from messenger_server.server import MessengerServer
from tests.conftest import make_settings
from tests.engines import PostgreSQLServer
from tests.wire import WireClient

postgresql = pytest.importorskip("messenger_server.repository.postgresql")
asyncpg = pytest.importorskip("asyncpg")


@pytest.fixture
async def dsn(postgresql_server: PostgreSQLServer) -> AsyncIterator[str]:
    """An empty schema of the test's own: no tables yet."""
    created = await postgresql_server.create_schema()
    yield created
    await postgresql_server.drop_schema(created)


# --- schema ------------------------------------------------------------------------------------


async def test_a_database_not_migrated_is_refused_with_what_to_run(dsn: str) -> None:
    repository = postgresql.PostgreSQLRepository(dsn)
    with pytest.raises(postgresql.SchemaVersionError, match="run `messenger-server migrate`"):
        await repository.open()


async def test_a_schema_newer_than_the_server_is_refused_by_open_and_migrate(dsn: str) -> None:
    await postgresql.migrate(dsn)
    conn = await postgresql._connect(dsn)
    await conn.execute(
        "INSERT INTO messenger_schema (version) VALUES ($1)", postgresql.SCHEMA_VERSION + 1
    )
    await conn.close()
    with pytest.raises(postgresql.SchemaVersionError, match="newer"):
        await postgresql.PostgreSQLRepository(dsn).open()
    with pytest.raises(postgresql.SchemaVersionError, match="newer"):
        await postgresql.migrate(dsn)


async def test_migrations_are_recorded_once_even_when_two_run_at_once(dsn: str) -> None:
    found = await asyncio.gather(postgresql.migrate(dsn), postgresql.migrate(dsn))
    # One transaction per version: the second run may start between two of the first's.
    assert min(found) == 0 and max(found) < postgresql.SCHEMA_VERSION + 1
    assert await postgresql.migrate(dsn) == postgresql.SCHEMA_VERSION
    conn = await postgresql._connect(dsn)
    versions = [r["version"] for r in await conn.fetch("SELECT version FROM messenger_schema")]
    await conn.close()
    assert sorted(versions) == list(range(1, postgresql.SCHEMA_VERSION + 1))


# --- connections -------------------------------------------------------------------------------


async def test_an_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    repository = postgresql.PostgreSQLRepository(
        f"postgresql://nobody@/none?host={tmp_path}&port=5999"
    )
    with pytest.raises(StorageError, match="cannot connect"):
        await repository.open()


async def test_commits_wait_for_the_disk_even_where_synchronous_commit_is_off(
    dsn: str,
) -> None:
    await postgresql.migrate(dsn)
    repository = postgresql.PostgreSQLRepository(dsn + "&synchronous_commit=off")
    await repository.open()
    try:
        assert await repository.pool.fetchval("SHOW synchronous_commit") == "on"
        assert await repository.commit([InsertClient("AAAA-AAAA", "Ana", b"h", 1)]) == [True]
    finally:
        await repository.close()


# --- the command line ---------------------------------------------------------------------------


def test_migrate_then_the_admin_commands_work_on_postgresql(
    postgresql_server: PostgreSQLServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = asyncio.run(postgresql_server.create_schema())
    monkeypatch.setenv("MESSENGER_STORAGE", "postgresql")
    monkeypatch.setenv("MESSENGER_DATABASE_URL", dsn)
    try:
        assert main(["users", "list"]) == 1  # not migrated: says what to run
        assert "messenger-server migrate" in capsys.readouterr().err

        assert main(["migrate"]) == 0
        assert f"database schema {postgresql.SCHEMA_VERSION} (was 0)" in capsys.readouterr().out
        assert main(["migrate"]) == 0
        assert "up to date" in capsys.readouterr().out

        assert main(["invite", "create", "--uses", "2"]) == 0
        code = capsys.readouterr().out.strip()
        assert main(["invite", "list"]) == 0
        assert code in capsys.readouterr().out
        assert main(["users", "disable", "ZZZZ-ZZZZ"]) == 1
    finally:
        asyncio.run(postgresql_server.drop_schema(dsn))


# --- a whole server ---------------------------------------------------------------------------


async def test_a_server_on_postgresql_delivers_in_order_and_reports_receipts(
    dsn: str, tmp_path: Path
) -> None:
    await postgresql.migrate(dsn)
    settings = make_settings(tmp_path, storage="postgresql", database_url=dsn)
    storage = postgresql.PostgreSQLRepository(dsn)
    await storage.open()
    server = MessengerServer(settings, storage)
    await server.start()
    clients: list[WireClient] = []
    try:
        alice = await WireClient.connect(server.port)
        bob = await WireClient.connect(server.port)
        clients += [alice, bob]
        alice_id, bob_id = await alice.register("Alice"), await bob.register("Bob")
        await alice.login(alice_id)
        sent = [await alice.send(f"message {i}", to=bob_id.client_id) for i in range(3)]
        assert all(isinstance(s, protocol.Sent) for s in sent)

        await bob.login(bob_id)  # the three wait in the backlog
        messages = await bob.messages(3)
        assert [m.text for m in messages] == ["message 0", "message 1", "message 2"]
        assert [m.seq for m in messages] == [s.seq for s in sent]  # type: ignore[union-attr]

        receipts = await alice.next_event(protocol.Receipts)
        while receipts.receipts[-1].delivered < messages[-1].seq:
            receipts = await alice.next_event(protocol.Receipts)
        assert receipts.receipts[-1].by == bob_id.client_id
        assert await storage.pending_conversations(bob_id.client_id, "-") == []
    finally:
        for client in clients:
            await client.close()
        await server.stop()
        await storage.close()


# --- a connection lost during COMMIT --------------------------------------------------------------

_real_execute = asyncpg.Connection.execute


def _losing_commits(*, after_commit: bool) -> Any:
    """``Connection.execute`` whose ``COMMIT`` loses the connection: after the commit
    went through (its answer lost), or instead of it."""

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> str:
        if not query.strip().upper().startswith("COMMIT"):
            return await _real_execute(self, query, *args, **kwargs)
        if after_commit:
            await _real_execute(self, query, *args, **kwargs)
        self.terminate()
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    return execute


@pytest.mark.parametrize("went_through", [True, False], ids=["committed", "not-committed"])
async def test_a_commit_whose_answer_was_lost_is_reported_as_it_went(
    dsn: str, monkeypatch: pytest.MonkeyPatch, went_through: bool
) -> None:
    """The connection breaks during ``COMMIT``: once the database answers, the repository
    asks it whether the transaction committed (``txid_status``). Committed: the commit
    returns its results (the service then pushes the message, in order, as it would have;
    reported as failed, it would be stored but never pushed, and a later message's ack
    would pass it). Not committed: StorageError, and a resend stores it once."""
    await postgresql.migrate(dsn)
    repository = postgresql.PostgreSQLRepository(dsn)
    await repository.open()
    try:
        await repository.commit(
            [InsertClient("AAAA-AAAA", "Ana", b"h", 1), InsertClient("BBBB-BBBB", "Bia", b"h", 1)]
        )
        ab = "AAAA-AAAA:BBBB-BBBB"
        message = InsertMessage(ab, "AAAA-AAAA", "k1", "hello", 1)
        monkeypatch.setattr(
            asyncpg.Connection, "execute", _losing_commits(after_commit=went_through)
        )
        if went_through:
            [saved] = await repository.commit([message])
            assert isinstance(saved, MessageSaved) and not saved.duplicate
        else:
            with pytest.raises(StorageError):
                await repository.commit([message])
        monkeypatch.setattr(asyncpg.Connection, "execute", _real_execute)
        [again] = await repository.commit([message])  # the app's resend
        assert isinstance(again, MessageSaved) and again.duplicate == went_through
        assert (again.seq, again.previous if not again.duplicate else 0) == (1, 0)
    finally:
        await repository.close()


# --- export and import ----------------------------------------------------------------------------


async def test_a_postgresql_store_moves_to_another_database_but_not_into_sqlite(
    dsn: str, postgresql_server: PostgreSQLServer, tmp_path: Path
) -> None:
    """A dump of PostgreSQL fills another PostgreSQL database with the same pending
    messages, markers and counters (the next seq and version follow); SQLite refuses it
    (its seqs are message ids) and stores nothing; a store that is not empty too."""
    a, b, c, group = "AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "G-GGGG-GGGG"
    await postgresql.migrate(dsn)
    source = postgresql.PostgreSQLRepository(dsn)
    await source.open()
    try:
        await source.commit(
            [InsertClient(x, x[:1], b"h", 1) for x in (a, b, c)]
            + [InsertGroup(group, "Grupo", a, 1)]
            + [AddMember(group, x, x == a, 1) for x in (a, b, c)]
            + [InsertNotices(group, "created", a, None, 1, (b, c))]
        )
        for i in range(3):
            await source.commit([InsertMessage(group, a, f"k{i}", f"text {i}", 1000 + i)])
        [moved] = await source.commit([MoveMarkers(group, b, delivered=2, read=1)])
        assert isinstance(moved, MarkerMove)
        counts = await dump.export(source, tmp_path / "store.jsonl")
        assert (counts["clients"], counts["messages"], counts["notices"]) == (3, 3, 2)
        expected = {m: await source.pending_conversations(m, "-") for m in (b, c)}
        receipts = await source.receipts_since(a, 0, 100)
    finally:
        await source.close()

    target_dsn = await postgresql_server.create_schema()
    await postgresql.migrate(target_dsn)
    target = postgresql.PostgreSQLRepository(target_dsn)
    await target.open()
    try:
        await dump.import_(target, tmp_path / "store.jsonl")
        assert {m: await target.pending_conversations(m, "-") for m in (b, c)} == expected
        assert await target.receipts_since(a, 0, 100) == receipts
        assert [n.change for n in await target.pending_notices(c, 0, 10)] == ["created"]
        [after] = await target.commit([InsertMessage(group, c, "next", "next", 2000)])
        assert isinstance(after, MessageSaved) and (after.seq, after.previous) == (4, 3)
        [version] = await target.commit([MoveMarkers(group, c, delivered=4)])
        assert isinstance(version, MarkerMove) and version.after.version > moved.after.version
        with pytest.raises(StorageError, match="not empty"):
            await dump.import_(target, tmp_path / "store.jsonl")
    finally:
        await target.close()
        await postgresql_server.drop_schema(target_dsn)

    sqlite = SQLiteRepository(tmp_path / "sqlite" / "messenger.db")
    await sqlite.open()
    try:
        with pytest.raises(StorageError, match="per conversation"):
            await dump.import_(sqlite, tmp_path / "store.jsonl")
        assert await sqlite.list_clients() == []
    finally:
        await sqlite.close()

"""``messenger-server export`` / ``import`` (:mod:`messenger_server.repository.dump`):
every table and column of both schemas moves, and a store filled through every kind of
operation comes out of a move the same.

The guards fail when a migration adds a table or a column that the dump does not know:
add it to :data:`~messenger_server.repository.dump.COLUMNS` and to both repositories'
``export_rows`` / ``import_rows`` (and to :func:`fill` here), or to ``NOT_MOVED`` with
the reason nothing is lost. The move through the command line, served by a server
afterwards, is in ``test_server_postgresql.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from messenger_server.repository import (
    AddMember,
    InsertClient,
    InsertFile,
    InsertGroup,
    InsertMessage,
    InsertNotices,
    InsertUpload,
    MarkDownloaded,
    MessageSaved,
    MoveMarkers,
    OpenConversation,
    RemoveMember,
    Repository,
    SetAdmin,
    SetContact,
    SetPresence,
    SQLiteRepository,
    UpdateGroup,
    WithdrawMessage,
    dump,
)
from messenger_server.repository.sqlite import connect
from tests.engines import PostgreSQLServer

A, B, C, D = "AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"
AB = f"{A}:{B}"
G = "G-GGGG-GGGG"

Opener = Callable[[Path], Coroutine[Any, Any, Repository]]
MOVE_THEM = (
    "columns the dump does not know: add them to COLUMNS in repository/dump.py and to both"
    " repositories' export_rows/import_rows (and to fill() here), or to NOT_MOVED with why"
)


# --- the guards: each schema against the dump ---------------------------------------------------


def unknown_to_the_dump(store: str, columns: set[tuple[str, str]]) -> set[tuple[str, str]]:
    known = {(table, column) for table, names in dump.COLUMNS.items() for column in names}
    return columns - known - set(dump.NOT_MOVED[store])


async def test_every_table_and_column_of_the_sqlite_schema_is_in_the_dump(
    tmp_path: Path,
) -> None:
    repository = SQLiteRepository(tmp_path / "messenger.db")
    await repository.open()  # the current schema
    await repository.close()
    conn = connect(tmp_path / "messenger.db")
    try:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        columns = {
            (table, row[1])
            for table in tables
            for row in conn.execute(f"PRAGMA table_info({table})")
        }
    finally:
        conn.close()
    assert unknown_to_the_dump("sqlite", columns) == set(), MOVE_THEM
    assert set(dump.NOT_MOVED["sqlite"]) <= columns  # no excuse for what is gone
    # What SQLite does not keep as a table: each conversation's last seq (a seq is an id)
    # and the counters (in meta).
    assert set(dump.COLUMNS) - tables == {"conversations", "counters"}


async def test_every_table_and_column_of_the_postgresql_schema_is_in_the_dump(
    postgresql_server: PostgreSQLServer,
) -> None:
    postgresql = pytest.importorskip("messenger_server.repository.postgresql")
    dsn = await postgresql_server.create_schema()
    try:
        await postgresql.migrate(dsn)
        conn = await postgresql._connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema()"
            )
        finally:
            await conn.close()
    finally:
        await postgresql_server.drop_schema(dsn)
    columns = {(row["table_name"], row["column_name"]) for row in rows}
    assert unknown_to_the_dump("postgresql", columns) == set(), MOVE_THEM
    assert set(dump.NOT_MOVED["postgresql"]) <= columns
    assert set(dump.COLUMNS) - {table for table, _ in columns} == set()


# --- a store filled through every operation, moved ----------------------------------------------


async def open_sqlite(path: Path) -> Repository:
    repository = SQLiteRepository(path / "messenger.db")
    await repository.open()
    return repository


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_target(request: pytest.FixtureRequest) -> AsyncIterator[Opener]:
    """Opens an empty store to import into: SQLite (a restore), or PostgreSQL (the move)."""
    if request.param == "sqlite":
        yield open_sqlite
        return
    postgresql = pytest.importorskip("messenger_server.repository.postgresql")
    server: PostgreSQLServer = request.getfixturevalue("postgresql_server")
    dsns: list[str] = []

    async def open_postgresql(path: Path) -> Repository:
        dsns.append(await server.create_schema())
        await postgresql.migrate(dsns[-1])
        repository = postgresql.PostgreSQLRepository(dsns[-1])
        await repository.open()
        return repository

    yield open_postgresql
    for dsn in dsns:
        await server.drop_schema(dsn)


async def saved(repo: Repository, operation: InsertMessage) -> MessageSaved:
    [result] = await repo.commit([operation])
    assert isinstance(result, MessageSaved)
    return result


async def fill(repo: Repository) -> dict[str, int]:
    """Something in every column of every table: clients (one disabled), presence, a
    group with a description, two admins and a former member, contacts, an invite,
    messages with extras, an edit, a reaction, a deletion, read positions, group
    updates, an unfinished upload and a file sent to two members (one has it). Returns
    the seqs of the entries a test looks at."""
    await repo.commit(
        [InsertClient(x, f"name {x[:1]}", x.encode(), i) for i, x in enumerate((A, B, C, D))]
    )
    assert await repo.set_client_disabled(D, True)
    assert await repo.create_invite("INVI-TEDX-0001", 2, 2**50, 7)
    await repo.commit(
        [
            SetContact(B, A, True),
            SetContact(C, A, True),
            SetContact(A, B, True),
            SetPresence(A, visibility="chats", last_seen=40),
            SetPresence(B, visibility="nobody"),
            OpenConversation(AB, (A, B)),
        ]
    )
    await repo.commit(
        [InsertGroup(G, "Grupo", A, 5)]
        + [AddMember(G, x, x == A, 5 + i) for i, x in enumerate((A, B, C, D))]
        + [InsertNotices(G, "created", A, None, 5, (B, C, D))]
    )
    await repo.commit([UpdateGroup(G, None, "Quem somos"), SetAdmin(G, B, True)])
    await repo.commit([InsertNotices(G, "promoted", A, B, 6, (B, C))])
    hello = await saved(repo, InsertMessage(AB, A, "k1", "olá", 10, extra=b'{"m":1}'))
    await saved(repo, InsertMessage(AB, A, "k2", "olá!", 11, "edit", hello.seq))
    blob = "ab" * 32
    await repo.commit(
        [
            InsertUpload(77, B, "cd" * 32, 2048, "meio.pdf", "application/pdf", 11),
            InsertFile("F-PHOTO", A, blob, 1024, "foto.jpg", "image/jpeg", 11),
        ]
    )
    photo = await saved(
        repo,
        InsertMessage(
            G, A, "k3", "foto", 12, files='[{"id":"F-PHOTO"}]', file_ids=("F-PHOTO",),
            recipients=(B, C),
        ),
    )  # fmt: skip
    await repo.commit([MarkDownloaded("F-PHOTO", B)])
    oops = await saved(repo, InsertMessage(G, A, "k4", "oops", 13))
    react = await saved(repo, InsertMessage(G, B, "k5", "👍", 14, "react", photo.seq))
    [delete, _] = await repo.commit(
        [InsertMessage(G, A, "k6", "", 15, "delete", oops.seq), WithdrawMessage(G, oops.seq)]
    )
    assert isinstance(delete, MessageSaved)
    await repo.commit([MoveMarkers(G, B, delivered=react.seq, read=photo.seq)])
    await repo.commit([RemoveMember(G, D)])
    return {"hello": hello.seq, "photo": photo.seq, "oops": oops.seq, "delete": delete.seq}


async def rows_of(repo: Repository, path: Path) -> dict[str, list[str]]:
    """Every row of ``repo``'s dump, by table, in a canonical order."""
    assert isinstance(repo, dump.Transferable)
    await dump.export(repo, path)
    tables: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as file:
        file.readline()
        for line in file:
            table, row = json.loads(line)
            tables.setdefault(table, []).append(json.dumps(row, sort_keys=True))
    return {table: sorted(rows) for table, rows in tables.items()}


async def test_a_store_of_every_kind_of_row_moves_whole(
    open_target: Opener, tmp_path: Path
) -> None:
    """A SQLite store with something in every column, exported and imported into an empty
    store (SQLite, PostgreSQL), exports again row for row the same; what it serves is the
    same, and what is stored next comes after everything imported."""
    source = await open_sqlite(tmp_path / "source")
    try:
        seqs = await fill(source)
        before = await rows_of(source, tmp_path / "before.jsonl")
        waiting = {m: await source.pending_conversations(m, "-") for m in (A, B, C)}
        receipts = await source.receipts_since(A, 0, 100)
    finally:
        await source.close()
    for table in dump.STORED_TABLES:
        for column in dump.COLUMNS[table]:
            assert any(json.loads(row)[column] is not None for row in before[table]), (
                f"fill() leaves {table}.{column} empty: put something in it"
            )

    target = await open_target(tmp_path / "target")
    try:
        assert isinstance(target, dump.Transferable)
        await dump.import_(target, tmp_path / "before.jsonl")
        after = await rows_of(target, tmp_path / "after.jsonl")
        for table in dump.STORED_TABLES:
            assert after[table] == before[table], table
        counted = [{c["name"]: c["value"] for c in map(json.loads, rows[g])} for rows, g in
                   ((before, "counters"), (after, "counters"))]  # fmt: skip
        assert all(counted[1][name] >= value for name, value in counted[0].items())

        assert {m: await target.pending_conversations(m, "-") for m in (A, B, C)} == waiting
        assert await target.receipts_since(A, 0, 100) == receipts
        [hello, edit] = await target.pending_messages(B, AB, 0, 10)
        assert (hello.text, hello.extra) == ("olá", b'{"m":1}')
        assert (edit.kind, edit.target, edit.text) == ("edit", seqs["hello"], "olá!")
        group = await target.get_group(G)
        assert group is not None and group.description == "Quem somos"
        assert [m.client_id for m in group.members if m.admin] == [A, B]
        presence = await target.get_presence([A, B])
        assert (presence[A].visibility, presence[A].last_seen) == ("chats", 40)
        assert (presence[B].visibility, presence[B].last_seen) == ("nobody", None)
        deleted = await target.get_entry(G, seqs["oops"])
        assert deleted is not None and deleted.deleted

        later = await saved(target, InsertMessage(G, B, "k7", "depois", 20))
        assert later.seq > seqs["delete"] and not later.duplicate
        again = await saved(target, InsertMessage(G, A, "k3", "foto", 12))
        assert again.duplicate and again.seq == seqs["photo"]
    finally:
        await target.close()

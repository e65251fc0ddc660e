"""Server storage on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from messenger_server.protocol import ErrorCode
from messenger_server.storage import (
    MIGRATIONS,
    SCHEMA_VERSION,
    NewMessage,
    NewReceipt,
    PendingGroupUpdate,
    PendingMessage,
    PendingReceipt,
    Refused,
    SavedMessage,
    SQLiteStorage,
    connect,
    generate_unique_id,
    migrate,
)


async def two_clients(storage: SQLiteStorage) -> tuple[str, str]:
    a = await storage.save_client_id("Alice", b"a" * 32)
    b = await storage.save_client_id("Bob", b"b" * 32)
    return a.client_id, b.client_id


def test_generate_unique_id_is_readable_and_random() -> None:
    ids = {generate_unique_id() for _ in range(1000)}
    assert len(ids) == 1000
    for client_id in ids:
        assert len(client_id) == 9 and client_id[4] == "-"
        assert not set(client_id) & set("ILOU")
    assert generate_unique_id("G-").startswith("G-")


async def test_migrates_an_empty_database(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "new" / "messenger.db")
    await store.open()
    await store.close()
    conn = sqlite3.connect(tmp_path / "new" / "messenger.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clients", "groups", "members", "messages", "pending", "sent_keys", "notices"} <= tables


async def test_migrates_from_the_previous_schema_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "messenger.db"
    conn = connect(path)
    migrate(conn, target=SCHEMA_VERSION - 1)
    conn.execute(
        "INSERT INTO clients (id, secret_hash, display_name, created_at) VALUES (?, ?, ?, ?)",
        ("AAAA-BBBB", b"h" * 32, "Old Timer", 1),
    )
    conn.close()

    store = SQLiteStorage(path)
    await store.open()
    try:
        client = await store.get_client("AAAA-BBBB")
        assert client is not None and client.display_name == "Old Timer"
        other = await store.save_client_id("New", b"n" * 32)
        saved = await store.save_pending_message(
            NewMessage(other.client_id, "k1", "hello", to="AAAA-BBBB")
        )
        assert isinstance(saved, SavedMessage)
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "messenger.db"
    for _ in range(2):
        store = SQLiteStorage(path)
        await store.open()
        await store.close()
    conn = connect(path)
    assert migrate(conn) == SCHEMA_VERSION


async def test_refuses_a_database_from_a_newer_server(tmp_path: Path) -> None:
    path = tmp_path / "messenger.db"
    conn = connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    store = SQLiteStorage(path)
    with pytest.raises(RuntimeError, match="newer"):
        await store.open()


async def test_concurrent_writes_are_group_committed(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    before = storage.commits
    results = await asyncio.gather(
        *(
            storage.save_pending_message(NewMessage(alice, f"key-{i}", f"m{i}", to=bob))
            for i in range(200)
        )
    )
    commits = storage.commits - before
    assert all(isinstance(r, SavedMessage) for r in results)
    # 200 concurrent saves share far fewer transactions than one each.
    assert commits < 50, commits
    assert await storage.count_pending(bob) == 200


async def test_pending_messages_come_back_in_order(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    for batch in range(5):
        await storage.save_pending_messages(
            [NewMessage(alice, f"k{batch}-{i}", f"{batch}-{i}", to=bob) for i in range(10)]
        )
    items = await storage.get_pending_messages(bob)
    assert [i.text for i in items if isinstance(i, PendingMessage)] == [
        f"{b}-{i}" for b in range(5) for i in range(10)
    ]
    seqs = [i.seq for i in items if isinstance(i, PendingMessage)]
    assert seqs == list(range(1, 51))
    page = await storage.get_pending_messages(bob, after=items[9].event_id, limit=5)
    assert [p.event_id for p in page] == [i.event_id for i in items[10:15]]


async def test_seq_continues_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "messenger.db"
    store = SQLiteStorage(path)
    await store.open()
    alice, bob = await two_clients(store)
    first = await store.save_pending_message(NewMessage(alice, "a", "1", to=bob))
    await store.close()
    store = SQLiteStorage(path)
    await store.open()
    second = await store.save_pending_message(NewMessage(bob, "b", "2", to=alice))
    await store.close()
    assert isinstance(first, SavedMessage) and isinstance(second, SavedMessage)
    assert second.seq == first.seq + 1
    assert second.message_id > first.message_id
    assert first.conversation == second.conversation


async def test_event_ids_never_repeat_even_after_everything_was_delivered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "messenger.db"
    store = SQLiteStorage(path)
    await store.open()
    alice, bob = await two_clients(store)
    first = await store.save_pending_message(NewMessage(alice, "a", "1", to=bob))
    assert isinstance(first, SavedMessage)
    await store.acknowledge(bob, [first.message_id])
    await store.close()
    store = SQLiteStorage(path)
    await store.open()
    second = await store.save_pending_message(NewMessage(alice, "b", "2", to=bob))
    await store.close()
    assert isinstance(second, SavedMessage) and second.message_id > first.message_id


async def test_duplicate_key_returns_the_original(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    first = await storage.save_pending_message(NewMessage(alice, "same", "x", to=bob))
    again = await storage.save_pending_message(NewMessage(alice, "same", "x", to=bob))
    assert isinstance(first, SavedMessage) and isinstance(again, SavedMessage)
    assert again.duplicate and again.message_id == first.message_id and again.recipients == ()
    # The same key from another sender is another message.
    other = await storage.save_pending_message(NewMessage(bob, "same", "y", to=alice))
    assert isinstance(other, SavedMessage) and not other.duplicate
    assert await storage.count_pending(bob) == 1


async def test_duplicate_key_is_remembered_after_delivery_until_pruned(
    storage: SQLiteStorage,
) -> None:
    alice, bob = await two_clients(storage)
    first = await storage.save_pending_message(NewMessage(alice, "k", "x", to=bob))
    assert isinstance(first, SavedMessage)
    await storage.acknowledge(bob, [first.message_id])
    again = await storage.save_pending_message(NewMessage(alice, "k", "x", to=bob))
    assert isinstance(again, SavedMessage) and again.duplicate
    assert await storage.prune(first.ts + 1) == 1
    third = await storage.save_pending_message(NewMessage(alice, "k", "x", to=bob))
    assert isinstance(third, SavedMessage) and not third.duplicate


async def test_refusals_do_not_spoil_the_batch(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    results = await storage.save_pending_messages(
        [
            NewMessage(alice, "1", "ok", to=bob),
            NewMessage(alice, "2", "nobody", to="ZZZZ-ZZZZ"),
            NewMessage(alice, "3", "no group", group="G-ZZZZ-ZZZZ"),
            NewMessage(alice, "4", "ok too", to=bob),
        ]
    )
    assert isinstance(results[0], SavedMessage) and isinstance(results[3], SavedMessage)
    assert isinstance(results[1], Refused) and results[1].code == ErrorCode.UNKNOWN_CLIENT
    assert isinstance(results[2], Refused) and results[2].code == ErrorCode.UNKNOWN_GROUP
    assert await storage.count_pending(bob) == 2


async def test_acknowledging_deletes_and_reports_messages_once(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    saved = await storage.save_pending_message(NewMessage(alice, "k", "x", to=bob))
    assert isinstance(saved, SavedMessage)
    acked = await storage.acknowledge(bob, [saved.message_id, saved.message_id])
    assert [(a.message_id, a.sender, a.recipient) for a in acked] == [
        (saved.message_id, alice, bob)
    ]
    assert await storage.acknowledge(bob, [saved.message_id]) == []
    assert await storage.count_pending(bob) == 0
    # Someone else cannot acknowledge (and so delete) Bob's messages.
    other = await storage.save_pending_message(NewMessage(alice, "k2", "y", to=bob))
    assert isinstance(other, SavedMessage)
    assert await storage.acknowledge(alice, [other.message_id]) == []
    assert await storage.count_pending(bob) == 1


async def test_group_message_is_pending_for_every_other_member(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    carol = (await storage.save_client_id("Carol", b"c" * 32)).client_id
    change = await storage.save_group("Trio", alice, [bob, carol], 256)
    assert set(change.notices) == {alice, bob, carol}
    group_id = change.group.group_id
    saved = await storage.save_pending_message(NewMessage(bob, "g1", "hey", group=group_id))
    assert isinstance(saved, SavedMessage) and set(saved.recipients) == {alice, carol}
    for member in (alice, carol):
        items = await storage.get_pending_messages(member)
        assert isinstance(items[0], PendingGroupUpdate)
        assert isinstance(items[1], PendingMessage) and items[1].group == group_id
    await storage.acknowledge(alice, [saved.message_id])
    items = await storage.get_pending_messages(carol)
    assert any(isinstance(i, PendingMessage) for i in items), "still pending for Carol"


async def test_membership_rules(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    carol = (await storage.save_client_id("Carol", b"c" * 32)).client_id
    group_id = (await storage.save_group("g", alice, [bob], 3)).group.group_id
    with pytest.raises(Refused) as refused:
        await storage.add_member(group_id, bob, carol, False, 3)
    assert refused.value.code == ErrorCode.NOT_ADMIN
    change = await storage.add_member(group_id, alice, carol, False, 3)
    assert change.notices.keys() == {alice, bob, carol}
    with pytest.raises(Refused) as refused:
        await storage.add_member(group_id, alice, carol, False, 3)
    assert refused.value.code == ErrorCode.ALREADY_A_MEMBER
    dave = (await storage.save_client_id("Dave", b"d" * 32)).client_id
    with pytest.raises(Refused) as refused:
        await storage.add_member(group_id, alice, dave, False, 3)
    assert refused.value.code == ErrorCode.GROUP_FULL
    change = await storage.remove_member(group_id, alice, bob)
    assert bob in change.notices and change.group.member(bob) is None
    with pytest.raises(Refused) as refused:
        await storage.remove_member(group_id, bob, bob)
    assert refused.value.code == ErrorCode.NOT_A_MEMBER
    with pytest.raises(Refused) as refused:
        await storage.remove_member("G-ZZZZ-ZZZZ", alice, alice)
    assert refused.value.code == ErrorCode.UNKNOWN_GROUP
    groups = await storage.groups_of(carol)
    assert [g.group_id for g in groups] == [group_id]


async def test_stored_receipts_come_back_with_the_backlog(storage: SQLiteStorage) -> None:
    alice, bob = await two_clients(storage)
    ids = await storage.save_receipts(
        [
            NewReceipt(alice, "delivered", bob, 3, 100, message_id=42),
            NewReceipt(alice, "read", bob, 3, 101),
        ]
    )
    items = await storage.get_pending_messages(alice)
    assert [i.event_id for i in items] == ids
    assert all(isinstance(i, PendingReceipt) for i in items)
    assert [(i.kind, i.seq) for i in items if isinstance(i, PendingReceipt)] == [
        ("delivered", 3),
        ("read", 3),
    ]
    assert await storage.acknowledge(alice, ids) == []  # receipts are not messages
    assert await storage.count_pending(alice) == 0


async def test_disabling_a_client(storage: SQLiteStorage) -> None:
    alice, _ = await two_clients(storage)
    assert await storage.set_client_disabled(alice, True)
    client = await storage.get_client(alice)
    assert client is not None and client.disabled
    assert not await storage.client_exists(alice)
    assert not await storage.set_client_disabled("ZZZZ-ZZZZ", True)
    listed = {client.client_id: client.disabled for client in await storage.list_clients()}
    assert listed[alice] is True
    assert list(listed.values()).count(True) == 1

"""The repository contract: what any store behind the service layer must do.

Every test takes the ``repo`` fixture, parametrized over the implementations (SQLite
today; a PostgreSQL repository runs the same tests). The SQLite-specific tests (schema
migrations, files) are at the end.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from messenger_server.repository import (
    AckNotices,
    AddMember,
    DeleteFiles,
    DeleteUploads,
    FileRecord,
    InsertClient,
    InsertFile,
    InsertGroup,
    InsertMessage,
    InsertNotices,
    InsertUpload,
    MarkDownloaded,
    MarkerMove,
    MessageSaved,
    MoveMarkers,
    OpenConversation,
    RemoveMember,
    Repository,
    SetAdmin,
    SQLiteRepository,
    StorageError,
    UploadRecord,
)
from messenger_server.repository.sqlite import MIGRATIONS, SCHEMA_VERSION, connect, migrate

A, B, C = "AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"
AB = f"{A}:{B}"
G = "G-GGGG-GGGG"

Opener = Callable[[Path], Coroutine[Any, Any, Repository]]


async def open_sqlite(path: Path) -> Repository:
    repository = SQLiteRepository(path / "messenger.db")
    await repository.open()
    return repository


@pytest.fixture(params=[open_sqlite], ids=["sqlite"])
def opener(request: pytest.FixtureRequest) -> Opener:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def repo(opener: Opener, tmp_path: Path) -> AsyncIterator[Repository]:
    repository = await opener(tmp_path)
    await repository.commit(
        [
            InsertClient(c, name, c.encode() * 4, 1)
            for c, name in [(A, "Ana"), (B, "Bia"), (C, "Caio")]
        ]
    )
    yield repository
    await repository.close()


async def send(
    repo: Repository, conversation: str, sender: str, key: str, text: str = "t"
) -> MessageSaved:
    [saved] = await repo.commit([InsertMessage(conversation, sender, key, text, 1000)])
    assert isinstance(saved, MessageSaved)
    return saved


async def group_of(repo: Repository, *members: str) -> None:
    await repo.commit(
        [InsertGroup(G, "Grupo", members[0], 1)]
        + [AddMember(G, m, i == 0, i) for i, m in enumerate(members)]
    )


async def pending_texts(repo: Repository, member: str) -> list[str]:
    texts = []
    own = f"{member}:{member}"
    for conversation, after, _ in await repo.pending_conversations(member, own):
        texts += [
            m.text
            for m in await repo.pending_messages(
                member, conversation, after, 1000, own=conversation == own
            )
        ]
    return texts


# --- clients ---------------------------------------------------------------------------------


async def test_client_ids_are_unique(repo: Repository) -> None:
    assert await repo.commit([InsertClient("DDDD-DDDD", "Duda", b"h", 5)]) == [True]
    assert await repo.commit([InsertClient("DDDD-DDDD", "Other", b"h", 6)]) == [False]
    clients = await repo.get_clients(["DDDD-DDDD", "ZZZZ-ZZZZ"])
    assert list(clients) == ["DDDD-DDDD"] and clients["DDDD-DDDD"].display_name == "Duda"
    assert [c.client_id for c in await repo.list_clients()][:3] == [A, B, C]


async def test_disabling_a_client_changes_the_directory_epoch(repo: Repository) -> None:
    before = repo.directory_epoch()
    assert await repo.set_client_disabled(B, True)
    assert repo.directory_epoch() != before
    client = await repo.get_client(B)
    assert client is not None and client.disabled
    assert not await repo.set_client_disabled("ZZZZ-ZZZZ", True)


# --- messages and idempotency ----------------------------------------------------------------


async def test_seqs_grow_within_a_conversation_and_ids_never_repeat(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    saved = [await send(repo, AB, A if i % 2 else B, f"k{i}") for i in range(5)]
    seqs = [s.seq for s in saved]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert len({s.message_id for s in saved}) == 5


async def test_a_key_used_again_returns_the_original_and_stores_nothing(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    first = await send(repo, AB, A, "same", "one")
    again = await send(repo, AB, A, "same", "two")
    assert again == MessageSaved(first.message_id, first.seq, first.ts, True)
    other_sender = await send(repo, AB, B, "same", "three")
    assert not other_sender.duplicate
    assert await pending_texts(repo, B) == ["one"]


async def test_a_key_repeated_in_one_commit_is_one_message(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    results = await repo.commit([InsertMessage(AB, A, "k", "x", 1)] * 3)
    assert [r.duplicate for r in results] == [False, True, True]  # type: ignore[union-attr]
    assert len({r.message_id for r in results}) == 1  # type: ignore[union-attr]
    assert await pending_texts(repo, B) == ["x"]


# --- what is pending for whom ----------------------------------------------------------------


async def test_pending_is_what_others_sent_after_the_marker(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    first = await send(repo, AB, A, "k1", "from A")
    await send(repo, AB, B, "k2", "from B")
    await send(repo, AB, A, "k3", "again from A")
    assert await pending_texts(repo, B) == ["from A", "again from A"]
    assert await pending_texts(repo, A) == ["from B"]
    [(conversation, after, count)] = await repo.pending_conversations(B, f"{B}:{B}")
    assert (conversation, after, count) == (AB, 0, 2)

    [move] = await repo.commit([MoveMarkers(AB, B, delivered=first.seq)])
    assert isinstance(move, MarkerMove)
    assert (move.before.delivered, move.after.delivered) == (0, first.seq)
    assert await pending_texts(repo, B) == ["again from A"]


async def test_a_note_to_self_is_pending_for_its_sender(repo: Repository) -> None:
    own = f"{A}:{A}"
    await repo.commit([OpenConversation(own, (A, A))])
    await send(repo, own, A, "k", "remember the milk")
    assert await pending_texts(repo, A) == ["remember the milk"]


async def test_conversations_come_oldest_pending_first(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B)), OpenConversation(f"{B}:{C}", (B, C))])
    await send(repo, f"{B}:{C}", C, "k1", "old")
    await send(repo, AB, A, "k2", "newer")
    await send(repo, f"{B}:{C}", C, "k3", "newest")
    assert await pending_texts(repo, B) == ["old", "newest", "newer"]


async def test_a_member_gets_only_what_was_sent_while_it_was_a_member(repo: Repository) -> None:
    await repo.commit([InsertGroup(G, "Grupo", A, 1), AddMember(G, A, True, 1)])
    await send(repo, G, A, "k1", "before B")
    await repo.commit([AddMember(G, B, False, 2)])
    await send(repo, G, A, "k2", "while B is in")
    await repo.commit([RemoveMember(G, B)])
    await send(repo, G, A, "k3", "after B left")
    assert await pending_texts(repo, B) == ["while B is in"]


async def test_operations_take_effect_in_their_order_within_a_commit(repo: Repository) -> None:
    await repo.commit([InsertGroup(G, "Grupo", A, 1), AddMember(G, A, True, 1)])
    await repo.commit(
        [
            InsertMessage(G, A, "k1", "before", 1),
            AddMember(G, B, False, 2),
            InsertMessage(G, A, "k2", "after", 1),
        ]
    )
    assert await pending_texts(repo, B) == ["after"]


async def test_markers_only_move_forward_and_not_past_the_log(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    saved = await send(repo, AB, A, "k")
    [moved] = await repo.commit([MoveMarkers(AB, B, delivered=saved.seq, read=saved.seq)])
    assert isinstance(moved, MarkerMove)
    assert await repo.commit([MoveMarkers(AB, B, delivered=0, read=0)]) == [None]
    [capped] = await repo.commit([MoveMarkers(AB, A, read=2**52)])
    assert isinstance(capped, MarkerMove) and capped.after.read < 2**52
    assert await repo.commit([MoveMarkers(AB, C, delivered=1)]) == [None]  # not a member


async def test_receipts_since_gives_the_others_markers_in_version_order(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    await group_of(repo, A, B, C)
    saved = await send(repo, AB, A, "k1")
    group_message = await send(repo, G, A, "k2")
    [b_direct] = await repo.commit([MoveMarkers(AB, B, delivered=saved.seq)])
    [c_group] = await repo.commit([MoveMarkers(G, C, read=group_message.seq)])
    assert isinstance(b_direct, MarkerMove) and isinstance(c_group, MarkerMove)
    markers = await repo.receipts_since(A, b_direct.after.version - 1, 100)
    assert [(m.conversation, m.member) for m in markers] == [(AB, B), (G, C)]
    assert markers[-1].version == c_group.after.version
    assert await repo.receipts_since(A, c_group.after.version, 100) == []
    everyone = {(m.conversation, m.member) for m in await repo.receipts_since(A, 0, 100)}
    assert everyone == {(AB, B), (G, B), (G, C)}  # never A's own


# --- group updates -----------------------------------------------------------------------------


async def test_group_updates_wait_until_acknowledged(repo: Repository) -> None:
    await group_of(repo, A, B)
    [ids] = await repo.commit([InsertNotices(G, "created", A, None, 5, (A, B))])
    assert isinstance(ids, dict) and set(ids) == {A, B}
    [notice] = await repo.pending_notices(B, 0, 10)
    assert (notice.event_id, notice.change, notice.group_id) == (ids[B], "created", G)
    assert await repo.count_notices(B) == 1
    await repo.commit([AckNotices(B, (ids[B], ids[A], 999_999))])  # A's id is not B's to ack
    assert await repo.count_notices(B) == 0 and await repo.count_notices(A) == 1


async def test_groups_keep_their_members_in_joining_order(repo: Repository) -> None:
    await group_of(repo, B, A, C)
    await repo.commit([SetAdmin(G, C, True), RemoveMember(G, A)])
    group = await repo.get_group(G)
    assert group is not None
    assert [(m.client_id, m.admin) for m in group.members] == [(B, True), (C, True)]
    assert [g.group_id for g in await repo.groups_page(C, None, 10)] == [G]
    assert await repo.groups_page(C, G, 10) == []
    assert await repo.groups_page(A, None, 10) == []


# --- forgetting --------------------------------------------------------------------------------


async def test_texts_are_dropped_once_every_recipient_has_them(repo: Repository) -> None:
    await group_of(repo, A, B, C)
    first = await send(repo, G, A, "k1", "for B and C")
    await repo.commit([MoveMarkers(G, B, delivered=first.seq)])
    assert await repo.forget_delivered([G]) == 0  # C has not got it
    await repo.commit([MoveMarkers(G, C, delivered=first.seq)])
    assert await repo.forget_delivered([G]) == 1  # A sent it: A's own marker does not matter
    assert await pending_texts(repo, C) == []


async def test_expired_keys_are_forgotten_and_undelivered_messages_kept(
    repo: Repository,
) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    delivered = await send(repo, AB, A, "old", "delivered")
    await send(repo, AB, B, "waiting", "not delivered yet")
    await repo.commit([MoveMarkers(AB, B, delivered=delivered.seq)])
    await repo.forget_delivered([AB])
    assert await repo.expire(before_ts=2000, undelivered_before_ts=0) == 1
    assert not (await send(repo, AB, A, "old", "new message")).duplicate
    assert await pending_texts(repo, A) == ["not delivered yet"]


# --- commits -------------------------------------------------------------------------------------


async def test_concurrent_commits_share_transactions(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    before = getattr(repo, "transactions", None)
    results = await asyncio.gather(*(send(repo, AB, A, f"k{i}") for i in range(200)))
    assert len({r.message_id for r in results}) == 200
    if before is not None:
        assert repo.transactions - before < 200  # type: ignore[attr-defined]


async def test_a_failing_commit_stores_nothing_and_spoils_no_other(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])

    broken = object()  # not an operation the repository knows: its commit fails
    bad = repo.commit([InsertMessage(AB, A, "lost", "lost", 1), broken])  # type: ignore[list-item]
    good = send(repo, AB, A, "kept", "kept")
    outcome = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(outcome[0], StorageError | TypeError)
    assert await pending_texts(repo, B) == ["kept"]


async def test_ids_never_repeat_after_reopening_even_when_everything_expired(
    opener: Opener, tmp_path: Path
) -> None:
    repo = await opener(tmp_path)
    await repo.commit([OpenConversation(AB, (A, B))])
    first = await send(repo, AB, A, "k")
    await repo.commit([MoveMarkers(AB, B, delivered=first.seq)])
    await repo.forget_delivered([AB])
    await repo.expire(before_ts=10**15, undelivered_before_ts=10**15)
    await repo.close()
    repo = await opener(tmp_path)
    try:
        again = await send(repo, AB, A, "k2")
        assert again.message_id > first.message_id and again.seq > first.seq
    finally:
        await repo.close()


# --- SQLite: files and migrations ----------------------------------------------------------------


async def test_sqlite_creates_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    repo = SQLiteRepository(tmp_path / "new" / "messenger.db")
    await repo.open()
    await repo.close()
    conn = sqlite3.connect(tmp_path / "new" / "messenger.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clients", "groups", "members", "messages", "markers", "notices", "meta"} <= tables
    assert not {"pending", "sent_keys", "counters", "conversations"} & tables


async def test_sqlite_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    for _ in range(2):
        repo = SQLiteRepository(tmp_path / "messenger.db")
        await repo.open()
        await repo.close()
    assert migrate(connect(tmp_path / "messenger.db")) == SCHEMA_VERSION


async def test_sqlite_refuses_a_database_from_a_newer_server(tmp_path: Path) -> None:
    conn = connect(tmp_path / "messenger.db")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    repo = SQLiteRepository(tmp_path / "messenger.db")
    with pytest.raises(RuntimeError, match="newer"):
        await repo.open()


async def test_sqlite_migrates_a_protocol_1_database_losing_nothing(tmp_path: Path) -> None:
    """What a version-1 server left: messages pending per recipient, idempotency keys of
    delivered messages, stored group updates and read receipts."""
    path = tmp_path / "messenger.db"
    conn = connect(path)
    migrate(conn, target=2)
    conn.executescript(
        f"""
        INSERT INTO clients (id, secret_hash, display_name, created_at)
            VALUES ('{A}', x'00', 'Ana', 1), ('{B}', x'00', 'Bia', 2), ('{C}', x'00', 'Caio', 3);
        INSERT INTO groups (id, name, created_by, created_at) VALUES ('{G}', 'Grupo', '{A}', 4);
        INSERT INTO members (group_id, client_id, admin, joined_at)
            VALUES ('{G}', '{A}', 1, 4), ('{G}', '{B}', 0, 5);
        INSERT INTO conversations (id, last_seq) VALUES ('{AB}', 2), ('{G}', 1);
        UPDATE counters SET value = 10 WHERE name = 'event_id';
        INSERT INTO messages (id, conversation, seq, ts, sender, recipient, group_id, text,
                              remaining)
            VALUES (1, '{AB}', 1, 100, '{A}', '{B}', NULL, 'waiting for Bia', 1),
                   (3, '{G}', 1, 300, '{A}', NULL, '{G}', 'to the group', 2);
        INSERT INTO sent_keys (sender, key, message_id, seq, ts, conversation)
            VALUES ('{A}', 'ka', 1, 1, 100, '{AB}'), ('{B}', 'kb', 2, 2, 200, '{AB}'),
                   ('{A}', 'kg', 3, 1, 300, '{G}');
        INSERT INTO notices (id, kind, actor, subject, message_id, seq, group_id, ts)
            VALUES (4, 'created', '{A}', NULL, NULL, NULL, '{G}', 4),
                   (5, 'read', '{B}', NULL, NULL, 1, '{G}', 6),
                   (6, 'delivered', '{B}', NULL, 2, 2, NULL, 7);
        INSERT INTO pending (recipient, event_id)
            VALUES ('{B}', 1), ('{B}', 3), ('{C}', 3), ('{B}', 4), ('{A}', 5), ('{A}', 6);
        """
    )
    conn.close()

    repo = SQLiteRepository(path)
    await repo.open()
    try:
        assert await pending_texts(repo, B) == ["waiting for Bia", "to the group"]
        assert await pending_texts(repo, C) == ["to the group"]  # removed, but it was sent to C
        assert await pending_texts(repo, A) == []
        [notice] = await repo.pending_notices(B, 0, 10)
        assert (notice.event_id, notice.change) == (4, "created")
        assert await repo.count_notices(A) == 0  # receipts are markers now
        resent = await send(repo, AB, B, "kb")
        assert resent.duplicate and resent.message_id == 2
        markers = {(m.conversation, m.member): m for m in await repo.receipts_since(A, 0, 10)}
        assert markers[(G, B)].read == 1 and markers[(G, B)].delivered == 2
        assert markers[(AB, B)].delivered == 0
        fresh = await send(repo, AB, A, "new")
        assert fresh.message_id > 10
    finally:
        await repo.close()


# --- files (docs/protocol.md section 11; contract) ----------------------------------------------

SHA = "a" * 64
FILE = "F-AAAA-AAAA-AAAA-AAAA"
OTHER_FILE = "F-BBBB-BBBB-BBBB-BBBB"


async def test_uploads_are_kept_until_finished_or_forgotten(repo: Repository) -> None:
    first = InsertUpload(7, A, SHA, 100, "a.txt", "text/plain", 10)
    assert await repo.commit([first, InsertUpload(8, A, SHA, 5, "b", "x/y", 20)]) == [True, True]
    assert await repo.commit([InsertUpload(7, B, SHA, 1, "taken", "x/y", 30)]) == [False]
    assert await repo.get_upload(7) == UploadRecord(7, A, SHA, 100, "a.txt", "text/plain", 10)
    assert [u.upload_id for u in await repo.uploads_of(A)] == [7, 8]
    assert [u.upload_id for u in await repo.expired_uploads(15)] == [7]
    assert await repo.stored_bytes(A) == 105
    await repo.commit([DeleteUploads((8, 99))])
    assert [u.upload_id for u in await repo.uploads_of(A)] == [7]


async def test_a_finished_upload_becomes_a_file_in_one_step(repo: Repository) -> None:
    await repo.commit([InsertUpload(7, A, SHA, 100, "a.txt", "text/plain", 10)])
    assert await repo.commit([InsertFile(FILE, A, SHA, 100, "a.txt", "text/plain", 11, 7)]) == [
        True
    ]
    assert await repo.get_upload(7) is None
    assert await repo.get_files([FILE, OTHER_FILE]) == {
        FILE: FileRecord(FILE, A, SHA, 100, "a.txt", "text/plain", 11)
    }
    assert await repo.commit([InsertFile(FILE, B, SHA, 1, "x", "x/y", 12)]) == [False]
    assert [f.file_id for f in await repo.files_like(A, SHA, 100)] == [FILE]
    assert await repo.files_like(B, SHA, 100) == []
    assert await repo.stored_bytes(A) == 100


async def test_the_recipients_of_a_message_with_files_may_download_them(repo: Repository) -> None:
    await repo.commit([InsertFile(FILE, A, SHA, 3, "a", "x/y", 1), OpenConversation(AB, (A, B))])
    described = '[{"file_id":"F-AAAA-AAAA-AAAA-AAAA"}]'
    message = InsertMessage(AB, A, "k", "", 5, described, (FILE,), (B,))
    await repo.commit([message])
    assert await repo.is_file_recipient(FILE, B)
    assert not await repo.is_file_recipient(FILE, C)
    assert not await repo.is_file_recipient(FILE, A)  # the uploader is not a recipient
    [pending] = await repo.pending_messages(B, AB, 0, 10)
    assert (pending.text, pending.files) == ("", described)
    # a resend (same key) makes nobody else a recipient
    await repo.commit([InsertMessage(AB, A, "k", "", 5, described, (FILE,), (C,))])
    assert not await repo.is_file_recipient(FILE, C)


async def test_a_file_is_done_once_every_recipient_downloaded_and_acknowledged(
    repo: Repository,
) -> None:
    await group_of(repo, A, B, C)
    await repo.commit([InsertFile(FILE, A, SHA, 3, "a", "x/y", 1)])
    [saved] = await repo.commit([InsertMessage(G, A, "k", "", 5, "[]", (FILE,), (B, C))])
    assert isinstance(saved, MessageSaved)
    assert await repo.files_done([FILE]) == []
    await repo.commit([MarkDownloaded(FILE, B), MarkDownloaded(FILE, C)])
    assert await repo.files_done([FILE]) == []  # the message is not acknowledged yet
    await repo.commit([MoveMarkers(G, B, delivered=saved.seq)])
    assert await repo.files_done() == []
    await repo.commit([MoveMarkers(G, C, delivered=saved.seq)])
    assert await repo.files_done([FILE]) == [FILE]
    assert await repo.files_done() == [FILE]


async def test_a_file_sent_to_nobody_is_not_done(repo: Repository) -> None:
    await repo.commit([InsertFile(FILE, A, SHA, 3, "a", "x/y", 1)])
    assert await repo.files_done() == []
    assert await repo.expired_files(2) == [FILE]
    assert await repo.expired_files(1) == []


async def test_deleting_files_says_which_blobs_nothing_refers_to(repo: Repository) -> None:
    await repo.commit(
        [
            InsertFile(FILE, A, SHA, 3, "a", "x/y", 1),
            InsertFile(OTHER_FILE, B, SHA, 3, "b", "x/y", 2),
        ]
    )
    assert await repo.referenced_blobs([SHA, "b" * 64]) == {SHA}
    assert await repo.commit([DeleteFiles((FILE,))]) == [[]]  # B's file has the same bytes
    assert await repo.commit([DeleteFiles((OTHER_FILE, "F-CCCC-CCCC-CCCC-CCCC"))]) == [[SHA]]
    assert await repo.referenced_blobs([SHA]) == set()
    assert await repo.get_files([FILE, OTHER_FILE]) == {}


async def test_the_files_of_a_message_go_with_its_text_once_delivered(repo: Repository) -> None:
    await repo.commit([OpenConversation(AB, (A, B))])
    [saved] = await repo.commit([InsertMessage(AB, A, "k", "caption", 5, "[]", (FILE,), (B,))])
    assert isinstance(saved, MessageSaved)
    await repo.commit([MoveMarkers(AB, B, delivered=saved.seq)])
    assert await repo.forget_delivered([AB]) == 1
    assert await repo.pending_messages(B, AB, 0, 10) == []

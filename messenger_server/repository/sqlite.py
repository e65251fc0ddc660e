"""The embedded repository: one SQLite file in WAL mode. No SQL is written elsewhere.

Durability: :meth:`SQLiteRepository.commit` returns only after its transaction is committed
with ``synchronous=FULL``. Writes run on one thread and reads on another (WAL lets them
proceed together), never on the event loop; every write call queued while the previous
transaction was being committed runs in the next single transaction (group commit).

A message is one row of ``messages``; its seq is its id (strictly increasing within every
conversation, with gaps). ``markers`` holds each member's delivered and read position per
conversation; the ids, seqs and marker versions come from one counter kept in memory and
reserved on disk a block at a time, so that it never goes back after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from messenger_server.repository.base import Repository, StorageError
from messenger_server.repository.dump import COLUMNS, STORED_TABLES, Row, Seqs
from messenger_server.repository.records import (
    AckNotices,
    AddMember,
    ClientRecord,
    DeleteFiles,
    DeleteUploads,
    EntryRecord,
    FileRecord,
    GroupRecord,
    InsertClient,
    InsertFile,
    InsertGroup,
    InsertMessage,
    InsertNotices,
    InsertUpload,
    InviteRecord,
    MarkDownloaded,
    Marker,
    MarkerMove,
    MemberRecord,
    MessageSaved,
    MoveMarkers,
    OpenConversation,
    Operation,
    OperationResult,
    PresenceRecord,
    RemoveMember,
    SetAdmin,
    SetContact,
    SetPresence,
    StoredMessage,
    StoredNotice,
    UpdateGroup,
    UploadRecord,
    UseInvite,
    WithdrawMessage,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
MessageRow = tuple[
    int, str, str, str, int, str, str | None, int | None, bytes | None, str | None
]
"""A row of ``messages``: id, conversation, sender, key, ts, text, kind, target, extra."""

ID_BLOCK: Final = 1_000_000
"""Ids reserved on disk at a time: after a crash, allocation resumes past the block."""
MAX_VARIABLES: Final = 900
"""Bound parameters per statement when a list is expanded into one."""

# --- schema ----------------------------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE members (
    group_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, client_id)
) WITHOUT ROWID;
CREATE INDEX members_by_client ON members (client_id, group_id);
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT,
    group_id TEXT,
    text TEXT NOT NULL,
    remaining INTEGER NOT NULL
);
CREATE TABLE pending (
    recipient TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (recipient, event_id)
) WITHOUT ROWID;
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('event_id', 0);
"""

_SCHEMA_2 = """
CREATE TABLE sent_keys (
    sender TEXT NOT NULL,
    key TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    conversation TEXT NOT NULL,
    PRIMARY KEY (sender, key)
) WITHOUT ROWID;
CREATE INDEX sent_keys_by_ts ON sent_keys (ts);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT,
    message_id INTEGER,
    seq INTEGER,
    group_id TEXT,
    ts INTEGER NOT NULL
);
"""

# 3: one row per message, markers instead of a pending row per recipient (protocol 2).
_SCHEMA_3 = """
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (name, value)
    SELECT 'id_ceiling', value + 1 FROM counters WHERE name = 'event_id';
INSERT INTO meta (name, value) VALUES ('directory_epoch', 0);

ALTER TABLE messages RENAME TO messages_v1;
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL,
    sender TEXT NOT NULL,
    key TEXT NOT NULL,
    ts INTEGER NOT NULL,
    text TEXT
);
CREATE INDEX temp_keys_by_message ON sent_keys (message_id);
INSERT INTO messages (id, conversation, sender, key, ts, text)
    SELECT m.id, m.conversation, m.sender, coalesce(k.key, 'v1-' || m.id), m.ts, m.text
    FROM messages_v1 m LEFT JOIN sent_keys k ON k.message_id = m.id AND k.sender = m.sender;
INSERT INTO messages (id, conversation, sender, key, ts, text)
    SELECT k.message_id, k.conversation, k.sender, k.key, k.ts, NULL FROM sent_keys k
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = k.message_id);
CREATE UNIQUE INDEX messages_by_key ON messages (sender, key);
CREATE INDEX messages_by_conversation ON messages (conversation, id);

CREATE TABLE markers (
    conversation TEXT NOT NULL,
    member TEXT NOT NULL,
    delivered INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    left_at INTEGER,
    PRIMARY KEY (conversation, member)
) WITHOUT ROWID;
CREATE INDEX markers_by_member ON markers (member, conversation);

CREATE TEMP TABLE first_pending AS
    SELECT p.recipient AS member, m.conversation AS conversation,
           min(p.event_id) AS first, max(p.event_id) AS last
    FROM pending p JOIN messages_v1 m ON m.id = p.event_id
    GROUP BY p.recipient, m.conversation;
INSERT INTO markers (conversation, member, delivered)
    SELECT g.group_id, g.client_id, coalesce(f.first - 1,
        (SELECT value - 1 FROM meta WHERE name = 'id_ceiling'))
    FROM members g LEFT JOIN first_pending f
        ON f.member = g.client_id AND f.conversation = g.group_id;
INSERT INTO markers (conversation, member, delivered, left_at)
    SELECT f.conversation, f.member, f.first - 1, f.last FROM first_pending f
    WHERE f.conversation LIKE 'G-%'
      AND NOT EXISTS (SELECT 1 FROM members g
                      WHERE g.group_id = f.conversation AND g.client_id = f.member);
INSERT OR IGNORE INTO markers (conversation, member, delivered)
    SELECT c.id, p.member, coalesce(f.first - 1,
        (SELECT value - 1 FROM meta WHERE name = 'id_ceiling'))
    FROM conversations c
    JOIN (SELECT id, substr(id, 1, 9) AS member FROM conversations WHERE id NOT LIKE 'G-%'
          UNION SELECT id, substr(id, 11, 9) FROM conversations WHERE id NOT LIKE 'G-%') p
        ON p.id = c.id
    LEFT JOIN first_pending f ON f.member = p.member AND f.conversation = c.id;
UPDATE markers SET read = coalesce((
    SELECT max(n.seq) FROM notices n JOIN pending p ON p.event_id = n.id
    WHERE n.kind = 'read' AND n.actor = markers.member
      AND (n.group_id = markers.conversation
           OR (n.group_id IS NULL AND markers.conversation IN
               (n.actor || ':' || p.recipient, p.recipient || ':' || n.actor)))), 0);
DROP TABLE first_pending;

ALTER TABLE notices RENAME TO notices_v1;
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT,
    group_id TEXT NOT NULL,
    ts INTEGER NOT NULL
);
INSERT INTO notices (id, kind, actor, subject, group_id, ts)
    SELECT id, kind, actor, subject, group_id, ts FROM notices_v1
    WHERE kind IN ('created', 'member_added', 'member_removed', 'member_left');
CREATE TABLE pending_notices (
    recipient TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (recipient, event_id)
) WITHOUT ROWID;
INSERT INTO pending_notices (recipient, event_id)
    SELECT p.recipient, p.event_id FROM pending p JOIN notices n ON n.id = p.event_id;

DROP TABLE messages_v1;
DROP TABLE notices_v1;
DROP TABLE pending;
DROP TABLE sent_keys;
DROP TABLE conversations;
DROP TABLE counters;
"""

# 4: contacts (who may add whom to groups) and invite codes for registration.
_SCHEMA_4 = """
CREATE TABLE contacts (
    owner TEXT NOT NULL,
    contact TEXT NOT NULL,
    PRIMARY KEY (contact, owner)
) WITHOUT ROWID;
CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    uses_left INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
"""

# 5: conversation features: entries that refer to a message (edits, deletions, reactions)
# and a message's extras; group descriptions; presence (visibility, last seen).
_SCHEMA_5 = """
ALTER TABLE messages ADD COLUMN kind TEXT;
ALTER TABLE messages ADD COLUMN target INTEGER;
ALTER TABLE messages ADD COLUMN extra BLOB;
CREATE INDEX messages_by_target ON messages (conversation, target) WHERE target IS NOT NULL;
ALTER TABLE groups ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE TABLE presence (
    client_id TEXT PRIMARY KEY,
    visibility TEXT,
    last_seen INTEGER
) WITHOUT ROWID;
CREATE INDEX contacts_by_owner ON contacts (owner, contact);
"""

# 6: files (docs/protocol.md section 11): unfinished uploads, stored files, who they were
# sent to, and the files attached to each message.
_SCHEMA_6 = """
ALTER TABLE messages ADD COLUMN files TEXT;
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    uploader TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX uploads_by_uploader ON uploads (uploader);
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    uploader TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX files_by_uploader ON files (uploader, sha256);
CREATE INDEX files_by_blob ON files (sha256);
CREATE INDEX files_by_age ON files (created_at);
CREATE TABLE file_recipients (
    file_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    downloaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (file_id, recipient, conversation)
) WITHOUT ROWID;
CREATE INDEX file_recipients_by_message ON file_recipients (conversation, seq);
"""

MIGRATIONS: Final[tuple[str, ...]] = (
    _SCHEMA_1,
    _SCHEMA_2,
    _SCHEMA_3,
    _SCHEMA_4,
    _SCHEMA_5,
    _SCHEMA_6,
)
"""``MIGRATIONS[n]`` takes ``PRAGMA user_version`` from n to n + 1. Append only."""
SCHEMA_VERSION: Final = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up the way every part of this module expects."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint less often than every 1000 pages: a page written by many transactions
    # goes to the database file once per checkpoint.
    conn.execute("PRAGMA wal_autocheckpoint=8192")
    # Pages read through a memory map and a 64 MiB cache: no system call per page read.
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def _statements(script: str) -> Iterable[str]:
    return (statement for statement in script.split(";") if statement.strip())


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``; returns the version found before."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema {found} is newer than this server understands ({SCHEMA_VERSION})"
        )
    for version in range(found + 1, target + 1):
        log.info("migrating database schema to version %d", version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return int(found)


# --- the worker threads ------------------------------------------------------------------------


class _Job:
    __slots__ = ("error", "fn", "future", "result")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: asyncio.Future[Any]):
        self.fn = fn
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


def _resolve(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class _Reader:
    """A thread owning one read-only connection, running the reads sent from the event
    loop; the futures of all the jobs it found queued resolve in one loop callback."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(fn, future))
        return await future

    async def stop(self) -> None:
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        error: BaseException | None = None
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self._path)
        except BaseException as exc:
            log.exception("cannot open %s", self._path)
            error = exc
        while True:
            first = self._queue.get()
            if first is None:
                break
            jobs = [first]
            stop = False
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            for job in jobs:
                if conn is None:
                    job.error = StorageError(f"storage unavailable: {error}")
                    continue
                try:
                    job.result = job.fn(conn)
                except BaseException as exc:
                    job.error = exc
            try:
                self._loop.call_soon_threadsafe(_resolve, jobs)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                break
            if stop:
                break
        if conn is not None:
            conn.close()


class _Writer:
    """The one writing connection, with group commit.

    A transaction's statements run on the event loop (they only change pages in memory, in
    microseconds, and there would be nothing to gain from a thread but two hand-offs);
    ``COMMIT``, which writes and fsyncs, runs on a thread of its own while the loop goes
    on. Every write asked for while a transaction commits runs in the next one, each job
    inside a savepoint so that a failing job spoils no other.

    ``BEGIN IMMEDIATE`` is tried on the loop without waiting; when another process holds
    the write lock (an administrator's command) it is waited for on the thread instead.
    """

    def __init__(
        self,
        path: Path,
        *,
        before: Callable[[sqlite3.Connection], None],
        on_rollback: Callable[[], None],
    ) -> None:
        self.conn = connect(path)
        self.conn.execute("PRAGMA busy_timeout=0")
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="storage-commit")
        self._before = before
        self._on_rollback = on_rollback
        self._loop = asyncio.get_running_loop()
        self._queue: list[_Job] = []
        self._running: asyncio.Task[None] | None = None
        self.transactions = 0

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a transaction; returns its result once committed to disk.

        Raises:
            StorageError: the transaction failed and was rolled back.
        """
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.append(_Job(fn, future))
        if self._running is None:
            self._running = self._loop.create_task(self._transactions())
        return await future

    async def _transactions(self) -> None:
        try:
            while self._queue:
                jobs, self._queue = self._queue, []
                await self._transaction(jobs)
                _resolve(jobs)
        finally:
            self._running = None

    async def _transaction(self, jobs: list[_Job]) -> None:
        conn = self.conn
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                await self._in_thread(self._begin_waiting)
            self._before(conn)
            if len(jobs) == 1:
                jobs[0].result = jobs[0].fn(conn)
            else:
                for job in jobs:
                    conn.execute("SAVEPOINT job")
                    try:
                        job.result = job.fn(conn)
                    except Exception as exc:
                        log.exception("storage job failed")
                        job.error = StorageError(f"{type(exc).__name__}: {exc}")
                        conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
            await self._in_thread(conn.execute, "COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._on_rollback()
            if isinstance(exc, sqlite3.Error):
                log.error("storage transaction failed: %s", exc)
            elif not isinstance(exc, asyncio.CancelledError):
                log.exception("storage transaction failed")
            error = StorageError(f"{type(exc).__name__}: {exc}")
            for job in jobs:
                job.error = error
            if isinstance(exc, asyncio.CancelledError):
                _resolve(jobs)
                raise
            return
        self.transactions += 1

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the commit thread. Not interrupted by a cancellation: the
        connection must not be used again before it is done."""
        done = self._loop.run_in_executor(self._executor, fn, *args)
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await done
            raise

    def _begin_waiting(self) -> None:
        self.conn.execute("PRAGMA busy_timeout=10000")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        finally:
            self.conn.execute("PRAGMA busy_timeout=0")

    async def close(self) -> None:
        while self._running is not None:
            await asyncio.wait([self._running])
        self._executor.shutdown(wait=True)
        self.conn.close()


# --- the repository ------------------------------------------------------------------------------


def _client_record(row: Sequence[Any]) -> ClientRecord:
    client_id, display_name, secret_hash, created_at, disabled = row
    return ClientRecord(client_id, display_name, secret_hash, created_at, bool(disabled))


def _chunks(items: Sequence[T], size: int = MAX_VARIABLES) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SQLiteRepository(Repository):
    """The embedded store: one SQLite file in WAL mode (created with its folder)."""

    MARKER_CACHE: Final = 500_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: _Writer | None = None
        self._reader: _Reader | None = None
        self._epoch_conn: sqlite3.Connection | None = None
        # Kept by the writer: the id counter, and the markers it has seen (a marker only
        # changes through this writer, so the cache never goes stale; a transaction that
        # fails clears it).
        self._next_id = 0
        self._ceiling = 0
        self._saved_counter = (0, 0)
        self._markers: OrderedDict[tuple[str, str], tuple[int, int, int]] = OrderedDict()
        self._forgotten: dict[str, int] = {}
        """Per conversation, the seq up to which texts were dropped already."""

    # -- lifecycle --

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        setup = _Reader(self.path, "storage-setup")
        try:
            await setup.call(migrate)
            await setup.call(self._load_counter)
        finally:
            await setup.stop()
        self._writer = _Writer(
            self.path, before=self._reserve_ids, on_rollback=self._forget_uncommitted
        )
        self._reader = _Reader(self.path, "storage-reader")
        self._epoch_conn = sqlite3.connect(self.path, isolation_level=None)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        if self._reader is not None:
            await self._reader.stop()
        self._writer = None
        self._reader = None
        if self._epoch_conn is not None:
            self._epoch_conn.close()
            self._epoch_conn = None

    @property
    def transactions(self) -> int:
        """Write transactions committed so far (for tests and benchmarks)."""
        return self._writer.transactions if self._writer else 0

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StorageError("storage is not open")
        return await self._writer.run(fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            raise StorageError("storage is not open")
        return await self._reader.call(fn)

    # -- the id counter (writer thread only) --

    def _load_counter(self, conn: sqlite3.Connection) -> None:
        (ceiling,) = conn.execute("SELECT value FROM meta WHERE name = 'id_ceiling'").fetchone()
        self._next_id = self._ceiling = int(ceiling)

    def _reserve_ids(self, conn: sqlite3.Connection) -> None:
        """At the start of every transaction: keep at least half a block reserved on disk
        ahead of the counter, so a crash can never make an id come twice."""
        self._saved_counter = (self._next_id, self._ceiling)
        if self._ceiling - self._next_id < ID_BLOCK // 2:
            self._ceiling = self._next_id + ID_BLOCK
            conn.execute("UPDATE meta SET value = ? WHERE name = 'id_ceiling'", (self._ceiling,))

    def _forget_uncommitted(self) -> None:
        """A transaction was rolled back: what the caches learnt from it is void."""
        self._next_id, self._ceiling = self._saved_counter
        self._markers.clear()
        self._forgotten.clear()

    # -- the marker cache --

    def _marker(
        self, conn: sqlite3.Connection, key: tuple[str, str]
    ) -> tuple[int, int, int] | None:
        """(delivered, read, version) of a marker, or None when there is none."""
        found = self._markers.get(key)
        if found is None:
            row = conn.execute(
                "SELECT delivered, read, version FROM markers"
                " WHERE conversation = ? AND member = ?",
                key,
            ).fetchone()
            if row is None:
                return None
            found = (row[0], row[1], row[2])
            self._remember(key, found)
        return found

    def _remember(self, key: tuple[str, str], value: tuple[int, int, int]) -> None:
        self._markers[key] = value
        if len(self._markers) > self.MARKER_CACHE:
            self._markers.popitem(last=False)

    def _allocate(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # -- writes --

    async def commit(self, operations: Sequence[Operation]) -> list[OperationResult]:
        if not operations:
            return []
        return await self._write(lambda conn: self._apply(conn, operations))

    def _apply(self, conn: sqlite3.Connection, operations: Sequence[Operation]) -> list[Any]:
        """Run ``operations`` with the effect of running them in order. Ids are allocated
        in order first; then each kind runs as one batched statement (messages, markers)
        or one after the other (the rare kinds), membership before messages and markers."""
        results: list[Any] = [None] * len(operations)
        rows: list[MessageRow] = []
        messages: list[tuple[int, InsertMessage]] = []
        withdrawn: list[tuple[int, WithdrawMessage]] = []
        batch_keys: dict[tuple[str, str], MessageSaved] = {}
        moves: dict[tuple[str, str], list[int]] = {}
        ends: dict[int, int] = {}
        """The last id allocated when each marker move comes: it may not go further."""
        for index, op in enumerate(operations):
            kind = type(op)
            if kind is InsertMessage:
                assert isinstance(op, InsertMessage)
                messages.append((index, op))
                earlier = batch_keys.get((op.sender, op.key))
                if earlier is not None:
                    results[index] = MessageSaved(earlier.message_id, earlier.seq, earlier.ts, True)
                    continue
                message_id = self._allocate()  # in operation order: see AddMember
                saved = batch_keys[(op.sender, op.key)] = MessageSaved(
                    message_id, message_id, op.ts, False
                )
                results[index] = saved
                rows.append(
                    (
                        message_id, op.conversation, op.sender, op.key, op.ts, op.text,
                        op.kind, op.target, op.extra, op.files,
                    )
                )  # fmt: skip
            elif kind is MoveMarkers:
                assert isinstance(op, MoveMarkers)
                moves.setdefault((op.conversation, op.member), []).append(index)
                ends[index] = self._next_id - 1
            elif kind is RemoveMember:
                assert isinstance(op, RemoveMember)
                self._remove_member(conn, op, rows)
            elif kind is WithdrawMessage:
                assert isinstance(op, WithdrawMessage)
                withdrawn.append((index, op))
            else:
                results[index] = self._apply_one(conn, op)
        if rows:
            self._insert_messages(conn, rows, messages, results)
            self._add_file_recipients(conn, messages, results)
        if withdrawn:  # after the inserts: an edit stored in this commit goes too
            conn.executemany(
                "UPDATE messages SET text = NULL, files = NULL, extra = NULL"
                " WHERE conversation = ? AND (id = ? OR (target = ? AND kind != 'delete'))"
                " AND text IS NOT NULL",
                [(op.conversation, op.seq, op.seq) for _, op in withdrawn],
            )
            for index, op in withdrawn:
                results[index] = self._withdraw_files(conn, op)
        if moves:
            self._move_markers(conn, operations, moves, ends, results)
        return results

    def _remove_member(
        self,
        conn: sqlite3.Connection,
        op: RemoveMember,
        rows: list[MessageRow],
    ) -> None:
        """``rows``: the messages stored so far in this commit (not written yet)."""
        self._markers.pop((op.group_id, op.client_id), None)
        conn.execute(
            "DELETE FROM members WHERE group_id = ? AND client_id = ?",
            (op.group_id, op.client_id),
        )
        # What was sent while it was a member still reaches it; nothing later does.
        conn.execute(
            "UPDATE markers SET left_at = ? WHERE conversation = ? AND member = ?",
            (self._next_id - 1, op.group_id, op.client_id),
        )
        owed_here = max(
            (row[0] for row in rows if row[1] == op.group_id and row[2] != op.client_id),
            default=0,
        )
        conn.execute(
            "DELETE FROM markers WHERE conversation = ? AND member = ? AND delivered >="
            " max(?, coalesce((SELECT max(id) FROM messages WHERE conversation = ?"
            " AND id <= markers.left_at AND sender != ?), 0))",
            (op.group_id, op.client_id, owed_here, op.group_id, op.client_id),
        )

    def _apply_one(self, conn: sqlite3.Connection, op: Operation) -> OperationResult:
        if isinstance(op, InsertClient):
            cursor = conn.execute(
                "INSERT OR IGNORE INTO clients (id, secret_hash, display_name, created_at)"
                " VALUES (?, ?, ?, ?)",
                (op.client_id, op.secret_hash, op.display_name, op.created_at),
            )
            return cursor.rowcount == 1
        if isinstance(op, OpenConversation):
            for member in op.members:
                key = (op.conversation, member)
                if self._marker(conn, key) is None:
                    conn.execute(
                        "INSERT INTO markers (conversation, member, delivered, read, version)"
                        " VALUES (?, ?, 0, 0, 0)",
                        key,
                    )
                    self._remember(key, (0, 0, 0))
            return None
        if isinstance(op, InsertGroup):
            cursor = conn.execute(
                "INSERT OR IGNORE INTO groups (id, name, created_by, created_at)"
                " VALUES (?, ?, ?, ?)",
                (op.group_id, op.name, op.created_by, op.created_at),
            )
            return cursor.rowcount == 1
        if isinstance(op, AddMember):
            conn.execute(
                "INSERT INTO members (group_id, client_id, admin, joined_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (group_id, client_id) DO UPDATE SET admin = excluded.admin",
                (op.group_id, op.client_id, int(op.admin), op.joined_at),
            )
            # The member starts at the end of the log: only later messages reach it.
            start = self._next_id - 1
            version = self._allocate()
            conn.execute(
                "INSERT INTO markers (conversation, member, delivered, read, version)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation, member) DO UPDATE SET"
                " delivered = excluded.delivered, read = excluded.read,"
                " version = excluded.version, left_at = NULL",
                (op.group_id, op.client_id, start, start, version),
            )
            self._remember((op.group_id, op.client_id), (start, start, version))
            return MarkerMove(
                Marker(op.group_id, op.client_id, 0, 0, 0),
                Marker(op.group_id, op.client_id, start, start, version),
            )
        if isinstance(op, SetAdmin):
            conn.execute(
                "UPDATE members SET admin = ? WHERE group_id = ? AND client_id = ?",
                (int(op.admin), op.group_id, op.client_id),
            )
            return None
        if isinstance(op, UpdateGroup):
            conn.execute(
                "UPDATE groups SET name = coalesce(?, name),"
                " description = coalesce(?, description) WHERE id = ?",
                (op.name, op.description, op.group_id),
            )
            return None
        if isinstance(op, SetPresence):
            conn.execute(
                "INSERT INTO presence (client_id, visibility, last_seen) VALUES (?, ?, ?)"
                " ON CONFLICT (client_id) DO UPDATE SET"
                " visibility = coalesce(excluded.visibility, visibility),"
                " last_seen = coalesce(excluded.last_seen, last_seen)",
                (op.client_id, op.visibility, op.last_seen),
            )
            return None
        if isinstance(op, InsertNotices):
            notices = {recipient: self._allocate() for recipient in op.recipients}
            conn.executemany(
                "INSERT INTO notices (id, kind, actor, subject, group_id, ts)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (i, op.change, op.actor, op.subject, op.group_id, op.ts)
                    for i in notices.values()
                ],
            )
            conn.executemany(
                "INSERT INTO pending_notices (recipient, event_id) VALUES (?, ?)",
                notices.items(),
            )
            return notices
        if isinstance(op, SetContact):
            if op.present:
                conn.execute(
                    "INSERT OR IGNORE INTO contacts (owner, contact) VALUES (?, ?)",
                    (op.owner, op.contact),
                )
            else:
                conn.execute(
                    "DELETE FROM contacts WHERE owner = ? AND contact = ?", (op.owner, op.contact)
                )
            return None
        if isinstance(op, UseInvite):
            cursor = conn.execute(
                "UPDATE invites SET uses_left = uses_left - 1"
                " WHERE code = ? AND uses_left > 0 AND expires_at > ?",
                (op.code, op.now),
            )
            return cursor.rowcount == 1
        if isinstance(op, AckNotices):
            taken = [
                event_id
                for chunk in _chunks(op.event_ids)
                for (event_id,) in conn.execute(
                    "DELETE FROM pending_notices WHERE recipient = ? AND event_id IN"
                    f" ({','.join('?' * len(chunk))}) RETURNING event_id",
                    (op.recipient, *chunk),
                )
            ]
            for chunk in _chunks(taken):
                conn.execute(
                    f"DELETE FROM notices WHERE id IN ({','.join('?' * len(chunk))})"
                    " AND NOT EXISTS (SELECT 1 FROM pending_notices p WHERE p.event_id = id)",
                    chunk,
                )
            return None
        if isinstance(op, InsertUpload):
            cursor = conn.execute(
                "INSERT OR IGNORE INTO uploads (id, uploader, sha256, size, name, mime, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (op.upload_id, op.uploader, op.sha256, op.size, op.name, op.mime, op.created_at),
            )
            return cursor.rowcount == 1
        if isinstance(op, DeleteUploads):
            conn.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in op.upload_ids])
            return None
        if isinstance(op, InsertFile):
            cursor = conn.execute(
                "INSERT OR IGNORE INTO files (id, uploader, sha256, size, name, mime, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (op.file_id, op.uploader, op.sha256, op.size, op.name, op.mime, op.created_at),
            )
            if cursor.rowcount != 1:
                return False
            if op.upload_id is not None:
                conn.execute("DELETE FROM uploads WHERE id = ?", (op.upload_id,))
            return True
        if isinstance(op, MarkDownloaded):
            conn.execute(
                "UPDATE file_recipients SET downloaded = 1 WHERE file_id = ? AND recipient = ?",
                (op.file_id, op.recipient),
            )
            return None
        if isinstance(op, DeleteFiles):
            return self._delete_files(conn, op.file_ids)
        raise TypeError(f"not a repository operation: {op!r}")

    @staticmethod
    def _withdraw_files(conn: sqlite3.Connection, op: WithdrawMessage) -> list[str]:
        """Nobody may download the files of a deleted message any more: returns those
        that no other message brought to anyone (for the caller to delete)."""
        file_ids = [
            file_id
            for (file_id,) in conn.execute(
                "SELECT DISTINCT file_id FROM file_recipients WHERE conversation = ? AND seq = ?",
                (op.conversation, op.seq),
            )
        ]
        if not file_ids:
            return []
        conn.execute(
            "DELETE FROM file_recipients WHERE conversation = ? AND seq = ?",
            (op.conversation, op.seq),
        )
        return [
            file_id
            for file_id in file_ids
            if conn.execute(
                "SELECT 1 FROM file_recipients WHERE file_id = ? LIMIT 1", (file_id,)
            ).fetchone()
            is None
        ]

    @staticmethod
    def _delete_files(conn: sqlite3.Connection, file_ids: Sequence[str]) -> list[str]:
        blobs: set[str] = set()
        for chunk in _chunks(file_ids):
            marks = ",".join("?" * len(chunk))
            blobs.update(
                sha256 for (sha256,) in conn.execute(
                    f"SELECT sha256 FROM files WHERE id IN ({marks})", chunk
                )
            )  # fmt: skip
            conn.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM file_recipients WHERE file_id IN ({marks})", chunk)
        return sorted(
            sha256
            for sha256 in blobs
            if conn.execute(
                "SELECT 1 FROM files WHERE sha256 = ? UNION ALL"
                " SELECT 1 FROM uploads WHERE sha256 = ? LIMIT 1",
                (sha256, sha256),
            ).fetchone()
            is None
        )

    def _insert_messages(
        self,
        conn: sqlite3.Connection,
        rows: list[MessageRow],
        messages: list[tuple[int, InsertMessage]],
        results: list[Any],
    ) -> None:
        insert = (
            "INSERT INTO messages"
            " (id, conversation, sender, key, ts, text, kind, target, extra, files)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        conn.execute("SAVEPOINT messages")
        try:
            conn.executemany(insert, rows)
        except sqlite3.IntegrityError:
            # A key used in an earlier transaction (a resend): look them up, store the rest.
            conn.execute("ROLLBACK TO messages")
            known = self._known_keys(conn, [(row[2], row[3]) for row in rows])
            for index, op in messages:
                original = known.get((op.sender, op.key))
                if original is not None:
                    results[index] = original
            conn.executemany(insert, [row for row in rows if (row[2], row[3]) not in known])
        conn.execute("RELEASE messages")

    @staticmethod
    def _add_file_recipients(
        conn: sqlite3.Connection, messages: list[tuple[int, InsertMessage]], results: list[Any]
    ) -> None:
        """Each recipient of a message stored with files may download them; what it still
        needs is the file at the latest message of each conversation that brought it."""
        rows = [
            (file_id, recipient, op.conversation, results[index].seq)
            for index, op in messages
            if op.file_ids and not results[index].duplicate
            for file_id in op.file_ids
            for recipient in op.recipients
        ]
        if rows:
            conn.executemany(
                "INSERT INTO file_recipients (file_id, recipient, conversation, seq)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (file_id, recipient, conversation)"
                " DO UPDATE SET seq = excluded.seq WHERE excluded.seq > file_recipients.seq",
                rows,
            )

    @staticmethod
    def _known_keys(
        conn: sqlite3.Connection, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], MessageSaved]:
        found: dict[tuple[str, str], MessageSaved] = {}
        for chunk in _chunks(keys, MAX_VARIABLES // 2):
            values = ",".join("(?, ?)" for _ in chunk)
            params = [value for pair in chunk for value in pair]
            for sender, key, message_id, ts in conn.execute(
                "SELECT sender, key, id, ts FROM messages"
                f" WHERE (sender, key) IN (VALUES {values})",
                params,
            ):
                found[(sender, key)] = MessageSaved(message_id, message_id, ts, True)
        return found

    def _move_markers(
        self,
        conn: sqlite3.Connection,
        operations: Sequence[Operation],
        moves: dict[tuple[str, str], list[int]],
        ends: dict[int, int],
        results: list[Any],
    ) -> None:
        """``ends[i]``: how far the move ``operations[i]`` may go (a client cannot claim
        what was not stored before its move)."""
        updates: list[tuple[int, int, int, str, str]] = []
        for pair, indices in moves.items():
            found = self._marker(conn, pair)
            if found is None:
                continue  # not a participant
            delivered, read, version = found
            new_delivered, new_read = delivered, read
            for index in indices:
                op = operations[index]
                assert isinstance(op, MoveMarkers)
                new_delivered = max(new_delivered, min(op.delivered, ends[index]))
                new_read = max(new_read, min(op.read, ends[index]))
            if new_delivered == delivered and new_read == read:
                continue
            new_version = self._allocate()
            self._remember(pair, (new_delivered, new_read, new_version))
            move = MarkerMove(
                Marker(pair[0], pair[1], delivered, read, version),
                Marker(pair[0], pair[1], new_delivered, new_read, new_version),
            )
            for index in indices:
                results[index] = move
            updates.append((new_delivered, new_read, new_version, pair[0], pair[1]))
        conn.executemany(
            "UPDATE markers SET delivered = ?, read = ?, version = ? "
            "WHERE conversation = ? AND member = ?",
            updates,
        )

    async def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE clients SET disabled = ? WHERE id = ?", (int(disabled), client_id)
            )
            conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'directory_epoch'")
            return cursor.rowcount == 1

        return await self._write(update)

    async def forget_delivered(self, conversations: Iterable[str]) -> int:
        wanted = sorted(set(conversations))
        if not wanted:
            return 0
        return await self._write(lambda conn: self._forget(conn, wanted))

    def _forget(self, conn: sqlite3.Connection, conversations: list[str]) -> int:
        """A message's text is needed until every participant but its sender has it: with
        the lowest marker ``low`` (held by ``laggard``) and the second lowest ``second``,
        that is everything up to ``low``, and what ``laggard`` itself sent up to
        ``second``. Two batched statements for all the conversations."""
        everything: list[tuple[str, int, int]] = []
        own_only: list[tuple[str, int, int, str]] = []
        groups: list[str] = []
        for conversation in conversations:
            if conversation.startswith("G-"):
                groups.append(conversation)
                markers = conn.execute(
                    "SELECT member, delivered FROM markers WHERE conversation = ?"
                    " ORDER BY delivered",
                    (conversation,),
                ).fetchall()
            else:  # a direct conversation: its two members are in its key
                a, _, b = conversation.partition(":")
                markers = []
                for member in dict.fromkeys((a, b)):
                    found = self._marker(conn, (conversation, member))
                    if found is not None:
                        markers.append((member, found[0]))
                markers.sort(key=lambda m: m[1])
            if not markers:
                continue
            laggard, low = markers[0]
            second = markers[1][1] if len(markers) > 1 else low
            start = self._forgotten.get(conversation, 0)
            if low > start:
                everything.append((conversation, start, low))
                self._forgotten[conversation] = low
            if second > low:
                own_only.append((conversation, low, second, laggard))
        before = conn.total_changes
        conn.executemany(
            "UPDATE messages SET text = NULL, files = NULL, extra = NULL"
            " WHERE conversation = ? AND id > ? AND id <= ? AND text IS NOT NULL",
            everything,
        )
        conn.executemany(
            "UPDATE messages SET text = NULL, files = NULL, extra = NULL WHERE conversation = ?"
            " AND id > ? AND id <= ? AND sender = ? AND text IS NOT NULL",
            own_only,
        )
        dropped = conn.total_changes - before
        # Former members who have everything of their membership are done.
        conn.executemany(
            "DELETE FROM markers WHERE conversation = ? AND left_at IS NOT NULL"
            " AND delivered >= left_at",
            [(group,) for group in groups],
        )
        return dropped

    async def expire(self, before_ts: int, undelivered_before_ts: int) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            def first_id_from(ts: int) -> int:
                row = conn.execute(
                    "SELECT id FROM messages WHERE ts >= ? ORDER BY id LIMIT 1", (ts,)
                ).fetchone()
                return int(row[0]) if row is not None else self._next_id

            before = conn.total_changes
            conn.execute(
                "DELETE FROM messages WHERE id < ? AND text IS NULL", (first_id_from(before_ts),)
            )
            conn.execute(
                "DELETE FROM messages WHERE id < ?", (first_id_from(undelivered_before_ts),)
            )
            return conn.total_changes - before

        return await self._write(delete)

    # -- invites --

    async def create_invite(self, code: str, uses: int, expires_at: int, created_at: int) -> bool:
        def insert(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO invites (code, uses_left, expires_at, created_at)"
                " VALUES (?, ?, ?, ?)",
                (code, uses, expires_at, created_at),
            )
            return cursor.rowcount == 1

        return await self._write(insert)

    async def list_invites(self) -> list[InviteRecord]:
        def select(conn: sqlite3.Connection) -> list[InviteRecord]:
            return [
                InviteRecord(*row)
                for row in conn.execute(
                    "SELECT code, uses_left, expires_at, created_at FROM invites"
                    " ORDER BY created_at DESC, code"
                )
            ]

        return await self._read(select)

    async def revoke_invite(self, code: str) -> bool:
        return await self._write(
            lambda conn: conn.execute("DELETE FROM invites WHERE code = ?", (code,)).rowcount == 1
        )

    # -- reads --

    def directory_epoch(self) -> int:
        if self._epoch_conn is None:
            raise StorageError("storage is not open")
        row = self._epoch_conn.execute(
            "SELECT value FROM meta WHERE name = 'directory_epoch'"
        ).fetchone()
        return int(row[0])

    async def get_clients(self, client_ids: Iterable[str]) -> dict[str, ClientRecord]:
        wanted = list(dict.fromkeys(client_ids))

        def select(conn: sqlite3.Connection) -> dict[str, ClientRecord]:
            found: dict[str, ClientRecord] = {}
            for chunk in _chunks(wanted):
                for row in conn.execute(
                    "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                    f" WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    found[row[0]] = _client_record(row)
            return found

        return await self._read(select) if wanted else {}

    async def list_clients(self) -> list[ClientRecord]:
        def select(conn: sqlite3.Connection) -> list[ClientRecord]:
            rows = conn.execute(
                "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                " ORDER BY created_at, id"
            )
            return [_client_record(row) for row in rows]

        return await self._read(select)

    @staticmethod
    def _load_groups(conn: sqlite3.Connection, group_ids: Sequence[str]) -> dict[str, GroupRecord]:
        heads: dict[str, tuple[str, str, int, str]] = {}
        members: dict[str, list[MemberRecord]] = {}
        for chunk in _chunks(group_ids):
            marks = ",".join("?" * len(chunk))
            for group_id, name, created_by, created_at, description in conn.execute(
                "SELECT id, name, created_by, created_at, description FROM groups"
                f" WHERE id IN ({marks})",
                chunk,
            ):
                heads[group_id] = (name, created_by, created_at, description)
                members[group_id] = []
            for group_id, client_id, name, admin, joined_at in conn.execute(
                "SELECT m.group_id, m.client_id, c.display_name, m.admin, m.joined_at"
                " FROM members m LEFT JOIN clients c ON c.id = m.client_id"
                f" WHERE m.group_id IN ({marks}) ORDER BY m.joined_at, m.client_id",
                chunk,
            ):
                members[group_id].append(
                    MemberRecord(client_id, name or "", bool(admin), joined_at)
                )
        return {
            group_id: GroupRecord(
                group_id, name, created_by, created_at, tuple(members[group_id]), description
            )
            for group_id, (name, created_by, created_at, description) in heads.items()
        }

    async def get_groups(self, group_ids: Iterable[str]) -> dict[str, GroupRecord]:
        wanted = list(dict.fromkeys(group_ids))
        return await self._read(lambda conn: self._load_groups(conn, wanted)) if wanted else {}

    async def pending_conversations(
        self, member: str, self_conversation: str
    ) -> list[tuple[str, int, int]]:
        def select(conn: sqlite3.Connection) -> list[tuple[str, int, int]]:
            found = []
            for conversation, after, left_at in conn.execute(
                "SELECT conversation, delivered, left_at FROM markers WHERE member = ?",
                (member,),
            ).fetchall():
                own = conversation == self_conversation
                row = conn.execute(
                    "SELECT min(id), count(*) FROM messages WHERE conversation = ? AND id > ?"
                    " AND id <= ? AND (sender != ? OR ?) AND text IS NOT NULL",
                    (conversation, after, left_at or 2**62, member, own),
                ).fetchone()
                if row[1]:
                    found.append((row[0], conversation, after, row[1]))
            found.sort()
            return [(conversation, after, count) for _, conversation, after, count in found]

        return await self._read(select)

    async def pending_messages(
        self, member: str, conversation: str, after: int, limit: int, *, own: bool = False
    ) -> list[StoredMessage]:
        def select(conn: sqlite3.Connection) -> list[StoredMessage]:
            row = conn.execute(
                "SELECT left_at FROM markers WHERE conversation = ? AND member = ?",
                (conversation, member),
            ).fetchone()
            until = row[0] if row is not None and row[0] is not None else 2**62
            rows = conn.execute(
                "SELECT m.id, m.ts, m.sender, c.display_name, m.text, m.kind, m.target,"
                " m.extra, m.files FROM messages m LEFT JOIN clients c ON c.id = m.sender"
                " WHERE m.conversation = ? AND m.id > ? AND m.id <= ?"
                " AND (m.sender != ? OR ?) AND m.text IS NOT NULL ORDER BY m.id LIMIT ?",
                (conversation, after, until, member, own, limit),
            )
            return [
                StoredMessage(message_id, message_id, ts, conversation, sender, name or "", *entry)
                for message_id, ts, sender, name, *entry in rows
            ]

        return await self._read(select)

    async def pending_notices(self, member: str, after: int, limit: int) -> list[StoredNotice]:
        def select(conn: sqlite3.Connection) -> list[StoredNotice]:
            return [
                StoredNotice(*row)
                for row in conn.execute(
                    "SELECT n.id, n.kind, n.actor, n.subject, n.group_id, n.ts"
                    " FROM pending_notices p JOIN notices n ON n.id = p.event_id"
                    " WHERE p.recipient = ? AND p.event_id > ? ORDER BY p.event_id LIMIT ?",
                    (member, after, limit),
                )
            ]

        return await self._read(select)

    async def count_notices(self, member: str) -> int:
        def select(conn: sqlite3.Connection) -> int:
            (count,) = conn.execute(
                "SELECT count(*) FROM pending_notices WHERE recipient = ?", (member,)
            ).fetchone()
            return int(count)

        return await self._read(select)

    async def contacts_among(self, contact: str, owners: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(owners))

        def select(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for chunk in _chunks(wanted):
                found.update(
                    owner
                    for (owner,) in conn.execute(
                        "SELECT owner FROM contacts WHERE contact = ?"
                        f" AND owner IN ({','.join('?' * len(chunk))})",
                        (contact, *chunk),
                    )
                )
            return found

        return await self._read(select) if wanted else set()

    async def group_counts(self, client_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(client_ids))

        def select(conn: sqlite3.Connection) -> dict[str, int]:
            counts = dict.fromkeys(wanted, 0)
            for chunk in _chunks(wanted):
                for client_id, count in conn.execute(
                    "SELECT client_id, count(*) FROM members"
                    f" WHERE client_id IN ({','.join('?' * len(chunk))}) GROUP BY client_id",
                    chunk,
                ):
                    counts[client_id] = count
            return counts

        return await self._read(select) if wanted else {}

    async def groups_page(self, client_id: str, after: str | None, limit: int) -> list[GroupRecord]:
        def select(conn: sqlite3.Connection) -> list[GroupRecord]:
            ids = [
                group_id
                for (group_id,) in conn.execute(
                    "SELECT group_id FROM members WHERE client_id = ? AND group_id > ?"
                    " ORDER BY group_id LIMIT ?",
                    (client_id, after or "", limit),
                )
            ]
            groups = self._load_groups(conn, ids)
            return [groups[group_id] for group_id in ids if group_id in groups]

        return await self._read(select)

    async def pending_by_sender(self, member: str, self_conversation: str) -> dict[str, int]:
        def select(conn: sqlite3.Connection) -> dict[str, int]:
            counts: dict[str, int] = {}
            for conversation, after, left_at in conn.execute(
                "SELECT conversation, delivered, left_at FROM markers WHERE member = ?",
                (member,),
            ).fetchall():
                for sender, count in conn.execute(
                    "SELECT sender, count(*) FROM messages WHERE conversation = ? AND id > ?"
                    " AND id <= ? AND (sender != ? OR ?) AND text IS NOT NULL GROUP BY sender",
                    (
                        conversation,
                        after,
                        left_at or 2**62,
                        member,
                        conversation == self_conversation,
                    ),
                ):
                    counts[sender] = counts.get(sender, 0) + count
            return counts

        return await self._read(select)

    async def direct_backlog(self, client_id: str) -> tuple[int, int]:
        def select(conn: sqlite3.Connection) -> tuple[int, int]:
            waiting_for = waiting_from = 0
            for conversation, mine, theirs in conn.execute(
                "SELECT me.conversation, me.delivered, other.delivered FROM markers me"
                " JOIN markers other ON other.conversation = me.conversation"
                " AND other.member != me.member"
                " WHERE me.member = ? AND me.conversation NOT LIKE 'G-%'",
                (client_id,),
            ).fetchall():
                ((count_for,),) = conn.execute(
                    "SELECT count(*) FROM messages WHERE conversation = ? AND id > ?"
                    " AND sender != ? AND text IS NOT NULL",
                    (conversation, mine, client_id),
                ).fetchall()
                ((count_from,),) = conn.execute(
                    "SELECT count(*) FROM messages WHERE conversation = ? AND id > ?"
                    " AND sender = ? AND text IS NOT NULL",
                    (conversation, theirs, client_id),
                ).fetchall()
                waiting_for += count_for
                waiting_from += count_from
            return waiting_for, waiting_from

        return await self._read(select)

    async def marker_version(self) -> int:
        def select(conn: sqlite3.Connection) -> int:
            (version,) = conn.execute("SELECT coalesce(max(version), 0) FROM markers").fetchone()
            return int(version)

        return await self._read(select)

    async def markers_changed(self, after: int, upto: int, limit: int) -> list[Marker]:
        def select(conn: sqlite3.Connection) -> list[Marker]:
            return [
                Marker(*row)
                for row in conn.execute(
                    "SELECT conversation, member, delivered, read, version FROM markers"
                    " WHERE version > ? AND version <= ? ORDER BY version LIMIT ?",
                    (after, upto, limit),
                )
            ]

        return await self._read(select)

    async def receipts_since(self, member: str, version: int, limit: int) -> list[Marker]:
        def select(conn: sqlite3.Connection) -> list[Marker]:
            return [
                Marker(*row)
                for row in conn.execute(
                    "SELECT o.conversation, o.member, o.delivered, o.read, o.version"
                    " FROM markers k JOIN markers o ON o.conversation = k.conversation"
                    " WHERE k.member = ? AND o.member != k.member AND o.version > ?"
                    " ORDER BY o.version LIMIT ?",
                    (member, version, limit),
                )
            ]

        return await self._read(select)

    # -- files --

    _UPLOAD_COLUMNS: Final = "id, uploader, sha256, size, name, mime, created_at"

    async def get_upload(self, upload_id: int) -> UploadRecord | None:
        def select(conn: sqlite3.Connection) -> UploadRecord | None:
            row = conn.execute(
                f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,)
            ).fetchone()
            return None if row is None else UploadRecord(*row)

        return await self._read(select)

    async def uploads_of(self, uploader: str) -> list[UploadRecord]:
        def select(conn: sqlite3.Connection) -> list[UploadRecord]:
            return [
                UploadRecord(*row)
                for row in conn.execute(
                    f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE uploader = ?"
                    " ORDER BY created_at, id",
                    (uploader,),
                )
            ]

        return await self._read(select)

    async def expired_uploads(self, created_before: int) -> list[UploadRecord]:
        def select(conn: sqlite3.Connection) -> list[UploadRecord]:
            return [
                UploadRecord(*row)
                for row in conn.execute(
                    f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE created_at < ?",
                    (created_before,),
                )
            ]

        return await self._read(select)

    async def get_files(self, file_ids: Iterable[str]) -> dict[str, FileRecord]:
        wanted = list(dict.fromkeys(file_ids))

        def select(conn: sqlite3.Connection) -> dict[str, FileRecord]:
            found: dict[str, FileRecord] = {}
            for chunk in _chunks(wanted):
                for row in conn.execute(
                    f"SELECT {self._UPLOAD_COLUMNS} FROM files"
                    f" WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    found[row[0]] = FileRecord(*row)
            return found

        return await self._read(select) if wanted else {}

    async def files_like(self, uploader: str, sha256: str, size: int) -> list[FileRecord]:
        def select(conn: sqlite3.Connection) -> list[FileRecord]:
            return [
                FileRecord(*row)
                for row in conn.execute(
                    f"SELECT {self._UPLOAD_COLUMNS} FROM files"
                    " WHERE uploader = ? AND sha256 = ? AND size = ? ORDER BY created_at, id",
                    (uploader, sha256, size),
                )
            ]

        return await self._read(select)

    async def stored_bytes(self, uploader: str) -> int:
        def select(conn: sqlite3.Connection) -> int:
            (total,) = conn.execute(
                "SELECT (SELECT coalesce(sum(size), 0) FROM files WHERE uploader = ?)"
                " + (SELECT coalesce(sum(size), 0) FROM uploads WHERE uploader = ?)",
                (uploader, uploader),
            ).fetchone()
            return int(total)

        return await self._read(select)

    async def is_file_recipient(self, file_id: str, client_id: str) -> bool:
        def select(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT 1 FROM file_recipients WHERE file_id = ? AND recipient = ?",
                (file_id, client_id),
            ).fetchone()
            return row is not None

        return await self._read(select)

    # -- conversation features --

    async def get_entry(self, conversation: str, seq: int) -> EntryRecord | None:
        def select(conn: sqlite3.Connection) -> EntryRecord | None:
            row = conn.execute(
                "SELECT m.sender, m.ts, m.kind, m.target, EXISTS (SELECT 1 FROM messages d"
                " WHERE d.conversation = m.conversation AND d.target = m.id"
                " AND d.kind = 'delete') FROM messages m WHERE m.conversation = ? AND m.id = ?",
                (conversation, seq),
            ).fetchone()
            if row is None:
                return None
            sender, ts, kind, target, deleted = row
            return EntryRecord(conversation, seq, sender, ts, kind, target, bool(deleted))

        return await self._read(select)

    async def conversation_exists(self, conversation: str) -> bool:
        def select(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT 1 FROM markers WHERE conversation = ? LIMIT 1", (conversation,)
            ).fetchone()
            return row is not None

        return await self._read(select)

    _DONE: Final = (
        "EXISTS (SELECT 1 FROM file_recipients r WHERE r.file_id = f.id)"
        " AND NOT EXISTS (SELECT 1 FROM file_recipients r"
        " LEFT JOIN markers m ON m.conversation = r.conversation AND m.member = r.recipient"
        " WHERE r.file_id = f.id AND (r.downloaded = 0 OR m.delivered < r.seq))"
    )

    async def files_done(self, file_ids: Iterable[str] | None = None) -> list[str]:
        wanted = None if file_ids is None else list(dict.fromkeys(file_ids))

        def select(conn: sqlite3.Connection) -> list[str]:
            if wanted is None:
                return [
                    row[0] for row in conn.execute(f"SELECT f.id FROM files f WHERE {self._DONE}")
                ]
            done: list[str] = []
            for chunk in _chunks(wanted):
                done.extend(
                    row[0]
                    for row in conn.execute(
                        f"SELECT f.id FROM files f WHERE f.id IN ({','.join('?' * len(chunk))})"
                        f" AND {self._DONE}",
                        chunk,
                    )
                )
            return done

        return await self._read(select) if wanted is None or wanted else []

    async def expired_files(self, created_before: int) -> list[str]:
        def select(conn: sqlite3.Connection) -> list[str]:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM files WHERE created_at < ?", (created_before,)
                )
            ]

        return await self._read(select)

    async def referenced_blobs(self, sha256s: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(sha256s))

        def select(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for chunk in _chunks(wanted, MAX_VARIABLES // 2):
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT sha256 FROM files WHERE sha256 IN ({marks}) UNION"
                        f" SELECT sha256 FROM uploads WHERE sha256 IN ({marks})",
                        [*chunk, *chunk],
                    )
                )
            return found

        return await self._read(select) if wanted else set()

    async def get_presence(self, client_ids: Iterable[str]) -> dict[str, PresenceRecord]:
        wanted = list(dict.fromkeys(client_ids))

        def select(conn: sqlite3.Connection) -> dict[str, PresenceRecord]:
            found: dict[str, PresenceRecord] = {}
            for chunk in _chunks(wanted):
                for client_id, visibility, last_seen in conn.execute(
                    "SELECT client_id, visibility, last_seen FROM presence"
                    f" WHERE client_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    found[client_id] = PresenceRecord(client_id, visibility, last_seen)
            return found

        return await self._read(select) if wanted else {}

    async def chat_partners(self, client_id: str) -> set[str]:
        def select(conn: sqlite3.Connection) -> set[str]:
            return {
                partner
                for (partner,) in conn.execute(
                    "SELECT a.contact FROM contacts a JOIN contacts b"
                    " ON b.contact = a.owner AND b.owner = a.contact WHERE a.owner = ?"
                    " UNION SELECT o.client_id FROM members m JOIN members o"
                    " ON o.group_id = m.group_id WHERE m.client_id = ? AND o.client_id != ?",
                    (client_id, client_id, client_id),
                )
            }

        return await self._read(select)

    # -- moving a whole store (messenger-server export / import) --

    store: Final = "sqlite"
    seqs: Final = "global"

    async def export_rows(self) -> AsyncIterator[Row]:
        """Every row, as :mod:`.dump` writes them, read in one transaction (a snapshot,
        also while a server writes). For the command line: the reads block."""
        conn = connect(self.path)
        try:
            conn.execute("BEGIN")
            for table, query in _EXPORTS.items():
                columns = COLUMNS[table]
                for row in conn.execute(query):
                    values = dict(zip(columns, row, strict=True))
                    if table == "clients":
                        values["disabled"] = bool(values["disabled"])
                    elif table == "members":
                        values["admin"] = bool(values["admin"])
                    elif table == "file_recipients":
                        values["downloaded"] = bool(values["downloaded"])
                    yield table, values
            (ceiling,) = conn.execute("SELECT value FROM meta WHERE name = 'id_ceiling'").fetchone()
            for name in ("message_id", "event_id", "marker_version"):
                yield "counters", {"name": name, "value": int(ceiling) - 1}
        finally:
            conn.close()

    async def import_rows(self, rows: AsyncIterator[Row], seqs: Seqs) -> None:
        """Fill this empty store with ``rows`` (see :mod:`.dump`) in one transaction; ids
        then continue past every id and version imported.

        Raises:
            StorageError: the store is not empty, or the dump numbers seqs per
                conversation (from PostgreSQL: here a seq is its message's id).
        """
        if seqs != "global":
            raise StorageError(
                "this dump numbers seqs per conversation (it comes from PostgreSQL):"
                " SQLite cannot take it, its seqs are message ids"
            )
        tables: dict[str, list[tuple[Any, ...]]] = {}
        async for table, row in rows:
            if table == "messages" and row["seq"] != row["id"]:
                raise StorageError(f"message {row['id']} has seq {row['seq']}: not a SQLite dump")
            if table != "conversations":
                tables.setdefault(table, []).append(tuple(row[c] for c in _IMPORTS[table][1]))
        await self._write(lambda conn: self._import(conn, tables))

    def _import(self, conn: sqlite3.Connection, tables: dict[str, list[tuple[Any, ...]]]) -> None:
        for table in STORED_TABLES:
            if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                raise StorageError(f"the database is not empty: it has {table}")
        for table, records in tables.items():
            if table != "counters":
                statement, _ = _IMPORTS[table]
                conn.executemany(statement, records)
        conn.executemany(
            "INSERT INTO pending_notices (recipient, event_id) VALUES (?, ?)",
            [(row[0], row[1]) for row in tables.get("notices", [])],
        )
        highest = max(
            [0]
            + [value for _, value in tables.get("counters", [])]
            + [row[0] for row in tables.get("messages", [])]
            + [row[1] for row in tables.get("notices", [])]
            + [row[4] for row in tables.get("markers", [])]
        )
        self._next_id = self._ceiling = max(self._next_id, highest + 1)
        conn.execute("UPDATE meta SET value = ? WHERE name = 'id_ceiling'", (self._ceiling,))
        self._markers.clear()


_EXPORTS: Final = {
    "clients": "SELECT id, secret_hash, display_name, created_at, disabled FROM clients"
    " ORDER BY id",
    "presence": "SELECT client_id, visibility, last_seen FROM presence ORDER BY client_id",
    "groups": "SELECT id, name, created_by, created_at, description FROM groups ORDER BY id",
    "members": "SELECT group_id, client_id, admin, joined_at FROM members ORDER BY group_id",
    "contacts": "SELECT owner, contact FROM contacts ORDER BY owner",
    "invites": "SELECT code, uses_left, expires_at, created_at FROM invites ORDER BY code",
    "messages": "SELECT id, conversation, id, sender, key, ts, text, kind, target, extra, files"
    " FROM messages ORDER BY id",
    "markers": "SELECT conversation, member, delivered, read, version, left_at FROM markers"
    " ORDER BY conversation",
    "uploads": "SELECT id, uploader, sha256, size, name, mime, created_at FROM uploads"
    " ORDER BY id",
    "files": "SELECT id, uploader, sha256, size, name, mime, created_at FROM files ORDER BY id",
    "file_recipients": "SELECT file_id, recipient, conversation, seq, downloaded"
    " FROM file_recipients ORDER BY file_id",
    "notices": "SELECT p.recipient, n.id, n.kind, n.actor, n.subject, n.group_id, n.ts"
    " FROM pending_notices p JOIN notices n ON n.id = p.event_id ORDER BY p.recipient, n.id",
}
"""What :meth:`SQLiteRepository.export_rows` reads, table by table (a message's seq is its
id)."""

_IMPORTS: Final = {
    "clients": (
        "INSERT INTO clients (id, secret_hash, display_name, created_at, disabled)"
        " VALUES (?, ?, ?, ?, ?)",
        ("id", "secret_hash", "display_name", "created_at", "disabled"),
    ),
    "presence": (
        "INSERT INTO presence (client_id, visibility, last_seen) VALUES (?, ?, ?)",
        ("client_id", "visibility", "last_seen"),
    ),
    "groups": (
        "INSERT INTO groups (id, name, created_by, created_at, description)"
        " VALUES (?, ?, ?, ?, ?)",
        ("id", "name", "created_by", "created_at", "description"),
    ),
    "members": (
        "INSERT INTO members (group_id, client_id, admin, joined_at) VALUES (?, ?, ?, ?)",
        ("group_id", "client_id", "admin", "joined_at"),
    ),
    "contacts": (
        "INSERT INTO contacts (owner, contact) VALUES (?, ?)",
        ("owner", "contact"),
    ),
    "invites": (
        "INSERT INTO invites (code, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?)",
        ("code", "uses_left", "expires_at", "created_at"),
    ),
    "messages": (
        "INSERT INTO messages"
        " (id, conversation, sender, key, ts, text, kind, target, extra, files)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("id", "conversation", "sender", "key", "ts", "text", "kind", "target", "extra", "files"),
    ),
    "markers": (
        "INSERT INTO markers (conversation, member, delivered, read, version, left_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ("conversation", "member", "delivered", "read", "version", "left_at"),
    ),
    "uploads": (
        "INSERT INTO uploads (id, uploader, sha256, size, name, mime, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("id", "uploader", "sha256", "size", "name", "mime", "created_at"),
    ),
    "files": (
        "INSERT INTO files (id, uploader, sha256, size, name, mime, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("id", "uploader", "sha256", "size", "name", "mime", "created_at"),
    ),
    "file_recipients": (
        "INSERT INTO file_recipients (file_id, recipient, conversation, seq, downloaded)"
        " VALUES (?, ?, ?, ?, ?)",
        ("file_id", "recipient", "conversation", "seq", "downloaded"),
    ),
    "notices": (
        "INSERT OR IGNORE INTO notices (id, kind, actor, subject, group_id, ts)"
        " VALUES (?2, ?3, ?4, ?5, ?6, ?7)",
        ("recipient", "id", "kind", "actor", "subject", "group_id", "ts"),
    ),
    "counters": ("", ("name", "value")),
}
"""What :meth:`SQLiteRepository.import_rows` writes, table by table."""

"""Durable server state behind one narrow async interface.

The server reaches storage only through :class:`Storage`; :class:`SQLiteStorage` is
the embedded default. No SQL is written outside this module.

Durability: a coroutine that saved something returns only after the transaction
holding it has been committed with ``synchronous=FULL``. Concurrent writes are
*group-committed*: every write job queued while the previous transaction was being
committed runs in the next single transaction, so a thousand concurrent senders
cost one fsync, not a thousand. All database work runs on two threads (one writer,
one reader, WAL lets them proceed together), never on the event loop.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from messenger_server.protocol import ErrorCode, direct_conversation

log = logging.getLogger(__name__)

T = TypeVar("T")

ID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U, so IDs read aloud without ambiguity."""


def generate_unique_id(prefix: str = "") -> str:
    """A random ID such as ``K7QM-4XPA`` (40 bits; ``prefix`` is prepended as is).

    Uniqueness is enforced where the ID is inserted: the caller retries on a clash.
    """
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(8))
    return f"{prefix}{chars[:4]}-{chars[4:]}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Refused(Exception):
    """A storage operation refused for a reason the client caused; ``code`` is an
    :class:`~messenger_server.protocol.ErrorCode`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- records ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    display_name: str
    secret_hash: bytes
    created_at: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class MemberRecord:
    client_id: str
    display_name: str
    admin: bool


@dataclass(frozen=True, slots=True)
class GroupRecord:
    group_id: str
    name: str
    created_by: str
    created_at: int
    members: tuple[MemberRecord, ...]

    def member(self, client_id: str) -> MemberRecord | None:
        return next((m for m in self.members if m.client_id == client_id), None)


GroupChangeKind = Literal["created", "member_added", "member_removed", "member_left"]


@dataclass(frozen=True, slots=True)
class GroupChange:
    """The outcome of a membership change: the group's new state and, for every client
    that must hear of it, the id of the stored ``group_update`` event."""

    group: GroupRecord
    change: GroupChangeKind
    actor: str
    subject: str | None
    notices: dict[str, int]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message as sent: exactly one of ``to`` and ``group`` is set."""

    sender: str
    key: str
    text: str
    to: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class SavedMessage:
    """A durably stored message. ``recipients`` are those it is pending for (empty for
    a duplicate, which was routed the first time)."""

    message_id: int
    seq: int
    ts: int
    conversation: str
    recipients: tuple[str, ...]
    duplicate: bool = False


SaveResult = SavedMessage | Refused


@dataclass(frozen=True, slots=True)
class PendingMessage:
    event_id: int
    seq: int
    ts: int
    sender: str
    sender_name: str
    text: str
    to: str | None
    group: str | None


@dataclass(frozen=True, slots=True)
class PendingReceipt:
    """A stored ``delivered`` or ``read`` event. For ``read``, ``seq`` is ``up_to``."""

    event_id: int
    kind: Literal["delivered", "read"]
    by: str
    message_id: int | None
    seq: int
    group: str | None
    ts: int


@dataclass(frozen=True, slots=True)
class PendingGroupUpdate:
    event_id: int
    change: GroupChangeKind
    actor: str
    subject: str | None
    group_id: str
    ts: int


PendingItem = PendingMessage | PendingReceipt | PendingGroupUpdate


@dataclass(frozen=True, slots=True)
class AckedMessage:
    """A message whose delivery to ``recipient`` was just acknowledged. A "delivered"
    receipt for ``sender`` was stored with it, as event ``receipt_id`` at ``ts``."""

    message_id: int
    recipient: str
    sender: str
    seq: int
    group: str | None
    receipt_id: int
    ts: int


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A receipt to store for ``recipient``; it stays pending until acknowledged."""

    recipient: str
    kind: Literal["delivered", "read"]
    by: str
    seq: int
    ts: int
    message_id: int | None = None
    group: str | None = None


# --- the interface -----------------------------------------------------------


class Storage(abc.ABC):
    """Everything the server persists. Every method is safe to call concurrently."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Create or migrate the store. Call once before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes and release the store."""

    # clients
    @abc.abstractmethod
    async def save_client_id(self, display_name: str, secret_hash: bytes) -> ClientRecord:
        """Register a new client under a fresh unique ID."""

    @abc.abstractmethod
    async def get_client(self, client_id: str) -> ClientRecord | None: ...

    async def client_exists(self, client_id: str) -> bool:
        client = await self.get_client(client_id)
        return client is not None and not client.disabled

    @abc.abstractmethod
    async def list_clients(self) -> list[ClientRecord]: ...

    @abc.abstractmethod
    async def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        """Returns False when there is no such client."""

    # groups
    @abc.abstractmethod
    async def save_group(
        self, name: str, created_by: str, members: Sequence[str], max_members: int
    ) -> GroupChange:
        """Create a group with ``created_by`` as its admin and notify every member.

        Raises:
            Refused: ``unknown_client`` or ``group_full``.
        """

    @abc.abstractmethod
    async def get_group(self, group_id: str) -> GroupRecord | None: ...

    @abc.abstractmethod
    async def groups_of(self, client_id: str) -> list[GroupRecord]: ...

    @abc.abstractmethod
    async def add_member(
        self, group_id: str, actor: str, client_id: str, admin: bool, max_members: int
    ) -> GroupChange:
        """Raises:
        Refused: ``unknown_group``, ``not_a_member``, ``not_admin``,
            ``unknown_client``, ``already_a_member`` or ``group_full``."""

    @abc.abstractmethod
    async def remove_member(self, group_id: str, actor: str, client_id: str) -> GroupChange:
        """``actor == client_id`` means leaving. Raises :class:`Refused`."""

    # messages and events
    @abc.abstractmethod
    async def save_pending_messages(self, messages: Sequence[NewMessage]) -> list[SaveResult]:
        """Store messages durably and route them, in order, in one transaction.

        Each result is a :class:`SavedMessage` (possibly ``duplicate``) or a
        :class:`Refused` (``unknown_client``, ``unknown_group``, ``not_a_member``).
        """

    async def save_pending_message(self, message: NewMessage) -> SaveResult:
        return (await self.save_pending_messages([message]))[0]

    @abc.abstractmethod
    async def save_receipts(self, receipts: Sequence[NewReceipt]) -> list[int]:
        """Store receipts for offline recipients; returns their event ids."""

    @abc.abstractmethod
    async def get_pending_messages(
        self, recipient: str, after: int = 0, limit: int = 500
    ) -> list[PendingItem]:
        """Events pending for ``recipient`` with ids above ``after``, oldest first."""

    @abc.abstractmethod
    async def count_pending(self, recipient: str) -> int: ...

    @abc.abstractmethod
    async def sync(self) -> None:
        """Return once every write requested before this call is committed, so that a
        read issued next sees it (e.g. the acks of a connection that just ended)."""

    @abc.abstractmethod
    async def acknowledge(self, recipient: str, event_ids: Sequence[int]) -> list[AckedMessage]:
        """Delete acknowledged events and, in the same transaction, store a "delivered"
        receipt for the sender of each message among them; returns those messages.
        Unknown or repeated ids are ignored."""

    @abc.abstractmethod
    async def prune(self, sent_keys_older_than: int) -> int:
        """Forget idempotency keys used before the given time (ms); returns how many."""


# --- SQLite ------------------------------------------------------------------

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: clients, groups, messages and their pending deliveries
    """
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
    """,
    # 2: idempotency keys, stored receipts and group notices
    """
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
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up the way every part of this module expects."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


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
            for statement in MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return int(found)


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


class _Worker:
    """A thread owning one connection and running jobs sent from the event loop.

    A writing worker runs every job it finds queued in one transaction (group
    commit), each job inside a savepoint so that one failing job does not undo the
    others; a job's future resolves only after the commit.
    """

    def __init__(self, path: Path, name: str, *, transactional: bool) -> None:
        self._path = path
        self._transactional = transactional
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._loop = asyncio.get_running_loop()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.batches = 0

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(fn, future))
        return await future

    async def stop(self) -> None:
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        try:
            conn = self.conn = connect(self._path)
        except BaseException as exc:
            log.exception("cannot open %s", self._path)
            self._startup_error = exc
            conn = None
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            jobs = [first]
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            if conn is None:
                for job in jobs:
                    job.error = RuntimeError(f"storage unavailable: {self._startup_error}")
            elif self._transactional:
                self._run_transaction(conn, jobs)
            else:
                for job in jobs:
                    self._run_one(conn, job)
            self.batches += 1
            try:
                self._loop.call_soon_threadsafe(_resolve, jobs)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return
        if conn is not None:
            conn.close()

    @staticmethod
    def _run_one(conn: sqlite3.Connection, job: _Job) -> None:
        try:
            job.result = job.fn(conn)
        except BaseException as exc:
            job.error = exc

    def _run_transaction(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    job.result = job.fn(conn)
                except BaseException as exc:
                    job.error = exc
                    conn.execute("ROLLBACK TO job")
                    self._on_rollback()
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("storage transaction failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in jobs:
                job.error = exc
                job.result = None
            self._on_rollback()

    def _on_rollback(self) -> None:
        """Hook for caches that must forget what a rolled-back transaction did."""


def _client_record(row: tuple[Any, ...]) -> ClientRecord:
    client_id, display_name, secret_hash, created_at, disabled = row
    return ClientRecord(client_id, display_name, secret_hash, created_at, bool(disabled))


class SQLiteStorage(Storage):
    """The embedded store: one SQLite file in WAL mode.

    Args:
        path: the database file; created with its folder if missing.
        sent_keys_cache: how many conversations' last ``seq`` to keep in memory.
    """

    def __init__(self, path: Path, *, conversation_cache: int = 100_000) -> None:
        self.path = path
        self._writer: _Worker | None = None
        self._reader: _Worker | None = None
        self._last_seq: OrderedDict[str, int] = OrderedDict()
        self._conversation_cache = conversation_cache
        self._members: dict[str, frozenset[str]] = {}

    # -- lifecycle --

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = _Worker(self.path, "storage-writer", transactional=False)
        try:
            await writer.call(migrate)
        except BaseException:
            await writer.stop()
            raise
        await writer.stop()
        self._writer = _Worker(self.path, "storage-writer", transactional=True)
        self._writer._on_rollback = self._forget_caches  # type: ignore[method-assign]
        self._reader = _Worker(self.path, "storage-reader", transactional=False)

    async def close(self) -> None:
        for worker in (self._writer, self._reader):
            if worker is not None:
                await worker.stop()
        self._writer = self._reader = None

    def _forget_caches(self) -> None:
        self._last_seq.clear()
        self._members.clear()

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise RuntimeError("storage is not open")
        return await self._writer.call(fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            raise RuntimeError("storage is not open")
        return await self._reader.call(fn)

    @property
    def commits(self) -> int:
        """Write transactions committed so far (for tests and benchmarks)."""
        return self._writer.batches if self._writer else 0

    # -- clients --

    async def save_client_id(self, display_name: str, secret_hash: bytes) -> ClientRecord:
        def insert(conn: sqlite3.Connection) -> ClientRecord:
            created = now_ms()
            while True:
                client_id = generate_unique_id()
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO clients (id, secret_hash, display_name, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (client_id, secret_hash, display_name, created),
                )
                if cursor.rowcount == 1:
                    return ClientRecord(client_id, display_name, secret_hash, created, False)

        return await self._write(insert)

    async def get_client(self, client_id: str) -> ClientRecord | None:
        def select(conn: sqlite3.Connection) -> ClientRecord | None:
            row = conn.execute(
                "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                " WHERE id = ?",
                (client_id,),
            ).fetchone()
            return None if row is None else _client_record(row)

        return await self._read(select)

    async def list_clients(self) -> list[ClientRecord]:
        def select(conn: sqlite3.Connection) -> list[ClientRecord]:
            rows = conn.execute(
                "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                " ORDER BY created_at, id"
            )
            return [_client_record(row) for row in rows]

        return await self._read(select)

    async def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE clients SET disabled = ? WHERE id = ?", (int(disabled), client_id)
            )
            return cursor.rowcount == 1

        return await self._write(update)

    # -- groups --

    @staticmethod
    def _load_group(conn: sqlite3.Connection, group_id: str) -> GroupRecord | None:
        row = conn.execute(
            "SELECT id, name, created_by, created_at FROM groups WHERE id = ?", (group_id,)
        ).fetchone()
        if row is None:
            return None
        members = tuple(
            MemberRecord(client_id, name or "", bool(admin))
            for client_id, name, admin in conn.execute(
                "SELECT m.client_id, c.display_name, m.admin FROM members m"
                " LEFT JOIN clients c ON c.id = m.client_id"
                " WHERE m.group_id = ? ORDER BY m.joined_at, m.client_id",
                (group_id,),
            )
        )
        return GroupRecord(row[0], row[1], row[2], row[3], members)

    def _group_members(self, conn: sqlite3.Connection, group_id: str) -> frozenset[str] | None:
        members = self._members.get(group_id)
        if members is None:
            if conn.execute("SELECT 1 FROM groups WHERE id = ?", (group_id,)).fetchone() is None:
                return None
            members = frozenset(
                client_id
                for (client_id,) in conn.execute(
                    "SELECT client_id FROM members WHERE group_id = ?", (group_id,)
                )
            )
            self._members[group_id] = members
        return members

    def _next_ids(self, conn: sqlite3.Connection, count: int) -> int:
        """Reserve ``count`` consecutive event ids; returns the first."""
        (last,) = conn.execute(
            "UPDATE counters SET value = value + ? WHERE name = 'event_id' RETURNING value",
            (count,),
        ).fetchone()
        return int(last) - count + 1

    def _notify_group(
        self,
        conn: sqlite3.Connection,
        group_id: str,
        change: GroupChangeKind,
        actor: str,
        subject: str | None,
        recipients: Iterable[str],
    ) -> GroupChange:
        recipients = sorted(set(recipients))
        first = self._next_ids(conn, len(recipients))
        ts = now_ms()
        notices = {recipient: first + i for i, recipient in enumerate(recipients)}
        conn.executemany(
            "INSERT INTO notices (id, kind, actor, subject, group_id, ts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(event_id, change, actor, subject, group_id, ts) for event_id in notices.values()],
        )
        conn.executemany("INSERT INTO pending (recipient, event_id) VALUES (?, ?)", notices.items())
        self._members.pop(group_id, None)
        group = self._load_group(conn, group_id)
        assert group is not None
        return GroupChange(group, change, actor, subject, notices)

    @staticmethod
    def _require_clients(conn: sqlite3.Connection, client_ids: Iterable[str]) -> None:
        for client_id in client_ids:
            if (
                conn.execute(
                    "SELECT 1 FROM clients WHERE id = ? AND disabled = 0", (client_id,)
                ).fetchone()
                is None
            ):
                raise Refused(ErrorCode.UNKNOWN_CLIENT, f"no client {client_id}")

    async def save_group(
        self, name: str, created_by: str, members: Sequence[str], max_members: int
    ) -> GroupChange:
        everyone = list(dict.fromkeys([created_by, *members]))

        def insert(conn: sqlite3.Connection) -> GroupChange:
            if len(everyone) > max_members:
                raise Refused(ErrorCode.GROUP_FULL, f"a group has at most {max_members} members")
            self._require_clients(conn, everyone)
            created = now_ms()
            while True:
                group_id = generate_unique_id("G-")
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO groups (id, name, created_by, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (group_id, name, created_by, created),
                )
                if cursor.rowcount == 1:
                    break
            conn.executemany(
                "INSERT INTO members (group_id, client_id, admin, joined_at) VALUES (?, ?, ?, ?)",
                [(group_id, c, int(c == created_by), created + i) for i, c in enumerate(everyone)],
            )
            return self._notify_group(conn, group_id, "created", created_by, None, everyone)

        return await self._write(insert)

    async def get_group(self, group_id: str) -> GroupRecord | None:
        return await self._read(lambda conn: self._load_group(conn, group_id))

    async def groups_of(self, client_id: str) -> list[GroupRecord]:
        def select(conn: sqlite3.Connection) -> list[GroupRecord]:
            ids = [
                group_id
                for (group_id,) in conn.execute(
                    "SELECT group_id FROM members WHERE client_id = ? ORDER BY group_id",
                    (client_id,),
                )
            ]
            return [g for g in (self._load_group(conn, i) for i in ids) if g is not None]

        return await self._read(select)

    @staticmethod
    def _membership(conn: sqlite3.Connection, group_id: str, client_id: str) -> tuple[bool, bool]:
        """(is member, is admin)"""
        if conn.execute("SELECT 1 FROM groups WHERE id = ?", (group_id,)).fetchone() is None:
            raise Refused(ErrorCode.UNKNOWN_GROUP, f"no group {group_id}")
        row = conn.execute(
            "SELECT admin FROM members WHERE group_id = ? AND client_id = ?",
            (group_id, client_id),
        ).fetchone()
        return (row is not None, bool(row and row[0]))

    def _require_admin(self, conn: sqlite3.Connection, group_id: str, actor: str) -> None:
        member, admin = self._membership(conn, group_id, actor)
        if not member:
            raise Refused(ErrorCode.NOT_A_MEMBER, f"{actor} is not in {group_id}")
        if not admin:
            raise Refused(ErrorCode.NOT_ADMIN, "only the group's admins change its members")

    async def add_member(
        self, group_id: str, actor: str, client_id: str, admin: bool, max_members: int
    ) -> GroupChange:
        def insert(conn: sqlite3.Connection) -> GroupChange:
            self._require_admin(conn, group_id, actor)
            self._require_clients(conn, [client_id])
            if self._membership(conn, group_id, client_id)[0]:
                raise Refused(ErrorCode.ALREADY_A_MEMBER, f"{client_id} is in the group already")
            (count,) = conn.execute(
                "SELECT count(*) FROM members WHERE group_id = ?", (group_id,)
            ).fetchone()
            if count >= max_members:
                raise Refused(ErrorCode.GROUP_FULL, f"a group has at most {max_members} members")
            conn.execute(
                "INSERT INTO members (group_id, client_id, admin, joined_at) VALUES (?, ?, ?, ?)",
                (group_id, client_id, int(admin), now_ms()),
            )
            members = self._group_members_uncached(conn, group_id)
            return self._notify_group(conn, group_id, "member_added", actor, client_id, members)

        return await self._write(insert)

    @staticmethod
    def _group_members_uncached(conn: sqlite3.Connection, group_id: str) -> list[str]:
        return [
            client_id
            for (client_id,) in conn.execute(
                "SELECT client_id FROM members WHERE group_id = ?", (group_id,)
            )
        ]

    async def remove_member(self, group_id: str, actor: str, client_id: str) -> GroupChange:
        leaving = actor == client_id

        def delete(conn: sqlite3.Connection) -> GroupChange:
            if leaving:
                if not self._membership(conn, group_id, actor)[0]:
                    raise Refused(ErrorCode.NOT_A_MEMBER, f"{actor} is not in {group_id}")
            else:
                self._require_admin(conn, group_id, actor)
                if not self._membership(conn, group_id, client_id)[0]:
                    raise Refused(ErrorCode.NOT_A_MEMBER, f"{client_id} is not in {group_id}")
            before = self._group_members_uncached(conn, group_id)
            conn.execute(
                "DELETE FROM members WHERE group_id = ? AND client_id = ?", (group_id, client_id)
            )
            # A group never stays without an admin: the longest-standing member takes over.
            if (
                conn.execute(
                    "SELECT 1 FROM members WHERE group_id = ? AND admin = 1", (group_id,)
                ).fetchone()
                is None
            ):
                conn.execute(
                    "UPDATE members SET admin = 1 WHERE group_id = ? AND client_id ="
                    " (SELECT client_id FROM members WHERE group_id = ?"
                    "  ORDER BY joined_at, client_id LIMIT 1)",
                    (group_id, group_id),
                )
            change: GroupChangeKind = "member_left" if leaving else "member_removed"
            return self._notify_group(conn, group_id, change, actor, client_id, before)

        return await self._write(delete)

    # -- messages --

    def _assign_seq(self, conn: sqlite3.Connection, conversation: str) -> int:
        last = self._last_seq.get(conversation)
        if last is None:
            row = conn.execute(
                "SELECT last_seq FROM conversations WHERE id = ?", (conversation,)
            ).fetchone()
            last = row[0] if row else 0
        else:
            self._last_seq.move_to_end(conversation)
        seq = last + 1
        self._last_seq[conversation] = seq
        if len(self._last_seq) > self._conversation_cache:
            self._last_seq.popitem(last=False)
        return seq

    async def save_pending_messages(self, messages: Sequence[NewMessage]) -> list[SaveResult]:
        def insert(conn: sqlite3.Connection) -> list[SaveResult]:
            results: list[SaveResult] = []
            message_rows: list[tuple[object, ...]] = []
            pending_rows: list[tuple[str, int]] = []
            key_rows: list[tuple[object, ...]] = []
            touched: dict[str, int] = {}
            batch_keys: dict[tuple[str, str], SavedMessage] = {}
            known_clients: set[str] = set()
            first = self._next_ids(conn, len(messages))
            ts = now_ms()
            # Keys used before, found in one statement for the whole batch.
            for sender, key, message_id, seq, sent_ts, conversation in conn.execute(
                "SELECT sender, key, message_id, seq, ts, conversation FROM sent_keys"
                " WHERE (sender, key) IN (SELECT json_extract(value, '$[0]'),"
                " json_extract(value, '$[1]') FROM json_each(?))",
                (json.dumps([(m.sender, m.key) for m in messages]),),
            ):
                batch_keys[(sender, key)] = SavedMessage(message_id, seq, sent_ts, conversation, ())
            for index, message in enumerate(messages):
                earlier = batch_keys.get((message.sender, message.key))
                if earlier is not None:
                    results.append(
                        SavedMessage(
                            earlier.message_id,
                            earlier.seq,
                            earlier.ts,
                            earlier.conversation,
                            (),
                            duplicate=True,
                        )
                    )
                    continue
                if message.group is not None:
                    members = self._group_members(conn, message.group)
                    if members is None:
                        results.append(
                            Refused(ErrorCode.UNKNOWN_GROUP, f"no group {message.group}")
                        )
                        continue
                    if message.sender not in members:
                        results.append(
                            Refused(ErrorCode.NOT_A_MEMBER, f"not a member of {message.group}")
                        )
                        continue
                    conversation = message.group
                    recipients = tuple(sorted(members - {message.sender}))
                else:
                    assert message.to is not None
                    if message.to not in known_clients:
                        if (
                            conn.execute(
                                "SELECT 1 FROM clients WHERE id = ? AND disabled = 0",
                                (message.to,),
                            ).fetchone()
                            is None
                        ):
                            results.append(
                                Refused(ErrorCode.UNKNOWN_CLIENT, f"no client {message.to}")
                            )
                            continue
                        known_clients.add(message.to)
                    conversation = direct_conversation(message.sender, message.to)
                    recipients = (message.to,)
                message_id = first + index
                seq = self._assign_seq(conn, conversation)
                touched[conversation] = seq
                saved = SavedMessage(message_id, seq, ts, conversation, recipients)
                batch_keys[(message.sender, message.key)] = saved
                results.append(saved)
                message_rows.append(
                    (
                        message_id,
                        conversation,
                        seq,
                        ts,
                        message.sender,
                        message.to,
                        message.group,
                        message.text,
                        len(recipients),
                    )
                )
                pending_rows.extend((r, message_id) for r in recipients)
                key_rows.append((message.sender, message.key, message_id, seq, ts, conversation))
            conn.executemany(
                "INSERT INTO messages (id, conversation, seq, ts, sender, recipient, group_id,"
                " text, remaining) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                message_rows,
            )
            conn.executemany(
                "INSERT INTO pending (recipient, event_id) VALUES (?, ?)", pending_rows
            )
            conn.executemany(
                "INSERT INTO sent_keys (sender, key, message_id, seq, ts, conversation)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                key_rows,
            )
            conn.executemany(
                "INSERT INTO conversations (id, last_seq) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq",
                touched.items(),
            )
            return results

        if not messages:
            return []
        return await self._write(insert)

    def _insert_receipts(
        self, conn: sqlite3.Connection, receipts: Sequence[NewReceipt]
    ) -> list[int]:
        first = self._next_ids(conn, len(receipts))
        ids = list(range(first, first + len(receipts)))
        conn.executemany(
            "INSERT INTO notices (id, kind, actor, message_id, seq, group_id, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (i, r.kind, r.by, r.message_id, r.seq, r.group, r.ts)
                for i, r in zip(ids, receipts, strict=True)
            ],
        )
        conn.executemany(
            "INSERT INTO pending (recipient, event_id) VALUES (?, ?)",
            [(r.recipient, i) for i, r in zip(ids, receipts, strict=True)],
        )
        return ids

    async def save_receipts(self, receipts: Sequence[NewReceipt]) -> list[int]:
        if not receipts:
            return []
        return await self._write(lambda conn: self._insert_receipts(conn, receipts))

    async def get_pending_messages(
        self, recipient: str, after: int = 0, limit: int = 500
    ) -> list[PendingItem]:
        def select(conn: sqlite3.Connection) -> list[PendingItem]:
            items: list[PendingItem] = []
            rows = conn.execute(
                "SELECT p.event_id,"
                " m.seq, m.ts, m.sender, c.display_name, m.text, m.recipient, m.group_id,"
                " n.kind, n.actor, n.subject, n.message_id, n.seq, n.group_id, n.ts"
                " FROM pending p"
                " LEFT JOIN messages m ON m.id = p.event_id"
                " LEFT JOIN clients c ON c.id = m.sender"
                " LEFT JOIN notices n ON n.id = p.event_id"
                " WHERE p.recipient = ? AND p.event_id > ?"
                " ORDER BY p.event_id LIMIT ?",
                (recipient, after, limit),
            )
            for row in rows:
                event_id = row[0]
                if row[1] is not None:
                    items.append(
                        PendingMessage(
                            event_id, row[1], row[2], row[3], row[4] or "", row[5], row[6], row[7]
                        )
                    )
                elif row[8] in ("delivered", "read"):
                    items.append(
                        PendingReceipt(event_id, row[8], row[9], row[11], row[12], row[13], row[14])
                    )
                elif row[8] is not None:
                    items.append(
                        PendingGroupUpdate(event_id, row[8], row[9], row[10], row[13], row[14])
                    )
                else:
                    log.warning("pending event %d for %s has no body", event_id, recipient)
            return items

        return await self._read(select)

    async def sync(self) -> None:
        await self._write(lambda conn: None)

    async def count_pending(self, recipient: str) -> int:
        def select(conn: sqlite3.Connection) -> int:
            (count,) = conn.execute(
                "SELECT count(*) FROM pending WHERE recipient = ?", (recipient,)
            ).fetchone()
            return int(count)

        return await self._read(select)

    async def acknowledge(self, recipient: str, event_ids: Sequence[int]) -> list[AckedMessage]:
        def delete(conn: sqlite3.Connection) -> list[AckedMessage]:
            # Set-based: a handful of statements per ack frame, not three per event.
            order = {event_id: index for index, event_id in enumerate(dict.fromkeys(event_ids))}
            taken = [
                row[0]
                for row in conn.execute(
                    "DELETE FROM pending WHERE recipient = ? AND event_id IN"
                    " (SELECT value FROM json_each(?)) RETURNING event_id",
                    (recipient, json.dumps(list(order))),
                )
            ]
            if not taken:
                return []
            rows = sorted(
                conn.execute(
                    "UPDATE messages SET remaining = remaining - 1 WHERE id IN"
                    " (SELECT value FROM json_each(?))"
                    " RETURNING id, sender, seq, group_id, remaining",
                    (json.dumps(taken),),
                ).fetchall(),
                key=lambda row: order[row[0]],
            )
            finished = [row[0] for row in rows if row[4] <= 0]
            if finished:
                conn.execute(
                    "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(finished),),
                )
            if len(rows) < len(taken):  # the others were receipts and group updates
                conn.execute(
                    "DELETE FROM notices WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(sorted(set(taken) - {row[0] for row in rows})),),
                )
            ts = now_ms()
            receipt_ids = self._insert_receipts(
                conn,
                [
                    NewReceipt(sender, "delivered", recipient, seq, ts, message_id, group)
                    for message_id, sender, seq, group, _ in rows
                ],
            )
            return [
                AckedMessage(message_id, recipient, sender, seq, group, receipt_id, ts)
                for (message_id, sender, seq, group, _), receipt_id in zip(
                    rows, receipt_ids, strict=True
                )
            ]

        if not event_ids:
            return []
        return await self._write(delete)

    async def prune(self, sent_keys_older_than: int) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            cursor = conn.execute("DELETE FROM sent_keys WHERE ts < ?", (sent_keys_older_than,))
            return cursor.rowcount

        return await self._write(delete)

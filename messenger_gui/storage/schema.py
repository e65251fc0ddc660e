"""The history database: its schema and migrations, opening it, and the base every part of
:class:`~messenger_gui.storage.ClientStore` builds on (one connection, short transactions).

Durability: every write is committed before the method returns, in WAL mode with
``synchronous=FULL``. With ``NORMAL`` a power cut could undo the last commits, which here
would be a message already acknowledged to the server (lost for good: the server deletes it
after the ack) or a message the user saw enter the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, ParamSpec, Self, TypeVar

from messenger_gui.storage.identity import _make_private_dir
from messenger_gui.storage.records import OutgoingMessage, Quote, Reaction, StoredMessage
from messenger_server import protocol

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

DATABASE_FILE: Final = "history.sqlite3"

_QUEUED_LAST: Final = 9223372036854775807
"""Sort key of a message without ``seq`` (still in the outbox): after every sent one."""
_ORDER_KEY: Final = f"COALESCE(seq, {_QUEUED_LAST})"
"""The display order is (_ORDER_KEY, local_id); the same text is used by the index."""
_NOT_SYSTEM_LINE: Final = "(direction = 'out' OR sender IS NOT NULL)"
"""Not a system line ("Ana renamed the group…": an incoming row without a sender, at the
seq of the message before it): what a reply, an edit or a reaction may refer to by seq."""
RECEIPTS_VERSION: Final = "receipts_version"
"""The ``meta`` entry holding the ``version`` of the last ``receipts`` event applied."""
_PREVIEW_CHARS: Final = 200
"""Longest ``last_text`` in :meth:`ClientStore.conversations_summary`."""

# --- schema ------------------------------------------------------------------------------------

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the first schema
    (
        """CREATE TABLE contacts (
            client_id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            alias TEXT,
            added_at INTEGER NOT NULL
        )""",
        """CREATE TABLE groups (
            group_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            left INTEGER NOT NULL DEFAULT 0 CHECK (left IN (0, 1))
        )""",
        """CREATE TABLE group_members (
            group_id TEXT NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
            client_id TEXT NOT NULL,
            display_name TEXT NOT NULL,
            admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
            PRIMARY KEY (group_id, client_id)
        )""",
        """CREATE TABLE messages (
            local_id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation TEXT NOT NULL,
            is_group INTEGER NOT NULL CHECK (is_group IN (0, 1)),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            sender TEXT,
            sender_name TEXT,
            text TEXT NOT NULL,
            search_text TEXT,
            ts INTEGER NOT NULL,
            seq INTEGER,
            message_id INTEGER UNIQUE,
            key TEXT UNIQUE,
            status TEXT NOT NULL
                CHECK (status IN ('queued', 'sent', 'delivered', 'read', 'received')),
            CHECK ((direction = 'in') = (status = 'received')),
            CHECK (direction = 'in' OR key IS NOT NULL),
            CHECK (status = 'queued' OR (seq IS NOT NULL AND message_id IS NOT NULL))
        )""",
        f"CREATE INDEX messages_display ON messages (conversation, {_ORDER_KEY}, local_id)",
        "CREATE INDEX messages_incoming ON messages (conversation, seq) WHERE direction = 'in'",
        "CREATE INDEX messages_outbox ON messages (local_id) WHERE status = 'queued'",
        """CREATE TABLE read_markers (
            conversation TEXT PRIMARY KEY,
            read_up_to_seq INTEGER,
            confirmed_seq INTEGER,
            peer_read_seq INTEGER
        )""",
        """CREATE TABLE early_deliveries (
            message_id INTEGER PRIMARY KEY,
            received_at INTEGER NOT NULL
        )""",
    ),
    # 2: outgoing messages the server refused for good (kept out of the outbox)
    (
        """CREATE TABLE send_failures (
            local_id INTEGER PRIMARY KEY REFERENCES messages (local_id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            failed_at INTEGER NOT NULL
        )""",
    ),
    # 3: protocol 2: receipts are the other participants' markers, not one event per
    # message. ``early_deliveries`` (v1 receipts that came before our ``sent``) and
    # ``read_markers.peer_read_seq`` are replaced by ``peer_markers``; the column stays,
    # unused (dropping a column needs SQLite 3.35). The first login after this migration
    # sends ``receipts_since`` 0, so the server sends every marker again.
    (
        """CREATE TABLE peer_markers (
            conversation TEXT NOT NULL,
            member TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            read INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (conversation, member)
        ) WITHOUT ROWID""",
        """CREATE TABLE meta (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID""",
        # Our messages whose ticks can still change: what applying a marker updates.
        "CREATE INDEX messages_unconfirmed ON messages (conversation, seq) "
        "WHERE direction = 'out' AND status IN ('sent', 'delivered')",
        "DROP TABLE early_deliveries",
    ),
    # 4: a draft per conversation (what was typed and not sent), and the people the user
    # blocked (their messages are stored, their chat is not listed, nothing notifies).
    (
        """CREATE TABLE drafts (
            conversation TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE blocked (
            client_id TEXT PRIMARY KEY,
            blocked_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        # Messages stored and not in the search index yet (a backlog is indexed after it
        # has been stored, see ClientStore.index_pending); search scans these.
        "CREATE TABLE search_pending (local_id INTEGER PRIMARY KEY)",
    ),
    # 5: message actions (protocol section 12): the message a reply quotes and who wrote a
    # forwarded one; edits (``edited_seq``: the seq of the last edit applied, 0 for ours
    # not stored by the server yet) and deletions (``deleted``: 'everyone' or 'me') applied
    # to the stored copy; one reaction per member and message (``emoji`` NULL once taken
    # back: the ``seq`` keeps a redelivered older entry from applying again); our edits,
    # deletions and reactions waiting to be sent (``undo``: what to restore if refused).
    (
        "ALTER TABLE messages ADD COLUMN reply_seq INTEGER",
        "ALTER TABLE messages ADD COLUMN reply_sender TEXT",
        "ALTER TABLE messages ADD COLUMN forwarded_name TEXT",
        "ALTER TABLE messages ADD COLUMN forwarded_sender TEXT",
        "ALTER TABLE messages ADD COLUMN edited_seq INTEGER",
        "ALTER TABLE messages ADD COLUMN deleted TEXT CHECK (deleted IN ('everyone', 'me'))",
        """CREATE TABLE reactions (
            local_id INTEGER NOT NULL REFERENCES messages (local_id) ON DELETE CASCADE,
            member TEXT NOT NULL,
            member_name TEXT NOT NULL,
            emoji TEXT,
            seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (local_id, member)
        ) WITHOUT ROWID""",
        """CREATE TABLE outbox_entries (
            entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('edit', 'delete', 'react')),
            target INTEGER NOT NULL REFERENCES messages (local_id) ON DELETE CASCADE,
            text TEXT,
            emoji TEXT,
            on_ INTEGER NOT NULL DEFAULT 1,
            undo TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""",
    ),
    # 6: the user's own settings of a chat (mute, pin, archive: never sent anywhere), the
    # mentions of our group messages still in the outbox (sent with them), and a group's
    # description. Group changes are shown as system lines: incoming rows without a
    # sender, ``message_id`` the negated ``group_update`` ``event_id``, ``seq`` that of the
    # conversation's last message (they follow it), never unread.
    (
        """CREATE TABLE chat_settings (
            conversation TEXT PRIMARY KEY,
            muted_until INTEGER,
            pinned_at INTEGER,
            archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
        ) WITHOUT ROWID""",
        """CREATE TABLE outgoing_mentions (
            local_id INTEGER PRIMARY KEY REFERENCES messages (local_id) ON DELETE CASCADE,
            client_ids TEXT NOT NULL
        )""",
        # A group's description (protocol 12.9).
        "ALTER TABLE groups ADD COLUMN description TEXT",
    ),
    # 7 (issue 10): the files of a message (docs/protocol.md section 11), see storage/files.py.
    (
        """CREATE TABLE message_files (
            local_id INTEGER NOT NULL REFERENCES messages (local_id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            file_id TEXT,
            thumbnail TEXT,
            path TEXT,
            state TEXT NOT NULL
                CHECK (state IN ('upload', 'uploaded', 'remote', 'download', 'done', 'failed')),
            error TEXT,
            PRIMARY KEY (local_id, position)
        ) WITHOUT ROWID""",
        "CREATE INDEX message_files_pending ON message_files (state) "
        "WHERE state IN ('upload', 'download')",
    ),
    # 8: whether the server knows a contact as ours (add_contact answered), so a login
    # shares only the contacts added while offline or by an older version of the app.
    ("ALTER TABLE contacts ADD COLUMN shared INTEGER NOT NULL DEFAULT 0",),
)
"""Schema migrations: ``MIGRATIONS[n]`` takes ``PRAGMA user_version`` from n to n + 1.
Append only; never edit a released step. The search index is not a migration: it is
derived data, created (and filled) by :meth:`ClientStore._ensure_search_index`."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

_SEARCH_TRIGGERS: Final = (
    # Rows are indexed by the code that stores them (at once, or later for a backlog:
    # search_pending), not by an insert trigger. Only a row that is in the index may be
    # deleted from it: a contentless FTS5 table must be given exactly what it holds.
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.local_id, COALESCE(old.search_text, old.text)
        WHERE old.local_id NOT IN (SELECT local_id FROM search_pending);
        DELETE FROM search_pending WHERE local_id = old.local_id;
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, search_text ON messages
    WHEN old.local_id NOT IN (SELECT local_id FROM search_pending) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
        VALUES ('delete', old.local_id, COALESCE(old.search_text, old.text));
        INSERT INTO messages_fts (rowid, body)
        VALUES (new.local_id, COALESCE(new.search_text, new.text));
    END""",
)
_SEARCH_INDEX: Final = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5"
    "(body, content='', columnsize=0, tokenize='trigram')",
    *_SEARCH_TRIGGERS,
    "INSERT INTO messages_fts (rowid, body) "
    "SELECT local_id, COALESCE(search_text, text) FROM messages "
    "WHERE local_id NOT IN (SELECT local_id FROM search_pending)",
)


class SchemaTooNewError(RuntimeError):
    """The history was written by a newer version of the app; refusing to touch it."""


_PLAIN_COLUMNS: Final = (
    "local_id, conversation, is_group, direction, sender, sender_name, text, ts, seq, "
    "message_id, key, status"
)
_FAILURE_COLUMN: Final = "(SELECT f.code FROM send_failures f WHERE f.local_id = {t}.local_id)"

_ACTION_COLUMNS: Final = (
    "reply_seq, reply_sender, forwarded_name, forwarded_sender, edited_seq, deleted"
)
_REACTIONS_COLUMN: Final = (
    "(SELECT json_group_array(json_array(r.member, r.member_name, r.emoji)) FROM reactions r "
    "WHERE r.local_id = {t}.local_id AND r.emoji IS NOT NULL)"
)
_QUOTE_COLUMN: Final = (
    "CASE WHEN {t}.reply_seq IS NULL THEN NULL ELSE (SELECT json_array(q.local_id, "
    "q.direction, q.sender_name, q.text, q.deleted) FROM messages q "
    f"WHERE q.conversation = {{t}}.conversation AND {_ORDER_KEY.replace('seq', 'q.seq')} "
    "= {t}.reply_seq AND (q.direction = 'out' OR q.sender IS NOT NULL) LIMIT 1) END"
)


def _extra_columns(t: str) -> str:
    return (
        f"{_FAILURE_COLUMN.format(t=t)}, "
        + ", ".join(f"{t}.{c.strip()}" for c in _ACTION_COLUMNS.split(","))
        + f", {_REACTIONS_COLUMN.format(t=t)}, {_QUOTE_COLUMN.format(t=t)}"
    )


_MESSAGE_COLUMNS: Final = f"{_PLAIN_COLUMNS}, {_extra_columns('messages')}"
"""The columns :func:`_message` reads, selecting from ``messages`` without an alias."""

_M_MESSAGE_COLUMNS: Final = (
    ", ".join(f"m.{c.strip()}" for c in _PLAIN_COLUMNS.split(",")) + f", {_extra_columns('m')}"
)
"""The same, selecting from ``messages m``."""

_CONVERSATIONS_WITH_MESSAGES: Final = """
    walk(conversation) AS (
        SELECT MIN(conversation) FROM messages
        UNION ALL
        SELECT (SELECT MIN(m.conversation) FROM messages m WHERE m.conversation > w.conversation)
        FROM walk w WHERE w.conversation IS NOT NULL
    ),
    with_messages(conversation) AS (SELECT conversation FROM walk WHERE conversation IS NOT NULL)
"""
"""CTEs naming each conversation that has messages: one index seek per conversation
(a skip-scan) instead of reading the whole index."""


def _message(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        local_id=row[0],
        conversation=row[1],
        is_group=bool(row[2]),
        direction=row[3],
        sender=row[4],
        sender_name=row[5],
        text=row[6],
        ts=row[7],
        seq=row[8],
        message_id=row[9],
        key=row[10],
        status=row[11],
        failure=row[12],
        reply_seq=row[13],
        reply_sender=row[14],
        forwarded_name=row[15],
        forwarded_sender=row[16],
        edited=row[17] is not None,
        deleted=row[18],
        reactions=_reactions(row[19]) if row[18] is None and row[19] != "[]" else (),
        quote=None if row[13] is None else _quote(row[13], row[14], row[20]),
    )


def _reactions(encoded: str) -> tuple[Reaction, ...]:
    return tuple(Reaction(member, name, emoji) for member, name, emoji in json.loads(encoded))


def _quote(seq: int, sender: str | None, encoded: str | None) -> Quote:
    """The message a reply quotes, as this history has it (``local_id`` None: not here)."""
    if encoded is None:
        return Quote(seq=seq, sender=sender or "", local_id=None)
    local_id, direction, name, text, deleted = json.loads(encoded)
    return Quote(
        seq=seq,
        sender=sender or "",
        local_id=local_id,
        outgoing=direction == "out",
        sender_name=name,
        text=None if deleted else text,
        deleted=deleted is not None,
    )


def _outgoing(row: Sequence[Any]) -> OutgoingMessage:
    return OutgoingMessage(
        local_id=row[0],
        conversation=row[1],
        is_group=bool(row[2]),
        text=row[6],
        key=row[10],
        ts=row[7],
        status=row[11],
        reply_seq=row[13],
        reply_sender=row[14],
        forwarded_name=row[15],
        forwarded_sender=row[16],
    )


def _conversation_of(message: protocol.Message) -> tuple[str, bool]:
    if message.group is not None:
        return message.group, True
    return message.sender, False


class StoreBase:
    """A profile's history database, migrated and with its search index, and the threads
    that keep slow work off the caller's thread.

    Three connections (one for an in-memory store, where everything runs inline on the
    caller's thread):

    * the **writer**, used by every write method under a lock; :meth:`run` calls a write
      method on the writer thread, so that the event loop (the GUI thread) never waits for
      an fsync;
    * the caller's **reading** connection (``PRAGMA query_only``), for short reads on the
      thread that created the store: a page of messages, one row;
    * the **reader** thread's, for reads that may take longer than a frame (the
      conversation list over a large history, search, export): :meth:`read`.

    WAL lets the two readers run while the writer writes; each sees the last commit.
    """

    def __init__(self, directory: Path | None) -> None:
        self.path: Path | None = None
        if directory is None:
            target = ":memory:"
        else:
            _make_private_dir(directory)
            self.path = directory / DATABASE_FILE
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)  # SQLite gives -wal and -shm the same mode
            target = str(self.path)
        self._lock = threading.RLock()
        """Serialises the writer connection between the writer thread and direct callers."""
        self._writer = sqlite3.connect(
            target, isolation_level=None, timeout=5.0, check_same_thread=False
        )
        self._conn = self._writer
        self._writer_thread: ThreadPoolExecutor | None = None
        self._reader_thread: ThreadPoolExecutor | None = None
        self._reader_view: Self | None = None
        """A copy of this store reading through the reader thread's own connection."""
        try:
            self._writer.execute("PRAGMA journal_mode = WAL")
            self._writer.execute("PRAGMA synchronous = FULL")
            self._writer.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._writer.execute(
                "CREATE TEMP TABLE incoming_batch (conversation, is_group, sender, "
                "sender_name, text, search_text, ts, seq, message_id, reply_seq, "
                "reply_sender, forwarded_name, forwarded_sender)"
            )
            self._fts = self._ensure_search_index()
            if self.path is not None:
                self._conn = self._reading_connection()
                self._writer_thread = ThreadPoolExecutor(
                    1, "messenger-store-writer", initializer=_yield_to_the_gui
                )
                self._reader_thread = ThreadPoolExecutor(
                    1, "messenger-store-reader", initializer=_yield_to_the_gui
                )
        except BaseException:
            if self._conn is not self._writer:
                self._conn.close()
            self._writer.close()
            raise
        self._restrict_sidecar_files()

    def _reading_connection(self, *, any_thread: bool = False) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(
            str(self.path), isolation_level=None, timeout=5.0, check_same_thread=not any_thread
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    # --- lifecycle ---

    def close(self) -> None:
        """Finish the writes under way, then close the database. The store cannot be used
        afterwards."""
        for thread in (self._writer_thread, self._reader_thread):
            if thread is not None:
                thread.shutdown(wait=True)
        if self._reader_view is not None:
            self._reader_view._conn.close()
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA optimize")
            if self._conn is not self._writer:
                self._conn.close()
            self._writer.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def has_full_text_index(self) -> bool:
        """False when this SQLite lacks FTS5 trigram: search then scans with LIKE."""
        return self._fts

    # --- off the caller's thread ---

    def run(
        self, method: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Future[T]:
        """Call the write method ``method`` (a bound method of this store) with ``args`` on
        the writer thread; returns a future of its result, resolved on the running loop.

        Writes are done in the order they were asked for. The caller's loop goes on while
        the write commits (an fsync); reads made after the future resolved see it. An
        in-memory store runs ``method`` at once, on this thread.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(method, *args, **kwargs)
        if self._writer_thread is None:
            return _done(loop, call)
        return loop.run_in_executor(self._writer_thread, call)

    def read(self, query: Callable[[Self], T], /) -> asyncio.Future[T]:
        """``query(store)`` on the reader thread, with a read-only view of this store (call
        its read methods only); returns a future of the result, resolved on the running
        loop. For reads that may take longer than a frame. An in-memory store runs
        ``query(self)`` at once, on this thread."""
        loop = asyncio.get_running_loop()
        if self._reader_thread is None:
            return _done(loop, functools.partial(query, self))
        return loop.run_in_executor(self._reader_thread, self._on_reader_thread, query)

    def _on_reader_thread(self, query: Callable[[Self], T]) -> T:
        if self._reader_view is None:
            view = copy.copy(self)
            view._conn = self._reading_connection(any_thread=True)
            view._writer_thread = view._reader_thread = None
            view._reader_view = None
            self._reader_view = view
        return query(self._reader_view)

    # --- transactions ---

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the writer connection, committed (durably) on exit,
        rolled back on error. Read what the transaction needs through the connection it
        yields, not through :attr:`_conn`."""
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reads spanning several statements."""
        self._conn.execute("BEGIN")
        try:
            yield self._conn
        finally:
            self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        while True:
            with self._write() as conn:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise SchemaTooNewError(
                        f"history schema version {version} is newer than this app's "
                        f"({SCHEMA_VERSION}); update the app"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            log.info("client history migrated to schema version %d", version + 1)

    def _ensure_search_index(self) -> bool:
        exists = self._writer.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'"
        ).fetchone()
        if exists:
            if self._writer.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_insert'"
            ).fetchone():  # an index made before search_pending: today's triggers
                with self._write() as conn:
                    for statement in _SEARCH_TRIGGERS:
                        conn.execute(statement)
            return True
        try:
            self._writer.execute(
                "CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')"
            )
            self._writer.execute("DROP TABLE temp.trigram_probe")
        except sqlite3.OperationalError:
            log.warning(
                "SQLite %s has no FTS5 trigram tokenizer; history search will be slow",
                sqlite3.sqlite_version,
            )
            return False
        with self._write() as conn:
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'"
            ).fetchone():
                for statement in _SEARCH_INDEX:
                    conn.execute(statement)
        return True

    def _restrict_sidecar_files(self) -> None:
        if self.path is None:
            return
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.path.with_name(self.path.name + suffix), 0o600)


def _done(loop: asyncio.AbstractEventLoop, call: Callable[[], T]) -> asyncio.Future[T]:
    """A future already resolved with ``call()``'s result or exception."""
    future: asyncio.Future[T] = loop.create_future()
    try:
        future.set_result(call())
    except Exception as exc:
        future.set_exception(exc)
    return future


def _index_for_search(conn: sqlite3.Connection, first: int, last: int, *, now: bool) -> None:
    """Put the messages ``first..last`` (local ids) in the search index, or, unless
    ``now``, among those to index later (a backlog: see ``ClientStore.index_pending``)."""
    if now:
        conn.execute(
            "INSERT INTO messages_fts (rowid, body) SELECT local_id, "
            "COALESCE(search_text, text) FROM messages WHERE local_id BETWEEN ? AND ?",
            (first, last),
        )
    else:
        conn.execute(
            "INSERT OR IGNORE INTO search_pending (local_id) "
            "SELECT local_id FROM messages WHERE local_id BETWEEN ? AND ?",
            (first, last),
        )


BACKGROUND_NICENESS: Final = 5
"""How much lower than the rest of the app the store's threads run (Linux): when the CPU is
short, the GUI thread paints first and the disk work waits a little."""


def _yield_to_the_gui() -> None:
    """Lower the calling thread's scheduling priority, where the OS can do that per thread
    (Linux: ``setpriority`` with a thread ID); elsewhere nothing changes."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)

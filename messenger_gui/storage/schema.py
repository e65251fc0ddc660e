"""The history database: its schema and migrations, opening it, and the base every part of
:class:`~messenger_gui.storage.ClientStore` builds on (one connection, short transactions).

Durability: every write is committed before the method returns, in WAL mode with
``synchronous=FULL``. With ``NORMAL`` a power cut could undo the last commits, which here
would be a message already acknowledged to the server (lost for good: the server deletes it
after the ack) or a message the user saw enter the outbox.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from messenger_gui.storage.identity import _make_private_dir
from messenger_gui.storage.records import OutgoingMessage, StoredMessage
from messenger_server import protocol

log = logging.getLogger(__name__)

DATABASE_FILE: Final = "history.sqlite3"

_QUEUED_LAST: Final = 9223372036854775807
"""Sort key of a message without ``seq`` (still in the outbox): after every sent one."""
_ORDER_KEY: Final = f"COALESCE(seq, {_QUEUED_LAST})"
"""The display order is (_ORDER_KEY, local_id); the same text is used by the index."""
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
)
"""Schema migrations: ``MIGRATIONS[n]`` takes ``PRAGMA user_version`` from n to n + 1.
Append only; never edit a released step. The search index is not a migration: it is
derived data, created (and filled) by :meth:`ClientStore._ensure_search_index`."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

_SEARCH_INDEX: Final = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5"
    "(body, content='', columnsize=0, tokenize='trigram')",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, body)
        VALUES (new.local_id, COALESCE(new.search_text, new.text));
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
        VALUES ('delete', old.local_id, COALESCE(old.search_text, old.text));
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, search_text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body)
        VALUES ('delete', old.local_id, COALESCE(old.search_text, old.text));
        INSERT INTO messages_fts (rowid, body)
        VALUES (new.local_id, COALESCE(new.search_text, new.text));
    END""",
    "INSERT INTO messages_fts (rowid, body) "
    "SELECT local_id, COALESCE(search_text, text) FROM messages",
)


class SchemaTooNewError(RuntimeError):
    """The history was written by a newer version of the app; refusing to touch it."""


_PLAIN_COLUMNS: Final = (
    "local_id, conversation, is_group, direction, sender, sender_name, text, ts, seq, "
    "message_id, key, status"
)
_FAILURE_COLUMN: Final = "(SELECT f.code FROM send_failures f WHERE f.local_id = {t}.local_id)"

_MESSAGE_COLUMNS: Final = f"{_PLAIN_COLUMNS}, {_FAILURE_COLUMN.format(t='messages')}"
"""The columns :func:`_message` reads, selecting from ``messages`` without an alias."""

_M_MESSAGE_COLUMNS: Final = (
    ", ".join(f"m.{c.strip()}" for c in _PLAIN_COLUMNS.split(","))
    + f", {_FAILURE_COLUMN.format(t='m')}"
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
    )


def _conversation_of(message: protocol.Message) -> tuple[str, bool]:
    if message.group is not None:
        return message.group, True
    return message.sender, False


class StoreBase:
    """One SQLite connection to a profile's history, migrated and with its search index."""

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
        self._conn = sqlite3.connect(target, isolation_level=None, timeout=5.0)
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._conn.execute(
                "CREATE TEMP TABLE incoming_batch (conversation, is_group, sender, "
                "sender_name, text, search_text, ts, seq, message_id)"
            )
            self._fts = self._ensure_search_index()
        except BaseException:
            self._conn.close()
            raise
        self._restrict_sidecar_files()

    # --- lifecycle ---

    def close(self) -> None:
        """Close the database. The store cannot be used afterwards."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA optimize")
        self._conn.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def has_full_text_index(self) -> bool:
        """False when this SQLite lacks FTS5 trigram: search then scans with LIKE."""
        return self._fts

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (durably) on exit, rolled back on error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

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
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'"
        ).fetchone()
        if exists:
            return True
        try:
            self._conn.execute(
                "CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')"
            )
            self._conn.execute("DROP TABLE temp.trigram_probe")
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

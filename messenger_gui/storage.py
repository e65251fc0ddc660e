"""The desktop client's local storage: identity file and message history, no Qt.

A profile directory (:func:`profile_dir`) holds two files, both readable by the user only:

* ``identity.json``: the server address, this client's ID and credential (:class:`ClientData`),
  read with :func:`load_client_data` and replaced atomically by :func:`save_client_data`;
* ``history.sqlite3``: contacts, groups, the message history, the outbox (with the messages
  the server refused for good), our read markers and the other participants' delivery and
  read markers (with the ``version`` of the last ``receipts`` applied), behind
  :class:`ClientStore`.

Durability: :class:`ClientStore` commits every write before it returns, in WAL mode with
``synchronous=FULL``. With ``NORMAL`` a power cut could undo the last commits, which here
would be a message already acknowledged to the server (lost for good: the server deletes it
after the ack) or a message the user saw enter the outbox. One fsync per write is cheap at
the rate a person types; the backlog is stored in one transaction per page
(:meth:`ClientStore.save_messages_to_history`), and so is each chunk of receipts
(:meth:`ClientStore.apply_receipts`).

Search uses an FTS5 table with the ``trigram`` tokenizer, fed the message text with its
diacritics removed in Python (:func:`fold_accents`), so ``acao`` finds ``ação`` and the other
way round. SQLite's own ``remove_diacritics`` option for ``trigram`` (3.45+) is deliberately
not used: a profile whose index named it could not even be written by an older SQLite (the
triggers would fail), and the same profile is opened by builds bundling different SQLite
versions. Folding in Python gives the same results on every version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import json
import logging
import os
import re
import sqlite3
import tempfile
import time
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import platformdirs

from messenger_server import protocol

log = logging.getLogger(__name__)

APP_NAME: Final = "messenger"
IDENTITY_FILE: Final = "identity.json"
DATABASE_FILE: Final = "history.sqlite3"
PROFILE_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

Direction = Literal["in", "out"]
MessageStatus = Literal["queued", "sent", "delivered", "read", "received"]
ExportFormat = Literal["json", "html"]

_QUEUED_LAST: Final = 9223372036854775807
"""Sort key of a message without ``seq`` (still in the outbox): after every sent one."""
_ORDER_KEY: Final = f"COALESCE(seq, {_QUEUED_LAST})"
"""The display order is (_ORDER_KEY, local_id); the same text is used by the index."""
RECEIPTS_VERSION: Final = "receipts_version"
"""The ``meta`` entry holding the ``version`` of the last ``receipts`` event applied."""
_PREVIEW_CHARS: Final = 200
"""Longest ``last_text`` in :meth:`ClientStore.conversations_summary`."""


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


# --- profile directory and identity -------------------------------------------------------


def profile_dir(profile: str | None) -> Path:
    """The data directory of ``profile`` (``"default"`` when ``None``); not created here.

    Raises:
        ValueError: the name is not 1 to 64 letters, digits, ``-`` or ``_``.
    """
    name = "default" if profile is None else profile
    if not PROFILE_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid profile name {name!r}: use 1 to 64 letters, digits, '-' or '_'")
    return Path(platformdirs.user_data_dir(APP_NAME)) / "profiles" / name


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600, durably on disk."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            os.chmod(tmp_name, 0o600)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class ClientData:
    """Who this client is and which server it talks to (``identity.json``)."""

    server_host: str
    server_port: int
    use_tls: bool
    client_id: str
    credential: str = dataclasses.field(repr=False)
    display_name: str
    tls_fingerprint: str | None = None
    """The pinned SHA-256 fingerprint of a self-signed server certificate, if any."""


_IDENTITY_FIELDS: Final[dict[str, tuple[type, ...]]] = {
    "server_host": (str,),
    "server_port": (int,),
    "use_tls": (bool,),
    "client_id": (str,),
    "credential": (str,),
    "display_name": (str,),
}


def load_client_data(directory: Path) -> ClientData | None:
    """The identity stored in ``directory``, or ``None`` when there is none yet.

    Raises:
        ValueError: the file exists but is damaged. Do not register anew silently: that
            would lose the identity (the credential is never shown again).
        OSError: the file could not be read.
    """
    path = directory / IDENTITY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    values: dict[str, Any] = {}
    for name, types in _IDENTITY_FIELDS.items():
        value = obj.get(name)
        if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
            raise ValueError(f"{path}: field {name!r} is missing or invalid")
        values[name] = value
    fingerprint = obj.get("tls_fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise ValueError(f"{path}: field 'tls_fingerprint' is invalid")
    return ClientData(**values, tls_fingerprint=fingerprint)


def save_client_data(directory: Path, data: ClientData) -> None:
    """Store ``data`` as ``directory/identity.json`` (created 0700/0600 if needed).

    The file is replaced atomically and fsynced: after a crash it holds either the old or
    the new identity, never a mix.
    """
    _make_private_dir(directory)
    payload = json.dumps(dataclasses.asdict(data), indent=2, ensure_ascii=False) + "\n"
    _write_private_file(directory / IDENTITY_FILE, payload.encode("utf-8"))


def save_client_id(
    directory: Path, client_id: str, credential: str, display_name: str | None = None
) -> ClientData:
    """Record a newly registered identity in the existing ``identity.json``.

    Save the server settings with :func:`save_client_data` first; this only replaces the
    ID, the credential and (when given) the display name, and returns the result.

    Raises:
        FileNotFoundError: there is no identity file to update.
    """
    current = load_client_data(directory)
    if current is None:
        raise FileNotFoundError(directory / IDENTITY_FILE)
    updated = dataclasses.replace(
        current,
        client_id=client_id,
        credential=credential,
        display_name=current.display_name if display_name is None else display_name,
    )
    save_client_data(directory, updated)
    return updated


# --- accent folding for search --------------------------------------------------------------


def fold_accents(text: str) -> str:
    """``text`` without diacritics and with compatibility forms unified (``ação`` → ``acao``,
    ``ﬁ`` → ``fi``). Case is left alone: the trigram index ignores it."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return fold_accents(ch).lower()


def _search_text(text: str) -> str | None:
    """What the index gets instead of ``text``, or ``None`` when it is ``text`` itself."""
    folded = fold_accents(text)
    return None if folded == text else folded


def _match_span(text: str, needle: str) -> tuple[int, int] | None:
    """Where ``needle`` (already folded) occurs in ``text``, ignoring accents and case."""
    starts: list[int] = []
    pieces: list[str] = []
    position = 0
    for ch in text:
        piece = _fold_char(ch)
        starts.append(position)
        pieces.append(piece)
        position += len(piece)
    index = "".join(pieces).find(needle.lower())
    if index < 0 or not needle:
        return None
    first = bisect_right(starts, index) - 1
    last = bisect_right(starts, index + len(needle) - 1) - 1
    return first, last + 1


def _like_pattern(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(fragment: str) -> str:
    """``fragment`` as one FTS5 string: every character literal, operators included."""
    return '"' + fragment.replace('"', '""') + '"'


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contact:
    client_id: str
    display_name: str
    alias: str | None = None
    """A name the user chose; shown instead of ``display_name`` when set."""
    added_at: int = 0

    @property
    def name(self) -> str:
        return self.alias or self.display_name


@dataclass(frozen=True, slots=True)
class GroupMember:
    client_id: str
    display_name: str
    admin: bool


@dataclass(frozen=True, slots=True)
class StoredGroup:
    group_id: str
    name: str
    created_by: str
    created_at: int
    left: bool
    """True once this client left or was removed: history stays, sending does not."""
    members: tuple[GroupMember, ...]


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of the history, either direction.

    ``sender`` is ``None`` for outgoing messages (this client). ``seq``, ``message_id``
    are ``None`` while an outgoing message is queued; ``key`` is ``None`` for incoming ones.
    """

    local_id: int
    conversation: str
    is_group: bool
    direction: Direction
    sender: str | None
    sender_name: str | None
    text: str
    ts: int
    seq: int | None
    message_id: int | None
    key: str | None
    status: MessageStatus
    failure: str | None = None
    """The error code (``protocol.ErrorCode`` value, e.g. ``not_a_member``) with which the
    server refused this queued message for good, or ``None``. A failed message stays
    ``queued`` but is left out of :meth:`ClientStore.outbox` until
    :meth:`ClientStore.retry_failed`; show it as "not sent"."""


@dataclass(frozen=True, slots=True)
class SendFailure:
    """Why the server refused an outgoing message for good (:meth:`ClientStore.mark_failed`)."""

    local_id: int
    code: str
    message: str
    failed_at: int


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """An outgoing message as the client core needs it to (re)send it: same ``key`` on
    every attempt, ``to=conversation`` or ``group=conversation`` by ``is_group``."""

    local_id: int
    conversation: str
    is_group: bool
    text: str
    key: str
    ts: int
    status: MessageStatus


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A row of the conversation list. ``last_*`` are ``None`` when nothing was said yet;
    ``last_text`` is cut to a preview of 200 characters."""

    conversation: str
    is_group: bool
    title: str
    last_text: str | None
    last_ts: int | None
    last_direction: Direction | None
    last_status: MessageStatus | None
    unread: int
    activity_ts: int
    """Sort key of the list: last message time, else when the contact or group appeared."""
    last_failure: str | None = None
    """The error code when the last message is ours and the server refused it for good
    (show "not sent" rather than the clock)."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message matching a search; ``match_start``/``match_end`` index ``text`` (for
    highlighting) and are ``None`` when the match could not be located exactly."""

    local_id: int
    conversation: str
    is_group: bool
    direction: Direction
    sender: str | None
    sender_name: str | None
    text: str
    ts: int
    seq: int | None
    match_start: int | None
    match_end: int | None


@dataclass(frozen=True, slots=True)
class PeerMarker:
    """Where another participant (``member``) stands in a conversation, as the server last
    said (a ``receipts`` event): it has stored every message up to seq ``delivered`` and
    read every one up to seq ``read``. Positions only grow."""

    member: str
    delivered: int
    read: int


@dataclass(frozen=True, slots=True)
class GroupReceipts:
    """How far one of our group messages got, among the group's current members other
    than us (``members`` of them): ``delivered`` have it (read ones included), ``read``
    have read it. What "Delivered to 2 of 3" and "Read by 1 of 3" say."""

    delivered: int
    read: int
    members: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Our messages of ``conversation`` (``local_ids``, in display order) that now have
    ``status``; returned by the methods that apply markers, for
    :class:`~messenger_gui.events.MessageStatusChanged`."""

    conversation: str
    status: MessageStatus
    local_ids: tuple[int, ...]


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


class ClientStore:
    """The local history of one profile: one SQLite connection, synchronous, short calls.

    Use from one thread (the GUI thread is fine: every call is one short statement or
    transaction). Every write is committed durably before the method returns, so a
    caller may acknowledge to the server, or show "queued", right after it.

    Args:
        directory: the profile directory (created 0700 if needed), or ``None`` for a
            throw-away in-memory store (tests).

    Raises:
        SchemaTooNewError: the database was written by a newer app version.
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

    def __enter__(self) -> ClientStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    # --- contacts ---

    def add_contact(
        self, client_id: str, display_name: str, *, alias: str | None = None
    ) -> Contact:
        """Add a contact, or refresh the display name of a known one (its alias and
        ``added_at`` are kept unless ``alias`` is given)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO contacts (client_id, display_name, alias, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                "display_name = excluded.display_name, alias = COALESCE(excluded.alias, alias)",
                (client_id, display_name, alias, now_ms()),
            )
        contact = self.contact(client_id)
        assert contact is not None
        return contact

    def save_client_contacts(self, contacts: Iterable[Contact]) -> None:
        """Insert or update every contact in one transaction (others are left alone).
        An ``added_at`` of 0 means now."""
        now = now_ms()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO contacts (client_id, display_name, alias, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                "display_name = excluded.display_name, alias = excluded.alias",
                [(c.client_id, c.display_name, c.alias, c.added_at or now) for c in contacts],
            )

    def set_contact_alias(self, client_id: str, alias: str | None) -> bool:
        """Returns False when ``client_id`` is not a contact."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE contacts SET alias = ? WHERE client_id = ?", (alias or None, client_id)
            )
        return cursor.rowcount > 0

    def remove_contact(self, client_id: str) -> bool:
        """Forget a contact; the conversation history stays. False when unknown."""
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM contacts WHERE client_id = ?", (client_id,))
        return cursor.rowcount > 0

    def contact(self, client_id: str) -> Contact | None:
        row = self._conn.execute(
            "SELECT client_id, display_name, alias, added_at FROM contacts WHERE client_id = ?",
            (client_id,),
        ).fetchone()
        return None if row is None else Contact(*row)

    def contacts(self) -> list[Contact]:
        """Every contact, by name."""
        rows = self._conn.execute(
            "SELECT client_id, display_name, alias, added_at FROM contacts "
            "ORDER BY COALESCE(alias, display_name) COLLATE NOCASE, client_id"
        ).fetchall()
        return [Contact(*row) for row in rows]

    # --- groups ---

    def save_group(self, group: protocol.GroupInfo, *, left: bool = False) -> None:
        """Store a group's current state from the server, replacing its member list.

        Pass ``left=True`` when this client is no longer among ``group.members``.
        """
        with self._write() as conn:
            self._save_group(conn, group, left)

    @staticmethod
    def _save_group(conn: sqlite3.Connection, group: protocol.GroupInfo, left: bool) -> None:
        conn.execute(
            "INSERT INTO groups (group_id, name, created_by, created_at, left) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET "
            "name = excluded.name, created_by = excluded.created_by, "
            "created_at = excluded.created_at, left = excluded.left",
            (group.group_id, group.name, group.created_by, group.created_at, int(left)),
        )
        conn.execute("DELETE FROM group_members WHERE group_id = ?", (group.group_id,))
        conn.executemany(
            "INSERT OR REPLACE INTO group_members (group_id, client_id, display_name, admin) "
            "VALUES (?, ?, ?, ?)",
            [(group.group_id, m.client_id, m.display_name, int(m.admin)) for m in group.members],
        )

    def save_client_groups(
        self, groups: Iterable[protocol.GroupInfo], *, complete: bool = False
    ) -> None:
        """Store several groups in one transaction.

        With ``complete=True`` (the answer to ``list_groups``), stored groups missing from
        ``groups`` are marked left.
        """
        groups = list(groups)
        with self._write() as conn:
            for group in groups:
                self._save_group(conn, group, False)
            if complete:
                keep = [g.group_id for g in groups]
                conn.execute(
                    "UPDATE groups SET left = 1 WHERE left = 0 AND group_id NOT IN "
                    "(SELECT value FROM json_each(?))",
                    (json.dumps(keep),),
                )

    def mark_group_left(self, group_id: str) -> bool:
        """This client left or was removed; the history stays. False when unknown."""
        with self._write() as conn:
            cursor = conn.execute("UPDATE groups SET left = 1 WHERE group_id = ?", (group_id,))
        return cursor.rowcount > 0

    def group_members(self, group_id: str) -> list[GroupMember]:
        rows = self._conn.execute(
            "SELECT client_id, display_name, admin FROM group_members WHERE group_id = ? "
            "ORDER BY admin DESC, display_name COLLATE NOCASE, client_id",
            (group_id,),
        ).fetchall()
        return [GroupMember(row[0], row[1], bool(row[2])) for row in rows]

    def group(self, group_id: str) -> StoredGroup | None:
        groups = self._groups("WHERE group_id = ?", (group_id,))
        return groups[0] if groups else None

    def groups(self, *, include_left: bool = True) -> list[StoredGroup]:
        """Every stored group with its members, by name."""
        return self._groups("" if include_left else "WHERE left = 0", ())

    def _groups(self, where: str, params: tuple[object, ...]) -> list[StoredGroup]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT group_id, name, created_by, created_at, left FROM groups {where} "
                "ORDER BY name COLLATE NOCASE, group_id",
                params,
            ).fetchall()
            members: dict[str, list[GroupMember]] = {row[0]: [] for row in rows}
            for group_id, client_id, display_name, admin in conn.execute(
                "SELECT group_id, client_id, display_name, admin FROM group_members "
                f"WHERE group_id IN (SELECT group_id FROM groups {where}) "
                "ORDER BY admin DESC, display_name COLLATE NOCASE, client_id",
                params,
            ):
                if group_id in members:
                    members[group_id].append(GroupMember(client_id, display_name, bool(admin)))
        return [
            StoredGroup(row[0], row[1], row[2], row[3], bool(row[4]), tuple(members[row[0]]))
            for row in rows
        ]

    # --- incoming messages ---

    def save_message_to_history(self, message: protocol.Message) -> bool:
        """Store an incoming message; returns False when its ``message_id`` was already
        stored (a redelivery: do not show it again, but acknowledge it again)."""
        return bool(self.save_messages_to_history([message]))

    def save_messages_to_history(
        self, messages: Iterable[protocol.Message]
    ) -> list[protocol.Message]:
        """Store a batch of incoming messages (a backlog page) in one transaction.

        Returns the messages that were new, in the given order; acknowledge all of them
        (new or not) once this returns.
        """
        batch = list(messages)
        if not batch:
            return []
        ids = [m.message_id for m in batch]
        with self._write() as conn:
            known = {
                row[0]
                for row in conn.execute(
                    "SELECT message_id FROM messages WHERE message_id IN "
                    "(SELECT value FROM json_each(?))",
                    (json.dumps(ids),),
                )
            }
            fresh: list[protocol.Message] = []
            for message in batch:
                if message.message_id not in known:
                    known.add(message.message_id)
                    fresh.append(message)
            rows = []
            for m in fresh:
                conversation, is_group = _conversation_of(m)
                rows.append(
                    (
                        conversation,
                        int(is_group),
                        m.sender,
                        m.sender_name,
                        m.text,
                        _search_text(m.text),
                        m.ts,
                        m.seq,
                        m.message_id,
                    )
                )
            # Staged in a temporary table, then one INSERT for the whole batch: FTS5 flushes
            # its pending index at every statement boundary, so executemany straight into
            # ``messages`` would cost ~15 µs per row.
            conn.executemany(
                "INSERT INTO temp.incoming_batch VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            conn.execute(
                "INSERT INTO messages (conversation, is_group, direction, sender, "
                "sender_name, text, search_text, ts, seq, message_id, status) "
                "SELECT conversation, is_group, 'in', sender, sender_name, text, search_text, "
                "ts, seq, message_id, 'received' FROM temp.incoming_batch ORDER BY rowid"
            )
            conn.execute("DELETE FROM temp.incoming_batch")
        return fresh

    # --- outbox and outgoing status ---

    def queue_outgoing(self, conversation: str, is_group: bool, text: str) -> OutgoingMessage:
        """Put a new message in the outbox with a fresh idempotency key.

        It is on disk when this returns: show it as queued, then send it (now or after the
        next login) with :attr:`OutgoingMessage.key`, and call :meth:`mark_sent` on ``sent``.

        Raises:
            ValueError: empty or oversize text, or a conversation ID of the wrong kind.
        """
        pattern = protocol.GROUP_ID_PATTERN if is_group else protocol.CLIENT_ID_PATTERN
        if not re.fullmatch(pattern, conversation):
            kind = "group" if is_group else "client"
            raise ValueError(f"{conversation!r} is not a {kind} ID")
        if not text.strip():
            raise ValueError("message text must not be blank")
        if len(text.encode("utf-8")) > protocol.MAX_TEXT_BYTES:
            raise ValueError(f"message text is longer than {protocol.MAX_TEXT_BYTES} bytes")
        key = uuid.uuid4().hex
        ts = now_ms()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (conversation, is_group, direction, text, search_text, "
                "ts, key, status) VALUES (?, ?, 'out', ?, ?, ?, ?, 'queued')",
                (conversation, int(is_group), text, _search_text(text), ts, key),
            )
        assert cursor.lastrowid is not None
        return OutgoingMessage(cursor.lastrowid, conversation, is_group, text, key, ts, "queued")

    def outbox(self) -> list[OutgoingMessage]:
        """Queued messages still to send, oldest first: send them in this order. Messages
        the server refused for good (:meth:`mark_failed`) are left out until retried."""
        rows = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE status = 'queued' "
            "AND local_id NOT IN (SELECT local_id FROM send_failures) ORDER BY local_id"
        ).fetchall()
        return [_outgoing(row) for row in rows]

    def mark_failed(self, local_id: int, code: str, message: str) -> bool:
        """The server refused the queued message ``local_id`` for good (``code`` such as
        ``not_a_member``, ``unknown_client``, ``text_too_large``; ``message`` its English
        explanation).

        The message stays in the history, shown as not sent (:attr:`StoredMessage.failure`),
        and is no longer in :meth:`outbox`, also after a restart, until the user retries
        (:meth:`retry_failed`) or deletes it (:meth:`delete_outgoing`). Returns False when
        it is not a queued outgoing message (unknown, or already sent).
        """
        with self._write() as conn:
            if not conn.execute(
                "SELECT 1 FROM messages WHERE local_id = ? AND direction = 'out' "
                "AND status = 'queued'",
                (local_id,),
            ).fetchone():
                return False
            conn.execute(
                "INSERT INTO send_failures (local_id, code, message, failed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (local_id) DO UPDATE SET "
                "code = excluded.code, message = excluded.message, failed_at = excluded.failed_at",
                (local_id, code, message, now_ms()),
            )
        return True

    def send_failure(self, local_id: int) -> SendFailure | None:
        """Why ``local_id`` was refused, or ``None`` when it is not marked failed."""
        row = self._conn.execute(
            "SELECT local_id, code, message, failed_at FROM send_failures WHERE local_id = ?",
            (local_id,),
        ).fetchone()
        return None if row is None else SendFailure(*row)

    def failed_outgoing(self) -> list[SendFailure]:
        """Every message marked failed, oldest first."""
        rows = self._conn.execute(
            "SELECT local_id, code, message, failed_at FROM send_failures ORDER BY local_id"
        ).fetchall()
        return [SendFailure(*row) for row in rows]

    def retry_failed(self, local_id: int) -> bool:
        """Forget the failure of ``local_id``: it is back in :meth:`outbox` and will be sent
        again with the same key (so the server stores it at most once). Returns False when
        it was not marked failed."""
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM send_failures WHERE local_id = ?", (local_id,))
        return cursor.rowcount > 0

    def delete_outgoing(self, local_id: int) -> bool:
        """Remove an outgoing message that was never sent (queued or failed) from the
        history, the outbox and the search index. Returns False when there is no such
        message: unknown, incoming, or already stored by the server (those stay)."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM messages WHERE local_id = ? AND direction = 'out' "
                "AND status = 'queued'",
                (local_id,),
            )
        return cursor.rowcount > 0

    def mark_sent(self, key: str, message_id: int, seq: int, ts: int, *, me: str) -> bool:
        """The server stored the message sent with ``key`` (its ``sent`` reply).

        Takes the server's ``message_id``, ``seq`` and ``ts``, so the message moves to its
        place in the conversation, and the markers already stored (receipts can come before
        this reply, as after a reconnect) give its status: ``sent``, ``delivered`` or
        ``read``. ``me`` is this client's ID (our own group membership is not a recipient).
        Returns False for an unknown key or one already marked (a duplicate ``sent``).
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT local_id, conversation, message_id FROM messages "
                "WHERE key = ? AND direction = 'out'",
                (key,),
            ).fetchone()
            if row is None or row[2] is not None:
                return False
            local_id, conversation, _ = row
            # Our own message pushed back to us (another session) before this reply.
            conn.execute(
                "DELETE FROM messages WHERE message_id = ? AND direction = 'in'", (message_id,)
            )
            conn.execute(
                "UPDATE messages SET message_id = ?, seq = ?, ts = ?, status = 'sent' "
                "WHERE local_id = ?",
                (message_id, seq, ts, local_id),
            )
            # Stored after all (a retry with the same key raced a refusal): not failed.
            conn.execute("DELETE FROM send_failures WHERE local_id = ?", (local_id,))
            self._update_statuses(conn, conversation, me)
        return True

    # --- the others' markers (receipts) ---

    def apply_receipts(self, events: Iterable[protocol.Receipts], *, me: str) -> list[StatusChange]:
        """Store the markers of ``receipts`` events (one chunk's) and the highest
        ``version``, and move the ticks of our messages they reach, in one transaction.

        Each receipt is a participant's absolute position, so applying one again, or an
        older one, changes nothing (markers only grow). In a direct conversation our
        message is ``delivered`` once its seq is at most the peer's delivered marker,
        ``read`` once at most its read marker; in a group once every current member other
        than ``me`` is that far. Ticks never go back. Send :meth:`receipts_version` as
        ``receipts_since`` at the next login.

        Returns the messages that changed status.
        """
        batch = list(events)
        if not batch:
            return []
        rows = [(r.group or r.by, r.by, r.delivered, r.read) for e in batch for r in e.receipts]
        touched = list(dict.fromkeys(row[0] for row in rows))
        version = max(e.version for e in batch)
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO peer_markers (conversation, member, delivered, read) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (conversation, member) DO UPDATE SET "
                "delivered = max(delivered, excluded.delivered), read = max(read, excluded.read)",
                rows,
            )
            changes = [c for conv in touched for c in self._update_statuses(conn, conv, me)]
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                "SET value = max(value, excluded.value)",
                (RECEIPTS_VERSION, version),
            )
        return changes

    def update_group_statuses(self, group_ids: Iterable[str], *, me: str) -> list[StatusChange]:
        """Move the ticks of our messages in these groups after their member lists changed
        (a member who had not received a message left: everyone else has it). Returns
        the messages that changed status; ticks never go back."""
        with self._write() as conn:
            return [
                change
                for group_id in dict.fromkeys(group_ids)
                for change in self._update_statuses(conn, group_id, me)
            ]

    def receipts_version(self) -> int:
        """The ``version`` of the last ``receipts`` event applied (0 when none): the
        ``receipts_since`` of the next ``login``."""
        row = self._conn.execute(
            "SELECT value FROM meta WHERE name = ?", (RECEIPTS_VERSION,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def markers(self, conversation: str) -> list[PeerMarker]:
        """The stored markers of the other participants of ``conversation`` (a group, or a
        direct conversation, whose one marker is the peer's), by member."""
        rows = self._conn.execute(
            "SELECT member, delivered, read FROM peer_markers WHERE conversation = ? "
            "ORDER BY member",
            (conversation,),
        ).fetchall()
        return [PeerMarker(*row) for row in rows]

    def group_receipts(self, group_id: str, seq: int, *, me: str) -> GroupReceipts:
        """How many of the group's current members other than ``me`` have the message at
        ``seq``, and have read it (a member without a known marker has neither)."""
        row = self._conn.execute(
            "SELECT COUNT(*), "
            "TOTAL(max(COALESCE(p.delivered, 0), COALESCE(p.read, 0)) >= ?1), "
            "TOTAL(COALESCE(p.read, 0) >= ?1) "
            "FROM group_members g LEFT JOIN peer_markers p "
            "ON p.conversation = g.group_id AND p.member = g.client_id "
            "WHERE g.group_id = ?2 AND g.client_id != ?3",
            (seq, group_id, me),
        ).fetchone()
        return GroupReceipts(delivered=int(row[1]), read=int(row[2]), members=int(row[0]))

    @staticmethod
    def _reached(conn: sqlite3.Connection, conversation: str, me: str) -> tuple[int, int] | None:
        """``(delivered, read)``: the seqs up to which every other participant of
        ``conversation`` has stored (read counts as stored) and read our messages; ``None``
        when nobody else is known (a group not stored, or with us alone)."""
        if conversation.startswith("G-"):
            count, delivered, read = conn.execute(
                "SELECT COUNT(*), "
                "MIN(max(COALESCE(p.delivered, 0), COALESCE(p.read, 0))), "
                "MIN(COALESCE(p.read, 0)) "
                "FROM group_members g LEFT JOIN peer_markers p "
                "ON p.conversation = g.group_id AND p.member = g.client_id "
                "WHERE g.group_id = ? AND g.client_id != ?",
                (conversation, me),
            ).fetchone()
            return None if not count else (int(delivered), int(read))
        row = conn.execute(
            "SELECT max(delivered, read), read FROM peer_markers "
            "WHERE conversation = ?1 AND member = ?1",
            (conversation,),
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def _update_statuses(
        self, conn: sqlite3.Connection, conversation: str, me: str
    ) -> list[StatusChange]:
        """Set-based: our messages of ``conversation`` up to the reached positions become
        ``delivered`` or ``read`` (only those whose ticks can still change are looked at:
        the ``messages_unconfirmed`` index)."""
        reached = self._reached(conn, conversation, me)
        if reached is None:
            return []
        delivered, read = reached
        params = {"conversation": conversation, "delivered": delivered, "read": read}
        # Read, then written with the same condition, in the caller's transaction (not
        # UPDATE ... RETURNING, which needs SQLite 3.35: bundles may carry an older one).
        where = (
            "WHERE conversation = :conversation AND seq <= :delivered "
            "AND direction = 'out' AND status IN ('sent', 'delivered') "
            "AND (seq <= :read OR status = 'sent')"
        )
        new_status = "CASE WHEN seq <= :read THEN 'read' ELSE 'delivered' END"
        rows = conn.execute(
            f"SELECT local_id, seq, {new_status} FROM messages {where}", params
        ).fetchall()
        if rows:
            conn.execute(f"UPDATE messages SET status = {new_status} {where}", params)
        changes = []
        for status in ("delivered", "read"):
            ids = tuple(row[0] for row in sorted(rows, key=lambda r: r[1]) if row[2] == status)
            if ids:
                changes.append(StatusChange(conversation, status, ids))
        return changes

    # --- read markers and unread counts ---

    def set_read_marker(self, conversation: str, up_to_seq: int) -> bool:
        """The user has seen ``conversation`` up to ``up_to_seq``. The marker only moves
        forward; returns True when it did (then send ``read`` and, on ``ok``, call
        :meth:`confirm_read_marker`)."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO read_markers (conversation, read_up_to_seq) VALUES (?, ?) "
                "ON CONFLICT (conversation) DO UPDATE SET "
                "read_up_to_seq = excluded.read_up_to_seq "
                "WHERE read_up_to_seq IS NULL OR read_up_to_seq < excluded.read_up_to_seq",
                (conversation, up_to_seq),
            )
        return cursor.rowcount > 0

    def confirm_read_marker(self, conversation: str, seq: int) -> None:
        """The server accepted our ``read`` up to ``seq``."""
        with self._write() as conn:
            conn.execute(
                "UPDATE read_markers SET confirmed_seq = ? WHERE conversation = ? "
                "AND (confirmed_seq IS NULL OR confirmed_seq < ?)",
                (seq, conversation, seq),
            )

    def unconfirmed_read_markers(self) -> list[tuple[str, int]]:
        """``(conversation, up_to_seq)`` whose ``read`` the server has not accepted yet:
        send them again after login."""
        rows = self._conn.execute(
            "SELECT conversation, read_up_to_seq FROM read_markers "
            "WHERE read_up_to_seq > COALESCE(confirmed_seq, -1) ORDER BY conversation"
        ).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def read_marker(self, conversation: str) -> int | None:
        row = self._conn.execute(
            "SELECT read_up_to_seq FROM read_markers WHERE conversation = ?", (conversation,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def latest_seq(self, conversation: str) -> int | None:
        """The highest ``seq`` stored in ``conversation`` (either direction): the
        ``up_to`` to confirm once the user has seen the whole chat."""
        row = self._conn.execute(
            f"SELECT seq FROM messages WHERE conversation = ? AND {_ORDER_KEY} < ? "
            f"ORDER BY {_ORDER_KEY} DESC LIMIT 1",
            (conversation, _QUEUED_LAST),
        ).fetchone()
        return None if row is None else int(row[0])

    def unread_count(self, conversation: str) -> int:
        """Incoming messages after the read marker."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation = ? AND direction = 'in' "
            "AND seq > COALESCE((SELECT read_up_to_seq FROM read_markers "
            "WHERE conversation = ?), -1)",
            (conversation, conversation),
        ).fetchone()
        return int(row[0])

    def total_unread(self) -> int:
        """Unread messages over every conversation (for the tray badge)."""
        row = self._conn.execute(
            f"""
            WITH RECURSIVE {_CONVERSATIONS_WITH_MESSAGES}
            SELECT COUNT(*) FROM with_messages c JOIN messages m
            ON m.conversation = c.conversation AND m.direction = 'in'
            AND m.seq > COALESCE((SELECT r.read_up_to_seq FROM read_markers r
                                  WHERE r.conversation = c.conversation), -1)
            """
        ).fetchone()
        return int(row[0])

    def conversations_summary(self) -> list[ConversationSummary]:
        """Every conversation (with messages, or a contact or group without any yet),
        most recent activity first, with its last message and unread count."""
        rows = self._conn.execute(
            f"""
            WITH RECURSIVE {_CONVERSATIONS_WITH_MESSAGES},
            convs(conversation) AS (
                SELECT conversation FROM with_messages
                UNION SELECT client_id FROM contacts
                UNION SELECT group_id FROM groups
            ),
            lasts AS (
                SELECT c.conversation,
                    (SELECT m.local_id FROM messages m WHERE m.conversation = c.conversation
                     ORDER BY {_ORDER_KEY} DESC, m.local_id DESC LIMIT 1) AS last_id,
                    (SELECT COUNT(*) FROM messages u
                     WHERE u.conversation = c.conversation AND u.direction = 'in'
                     AND u.seq > COALESCE((SELECT r.read_up_to_seq FROM read_markers r
                                           WHERE r.conversation = c.conversation), -1)
                    ) AS unread,
                    (SELECT s.sender_name FROM messages s
                     WHERE s.conversation = c.conversation AND s.direction = 'in'
                     ORDER BY s.seq DESC LIMIT 1) AS peer_name
                FROM convs c
            )
            SELECT l.conversation,
                g.group_id IS NOT NULL OR COALESCE(m.is_group, 0),
                COALESCE(g.name, ct.alias, ct.display_name, l.peer_name, l.conversation),
                substr(m.text, 1, {_PREVIEW_CHARS}), m.ts, m.direction, m.status, l.unread,
                COALESCE(m.ts, g.created_at, ct.added_at, 0) AS activity,
                (SELECT f.code FROM send_failures f WHERE f.local_id = l.last_id)
            FROM lasts l
            LEFT JOIN messages m ON m.local_id = l.last_id
            LEFT JOIN groups g ON g.group_id = l.conversation
            LEFT JOIN contacts ct ON ct.client_id = l.conversation
            ORDER BY activity DESC, l.conversation
            """
        ).fetchall()
        return [
            ConversationSummary(
                conversation=row[0],
                is_group=bool(row[1]),
                title=row[2],
                last_text=row[3],
                last_ts=row[4],
                last_direction=row[5],
                last_status=row[6],
                unread=row[7],
                activity_ts=row[8],
                last_failure=row[9],
            )
            for row in rows
        ]

    # --- reading the history ---

    def message(self, local_id: int) -> StoredMessage | None:
        row = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE local_id = ?", (local_id,)
        ).fetchone()
        return None if row is None else _message(row)

    def message_count(self, conversation: str) -> int:
        row = self._conn.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation = ?", (conversation,)
        ).fetchone()
        return int(row[0])

    def _anchor(self, local_id: int, conversation: str | None = None) -> tuple[str, int]:
        """``(conversation, order key)`` of a message; KeyError when it is not there.

        Queries paging from an anchor state its order key twice: as a plain range
        (``key <= ?``), which SQLite uses to seek the index, and in the row-value
        comparison, which breaks ties by ``local_id`` but alone would scan.
        """
        row = self._conn.execute(
            f"SELECT conversation, {_ORDER_KEY} FROM messages WHERE local_id = ?", (local_id,)
        ).fetchone()
        if row is None or (conversation is not None and row[0] != conversation):
            raise KeyError(local_id)
        return row[0], row[1]

    def messages_page(
        self, conversation: str, before_local_id: int | None, limit: int
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages just before ``before_local_id`` in display order (the
        newest ones when it is ``None``), returned oldest first.

        Page backwards by passing the first returned ``local_id``. Display order is by
        ``seq``, with queued messages last; a queued message that gets sent moves.

        Raises:
            KeyError: ``before_local_id`` is not a message of ``conversation``.
        """
        if before_local_id is None:
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
                f"ORDER BY {_ORDER_KEY} DESC, local_id DESC LIMIT ?",
                (conversation, limit),
            ).fetchall()
        else:
            _, key = self._anchor(before_local_id, conversation)
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
                f"AND {_ORDER_KEY} <= ? AND ({_ORDER_KEY}, local_id) < (?, ?) "
                f"ORDER BY {_ORDER_KEY} DESC, local_id DESC LIMIT ?",
                (conversation, key, key, before_local_id, limit),
            ).fetchall()
        return [_message(row) for row in reversed(rows)]

    def messages_after(
        self, conversation: str, after_local_id: int, limit: int
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages just after ``after_local_id``, oldest first.

        Raises:
            KeyError: ``after_local_id`` is not a message of ``conversation``.
        """
        _, key = self._anchor(after_local_id, conversation)
        rows = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
            f"AND {_ORDER_KEY} >= ? AND ({_ORDER_KEY}, local_id) > (?, ?) "
            f"ORDER BY {_ORDER_KEY}, local_id LIMIT ?",
            (conversation, key, key, after_local_id, limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def messages_slice(self, conversation: str, offset: int, limit: int) -> list[StoredMessage]:
        """Messages at display rows ``offset`` to ``offset + limit - 1`` (for a lazy model
        that addresses rows by number; see :meth:`message_position`)."""
        rows = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
            f"ORDER BY {_ORDER_KEY}, local_id LIMIT ? OFFSET ?",
            (conversation, limit, offset),
        ).fetchall()
        return [_message(row) for row in rows]

    def message_position(self, local_id: int) -> int:
        """The display row (0-based) of a message in its conversation.

        Raises:
            KeyError: there is no such message.
        """
        conversation, key = self._anchor(local_id)
        row = self._conn.execute(
            f"SELECT COUNT(*) FROM messages WHERE conversation = ? "
            f"AND {_ORDER_KEY} <= ? AND ({_ORDER_KEY}, local_id) < (?, ?)",
            (conversation, key, key, local_id),
        ).fetchone()
        return int(row[0])

    def messages_around(self, local_id: int, n: int) -> list[StoredMessage]:
        """The message ``local_id`` with up to ``n`` messages on each side, in display
        order: what to show when jumping to a search hit.

        Raises:
            KeyError: there is no such message.
        """
        conversation, _ = self._anchor(local_id)
        target = self.message(local_id)
        assert target is not None
        before = self.messages_page(conversation, local_id, n) if n > 0 else []
        after = self.messages_after(conversation, local_id, n) if n > 0 else []
        return [*before, target, *after]

    # --- search ---

    def search(
        self, query: str, limit: int = 50, *, conversation: str | None = None
    ) -> list[SearchHit]:
        """Messages containing every word of ``query``, newest first.

        Matching ignores case and accents and finds parts of words and URLs. Any user
        input is safe: quotes and FTS operators are taken literally. Words of three
        characters or more use the trigram index; shorter ones (and everything when this
        SQLite has no trigram tokenizer) are matched with ``LIKE``, by a scan.
        """
        # NUL would end the FTS5 query string early (an "unterminated string" error).
        words = fold_accents(query.replace("\x00", " ")).split()
        if not words or limit <= 0:
            return []
        indexed = [w for w in words if len(w) >= 3] if self._fts else []
        scanned = [w for w in words if w not in indexed]
        params: list[object] = []
        where: list[str] = []
        if indexed:
            source = "messages_fts f JOIN messages m ON m.local_id = f.rowid"
            where.append("messages_fts MATCH ?")
            params.append(" AND ".join(_fts_phrase(w) for w in indexed))
            order = "f.rowid DESC"
        else:
            source = "messages m"
            order = "m.local_id DESC"
        for word in scanned:
            where.append("COALESCE(m.search_text, m.text) LIKE ? ESCAPE '\\'")
            params.append(_like_pattern(word))
        if conversation is not None:
            where.append("m.conversation = ?")
            params.append(conversation)
        rows = self._conn.execute(
            f"SELECT {_M_MESSAGE_COLUMNS} FROM {source} WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT ?",
            (*params, limit),
        ).fetchall()
        needle = max(words, key=len)
        hits = []
        for row in rows:
            message = _message(row)
            span = _match_span(message.text, needle)
            hits.append(
                SearchHit(
                    local_id=message.local_id,
                    conversation=message.conversation,
                    is_group=message.is_group,
                    direction=message.direction,
                    sender=message.sender,
                    sender_name=message.sender_name,
                    text=message.text,
                    ts=message.ts,
                    seq=message.seq,
                    match_start=None if span is None else span[0],
                    match_end=None if span is None else span[1],
                )
            )
        return hits

    # --- export ---

    def conversation_title(self, conversation: str) -> str:
        """The group name, contact alias or name, the peer's last display name, or the ID."""
        row = self._conn.execute(
            "SELECT COALESCE("
            "(SELECT name FROM groups WHERE group_id = ?1), "
            "(SELECT COALESCE(alias, display_name) FROM contacts WHERE client_id = ?1), "
            "(SELECT sender_name FROM messages WHERE conversation = ?1 AND direction = 'in' "
            " ORDER BY seq DESC LIMIT 1), ?1)",
            (conversation,),
        ).fetchone()
        return str(row[0])

    def _iter_conversation(self, conversation: str) -> Iterator[StoredMessage]:
        cursor = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
            f"ORDER BY {_ORDER_KEY}, local_id",
            (conversation,),
        )
        for row in cursor:
            yield _message(row)

    def export_conversation(
        self, conversation: str, fmt: ExportFormat, *, own_name: str = "Me"
    ) -> str:
        """The whole conversation as a JSON array of objects, or as a standalone HTML page
        (every text escaped, no scripts). ``own_name`` labels this client's messages.

        Raises:
            ValueError: unknown ``fmt``.
        """
        if fmt == "json":
            return self._export_json(conversation)
        if fmt == "html":
            return self._export_html(conversation, own_name)
        raise ValueError(f"unknown export format {fmt!r}")

    def _export_json(self, conversation: str) -> str:
        items = [
            {
                "local_id": m.local_id,
                "conversation": m.conversation,
                "direction": m.direction,
                "sender": m.sender,
                "sender_name": m.sender_name,
                "text": m.text,
                "ts": m.ts,
                "time": datetime.fromtimestamp(m.ts / 1000, tz=UTC).isoformat(
                    timespec="milliseconds"
                ),
                "seq": m.seq,
                "message_id": m.message_id,
                "status": m.status,
            }
            for m in self._iter_conversation(conversation)
        ]
        return json.dumps(items, ensure_ascii=False, indent=2)

    def _export_html(self, conversation: str, own_name: str) -> str:
        title = html.escape(self.conversation_title(conversation))
        parts = [
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>\n"
            "body{font-family:system-ui,sans-serif;max-width:48em;margin:2em auto;"
            "padding:0 1em;color:#222;background:#fff}\n"
            "@media (prefers-color-scheme:dark){body{color:#ddd;background:#181818}"
            ".msg{background:#2a2a2a}.out{background:#1f3b2c}}\n"
            "ol{list-style:none;padding:0}\n"
            ".msg{background:#f0f0f0;border-radius:.6em;padding:.4em .7em;margin:.4em 0;"
            "max-width:80%}\n"
            ".out{background:#dcf8c6;margin-left:auto}\n"
            ".meta{font-size:.8em;opacity:.7}\n"
            ".text{white-space:pre-wrap;overflow-wrap:anywhere}\n"
            f"</style>\n</head>\n<body>\n<h1>{title}</h1>\n<ol>\n"
        ]
        for m in self._iter_conversation(conversation):
            sender = own_name if m.direction == "out" else (m.sender_name or m.sender or "")
            moment = datetime.fromtimestamp(m.ts / 1000, tz=UTC)
            local = moment.astimezone().strftime("%Y-%m-%d %H:%M")
            parts.append(
                f'<li class="msg {m.direction}"><div class="meta">'
                f'<span class="sender">{html.escape(sender)}</span> '
                f'<time datetime="{moment.isoformat()}">{local}</time></div>'
                f'<div class="text">{html.escape(m.text)}</div></li>\n'
            )
        parts.append("</ol>\n</body>\n</html>\n")
        return "".join(parts)

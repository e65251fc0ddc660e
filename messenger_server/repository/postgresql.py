"""The shared repository: PostgreSQL through asyncpg, for one server process or several.

Several server processes (nodes) may open one database and commit at the same time. Each
:meth:`PostgreSQLRepository.commit` is one ``READ COMMITTED`` transaction and returns once
it is committed (``synchronous_commit`` is never ``off`` on its connections). Its schema is
created and updated by :func:`migrate` (``messenger-server migrate``), never by
:meth:`~PostgreSQLRepository.open`, which refuses a schema of another version.

Why the order guarantees hold with several nodes
------------------------------------------------

**seq.** ``conversations(id, last_seq)`` holds the end of each conversation's log. A commit
first locks the row of every conversation it touches, with one ``INSERT … ON CONFLICT DO
UPDATE`` in id order, and adds to ``last_seq`` the number of messages it stores there.
Another commit touching the conversation waits for that row until the first one has
committed, so seqs are handed out in commit order within a conversation, and without gaps
(a message's ``previous`` is ``seq - 1``). What a commit decides about a conversation — a
new member's starting marker, how far a marker may move, the markers it moves — is read
and written under that lock.

**message ids and event ids** come from the sequence ``event_ids``: unique and never
reused, even after a crash, but not in commit order; nothing needs them to be.

**marker versions.** A client keeps the highest version it has seen as a "since" token,
so a version may become visible only once every lower one is: versions must be allocated
in commit order across all the nodes. A commit that moves markers takes its versions from
the row ``counters('marker_version')`` (``UPDATE … RETURNING``) in its last statement
before ``COMMIT`` and holds that row lock until the commit is visible (PostgreSQL releases
a transaction's locks after marking it committed). So a commit that allocates version v
does so after every commit holding a lower version is visible: the versions any snapshot
sees are a prefix of the versions ever allocated, and :meth:`receipts_since` cannot skip a
lower version that commits later. The cost: commits that move markers are serialized,
cluster-wide, for one round trip and one WAL flush each. (Transaction-id horizons —
``pg_current_xact_id()``, ``pg_snapshot_xmin()`` — would avoid that lock at the price of
every reader reasoning about transactions in progress: not needed at this scale.)

**No deadlock of our own making.** Conversation rows are always locked first, in one
statement and in id order; the version row last, after which nothing waits (the marker rows
written then belong to conversations already locked, and every writer of markers holds its
conversation's lock). What remains are waits on rows that two commits insert with the same
unique key (one message key sent to two conversations at once through two nodes, say).
PostgreSQL detects a deadlock among those and aborts one commit, which runs again from the
start.

**Idempotency.** A message whose key was stored before (a resend, here or on another node,
earlier or by a commit that was waited for) is not inserted (``ON CONFLICT DO NOTHING``);
the commit then runs again from the start after looking its keys up, so that the original
is returned (``duplicate=True``) and no seq is left unused. A batch with a resend thus
costs two attempts; a batch without one no look-up at all.

**A connection lost during COMMIT.** The commit may or may not have happened. Once the
database answers again (within :data:`COMMIT_CHECK` seconds), ``txid_status`` of the
transaction tells: a commit that went through is reported as done, so that the service
pushes what it stored, in order, as it would have; one that did not fails with
:class:`StorageError` (the client sends again, with the same key). Only a database that
stays away longer leaves the outcome unknown: the commit then fails, and a resend finds
its key if it was stored after all.

**directory epoch.** :meth:`~PostgreSQLRepository.set_client_disabled` increments
``counters('directory_epoch')`` and ``NOTIFY``\\s the new value on :data:`DIRECTORY_CHANNEL`
in the same transaction. Each repository keeps the value in memory (so
:meth:`~PostgreSQLRepository.directory_epoch` costs nothing), updated by a ``LISTEN`` on a
connection of its own within milliseconds of a commit anywhere, and read again every
``directory_refresh`` seconds, which also re-listens when that connection was lost
(notifications sent meanwhile are lost, not the change).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TypeAlias

import asyncpg

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

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record]"

DIRECTORY_CHANNEL: Final = "messenger_directory"
"""Where :meth:`PostgreSQLRepository.set_client_disabled` announces a new directory epoch."""
MAX_ATTEMPTS: Final = 8
"""Tries of one commit that PostgreSQL aborted (deadlock) or that met a key stored
meanwhile, before it fails."""
MIGRATION_LOCK: Final = 0x6D65_7373_656E_6701
"""The advisory lock that keeps two ``migrate`` runs from interleaving."""
NO_END: Final = 2**63 - 1
COMMIT_CHECK: Final = 10.0
"""Seconds to wait for the database to answer again, when the connection broke during a
``COMMIT``, to learn whether it went through."""
_CONNECTION_LOST: Final = (
    TimeoutError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,  # connection_does_not_exist, ...
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
)

# --- schema ----------------------------------------------------------------------------------

# Identifiers and keys compare byte-wise (COLLATE "C"), as in the SQLite store: pages by ID
# do not depend on the database's locale. Times are milliseconds since the epoch (bigint).
_SCHEMA_1 = """
CREATE TABLE counters (
    name text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('marker_version', 0), ('directory_epoch', 0);
CREATE SEQUENCE event_ids AS bigint;
CREATE TABLE clients (
    id text COLLATE "C" PRIMARY KEY,
    secret_hash bytea NOT NULL,
    display_name text NOT NULL,
    created_at bigint NOT NULL,
    disabled boolean NOT NULL DEFAULT false
);
CREATE TABLE groups (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    created_by text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE members (
    group_id text COLLATE "C" NOT NULL,
    client_id text COLLATE "C" NOT NULL,
    admin boolean NOT NULL DEFAULT false,
    joined_at bigint NOT NULL,
    PRIMARY KEY (group_id, client_id)
);
CREATE INDEX members_by_client ON members (client_id, group_id);
CREATE TABLE conversations (
    id text COLLATE "C" PRIMARY KEY,
    last_seq bigint NOT NULL
);
CREATE TABLE messages (
    conversation text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    id bigint NOT NULL,
    sender text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    ts bigint NOT NULL,
    text text,
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX messages_by_key ON messages (sender, key);
CREATE INDEX messages_by_ts ON messages (ts);
CREATE TABLE markers (
    conversation text COLLATE "C" NOT NULL,
    member text COLLATE "C" NOT NULL,
    delivered bigint NOT NULL,
    read bigint NOT NULL,
    version bigint NOT NULL,
    left_at bigint,
    PRIMARY KEY (conversation, member)
);
CREATE INDEX markers_by_member ON markers (member, conversation);
CREATE INDEX markers_by_version ON markers (version);
CREATE TABLE notices (
    recipient text COLLATE "C" NOT NULL,
    id bigint NOT NULL,
    kind text NOT NULL,
    actor text COLLATE "C" NOT NULL,
    subject text COLLATE "C",
    group_id text COLLATE "C" NOT NULL,
    ts bigint NOT NULL,
    PRIMARY KEY (recipient, id)
);
CREATE TABLE contacts (
    owner text COLLATE "C" NOT NULL,
    contact text COLLATE "C" NOT NULL,
    PRIMARY KEY (contact, owner)
);
CREATE TABLE invites (
    code text COLLATE "C" PRIMARY KEY,
    uses_left integer NOT NULL,
    expires_at bigint NOT NULL,
    created_at bigint NOT NULL
);
"""

# 2: conversation features: entries that refer to a message by seq (edits, deletions,
# reactions) and a message's extras; group descriptions; presence (visibility, last seen).
_SCHEMA_2 = """
ALTER TABLE messages ADD COLUMN kind text, ADD COLUMN target bigint, ADD COLUMN extra bytea;
CREATE INDEX messages_by_target ON messages (conversation, target) WHERE target IS NOT NULL;
ALTER TABLE groups ADD COLUMN description text NOT NULL DEFAULT '';
CREATE TABLE presence (
    client_id text COLLATE "C" PRIMARY KEY,
    visibility text,
    last_seen bigint
);
CREATE INDEX contacts_by_owner ON contacts (owner, contact);
"""

# 3: files (docs/protocol.md section 11): unfinished uploads, stored files (their bytes are
# in the blob store), who each was sent to, and the files attached to each message.
_SCHEMA_3 = """
ALTER TABLE messages ADD COLUMN files text;
CREATE TABLE uploads (
    id bigint PRIMARY KEY,
    uploader text COLLATE "C" NOT NULL,
    sha256 text COLLATE "C" NOT NULL,
    size bigint NOT NULL,
    name text NOT NULL,
    mime text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX uploads_by_uploader ON uploads (uploader);
CREATE INDEX uploads_by_age ON uploads (created_at);
CREATE TABLE files (
    id text COLLATE "C" PRIMARY KEY,
    uploader text COLLATE "C" NOT NULL,
    sha256 text COLLATE "C" NOT NULL,
    size bigint NOT NULL,
    name text NOT NULL,
    mime text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX files_by_uploader ON files (uploader, sha256);
CREATE INDEX files_by_blob ON files (sha256);
CREATE INDEX files_by_age ON files (created_at);
CREATE TABLE file_recipients (
    file_id text COLLATE "C" NOT NULL,
    recipient text COLLATE "C" NOT NULL,
    conversation text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    downloaded boolean NOT NULL DEFAULT false,
    PRIMARY KEY (file_id, recipient, conversation)
);
CREATE INDEX file_recipients_by_message ON file_recipients (conversation, seq);
"""

MIGRATIONS: Final[tuple[str, ...]] = (_SCHEMA_1, _SCHEMA_2, _SCHEMA_3)
"""``MIGRATIONS[n]`` takes the schema from version n to n + 1, recorded in the table
``messenger_schema``. Append only: a released migration never changes."""
SCHEMA_VERSION: Final = len(MIGRATIONS)

_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS messenger_schema (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class SchemaVersionError(RuntimeError):
    """The database's schema is not the one this server was written for."""


async def schema_version(conn: Connection) -> int:
    """The schema version of the database (0: none yet)."""
    if await conn.fetchval("SELECT to_regclass('messenger_schema')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM messenger_schema"))


async def migrate(dsn: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema of the database at ``dsn`` up to ``target``, one transaction per
    version (a run that fails leaves the last version it completed); returns the version
    found before. Safe to run from several places at once.

    Raises:
        SchemaVersionError: the database's schema is newer than this code.
        StorageError: the database cannot be reached.
    """
    conn = await _connect(dsn)
    try:
        if "synchronous_commit" in await _durable_settings(conn):
            await conn.execute("SET synchronous_commit = on")
        found = None
        for version in range(1, target + 1):
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await conn.execute(_SCHEMA_TABLE)
                current = await schema_version(conn)
                if found is None:
                    found = current
                if current > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"database schema {current} is newer than this server understands"
                        f" ({SCHEMA_VERSION}): upgrade the server"
                    )
                if current >= version:
                    continue
                log.info("migrating the database schema to version %d", version)
                await conn.execute(MIGRATIONS[version - 1])
                await conn.execute("INSERT INTO messenger_schema (version) VALUES ($1)", version)
        if found is None:  # target 0
            found = await schema_version(conn)
        return found
    except asyncpg.PostgresError as exc:
        raise StorageError(f"migrating the database failed: {exc}") from exc
    finally:
        await conn.close()


APPLICATION: Final = {"application_name": "messenger"}


async def _connect(dsn: str, server_settings: Mapping[str, str] = APPLICATION) -> Connection:
    """A new connection to ``dsn``.

    Raises:
        StorageError: the database cannot be reached.
    """
    try:
        return await asyncpg.connect(dsn, server_settings=dict(server_settings))
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc


async def _durable_settings(conn: Connection) -> dict[str, str]:
    """The settings every connection of the repository starts with: ``synchronous_commit``
    is never ``off`` there, whatever the database's default (a commit returns once it is on
    disk, or on a synchronous standby where the administrator set one up). Given when the
    connection starts, they outlive the pool's ``RESET ALL``."""
    settings = dict(APPLICATION)
    if await conn.fetchval("SHOW synchronous_commit") == "off":
        log.warning("synchronous_commit is off in the database: the server sets it on")
        settings["synchronous_commit"] = "on"
    return settings


@contextlib.contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    """Turn the driver's errors into :class:`StorageError`."""
    try:
        yield
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"{what}: {type(exc).__name__}: {exc}") from exc


# --- one commit ------------------------------------------------------------------------------

_LOCK_CONVERSATIONS = """
INSERT INTO conversations AS c (id, last_seq)
SELECT t.id, t.added FROM unnest($1::text[], $2::bigint[]) AS t(id, added)
ORDER BY t.id COLLATE "C"
ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq
RETURNING c.id, c.last_seq
"""

_LOAD_MARKERS = """
SELECT m.conversation, m.member, m.delivered, m.read, m.version, m.left_at
FROM markers m JOIN unnest($1::text[], $2::text[]) AS p(conversation, member)
    ON m.conversation = p.conversation AND m.member = p.member
"""

_KNOWN_KEYS = """
SELECT m.sender, m.key, m.id, m.seq, m.ts
FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(sender, key)
    ON m.sender = k.sender AND m.key = k.key
"""

_INSERT_MESSAGES = """
INSERT INTO messages (id, conversation, seq, sender, key, ts, text, kind, target, extra, files)
SELECT nextval('event_ids'), t.conversation, t.seq, t.sender, t.key, t.ts, t.text, t.kind,
       t.target, t.extra, t.files
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],
            $7::text[], $8::bigint[], $9::bytea[], $10::text[])
    AS t(conversation, seq, sender, key, ts, text, kind, target, extra, files)
ON CONFLICT (sender, key) DO NOTHING
RETURNING conversation, seq, id
"""

# After the commit's messages: an edit stored in the same commit goes too.
_WITHDRAW = """
UPDATE messages m SET text = NULL, extra = NULL, files = NULL
FROM unnest($1::text[], $2::bigint[]) AS w(conversation, seq)
WHERE m.conversation = w.conversation AND m.text IS NOT NULL
AND (m.seq = w.seq OR (m.target = w.seq AND m.kind <> 'delete'))
"""

MessageRow: TypeAlias = tuple[
    str, int, str, str, int, str, str | None, int | None, bytes | None, str | None
]
"""conversation, seq, sender, key, ts, text, kind, target, extra, files."""

# Each recipient may download the files of a message; what it still needs is the file at
# the latest message of each conversation that brought it.
_ADD_FILE_RECIPIENTS = """
INSERT INTO file_recipients AS r (file_id, recipient, conversation, seq)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
ON CONFLICT (file_id, recipient, conversation) DO UPDATE SET seq = excluded.seq
WHERE excluded.seq > r.seq
"""

# The files of a deleted message: nobody may download them any more; those that no other
# message brought to anyone are returned (for the service to delete).
_WITHDRAW_FILES = """
WITH gone AS (
    DELETE FROM file_recipients WHERE conversation = $1 AND seq = $2 RETURNING file_id
)
SELECT DISTINCT g.file_id FROM gone g
WHERE NOT EXISTS (
    SELECT 1 FROM file_recipients r  -- the snapshot before the DELETE: skip what it deletes
    WHERE r.file_id = g.file_id AND NOT (r.conversation = $1 AND r.seq = $2)
)
ORDER BY g.file_id
"""

# The versions' row is locked last, and held until COMMIT: see the module's docstring.
_WRITE_MARKERS = """
WITH versions AS (
    UPDATE counters SET value = value + $1
    WHERE name = 'marker_version' AND $1 > 0
    RETURNING value - $1 AS base
), gone AS (
    DELETE FROM markers m USING unnest($2::text[], $3::text[]) AS d(conversation, member)
    WHERE m.conversation = d.conversation AND m.member = d.member
), put AS (
    INSERT INTO markers (conversation, member, delivered, read, version, left_at)
    SELECT p.conversation, p.member, p.delivered, p.read,
           CASE WHEN p.step > 0 THEN (SELECT base FROM versions) + p.step ELSE p.version END,
           p.left_at
    FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],
                $9::bigint[], $10::bigint[])
        AS p(conversation, member, delivered, read, version, step, left_at)
    ON CONFLICT (conversation, member) DO UPDATE SET delivered = excluded.delivered,
        read = excluded.read, version = excluded.version, left_at = excluded.left_at
)
SELECT base FROM versions
"""

_OTHERS_LAST_SEQ = """
SELECT coalesce(max(seq), 0) FROM messages
WHERE conversation = $1 AND seq <= $2 AND sender <> $3
"""

_INSERT_NOTICES = """
INSERT INTO notices (id, recipient, kind, actor, subject, group_id, ts)
SELECT nextval('event_ids'), r.recipient, $2, $3, $4, $5, $6
FROM unnest($1::text[]) WITH ORDINALITY AS r(recipient, n) ORDER BY r.n
RETURNING recipient, id
"""

_KINDS: Final = (
    InsertClient,
    InsertMessage,
    OpenConversation,
    MoveMarkers,
    InsertGroup,
    AddMember,
    RemoveMember,
    SetAdmin,
    InsertNotices,
    AckNotices,
    SetContact,
    UseInvite,
    WithdrawMessage,
    UpdateGroup,
    SetPresence,
    InsertUpload,
    DeleteUploads,
    InsertFile,
    MarkDownloaded,
    DeleteFiles,
)


class _KeysTaken(Exception):
    """A message key of this commit was stored by another transaction meanwhile."""


@dataclass(frozen=True, slots=True)
class _State:
    """A marker as a commit sees it while working out its operations in order."""

    delivered: int
    read: int
    version: int
    """As stored; replaced by the commit's ``step``-th version when ``step`` > 0."""
    step: int
    left_at: int | None

    def marker(self, conversation: str, member: str, base: int) -> Marker:
        version = base + self.step if self.step else self.version
        return Marker(conversation, member, self.delivered, self.read, version)


@dataclass(frozen=True, slots=True)
class _Move:
    index: int
    conversation: str
    member: str
    before: _State | None
    """None: the marker is new (a member added)."""
    after: _State


class _Commit:
    """One call of :meth:`PostgreSQLRepository.commit`, inside its transaction.

    The conversations touched are locked first; then the operations are worked out in
    order in memory — seqs, ends of logs, markers — while the rare kinds run their
    statement at once; then the messages are stored in one statement, and the markers
    (with their versions) in another, the last before ``COMMIT``."""

    def __init__(self, operations: Sequence[Operation], known: dict[tuple[str, str], Any]):
        self.operations = operations
        self.known: dict[tuple[str, str], MessageSaved] = known
        """Message keys of this commit stored before it (looked up when retrying)."""

    async def run(self, conn: Connection) -> list[OperationResult]:
        operations = self.operations
        added: dict[str, int] = {}
        pairs: set[tuple[str, str]] = set()
        new_keys: set[tuple[str, str]] = set()
        for op in operations:
            if isinstance(op, InsertMessage):
                added.setdefault(op.conversation, 0)
                key = (op.sender, op.key)
                if key not in new_keys and key not in self.known:
                    new_keys.add(key)
                    added[op.conversation] += 1
            elif isinstance(op, MoveMarkers):
                added.setdefault(op.conversation, 0)
                pairs.add((op.conversation, op.member))
            elif isinstance(op, OpenConversation):
                added.setdefault(op.conversation, 0)
                pairs.update((op.conversation, member) for member in op.members)
            elif isinstance(op, AddMember | RemoveMember):
                added.setdefault(op.group_id, 0)
                pairs.add((op.group_id, op.client_id))
            elif isinstance(op, SetAdmin):
                added.setdefault(op.group_id, 0)
            elif isinstance(op, WithdrawMessage):
                added.setdefault(op.conversation, 0)

        ends: dict[str, int] = {}
        """Each conversation's last seq so far, as the operations are worked out."""
        if added:
            ids = sorted(added)
            for row in await conn.fetch(_LOCK_CONVERSATIONS, ids, [added[i] for i in ids]):
                ends[row["id"]] = row["last_seq"] - added[row["id"]]
        stored: dict[tuple[str, str], _State | None] = dict.fromkeys(pairs)
        if pairs:
            conversations, members = zip(*pairs, strict=True)
            for row in await conn.fetch(_LOAD_MARKERS, conversations, members):
                stored[(row["conversation"], row["member"])] = _State(
                    row["delivered"], row["read"], row["version"], 0, row["left_at"]
                )
        states = dict(stored)

        results: list[Any] = [None] * len(operations)
        rows: list[MessageRow] = []
        withdrawn: list[tuple[int, WithdrawMessage]] = []
        stored_at: dict[int, int] = {}
        """The seq of each message this commit stores, by index in ``operations``."""
        first_of_key: dict[tuple[str, str], int] = {}
        """Index in ``operations`` of the message stored under each key."""
        repeats: list[tuple[int, int]] = []
        """(index, index of the first message with the same key) in this commit."""
        sent_here: dict[str, list[tuple[int, str]]] = {}
        """Per conversation, the (seq, sender) of the messages this commit stores."""
        moves: list[_Move] = []
        steps = 0

        for index, op in enumerate(operations):
            if isinstance(op, InsertMessage):
                key = (op.sender, op.key)
                if key in self.known:
                    results[index] = self.known[key]
                elif key in first_of_key:
                    repeats.append((index, first_of_key[key]))
                else:
                    seq = ends[op.conversation] = ends[op.conversation] + 1
                    first_of_key[key] = index
                    stored_at[index] = seq
                    rows.append(
                        (
                            op.conversation, seq, op.sender, op.key, op.ts, op.text, op.kind,
                            op.target, op.extra, op.files,
                        )
                    )  # fmt: skip
                    sent_here.setdefault(op.conversation, []).append((seq, op.sender))
            elif isinstance(op, MoveMarkers):
                pair = (op.conversation, op.member)
                state = states[pair]
                if state is None:
                    continue  # not a participant
                end = ends[op.conversation]  # a client cannot claim what is not stored
                delivered = max(state.delivered, min(op.delivered, end))
                read = max(state.read, min(op.read, end))
                if (delivered, read) == (state.delivered, state.read):
                    continue
                steps += 1
                states[pair] = after = replace(state, delivered=delivered, read=read, step=steps)
                moves.append(_Move(index, op.conversation, op.member, state, after))
            elif isinstance(op, OpenConversation):
                for member in op.members:
                    if states[(op.conversation, member)] is None:
                        states[(op.conversation, member)] = _State(0, 0, 0, 0, None)
            elif isinstance(op, AddMember):
                await conn.execute(
                    "INSERT INTO members (group_id, client_id, admin, joined_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, client_id)"
                    " DO UPDATE SET admin = excluded.admin",
                    op.group_id,
                    op.client_id,
                    op.admin,
                    op.joined_at,
                )
                # The member starts at the end of the log: only later messages reach it.
                start = ends[op.group_id]
                steps += 1
                after = _State(start, start, 0, steps, None)
                states[(op.group_id, op.client_id)] = after
                moves.append(_Move(index, op.group_id, op.client_id, None, after))
            elif isinstance(op, RemoveMember):
                await conn.execute(
                    "DELETE FROM members WHERE group_id = $1 AND client_id = $2",
                    op.group_id,
                    op.client_id,
                )
                pair = (op.group_id, op.client_id)
                state = states[pair]
                if state is None:
                    continue
                # What was sent while it was a member still reaches it; nothing later does.
                left_at = ends[op.group_id]
                owed = max(
                    [
                        seq
                        for seq, sender in sent_here.get(op.group_id, [])
                        if sender != op.client_id
                    ]
                    or [0]
                )
                if owed == 0:
                    owed = await conn.fetchval(_OTHERS_LAST_SEQ, op.group_id, left_at, op.client_id)
                states[pair] = None if state.delivered >= owed else replace(state, left_at=left_at)
            elif isinstance(op, WithdrawMessage):
                withdrawn.append((index, op))
            else:
                results[index] = await self._apply_one(conn, op)

        if rows:
            message_ids = await self._insert_messages(conn, rows)
            for index, seq in stored_at.items():
                message = operations[index]
                assert isinstance(message, InsertMessage)
                message_id = message_ids[(message.conversation, seq)]
                results[index] = MessageSaved(message_id, seq, message.ts, False, seq - 1)
            await self._add_file_recipients(conn, operations, stored_at)
        for index, first in repeats:
            original = results[first]
            results[index] = MessageSaved(original.message_id, original.seq, original.ts, True)
        if withdrawn:
            await conn.execute(
                _WITHDRAW, [w.conversation for _, w in withdrawn], [w.seq for _, w in withdrawn]
            )
            for index, w in withdrawn:
                orphans = await conn.fetch(_WITHDRAW_FILES, w.conversation, w.seq)
                results[index] = [row["file_id"] for row in orphans]

        base = await self._write_markers(conn, stored, states, steps)
        for move in moves:
            conversation, member = move.conversation, move.member
            if move.before is None:
                was = Marker(conversation, member, 0, 0, 0)
            else:
                was = move.before.marker(conversation, member, base)
            results[move.index] = MarkerMove(was, move.after.marker(conversation, member, base))
        return results

    @staticmethod
    async def _add_file_recipients(
        conn: Connection, operations: Sequence[Operation], stored_at: dict[int, int]
    ) -> None:
        latest: dict[tuple[str, str, str], int] = {}
        """(file, recipient, conversation) → the last seq: one row each per statement."""
        for index, seq in stored_at.items():
            op = operations[index]
            assert isinstance(op, InsertMessage)
            for file_id in op.file_ids:
                for recipient in op.recipients:
                    key = (file_id, recipient, op.conversation)
                    latest[key] = max(seq, latest.get(key, 0))
        if latest:
            await conn.execute(
                _ADD_FILE_RECIPIENTS,
                [f for f, _, _ in latest],
                [r for _, r, _ in latest],
                [c for _, _, c in latest],
                list(latest.values()),
            )

    @staticmethod
    async def _insert_messages(
        conn: Connection, rows: list[MessageRow]
    ) -> dict[tuple[str, int], int]:
        """Store the messages; their ids by (conversation, seq).

        Raises:
            _KeysTaken: a key was stored meanwhile (by another node): retry.
        """
        columns = list(zip(*rows, strict=True))
        inserted = await conn.fetch(_INSERT_MESSAGES, *columns)
        if len(inserted) < len(rows):
            raise _KeysTaken
        return {(row["conversation"], row["seq"]): row["id"] for row in inserted}

    @staticmethod
    async def _write_markers(
        conn: Connection,
        stored: dict[tuple[str, str], _State | None],
        states: dict[tuple[str, str], _State | None],
        steps: int,
    ) -> int:
        """Write the markers that changed, allocating ``steps`` versions; returns the
        number the commit's versions count from."""
        gone = [pair for pair, state in states.items() if state is None and stored[pair]]
        put = [
            (pair, state)
            for pair, state in states.items()
            if state is not None and state != stored[pair]
        ]
        if not gone and not put and not steps:
            return 0
        base = await conn.fetchval(
            _WRITE_MARKERS,
            steps,
            [c for c, _ in gone],
            [m for _, m in gone],
            [c for (c, _), _ in put],
            [m for (_, m), _ in put],
            [s.delivered for _, s in put],
            [s.read for _, s in put],
            [s.version for _, s in put],
            [s.step for _, s in put],
            [s.left_at for _, s in put],
        )
        return int(base or 0)

    @staticmethod
    async def _apply_one(conn: Connection, op: Operation) -> OperationResult:
        """The rare kinds: one statement each, at their place in the order."""
        if isinstance(op, InsertClient):
            return bool(
                await conn.fetchval(
                    "INSERT INTO clients (id, secret_hash, display_name, created_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                    op.client_id,
                    op.secret_hash,
                    op.display_name,
                    op.created_at,
                )
            )
        if isinstance(op, InsertGroup):
            return bool(
                await conn.fetchval(
                    "INSERT INTO groups (id, name, created_by, created_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                    op.group_id,
                    op.name,
                    op.created_by,
                    op.created_at,
                )
            )
        if isinstance(op, SetAdmin):
            await conn.execute(
                "UPDATE members SET admin = $3 WHERE group_id = $1 AND client_id = $2",
                op.group_id,
                op.client_id,
                op.admin,
            )
            return None
        if isinstance(op, UpdateGroup):
            await conn.execute(
                "UPDATE groups SET name = coalesce($2, name),"
                " description = coalesce($3, description) WHERE id = $1",
                op.group_id,
                op.name,
                op.description,
            )
            return None
        if isinstance(op, SetPresence):
            await conn.execute(
                "INSERT INTO presence AS p (client_id, visibility, last_seen) VALUES ($1, $2, $3)"
                " ON CONFLICT (client_id) DO UPDATE SET"
                " visibility = coalesce(excluded.visibility, p.visibility),"
                " last_seen = coalesce(excluded.last_seen, p.last_seen)",
                op.client_id,
                op.visibility,
                op.last_seen,
            )
            return None
        if isinstance(op, InsertNotices):
            recipients = list(dict.fromkeys(op.recipients))
            if not recipients:
                return {}
            ids = {
                row["recipient"]: row["id"]
                for row in await conn.fetch(
                    _INSERT_NOTICES,
                    recipients,
                    op.change,
                    op.actor,
                    op.subject,
                    op.group_id,
                    op.ts,
                )
            }
            return {recipient: ids[recipient] for recipient in recipients}
        if isinstance(op, AckNotices):
            await conn.execute(
                "DELETE FROM notices WHERE recipient = $1 AND id = ANY($2::bigint[])",
                op.recipient,
                list(op.event_ids),
            )
            return None
        if isinstance(op, SetContact):
            if op.present:
                await conn.execute(
                    "INSERT INTO contacts (owner, contact) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    op.owner,
                    op.contact,
                )
            else:
                await conn.execute(
                    "DELETE FROM contacts WHERE owner = $1 AND contact = $2", op.owner, op.contact
                )
            return None
        if isinstance(op, UseInvite):
            return bool(
                await conn.fetchval(
                    "UPDATE invites SET uses_left = uses_left - 1"
                    " WHERE code = $1 AND uses_left > 0 AND expires_at > $2 RETURNING true",
                    op.code,
                    op.now,
                )
            )
        if isinstance(op, InsertUpload):
            return bool(
                await conn.fetchval(
                    "INSERT INTO uploads (id, uploader, sha256, size, name, mime, created_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
                    op.upload_id,
                    op.uploader,
                    op.sha256,
                    op.size,
                    op.name,
                    op.mime,
                    op.created_at,
                )
            )
        if isinstance(op, DeleteUploads):
            await conn.execute(
                "DELETE FROM uploads WHERE id = ANY($1::bigint[])", list(op.upload_ids)
            )
            return None
        if isinstance(op, InsertFile):
            inserted = await conn.fetchval(
                "INSERT INTO files (id, uploader, sha256, size, name, mime, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
                op.file_id,
                op.uploader,
                op.sha256,
                op.size,
                op.name,
                op.mime,
                op.created_at,
            )
            if not inserted:
                return False
            if op.upload_id is not None:
                await conn.execute("DELETE FROM uploads WHERE id = $1", op.upload_id)
            return True
        if isinstance(op, MarkDownloaded):
            await conn.execute(
                "UPDATE file_recipients SET downloaded = true"
                " WHERE file_id = $1 AND recipient = $2",
                op.file_id,
                op.recipient,
            )
            return None
        if isinstance(op, DeleteFiles):
            rows = await conn.fetch(
                "WITH gone AS (DELETE FROM files WHERE id = ANY($1::text[]) RETURNING id, sha256),"
                " recipients AS (DELETE FROM file_recipients WHERE file_id = ANY($1::text[]))"
                " SELECT DISTINCT g.sha256 FROM gone g WHERE NOT EXISTS (SELECT 1 FROM files f"
                "     WHERE f.sha256 = g.sha256 AND f.id <> ALL($1::text[]))"
                " AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = g.sha256)"
                " ORDER BY g.sha256",
                list(op.file_ids),
            )
            return [row["sha256"] for row in rows]
        raise TypeError(f"not a repository operation: {op!r}")


# --- the repository ------------------------------------------------------------------------------


def _client_record(row: asyncpg.Record) -> ClientRecord:
    return ClientRecord(
        row["id"],
        row["display_name"],
        bytes(row["secret_hash"]),
        row["created_at"],
        row["disabled"],
    )


class PostgreSQLRepository(Repository):
    """The shared store: a PostgreSQL database that several server nodes may use at once.

    Commits of one repository run one after the other, in the order they were called, on
    a connection of their own. Reads, the administrator's writes and the clean-ups
    (:meth:`forget_delivered`, :meth:`expire`) use a pool, beside the commits: they are
    not ordered with them (they could as well come from another node).

    Args:
        dsn: ``postgresql://user:password@host:port/database`` (libpq's URL form).
        pool_size: connections for reads and maintenance, besides the one for commits and
            the one listening for directory changes.
        directory_refresh: seconds between reads of the directory epoch (see the module's
            docstring): how late a change is seen when its notification was lost.
    """

    def __init__(self, dsn: str, *, pool_size: int = 8, directory_refresh: float = 5.0) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self.directory_refresh = directory_refresh
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._writer: Connection | None = None
        self._write_lock = asyncio.Lock()
        self._writes: set[asyncio.Task[list[OperationResult]]] = set()
        self._listener: Connection | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._epoch = 0
        self._settings: dict[str, str] = dict(APPLICATION)
        """The server settings of every connection (see :func:`_durable_settings`)."""
        self._forgotten: dict[str, int] = {}
        """Per conversation, the seq up to which this node dropped the texts."""
        self.retries = 0
        """How many commits ran again (a resent key, a deadlock PostgreSQL broke)."""

    # -- lifecycle --

    async def open(self) -> None:
        """Connect, and check the schema.

        Raises:
            SchemaVersionError: the schema is older than this server (run ``messenger-server
                migrate``) or newer.
            StorageError: the database cannot be reached.
        """
        writer = await _connect(self.dsn)
        try:
            with _storage_errors("cannot read the database"):
                self._settings = await _durable_settings(writer)
                if "synchronous_commit" in self._settings:
                    await writer.close()
                    writer = await _connect(self.dsn, self._settings)
                found = await schema_version(writer)
            if found < SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"database schema {found} is older than this server's ({SCHEMA_VERSION}):"
                    " run `messenger-server migrate` first"
                )
            if found > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"database schema {found} is newer than this server understands"
                    f" ({SCHEMA_VERSION}): upgrade the server"
                )
            with _storage_errors("cannot connect to PostgreSQL"):
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self.pool_size,
                    server_settings=self._settings,
                )
            self._writer = writer
            await self._listen()
            self._epoch = await self._read_epoch()
        except BaseException:
            self._writer = writer
            await self._disconnect()
            raise
        self._watcher = asyncio.get_running_loop().create_task(self._watch_directory())

    async def close(self) -> None:
        if self._writes:
            await asyncio.wait(list(self._writes))
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._disconnect()

    async def _disconnect(self) -> None:
        for conn in (self._listener, self._writer):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()
        self._listener = self._writer = None
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), timeout=10)
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            raise StorageError("storage is not open")
        return self._pool

    # -- writes --

    async def commit(self, operations: Sequence[Operation]) -> list[OperationResult]:
        if not operations:
            return []
        for op in operations:
            if not isinstance(op, _KINDS):
                raise TypeError(f"not a repository operation: {op!r}")
        if self._pool is None:
            raise StorageError("storage is not open")
        # Once asked for, a commit runs to its end even if the caller stops waiting: the
        # connection is never left in the middle of a transaction.
        task = asyncio.get_running_loop().create_task(self._commit_in_turn(operations))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    async def _commit_in_turn(self, operations: Sequence[Operation]) -> list[OperationResult]:
        async with self._write_lock:
            known: dict[tuple[str, str], MessageSaved] = {}
            for attempt in range(1, MAX_ATTEMPTS + 1):
                conn = await self._writer_connection()
                txid: int | None = None
                committing = False
                try:
                    transaction = conn.transaction()
                    await transaction.start()
                    try:
                        txid = await conn.fetchval("SELECT txid_current()")
                        results = await _Commit(operations, known).run(conn)
                    except BaseException:
                        with contextlib.suppress(Exception):
                            await transaction.rollback()
                        raise
                    committing = True
                    await transaction.commit()
                    return results
                except _KeysTaken:
                    known = await self._known_keys(conn, operations)
                    log.info("a message key was stored meanwhile: commit again (%d)", attempt)
                except asyncpg.TransactionRollbackError as exc:  # deadlock, serialization
                    log.info("commit aborted by PostgreSQL, again (%d): %s", attempt, exc)
                except _CONNECTION_LOST as exc:
                    await self._drop_writer()
                    if committing and txid is not None and await self._committed(txid):
                        log.warning("the connection broke during COMMIT, which went through")
                        return results
                    # Not committed, or cannot tell (the database stayed away): a resend
                    # with the same key finds the message if it was stored.
                    raise StorageError(f"{type(exc).__name__}: {exc}") from exc
                except asyncpg.PostgresError as exc:
                    raise StorageError(f"{type(exc).__name__}: {exc}") from exc
                self.retries += 1
            raise StorageError(f"commit abandoned after {MAX_ATTEMPTS} attempts")

    async def _committed(self, txid: int) -> bool:
        """Whether transaction ``txid``, whose ``COMMIT`` got no answer, committed, as the
        database says once it answers again (``txid_status``; within
        :data:`COMMIT_CHECK` seconds, or False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + COMMIT_CHECK
        while True:
            try:
                conn = await _connect(self.dsn, self._settings)
                try:
                    status = await conn.fetchval("SELECT txid_status($1)", txid)
                finally:
                    await conn.close()
                log.info("transaction %d, whose COMMIT got no answer: %s", txid, status)
                return bool(status == "committed")
            except (StorageError, *_CONNECTION_LOST, asyncpg.PostgresError):
                if loop.time() > deadline:
                    log.error("whether transaction %d committed cannot be told", txid)
                    return False
                await asyncio.sleep(0.1)

    async def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.is_closed():
            self._writer = await _connect(self.dsn, self._settings)
        return self._writer

    async def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.terminate()

    @staticmethod
    async def _known_keys(
        conn: Connection, operations: Sequence[Operation]
    ) -> dict[tuple[str, str], MessageSaved]:
        keys = list({(op.sender, op.key) for op in operations if isinstance(op, InsertMessage)})
        with _storage_errors("looking up message keys"):
            rows = await conn.fetch(_KNOWN_KEYS, [s for s, _ in keys], [k for _, k in keys])
        return {
            (row["sender"], row["key"]): MessageSaved(row["id"], row["seq"], row["ts"], True)
            for row in rows
        }

    async def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        with _storage_errors("disabling a client"):
            epoch = await self.pool.fetchval(
                "WITH changed AS (UPDATE clients SET disabled = $2 WHERE id = $1 RETURNING id),"
                " epoch AS (UPDATE counters SET value = value + 1"
                "     WHERE name = 'directory_epoch' AND EXISTS (SELECT 1 FROM changed)"
                "     RETURNING value)"
                f" SELECT value, pg_notify('{DIRECTORY_CHANNEL}', value::text) FROM epoch",
                client_id,
                disabled,
            )
        if epoch is None:
            return False
        self._epoch = max(self._epoch, int(epoch))
        return True

    async def forget_delivered(self, conversations: Iterable[str]) -> int:
        """A message's text is needed until every participant but its sender has it: with
        the lowest marker ``low`` (held by ``laggard``) and the second lowest ``second``,
        that is everything up to ``low``, and what ``laggard`` itself sent up to
        ``second``. Markers only grow, so reading them without a lock only ever drops less.
        Former members who have all of their membership lose their marker, under the
        group's lock like every write of markers."""
        wanted = sorted(set(conversations))
        if not wanted:
            return 0
        with _storage_errors("dropping delivered texts"):
            rows = await self.pool.fetch(
                "SELECT conversation, member, delivered, left_at FROM markers"
                " WHERE conversation = ANY($1::text[]) ORDER BY conversation, delivered",
                wanted,
            )
            by_conversation: dict[str, list[asyncpg.Record]] = {}
            for row in rows:
                by_conversation.setdefault(row["conversation"], []).append(row)
            everything: list[tuple[str, int, int]] = []
            own_only: list[tuple[str, int, int, str]] = []
            done: list[str] = []
            for conversation, markers in by_conversation.items():
                laggard, low = markers[0]["member"], markers[0]["delivered"]
                second = markers[1]["delivered"] if len(markers) > 1 else low
                start = self._forgotten.get(conversation, 0)
                if low > start:
                    everything.append((conversation, start, low))
                if second > low:
                    own_only.append((conversation, low, second, laggard))
                if any(
                    m["left_at"] is not None and m["delivered"] >= m["left_at"] for m in markers
                ):
                    done.append(conversation)
            dropped = await self._drop_texts(everything, own_only)
            for conversation, _, low in everything:
                self._forgotten[conversation] = low
            if done:
                async with self.pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "SELECT 1 FROM conversations WHERE id = ANY($1::text[])"
                        ' ORDER BY id COLLATE "C" FOR UPDATE',
                        done,
                    )
                    await conn.execute(
                        "DELETE FROM markers WHERE conversation = ANY($1::text[])"
                        " AND left_at IS NOT NULL AND delivered >= left_at",
                        done,
                    )
        return dropped

    async def _drop_texts(
        self, everything: list[tuple[str, int, int]], own_only: list[tuple[str, int, int, str]]
    ) -> int:
        if not everything and not own_only:
            return 0
        count = await self.pool.fetchval(
            "WITH a AS (UPDATE messages m SET text = NULL, extra = NULL, files = NULL"
            "     FROM unnest($1::text[], $2::bigint[], $3::bigint[])"
            "         AS f(conversation, after, upto)"
            "     WHERE m.conversation = f.conversation AND m.seq > f.after AND m.seq <= f.upto"
            "     AND m.text IS NOT NULL RETURNING 1),"
            " b AS (UPDATE messages m SET text = NULL, extra = NULL, files = NULL"
            "     FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::text[])"
            "         AS f(conversation, after, upto, sender)"
            "     WHERE m.conversation = f.conversation AND m.seq > f.after AND m.seq <= f.upto"
            "     AND m.sender = f.sender AND m.text IS NOT NULL RETURNING 1)"
            " SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
            [c for c, _, _ in everything],
            [a for _, a, _ in everything],
            [u for _, _, u in everything],
            [c for c, _, _, _ in own_only],
            [a for _, a, _, _ in own_only],
            [u for _, _, u, _ in own_only],
            [s for _, _, _, s in own_only],
        )
        return int(count)

    async def expire(self, before_ts: int, undelivered_before_ts: int) -> int:
        with _storage_errors("expiring messages"):
            status = await self.pool.execute(
                "DELETE FROM messages WHERE ts < $2 OR (ts < $1 AND text IS NULL)",
                before_ts,
                undelivered_before_ts,
            )
        return _row_count(status)

    # -- invites --

    async def create_invite(self, code: str, uses: int, expires_at: int, created_at: int) -> bool:
        with _storage_errors("creating an invite"):
            return bool(
                await self.pool.fetchval(
                    "INSERT INTO invites (code, uses_left, expires_at, created_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                    code,
                    uses,
                    expires_at,
                    created_at,
                )
            )

    async def list_invites(self) -> list[InviteRecord]:
        with _storage_errors("listing invites"):
            rows = await self.pool.fetch(
                "SELECT code, uses_left, expires_at, created_at FROM invites"
                " ORDER BY created_at DESC, code"
            )
        return [InviteRecord(*row) for row in rows]

    async def revoke_invite(self, code: str) -> bool:
        with _storage_errors("revoking an invite"):
            status = await self.pool.execute("DELETE FROM invites WHERE code = $1", code)
        return _row_count(status) == 1

    # -- the directory epoch --

    def directory_epoch(self) -> int:
        if self._pool is None:
            raise StorageError("storage is not open")
        return self._epoch

    def _on_directory_notice(self, conn: object, pid: int, channel: str, payload: object) -> None:
        with contextlib.suppress(TypeError, ValueError):
            self._epoch = max(self._epoch, int(str(payload)))

    async def _listen(self) -> None:
        """(Re)connect the connection that listens for directory changes."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = None
        listener = await _connect(self.dsn, self._settings)
        with _storage_errors("listening for directory changes"):
            await listener.add_listener(DIRECTORY_CHANNEL, self._on_directory_notice)
        self._listener = listener

    async def _read_epoch(self) -> int:
        with _storage_errors("reading the directory epoch"):
            value = await self.pool.fetchval(
                "SELECT value FROM counters WHERE name = 'directory_epoch'"
            )
        return int(value)

    async def _watch_directory(self) -> None:
        while True:
            await asyncio.sleep(self.directory_refresh)
            try:
                await self._listen()
                self._epoch = max(self._epoch, await self._read_epoch())
            except StorageError as exc:
                log.warning("cannot read the directory epoch: %s", exc)

    # -- reads --

    async def get_clients(self, client_ids: Iterable[str]) -> dict[str, ClientRecord]:
        wanted = list(dict.fromkeys(client_ids))
        if not wanted:
            return {}
        with _storage_errors("reading clients"):
            rows = await self.pool.fetch(
                "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                " WHERE id = ANY($1::text[])",
                wanted,
            )
        return {row["id"]: _client_record(row) for row in rows}

    async def list_clients(self) -> list[ClientRecord]:
        with _storage_errors("listing clients"):
            rows = await self.pool.fetch(
                "SELECT id, display_name, secret_hash, created_at, disabled FROM clients"
                " ORDER BY created_at, id"
            )
        return [_client_record(row) for row in rows]

    async def get_groups(self, group_ids: Iterable[str]) -> dict[str, GroupRecord]:
        wanted = list(dict.fromkeys(group_ids))
        if not wanted:
            return {}
        with _storage_errors("reading groups"):
            async with self.pool.acquire() as conn:
                return await self._load_groups(conn, wanted)

    @staticmethod
    async def _load_groups(conn: Any, group_ids: list[str]) -> dict[str, GroupRecord]:
        heads = await conn.fetch(
            "SELECT id, name, created_by, created_at, description FROM groups"
            " WHERE id = ANY($1::text[])",
            group_ids,
        )
        members: dict[str, list[MemberRecord]] = {row["id"]: [] for row in heads}
        for row in await conn.fetch(
            "SELECT m.group_id, m.client_id, coalesce(c.display_name, '') AS name, m.admin,"
            " m.joined_at FROM members m LEFT JOIN clients c ON c.id = m.client_id"
            " WHERE m.group_id = ANY($1::text[]) ORDER BY m.joined_at, m.client_id",
            group_ids,
        ):
            if row["group_id"] in members:
                members[row["group_id"]].append(
                    MemberRecord(row["client_id"], row["name"], row["admin"], row["joined_at"])
                )
        return {
            row["id"]: GroupRecord(
                row["id"],
                row["name"],
                row["created_by"],
                row["created_at"],
                tuple(members[row["id"]]),
                row["description"],
            )
            for row in heads
        }

    async def pending_conversations(
        self, member: str, self_conversation: str
    ) -> list[tuple[str, int, int]]:
        # Oldest first by message id: ids are allocated as messages are stored, by every
        # node from one sequence (seqs do not compare across conversations).
        with _storage_errors("reading pending conversations"):
            rows = await self.pool.fetch(
                "SELECT k.conversation, k.delivered, w.first, w.count FROM markers k"
                " CROSS JOIN LATERAL (SELECT min(m.id) AS first, count(*) AS count"
                "     FROM messages m WHERE m.conversation = k.conversation"
                "     AND m.seq > k.delivered AND m.seq <= coalesce(k.left_at, $3)"
                "     AND (m.sender <> $1 OR k.conversation = $2) AND m.text IS NOT NULL) w"
                " WHERE k.member = $1 AND w.count > 0 ORDER BY w.first, k.conversation",
                member,
                self_conversation,
                NO_END,
            )
        return [(row["conversation"], row["delivered"], row["count"]) for row in rows]

    async def pending_messages(
        self, member: str, conversation: str, after: int, limit: int, *, own: bool = False
    ) -> list[StoredMessage]:
        with _storage_errors("reading pending messages"):
            rows = await self.pool.fetch(
                "SELECT m.id, m.seq, m.ts, m.sender, coalesce(c.display_name, '') AS name,"
                " m.text, m.kind, m.target, m.extra, m.files"
                " FROM messages m LEFT JOIN clients c ON c.id = m.sender"
                " WHERE m.conversation = $2 AND m.seq > $3 AND m.seq <= coalesce("
                "     (SELECT left_at FROM markers WHERE conversation = $2 AND member = $1), $6)"
                " AND (m.sender <> $1 OR $4) AND m.text IS NOT NULL ORDER BY m.seq LIMIT $5",
                member,
                conversation,
                after,
                own,
                limit,
                NO_END,
            )
        return [
            StoredMessage(
                row["id"],
                row["seq"],
                row["ts"],
                conversation,
                row["sender"],
                row["name"],
                row["text"],
                row["kind"],
                row["target"],
                None if row["extra"] is None else bytes(row["extra"]),
                row["files"],
            )
            for row in rows
        ]

    async def pending_notices(self, member: str, after: int, limit: int) -> list[StoredNotice]:
        with _storage_errors("reading group updates"):
            rows = await self.pool.fetch(
                "SELECT id, kind, actor, subject, group_id, ts FROM notices"
                " WHERE recipient = $1 AND id > $2 ORDER BY id LIMIT $3",
                member,
                after,
                limit,
            )
        return [StoredNotice(*row) for row in rows]

    async def count_notices(self, member: str) -> int:
        with _storage_errors("counting group updates"):
            count = await self.pool.fetchval(
                "SELECT count(*) FROM notices WHERE recipient = $1", member
            )
        return int(count)

    async def contacts_among(self, contact: str, owners: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(owners))
        if not wanted:
            return set()
        with _storage_errors("reading contacts"):
            rows = await self.pool.fetch(
                "SELECT owner FROM contacts WHERE contact = $1 AND owner = ANY($2::text[])",
                contact,
                wanted,
            )
        return {row["owner"] for row in rows}

    async def group_counts(self, client_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(client_ids))
        if not wanted:
            return {}
        with _storage_errors("counting groups"):
            rows = await self.pool.fetch(
                "SELECT client_id, count(*) AS count FROM members"
                " WHERE client_id = ANY($1::text[]) GROUP BY client_id",
                wanted,
            )
        counts = dict.fromkeys(wanted, 0)
        counts.update((row["client_id"], row["count"]) for row in rows)
        return counts

    async def groups_page(self, client_id: str, after: str | None, limit: int) -> list[GroupRecord]:
        with _storage_errors("reading groups"):
            async with self.pool.acquire() as conn:
                ids = [
                    row["group_id"]
                    for row in await conn.fetch(
                        "SELECT group_id FROM members WHERE client_id = $1 AND group_id > $2"
                        " ORDER BY group_id LIMIT $3",
                        client_id,
                        after or "",
                        limit,
                    )
                ]
                groups = await self._load_groups(conn, ids) if ids else {}
        return [groups[group_id] for group_id in ids if group_id in groups]

    async def pending_by_sender(self, member: str, self_conversation: str) -> dict[str, int]:
        with _storage_errors("counting pending messages"):
            rows = await self.pool.fetch(
                "SELECT m.sender, count(*) AS count FROM markers k JOIN messages m"
                " ON m.conversation = k.conversation AND m.seq > k.delivered"
                " AND m.seq <= coalesce(k.left_at, $3)"
                " AND (m.sender <> $1 OR k.conversation = $2) AND m.text IS NOT NULL"
                " WHERE k.member = $1 GROUP BY m.sender",
                member,
                self_conversation,
                NO_END,
            )
        return {row["sender"]: row["count"] for row in rows}

    async def direct_backlog(self, client_id: str) -> tuple[int, int]:
        with _storage_errors("counting direct messages"):
            row = await self.pool.fetchrow(
                "SELECT coalesce(sum((SELECT count(*) FROM messages m"
                "     WHERE m.conversation = me.conversation AND m.seq > me.delivered"
                "     AND m.sender <> $1 AND m.text IS NOT NULL)), 0) AS waiting_for,"
                " coalesce(sum((SELECT count(*) FROM messages m"
                "     WHERE m.conversation = me.conversation AND m.seq > other.delivered"
                "     AND m.sender = $1 AND m.text IS NOT NULL)), 0) AS waiting_from"
                " FROM markers me JOIN markers other ON other.conversation = me.conversation"
                " AND other.member <> me.member"
                " WHERE me.member = $1 AND me.conversation NOT LIKE 'G-%'",
                client_id,
            )
        assert row is not None
        return int(row["waiting_for"]), int(row["waiting_from"])

    async def marker_version(self) -> int:
        with _storage_errors("reading the marker version"):
            value = await self.pool.fetchval(
                "SELECT value FROM counters WHERE name = 'marker_version'"
            )
        return int(value)

    async def markers_changed(self, after: int, upto: int, limit: int) -> list[Marker]:
        with _storage_errors("reading markers"):
            rows = await self.pool.fetch(
                "SELECT conversation, member, delivered, read, version FROM markers"
                " WHERE version > $1 AND version <= $2 ORDER BY version LIMIT $3",
                after,
                upto,
                limit,
            )
        return [Marker(*row) for row in rows]

    async def receipts_since(self, member: str, version: int, limit: int) -> list[Marker]:
        with _storage_errors("reading receipts"):
            rows = await self.pool.fetch(
                "SELECT o.conversation, o.member, o.delivered, o.read, o.version"
                " FROM markers k JOIN markers o ON o.conversation = k.conversation"
                " WHERE k.member = $1 AND o.member <> k.member AND o.version > $2"
                " ORDER BY o.version LIMIT $3",
                member,
                version,
                limit,
            )
        return [Marker(*row) for row in rows]

    # -- conversation features --

    async def get_entry(self, conversation: str, seq: int) -> EntryRecord | None:
        with _storage_errors("reading an entry"):
            row = await self.pool.fetchrow(
                "SELECT m.sender, m.ts, m.kind, m.target, EXISTS (SELECT 1 FROM messages d"
                " WHERE d.conversation = m.conversation AND d.target = m.seq"
                " AND d.kind = 'delete') AS deleted"
                " FROM messages m WHERE m.conversation = $1 AND m.seq = $2",
                conversation,
                seq,
            )
        if row is None:
            return None
        return EntryRecord(
            conversation, seq, row["sender"], row["ts"], row["kind"], row["target"],
            row["deleted"],
        )  # fmt: skip

    async def conversation_exists(self, conversation: str) -> bool:
        with _storage_errors("reading markers"):
            found = await self.pool.fetchval(
                "SELECT true FROM markers WHERE conversation = $1 LIMIT 1", conversation
            )
        return bool(found)

    async def get_presence(self, client_ids: Iterable[str]) -> dict[str, PresenceRecord]:
        wanted = list(dict.fromkeys(client_ids))
        if not wanted:
            return {}
        with _storage_errors("reading presence"):
            rows = await self.pool.fetch(
                "SELECT client_id, visibility, last_seen FROM presence"
                " WHERE client_id = ANY($1::text[])",
                wanted,
            )
        return {row["client_id"]: PresenceRecord(*row) for row in rows}

    async def chat_partners(self, client_id: str) -> set[str]:
        with _storage_errors("reading chat partners"):
            rows = await self.pool.fetch(
                "SELECT a.contact AS partner FROM contacts a JOIN contacts b"
                " ON b.contact = a.owner AND b.owner = a.contact WHERE a.owner = $1"
                " UNION SELECT o.client_id FROM members m JOIN members o"
                " ON o.group_id = m.group_id WHERE m.client_id = $1 AND o.client_id <> $1",
                client_id,
            )
        return {row["partner"] for row in rows}

    # -- files --

    _UPLOAD_COLUMNS: Final = "id, uploader, sha256, size, name, mime, created_at"

    async def get_upload(self, upload_id: int) -> UploadRecord | None:
        with _storage_errors("reading an upload"):
            row = await self.pool.fetchrow(
                f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE id = $1", upload_id
            )
        return None if row is None else UploadRecord(*row)

    async def uploads_of(self, uploader: str) -> list[UploadRecord]:
        with _storage_errors("reading uploads"):
            rows = await self.pool.fetch(
                f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE uploader = $1"
                " ORDER BY created_at, id",
                uploader,
            )
        return [UploadRecord(*row) for row in rows]

    async def expired_uploads(self, created_before: int) -> list[UploadRecord]:
        with _storage_errors("reading uploads"):
            rows = await self.pool.fetch(
                f"SELECT {self._UPLOAD_COLUMNS} FROM uploads WHERE created_at < $1",
                created_before,
            )
        return [UploadRecord(*row) for row in rows]

    async def get_files(self, file_ids: Iterable[str]) -> dict[str, FileRecord]:
        wanted = list(dict.fromkeys(file_ids))
        if not wanted:
            return {}
        with _storage_errors("reading files"):
            rows = await self.pool.fetch(
                f"SELECT {self._UPLOAD_COLUMNS} FROM files WHERE id = ANY($1::text[])", wanted
            )
        return {row["id"]: FileRecord(*row) for row in rows}

    async def files_like(self, uploader: str, sha256: str, size: int) -> list[FileRecord]:
        with _storage_errors("reading files"):
            rows = await self.pool.fetch(
                f"SELECT {self._UPLOAD_COLUMNS} FROM files"
                " WHERE uploader = $1 AND sha256 = $2 AND size = $3 ORDER BY created_at, id",
                uploader,
                sha256,
                size,
            )
        return [FileRecord(*row) for row in rows]

    async def stored_bytes(self, uploader: str) -> int:
        with _storage_errors("reading files"):
            total = await self.pool.fetchval(
                "SELECT (SELECT coalesce(sum(size), 0) FROM files WHERE uploader = $1)"
                " + (SELECT coalesce(sum(size), 0) FROM uploads WHERE uploader = $1)",
                uploader,
            )
        return int(total)

    async def is_file_recipient(self, file_id: str, client_id: str) -> bool:
        with _storage_errors("reading files"):
            found = await self.pool.fetchval(
                "SELECT true FROM file_recipients WHERE file_id = $1 AND recipient = $2",
                file_id,
                client_id,
            )
        return bool(found)

    _DONE: Final = (
        "EXISTS (SELECT 1 FROM file_recipients r WHERE r.file_id = f.id)"
        " AND NOT EXISTS (SELECT 1 FROM file_recipients r"
        " LEFT JOIN markers m ON m.conversation = r.conversation AND m.member = r.recipient"
        " WHERE r.file_id = f.id AND (NOT r.downloaded OR m.delivered < r.seq))"
    )

    async def files_done(self, file_ids: Iterable[str] | None = None) -> list[str]:
        with _storage_errors("reading files"):
            if file_ids is None:
                rows = await self.pool.fetch(f"SELECT f.id FROM files f WHERE {self._DONE}")
            else:
                wanted = list(dict.fromkeys(file_ids))
                if not wanted:
                    return []
                rows = await self.pool.fetch(
                    f"SELECT f.id FROM files f WHERE f.id = ANY($1::text[]) AND {self._DONE}",
                    wanted,
                )
        return [row["id"] for row in rows]

    async def expired_files(self, created_before: int) -> list[str]:
        with _storage_errors("reading files"):
            rows = await self.pool.fetch(
                "SELECT id FROM files WHERE created_at < $1", created_before
            )
        return [row["id"] for row in rows]

    async def referenced_blobs(self, sha256s: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(sha256s))
        if not wanted:
            return set()
        with _storage_errors("reading files"):
            rows = await self.pool.fetch(
                "SELECT sha256 FROM files WHERE sha256 = ANY($1::text[])"
                " UNION SELECT sha256 FROM uploads WHERE sha256 = ANY($1::text[])",
                wanted,
            )
        return {row["sha256"] for row in rows}

    # -- moving a whole store (messenger-server export / import) --

    store: Final = "postgresql"
    seqs: Final = "per-conversation"

    async def export_rows(self) -> AsyncIterator[Row]:
        """Every row, as :mod:`.dump` writes them, read in one snapshot (nodes may run)."""
        with _storage_errors("exporting"):
            async with (
                self.pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                for table, columns in COLUMNS.items():
                    if table == "counters":
                        continue
                    query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}"
                    async for row in conn.cursor(query, prefetch=2000):
                        yield table, dict(row)
                counted = await conn.fetchrow(
                    "SELECT (SELECT last_value FROM event_ids) AS ids,"
                    " (SELECT value FROM counters WHERE name = 'marker_version') AS versions"
                )
                assert counted is not None
                for name, value in (
                    ("message_id", counted["ids"]),
                    ("event_id", counted["ids"]),
                    ("marker_version", counted["versions"]),
                ):
                    yield "counters", {"name": name, "value": value}

    async def import_rows(self, rows: AsyncIterator[Row], seqs: Seqs) -> None:
        """Fill this empty database with ``rows`` (see :mod:`.dump`) in one transaction;
        then every conversation's next seq comes after every seq and position imported,
        and ids and versions after every one imported."""
        with _storage_errors("importing"):
            async with self.pool.acquire() as conn, conn.transaction():
                await self._import(conn, rows)

    @staticmethod
    async def _import(conn: Any, rows: AsyncIterator[Row]) -> None:
        for table in STORED_TABLES:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise StorageError(f"the database is not empty: it has {table}")
        buffers: dict[str, list[tuple[Any, ...]]] = {}
        counters = {"message_id": 0, "event_id": 0, "marker_version": 0}

        async def flush(table: str) -> None:
            records = buffers.pop(table, [])
            if records:
                await conn.copy_records_to_table(table, records=records, columns=COLUMNS[table])

        async for table, row in rows:
            if table == "counters":
                if row["name"] in counters:
                    counters[row["name"]] = max(counters[row["name"]], int(row["value"]))
                continue
            buffer = buffers.setdefault(table, [])
            buffer.append(tuple(row[column] for column in COLUMNS[table]))
            if len(buffer) >= 5000:
                await flush(table)
        for table in list(buffers):
            await flush(table)
        # Every seq to come lies past every seq and position already known in its
        # conversation (SQLite numbers all conversations from one counter: they jump).
        await conn.execute(
            "INSERT INTO conversations AS c (id, last_seq)"
            " SELECT id, max(s) FROM ("
            "   SELECT conversation AS id, seq AS s FROM messages"
            "   UNION ALL SELECT conversation, greatest(delivered, read, coalesce(left_at, 0))"
            "   FROM markers) AS t GROUP BY id"
            " ON CONFLICT (id) DO UPDATE SET last_seq = greatest(c.last_seq, excluded.last_seq)"
        )
        await conn.execute(
            "SELECT setval('event_ids', greatest($1::bigint, $2::bigint,"
            " (SELECT max(id) FROM messages), (SELECT max(id) FROM notices), 1))",
            counters["message_id"],
            counters["event_id"],
        )
        await conn.execute(
            "UPDATE counters SET value = greatest($1::bigint, value,"
            " (SELECT max(version) FROM markers)) WHERE name = 'marker_version'",
            counters["marker_version"],
        )


def _row_count(status: str) -> int:
    """The number of rows in a command tag such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])

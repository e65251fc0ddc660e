"""A whole store in one file: ``messenger-server export FILE`` and ``import FILE``.

The file is JSON lines. The first line is a header::

    {"format": "messenger-dump", "version": 1, "store": "sqlite", "seqs": "global", ...}

and every other line one row, ``[table, {column: value}]``, with the tables and columns of
:data:`COLUMNS` (bytes as hex). It holds every identity (with its credential hash and
whether it is disabled), contact, presence setting and last-seen time, group (with its
description) and member (with whether an admin), invite, every entry of every conversation
log still stored (messages, and the edits, deletions and reactions that refer to one by
seq, with their extras: reply, forward, mentions; waiting ones with their text, delivered
ones without, which keeps their idempotency keys and what a later edit may refer to), every
marker (delivered and read positions, versions, former members), the files (stored ones,
unfinished uploads, who may download each and who has), the group updates not yet
acknowledged (one row per recipient), and the ``counters``: the highest message id, group
update id and marker version ever given out, so that the importing store never gives one
out again. The files' bytes are not in it: they are in the blob store (``blob_dir``), which
is copied as a folder (``docs/admin.md``).

Every table and column of both schemas is either in the dump or named in
:data:`NOT_MOVED` with the reason (``tests/test_dump.py`` holds both schemas to that).

Each repository reads and writes these rows (``export_rows``, ``import_rows``); a store
that receives them must be empty. Seqs are the one thing the stores number differently:
SQLite numbers every message of every conversation from one counter (``"seqs":
"global"``), PostgreSQL each conversation on its own (``"per-conversation"``). A SQLite
dump goes into PostgreSQL as it is (its seqs grow within each conversation, which is all
PostgreSQL needs, and the next seqs continue after them); a PostgreSQL dump cannot go into
SQLite, whose seqs must be message ids.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TextIO, runtime_checkable

from messenger_server.repository.base import StorageError

FORMAT: Final = "messenger-dump"
VERSION: Final = 1

Seqs = Literal["global", "per-conversation"]
Row = tuple[str, dict[str, Any]]

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "clients": ("id", "secret_hash", "display_name", "created_at", "disabled"),
    "presence": ("client_id", "visibility", "last_seen"),
    "groups": ("id", "name", "created_by", "created_at", "description"),
    "members": ("group_id", "client_id", "admin", "joined_at"),
    "contacts": ("owner", "contact"),
    "invites": ("code", "uses_left", "expires_at", "created_at"),
    "conversations": ("id", "last_seq"),
    "messages": (
        "id",
        "conversation",
        "seq",
        "sender",
        "key",
        "ts",
        "text",
        "kind",
        "target",
        "extra",
        "files",
    ),
    "markers": ("conversation", "member", "delivered", "read", "version", "left_at"),
    "uploads": ("id", "uploader", "sha256", "size", "name", "mime", "created_at"),
    "files": ("id", "uploader", "sha256", "size", "name", "mime", "created_at"),
    "file_recipients": ("file_id", "recipient", "conversation", "seq", "downloaded"),
    "notices": ("recipient", "id", "kind", "actor", "subject", "group_id", "ts"),
    "counters": ("name", "value"),
}
"""Every table of a dump, in the order they are written, and its columns.
``conversations`` (each one's last seq) only comes from a store that keeps it;
``counters`` holds ``message_id``, ``event_id`` and ``marker_version``."""
STORED_TABLES: Final = tuple(t for t in COLUMNS if t not in ("conversations", "counters"))
"""The tables of :data:`COLUMNS` that both stores have under that name: a store to import
into must have none of their rows."""
BYTES: Final = {("clients", "secret_hash"), ("messages", "extra")}
"""Columns that hold bytes (written as hex; null stays null)."""

NOT_MOVED: Final[dict[str, dict[tuple[str, str], str]]] = {
    "sqlite": {
        ("meta", "name"): "its id_ceiling is written as the counters",
        ("meta", "value"): "its id_ceiling is written as the counters",
        ("pending_notices", "recipient"): "written as the recipient of each notices row",
        ("pending_notices", "event_id"): "written as the id of each notices row",
    },
    "postgresql": {
        ("messenger_schema", "version"): "the schema's own version: migrate writes it",
        ("messenger_schema", "applied_at"): "the schema's own history: migrate writes it",
    },
}
"""The columns of each store's schema that are not a column of :data:`COLUMNS` under the
same name, and why nothing is lost. Of the counters, ``directory_epoch`` is not moved: it
only tells running servers to reload the clients they cached, and starts again with the new
store."""


@runtime_checkable
class Transferable(Protocol):
    """A repository that can be exported and imported."""

    store: str
    seqs: Seqs

    def export_rows(self) -> AsyncIterator[Row]:
        """Every row, table after table in the order of :data:`COLUMNS`."""

    async def import_rows(self, rows: AsyncIterator[Row], seqs: Seqs) -> None:
        """Fill the (empty) store with ``rows``, numbered as ``seqs`` says, in one
        transaction.

        Raises:
            StorageError: the store is not empty, or cannot take these rows.
        """


async def export(repository: Transferable, path: Path) -> dict[str, int]:
    """Write everything ``repository`` holds to ``path`` (replaced only once complete,
    readable by its owner only); returns how many rows of each table."""
    counts = dict.fromkeys(COLUMNS, 0)
    partial = path.with_name(path.name + ".partial")
    try:
        with _create(partial) as file:
            header = {
                "format": FORMAT,
                "version": VERSION,
                "store": repository.store,
                "seqs": repository.seqs,
                "exported_at": time.time_ns() // 1_000_000,
            }
            file.write(json.dumps(header) + "\n")
            async for table, row in repository.export_rows():
                values = {
                    column: value.hex() if (table, column) in BYTES and value is not None else value
                    for column, value in row.items()
                }
                file.write(json.dumps([table, values], ensure_ascii=False) + "\n")
                counts[table] += 1
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return counts


def _create(path: Path) -> TextIO:
    """A new file readable by its owner only (it holds credential hashes and messages).
    The command line's: it blocks."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(descriptor, "w", encoding="utf-8")


def read_header(path: Path) -> dict[str, Any]:
    """The header of the dump at ``path``.

    Raises:
        StorageError: it is not a dump this version can read.
    """
    try:
        with path.open(encoding="utf-8") as file:
            header = json.loads(file.readline() or "null")
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: cannot read the dump: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StorageError(f"{path}: not a messenger-server dump")
    if header.get("version") != VERSION:
        raise StorageError(
            f"{path}: dump version {header.get('version')!r}; this server reads {VERSION}"
        )
    if header.get("seqs") not in ("global", "per-conversation"):
        raise StorageError(f"{path}: the header does not say how seqs are numbered")
    return header


def _rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as file:
        file.readline()
        for number, line in enumerate(file, start=2):
            try:
                table, values = json.loads(line)
                columns = COLUMNS[table]
                row = {column: values[column] for column in columns}
            except (ValueError, KeyError, TypeError) as exc:
                raise StorageError(f"{path}, line {number}: not a row of a dump ({exc})") from exc
            for column in columns:
                if (table, column) in BYTES and row[column] is not None:
                    row[column] = bytes.fromhex(row[column])
            yield table, row


async def import_(repository: Transferable, path: Path) -> dict[str, int]:
    """Fill the empty ``repository`` with the dump at ``path``; returns how many rows of
    each table.

    Raises:
        StorageError: not a dump, the store is not empty, or it cannot take these rows.
    """
    header = read_header(path)
    counts = dict.fromkeys(COLUMNS, 0)

    async def rows() -> AsyncIterator[Row]:
        for table, row in _rows(path):
            counts[table] += 1
            yield table, row

    await repository.import_rows(rows(), header["seqs"])
    return counts

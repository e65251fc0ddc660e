"""The files of messages (``docs/protocol.md`` section 11): what each one is, where its bytes
are on this disk, and how far its transfer got. Part of
:class:`~messenger_gui.storage.ClientStore`.

A row of ``message_files`` per file of a message, by ``(local_id, position)``. Its
``state`` says what happens to it next:

* an outgoing file is ``upload`` (its copy in the profile's outbox is to be uploaded) and
  then ``uploaded`` (the server gave its ``file_id``; the message can be sent);
* an incoming file is ``remote`` (on the server only), ``download`` (wanted: it is being
  downloaded, or will be after the next login), ``done`` (checked and stored at ``path``)
  or ``failed`` (``error`` says why: the server no longer has it, or it never matched its
  SHA-256).

The transfers themselves are :mod:`messenger_gui.transfers`; this module only stores.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from messenger_gui.storage.records import OutgoingMessage, StoredMessage, now_ms
from messenger_gui.storage.schema import StoreBase, _index_for_search
from messenger_gui.storage.search import _search_text
from messenger_server import protocol

FileState = Literal["upload", "uploaded", "remote", "download", "done", "failed"]

_FILE_COLUMNS: Final = (
    "f.local_id, f.position, f.name, f.size, f.mime, f.sha256, f.file_id, f.thumbnail, "
    "f.path, f.state, f.error, m.conversation, m.direction"
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file of a message. ``name`` is as the sender gave it (show it as plain text;
    :func:`messenger_gui.filenames.safe_file_name` before any path use). ``path`` is the
    local copy: for an outgoing file its copy in the outbox, for an incoming one the
    downloaded file once its SHA-256 was checked (``None`` before)."""

    local_id: int
    position: int
    name: str
    size: int
    mime: str
    sha256: str
    file_id: str | None
    thumbnail: str | None
    """Base64 of the sender's small JPEG or PNG, or ``None``: decode it with limits."""
    path: str | None
    state: FileState
    error: str | None
    conversation: str
    direction: Literal["in", "out"]

    @property
    def key(self) -> tuple[int, int]:
        return self.local_id, self.position

    @property
    def is_image(self) -> bool:
        """Whether the sender says it is an image (a claim: decode it with limits)."""
        return self.mime.startswith("image/")


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to attach to an outgoing message, already copied into the outbox."""

    name: str
    size: int
    mime: str
    sha256: str
    path: str
    thumbnail: str | None = None


def attachment_lines(names: Iterable[str]) -> str:
    """What a message with files and no caption says as text: ``📎 name`` per file, as the
    server writes it for clients that do not show files (``docs/protocol.md`` 11.6.3)."""
    return "\n".join(f"\N{PAPERCLIP} {name}" for name in names)


def caption_of(text: str, names: Iterable[str]) -> str:
    """The caption of a message with files whose stored ``text`` is ``text``: empty when
    the text is only the ``📎 name`` lines."""
    return "" if text == attachment_lines(names) else text


def _file(row: Sequence[object]) -> StoredFile:
    return StoredFile(*row)  # type: ignore[arg-type]


def _files_search_text(text: str, names: Sequence[str]) -> str | None:
    """The search index's text for a message with files: its text and every file name
    (once), so that a search for a file name finds the message."""
    missing = [name for name in names if name not in text]
    if not missing:
        return _search_text(text)
    full = "\n".join([text, *missing])
    return _search_text(full) or full


class FilesMixin(StoreBase):
    """The files of messages, for :class:`~messenger_gui.storage.ClientStore`."""

    def queue_outgoing_files(
        self, conversation: str, is_group: bool, caption: str, files: Sequence[NewFile]
    ) -> OutgoingMessage:
        """Put a message with ``files`` (copied into the outbox already) and an optional
        ``caption`` in the outbox, in one transaction. Its text is the caption, or the
        ``📎 name`` lines when there is none (what an older client shows). The files are
        ``upload``: the client uploads them, then sends the message.

        Raises:
            ValueError: no files or too many, an oversize caption, or a conversation ID of
                the wrong kind.
        """
        pattern = protocol.GROUP_ID_PATTERN if is_group else protocol.CLIENT_ID_PATTERN
        if not re.fullmatch(pattern, conversation):
            raise ValueError(f"{conversation!r} is not a {'group' if is_group else 'client'} ID")
        if not 1 <= len(files) <= protocol.MAX_FILES_PER_MESSAGE:
            raise ValueError(f"a message carries 1 to {protocol.MAX_FILES_PER_MESSAGE} files")
        caption = caption.strip()
        text = caption or attachment_lines(f.name for f in files)
        if len(text.encode("utf-8")) > protocol.MAX_TEXT_BYTES:
            raise ValueError(f"the caption is longer than {protocol.MAX_TEXT_BYTES} bytes")
        key = uuid.uuid4().hex
        ts = now_ms()
        search = _files_search_text(text, [f.name for f in files])
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (conversation, is_group, direction, text, search_text, "
                "ts, key, status) VALUES (?, ?, 'out', ?, ?, ?, ?, 'queued')",
                (conversation, int(is_group), text, search, ts, key),
            )
            local_id = cursor.lastrowid
            assert local_id is not None
            conn.executemany(
                "INSERT INTO message_files (local_id, position, name, size, mime, sha256, "
                "thumbnail, path, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'upload')",
                [
                    (local_id, n, f.name, f.size, f.mime, f.sha256, f.thumbnail, f.path)
                    for n, f in enumerate(files)
                ],
            )
            if self._fts:
                _index_for_search(conn, local_id, local_id, now=True)
        return OutgoingMessage(local_id, conversation, is_group, text, key, ts, "queued")

    def message_files(self, local_id: int) -> list[StoredFile]:
        """The files of message ``local_id`` in order (none for a plain text)."""
        return self.files_of([local_id]).get(local_id, [])

    def files_of(self, local_ids: Iterable[int]) -> dict[int, list[StoredFile]]:
        """The files of each of ``local_ids`` that has any, in order (for a page of the
        chat or of the outbox: one query)."""
        rows = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM message_files f JOIN messages m USING (local_id) "
            "WHERE f.local_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY f.local_id, f.position",
            (json.dumps(list(local_ids)),),
        ).fetchall()
        found: dict[int, list[StoredFile]] = {}
        for row in rows:
            stored = _file(row)
            found.setdefault(stored.local_id, []).append(stored)
        return found

    def file(self, local_id: int, position: int) -> StoredFile | None:
        """One file, or ``None``."""
        row = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM message_files f JOIN messages m USING (local_id) "
            "WHERE f.local_id = ? AND f.position = ?",
            (local_id, position),
        ).fetchone()
        return None if row is None else _file(row)

    def files_to_upload(self) -> list[StoredFile]:
        """Outgoing files still to upload, of queued messages not refused for good,
        oldest message first."""
        rows = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM message_files f JOIN messages m USING (local_id) "
            "WHERE f.state = 'upload' AND m.status = 'queued' "
            "AND f.local_id NOT IN (SELECT local_id FROM send_failures) "
            "ORDER BY f.local_id, f.position"
        ).fetchall()
        return [_file(row) for row in rows]

    def files_to_download(self) -> list[StoredFile]:
        """Incoming files wanted and not downloaded yet, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM message_files f JOIN messages m USING (local_id) "
            "WHERE f.state = 'download' ORDER BY f.local_id, f.position"
        ).fetchall()
        return [_file(row) for row in rows]

    def set_file_uploaded(self, local_id: int, position: int, file_id: str) -> None:
        """The server stored the file as ``file_id``: the message can now be sent."""
        with self._write() as conn:
            conn.execute(
                "UPDATE message_files SET state = 'uploaded', file_id = ?, error = NULL "
                "WHERE local_id = ? AND position = ?",
                (file_id, local_id, position),
            )

    def upload_again(self, local_id: int) -> bool:
        """Upload every file of the queued message ``local_id`` again (the server no longer
        has them: they expired before the message was sent). Returns whether it had any."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE message_files SET state = 'upload', file_id = NULL "
                "WHERE local_id = ? AND state = 'uploaded'",
                (local_id,),
            )
        return cursor.rowcount > 0

    def set_file_state(
        self,
        local_id: int,
        position: int,
        state: FileState,
        *,
        path: str | None = None,
        error: str | None = None,
        only_from: Sequence[FileState] = (),
    ) -> bool:
        """Move an incoming file to ``state`` (``download`` to want it, ``remote`` to stop,
        ``done`` with its ``path``, ``failed`` with an ``error`` code). With ``only_from``,
        only a file in one of those states moves. Returns whether it moved."""
        query = (
            "UPDATE message_files SET state = ?, path = COALESCE(?, path), error = ? "
            "WHERE local_id = ? AND position = ?"
        )
        params: list[object] = [state, path, error, local_id, position]
        if only_from:
            query += " AND state IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(only_from)))
        with self._write() as conn:
            cursor = conn.execute(query, params)
        return cursor.rowcount > 0

    def want_downloads(self, keys: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Mark the files ``(local_id, position)`` that are ``remote`` or ``failed`` as
        wanted (``download``); returns those that moved."""
        moved = []
        with self._write() as conn:
            for local_id, position in keys:
                cursor = conn.execute(
                    "UPDATE message_files SET state = 'download', error = NULL "
                    "WHERE local_id = ? AND position = ? AND state IN ('remote', 'failed')",
                    (local_id, position),
                )
                if cursor.rowcount:
                    moved.append((local_id, position))
        return moved


def _conversation_files(conn: sqlite3.Connection, conversation: str) -> dict[int, list[StoredFile]]:
    """The files of every message of ``conversation``, by ``local_id`` (for the export)."""
    found: dict[int, list[StoredFile]] = {}
    for row in conn.execute(
        f"SELECT {_FILE_COLUMNS} FROM message_files f JOIN messages m USING (local_id) "
        "WHERE m.conversation = ? ORDER BY f.local_id, f.position",
        (conversation,),
    ):
        stored = _file(row)
        found.setdefault(stored.local_id, []).append(stored)
    return found


def _local_copy(item: StoredFile) -> str | None:
    """The ``file:`` URL of a file's copy on this disk, when there is one."""
    if item.path is None or (item.direction == "in" and item.state != "done"):
        return None
    return Path(item.path).resolve().as_uri()


def _store_incoming_files(
    conn: sqlite3.Connection,
    messages: Sequence[protocol.Message],
    received: Sequence[StoredMessage],
) -> None:
    """Store the files of the messages just stored (``received``, new ones only), in the
    caller's transaction, ``remote``; and add their names to the search index's text."""
    by_id = {m.message_id: m for m in messages if m.files}
    if not by_id:
        return
    rows = []
    for stored in received:
        message = by_id.get(stored.message_id)  # type: ignore[arg-type]
        if message is None or not message.files:
            continue
        names = [f.name for f in message.files]
        rows += [
            (
                stored.local_id,
                n,
                f.name,
                f.size,
                f.mime,
                f.sha256,
                f.file_id,
                f.thumbnail,
            )
            for n, f in enumerate(message.files)
        ]
        search = _files_search_text(stored.text, names)
        if search is not None:
            conn.execute(
                "UPDATE messages SET search_text = ? WHERE local_id = ?", (search, stored.local_id)
            )
    conn.executemany(
        "INSERT OR IGNORE INTO message_files (local_id, position, name, size, mime, sha256, "
        "file_id, thumbnail, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'remote')",
        rows,
    )

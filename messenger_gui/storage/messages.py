"""The message history: storing incoming messages, the outbox and our messages' progress,
and reading the history page by page."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from messenger_gui.storage.markers import _update_statuses
from messenger_gui.storage.records import OutgoingMessage, SendFailure, StoredMessage, now_ms
from messenger_gui.storage.schema import (
    _MESSAGE_COLUMNS,
    _ORDER_KEY,
    _QUEUED_LAST,
    StoreBase,
    _conversation_of,
    _index_for_search,
    _message,
    _outgoing,
)
from messenger_gui.storage.search import _search_text
from messenger_server import protocol

log = logging.getLogger(__name__)


class MessagesMixin(StoreBase):
    """The message history of :class:`~messenger_gui.storage.ClientStore`."""

    # --- incoming messages ---

    def save_message_to_history(self, message: protocol.Message) -> bool:
        """Store an incoming message; returns False when its ``message_id`` was already
        stored (a redelivery: do not show it again, but acknowledge it again)."""
        return bool(self.save_messages_to_history([message]))

    def save_messages_to_history(self, messages: Iterable[protocol.Message]) -> list[StoredMessage]:
        """Store a batch of incoming messages (a backlog page) in one transaction.

        Returns the messages that were new, as stored (with their ``local_id``), in the
        given order; acknowledge all of them (new or not) once this returns.
        """
        batch = list(messages)
        if not batch:
            return []
        with self._write() as conn:
            return _store_incoming(conn, batch, index=True if self._fts else None)

    # --- outbox and outgoing status ---

    def queue_outgoing(
        self,
        conversation: str,
        is_group: bool,
        text: str,
        *,
        reply_to: protocol.ReplyTo | None = None,
        forwarded_from: protocol.Forwarded | None = None,
        mentions: Sequence[str] = (),
    ) -> OutgoingMessage:
        """Put a new message in the outbox with a fresh idempotency key; ``reply_to`` (the
        message it answers), ``forwarded_from`` (who wrote it) and ``mentions`` (client IDs
        of group members the text mentions) are sent with it.

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
                "ts, key, status, reply_seq, reply_sender, forwarded_name, forwarded_sender) "
                "VALUES (?, ?, 'out', ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (
                    conversation,
                    int(is_group),
                    text,
                    _search_text(text),
                    ts,
                    key,
                    *_reply_columns(reply_to),
                    *_forwarded_columns(forwarded_from),
                ),
            )
            assert cursor.lastrowid is not None
            if self._fts:
                _index_for_search(conn, cursor.lastrowid, cursor.lastrowid, now=True)
            if mentions and is_group:
                conn.execute(
                    "INSERT INTO outgoing_mentions (local_id, client_ids) VALUES (?, ?)",
                    (cursor.lastrowid, json.dumps(list(dict.fromkeys(mentions)))),
                )
        return OutgoingMessage(
            cursor.lastrowid,
            conversation,
            is_group,
            text,
            key,
            ts,
            "queued",
            *_reply_columns(reply_to),
            *_forwarded_columns(forwarded_from),
        )

    def outgoing_mentions(self, local_id: int) -> list[str]:
        """The client IDs a queued group message mentions (sent as its ``mentions``)."""
        row = self._conn.execute(
            "SELECT client_ids FROM outgoing_mentions WHERE local_id = ?", (local_id,)
        ).fetchone()
        return [] if row is None else [str(c) for c in json.loads(row[0])]

    def outbox(self, *, after_local_id: int = 0, limit: int = -1) -> list[OutgoingMessage]:
        """Queued messages still to send, oldest first: send them in this order. Messages
        the server refused for good (:meth:`mark_failed`) are left out until retried.
        Page with ``after_local_id`` (the last one returned) and ``limit`` (-1: all)."""
        rows = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE status = 'queued' "
            "AND local_id > ? AND local_id NOT IN (SELECT local_id FROM send_failures) "
            "ORDER BY local_id LIMIT ?",
            (after_local_id, limit),
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
            marked = _mark_sent(conn, key, message_id, seq, ts)
            if marked is None:
                return False
            _update_statuses(conn, marked[1], me)
        return True

    def latest_seq(self, conversation: str) -> int | None:
        """The highest ``seq`` stored in ``conversation`` (either direction): the
        ``up_to`` to confirm once the user has seen the whole chat."""
        row = self._conn.execute(
            f"SELECT seq FROM messages WHERE conversation = ? AND {_ORDER_KEY} < ? "
            f"ORDER BY {_ORDER_KEY} DESC LIMIT 1",
            (conversation, _QUEUED_LAST),
        ).fetchone()
        return None if row is None else int(row[0])

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

    def first_unread(self, conversation: str) -> StoredMessage | None:
        """The oldest incoming message after the read marker (where "N new messages"
        goes), or ``None`` when everything is read."""
        row = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
            "AND direction = 'in' AND sender IS NOT NULL AND seq > COALESCE((SELECT "
            "read_up_to_seq FROM read_markers WHERE conversation = ?), -1) ORDER BY seq LIMIT 1",
            (conversation, conversation),
        ).fetchone()
        return None if row is None else _message(row)

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


def _reply_columns(reply_to: protocol.ReplyTo | msgspec.UnsetType | None) -> tuple[Any, Any]:
    if isinstance(reply_to, protocol.ReplyTo):
        return reply_to.seq, reply_to.sender
    return None, None


def _forwarded_columns(
    forwarded: protocol.Forwarded | msgspec.UnsetType | None,
) -> tuple[Any, Any]:
    if isinstance(forwarded, protocol.Forwarded):
        return forwarded.name, forwarded.sender
    return None, None


def _store_incoming(
    conn: sqlite3.Connection,
    batch: Sequence[protocol.Message],
    *,
    index: bool | None,
) -> list[StoredMessage]:
    """Insert the messages of ``batch`` not stored yet (by ``message_id``), in one statement,
    in the caller's transaction; returns them as stored rows, in order. ``index``: put them
    in the search index now (True), later (False: ``search_pending``), or not at all
    (``None``: this SQLite has no search index)."""
    ids = [m.message_id for m in batch]
    known = {
        row[0]
        for row in conn.execute(
            "SELECT message_id FROM messages WHERE message_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
    }
    fresh: list[protocol.Message] = []
    for message in batch:
        if message.message_id not in known:
            known.add(message.message_id)
            fresh.append(message)
    if not fresh:
        return []
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
                *_reply_columns(m.reply_to),
                *_forwarded_columns(m.forwarded_from),
            )
        )
    # Staged in a temporary table, then one INSERT for the whole batch: FTS5 flushes its
    # pending index at every statement boundary, so executemany straight into ``messages``
    # would cost ~15 µs per row.
    conn.executemany(
        "INSERT INTO temp.incoming_batch VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    cursor = conn.execute(
        "INSERT INTO messages (conversation, is_group, direction, sender, "
        "sender_name, text, search_text, ts, seq, message_id, status, reply_seq, "
        "reply_sender, forwarded_name, forwarded_sender) "
        "SELECT conversation, is_group, 'in', sender, sender_name, text, search_text, "
        "ts, seq, message_id, 'received', reply_seq, reply_sender, forwarded_name, "
        "forwarded_sender FROM temp.incoming_batch ORDER BY rowid"
    )
    conn.execute("DELETE FROM temp.incoming_batch")
    # One statement under the write lock: AUTOINCREMENT numbered the rows consecutively,
    # in the order given, ending at the last rowid. No reading back.
    last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
    if cursor.rowcount != len(fresh):  # pragma: no cover - SQLite guarantees it
        raise RuntimeError(f"{cursor.rowcount} rows inserted, {len(fresh)} expected")
    first = last - len(fresh) + 1
    if index is not None:
        _index_for_search(conn, first, last, now=index)
    return [
        StoredMessage(
            local_id=first + n,
            conversation=row[0],
            is_group=bool(row[1]),
            direction="in",
            sender=row[2],
            sender_name=row[3],
            text=row[4],
            ts=row[6],
            seq=row[7],
            message_id=row[8],
            key=None,
            status="received",
            reply_seq=row[9],
            reply_sender=row[10],
            forwarded_name=row[11],
            forwarded_sender=row[12],
            # The quote is resolved when the message is read back (pages, events).
        )
        for n, row in enumerate(rows)
    ]


def _mark_sent(
    conn: sqlite3.Connection, key: str, message_id: int, seq: int, ts: int
) -> tuple[int, str] | None:
    """Record the ``sent`` reply for ``key`` in the caller's transaction (the ticks are
    then moved by ``_update_statuses``); ``(local_id, conversation)``, or ``None`` for an
    unknown key or one already marked."""
    row = conn.execute(
        "SELECT local_id, conversation, message_id FROM messages "
        "WHERE key = ? AND direction = 'out'",
        (key,),
    ).fetchone()
    if row is None or row[2] is not None:
        return None
    local_id, conversation, _ = row
    # Our own message pushed back to us (another session) before this reply.
    conn.execute("DELETE FROM messages WHERE message_id = ? AND direction = 'in'", (message_id,))
    conn.execute(
        "UPDATE messages SET message_id = ?, seq = ?, ts = ?, status = 'sent' WHERE local_id = ?",
        (message_id, seq, ts, local_id),
    )
    # Stored after all (a retry with the same key raced a refusal): not failed.
    conn.execute("DELETE FROM send_failures WHERE local_id = ?", (local_id,))
    return local_id, conversation

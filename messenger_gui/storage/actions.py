"""Edits, deletions and reactions (protocol section 12) applied to the stored history.

Received ones (``edited``, ``deleted``, ``reacted`` entries) are applied by
:func:`_apply_entries` inside the transaction that stores their chunk. Ours are applied at
once, optimistically, and wait in the on-disk outbox (``outbox_entries``) for the server's
``sent``; the client core sends them after every login with the same key. When the server
refuses one for good, :meth:`ActionsMixin.entry_refused` restores what it changed.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from messenger_gui.storage.records import EntryKind, EntryRefused, OutgoingEntry, now_ms
from messenger_gui.storage.schema import _NOT_SYSTEM_LINE, _ORDER_KEY, StoreBase
from messenger_gui.storage.search import _search_text
from messenger_server import protocol

Entry = protocol.Edited | protocol.Deleted | protocol.Reacted


class ActionsMixin(StoreBase):
    """Our edits, deletions and reactions, for :class:`~messenger_gui.storage.ClientStore`."""

    def queue_edit(self, local_id: int, text: str) -> OutgoingEntry:
        """Replace the text of our message ``local_id`` now (marked edited) and queue the
        ``edit`` for the server. It is on disk when this returns.

        Raises:
            ValueError: blank or oversize text; not our message, not sent yet, or deleted.
        """
        if not text.strip():
            raise ValueError("message text must not be blank")
        if len(text.encode("utf-8")) > protocol.MAX_TEXT_BYTES:
            raise ValueError(f"message text is longer than {protocol.MAX_TEXT_BYTES} bytes")
        with self._write() as conn:
            row = _target(conn, local_id)
            if row["direction"] != "out":
                raise ValueError("only one's own messages can be edited")
            undo = {"text": row["text"], "edited_seq": row["edited_seq"]}
            conn.execute(
                "UPDATE messages SET text = ?, search_text = ?, "
                "edited_seq = COALESCE(edited_seq, 0) WHERE local_id = ?",
                (text, _search_text(text), local_id),
            )
            return _queue(conn, "edit", row, undo, text=text)

    def queue_delete(self, local_id: int) -> OutgoingEntry:
        """Delete message ``local_id`` for everyone: its text is forgotten here now (the
        placeholder shows) and the ``delete`` is queued. Whether we may (our message, or a
        group admin) is the caller's decision; the server checks it too.

        Raises:
            ValueError: not sent yet (delete it from the outbox instead), or deleted already.
        """
        with self._write() as conn:
            row = _target(conn, local_id)
            undo = {"text": row["text"], "edited_seq": row["edited_seq"], "deleted": row["deleted"]}
            _forget(conn, local_id, "everyone")
            return _queue(conn, "delete", row, undo)

    def queue_react(
        self, local_id: int, emoji: str, on: bool, *, me: str, name: str
    ) -> OutgoingEntry:
        """Set (``on``) or take back our reaction ``emoji`` to message ``local_id`` now,
        and queue the ``react``. ``me``/``name``: our client ID and display name.

        Raises:
            ValueError: not an emoji; the message is not sent yet, or deleted.
        """
        protocol.check_emoji(emoji)
        with self._write() as conn:
            row = _target(conn, local_id)
            old = conn.execute(
                "SELECT emoji FROM reactions WHERE local_id = ? AND member = ?", (local_id, me)
            ).fetchone()
            undo = {"emoji": None if old is None else old[0], "member": me, "name": name}
            _set_reaction(
                conn, local_id, me, name, emoji if on else None, None, only_if=None if on else emoji
            )
            return _queue(conn, "react", row, undo, emoji=emoji, on=on)

    def delete_for_me(self, local_id: int) -> str | None:
        """Forget the text of message ``local_id`` here only (the others keep theirs):
        the placeholder shows and search no longer finds it. Returns its conversation,
        or ``None`` when there is no such message or it is deleted already."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT conversation FROM messages WHERE local_id = ? AND deleted IS NULL",
                (local_id,),
            ).fetchone()
            if row is None:
                return None
            _forget(conn, local_id, "me")
            conn.execute("DELETE FROM reactions WHERE local_id = ?", (local_id,))
        return str(row[0])

    def outbox_entries(self) -> list[OutgoingEntry]:
        """Our edits, deletions and reactions not answered yet, oldest first: send them in
        this order, each with its own key."""
        rows = self._conn.execute(
            "SELECT e.entry_id, e.key, e.kind, e.target, m.seq, m.conversation, m.is_group, "
            "e.text, e.emoji, e.on_ FROM outbox_entries e JOIN messages m "
            "ON m.local_id = e.target ORDER BY e.entry_id"
        ).fetchall()
        return [_entry(row) for row in rows]

    def entry_refused(self, key: str, code: str) -> EntryRefused | None:
        """The server refused our entry ``key`` for good (``code``, an error code): drop it
        from the outbox and restore what it changed here, unless the message was deleted
        meanwhile (``message_deleted``: a deletion refused so is done already). Returns
        ``None`` for an unknown key."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT e.kind, e.target, e.undo, m.conversation, m.deleted FROM outbox_entries e "
                "JOIN messages m ON m.local_id = e.target WHERE e.key = ?",
                (key,),
            ).fetchone()
            if row is None:
                return None
            kind, target, encoded, conversation, deleted = row
            conn.execute("DELETE FROM outbox_entries WHERE key = ?", (key,))
            undo = json.loads(encoded)
            restored = code != protocol.ErrorCode.MESSAGE_DELETED
            if restored and kind == "edit" and deleted is None:
                conn.execute(
                    "UPDATE messages SET text = ?, search_text = ?, edited_seq = ? "
                    "WHERE local_id = ?",
                    (undo["text"], _search_text(undo["text"]), undo["edited_seq"], target),
                )
            elif restored and kind == "delete" and deleted == "everyone":
                conn.execute(
                    "UPDATE messages SET text = ?, search_text = ?, edited_seq = ?, deleted = ? "
                    "WHERE local_id = ?",
                    (
                        undo["text"],
                        _search_text(undo["text"]),
                        undo["edited_seq"],
                        undo["deleted"],
                        target,
                    ),
                )
            elif restored and kind == "react" and deleted is None:
                _set_reaction(
                    conn, target, undo["member"], undo["name"], undo["emoji"], None, only_if=None
                )
            else:
                restored = False
        return EntryRefused(conversation, target, kind, restored)


def _target(conn: sqlite3.Connection, local_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT local_id, conversation, is_group, direction, text, seq, edited_seq, deleted "
        "FROM messages WHERE local_id = ?",
        (local_id,),
    ).fetchone()
    if row is None:
        raise ValueError(f"no message {local_id}")
    names = (
        "local_id",
        "conversation",
        "is_group",
        "direction",
        "text",
        "seq",
        "edited_seq",
        "deleted",
    )
    found = dict(zip(names, row, strict=True))
    if found["seq"] is None:
        raise ValueError("the message is not sent yet")
    if found["deleted"] is not None:
        raise ValueError("the message is deleted")
    return found


def _queue(
    conn: sqlite3.Connection,
    kind: EntryKind,
    target: dict[str, Any],
    undo: dict[str, Any],
    *,
    text: str | None = None,
    emoji: str | None = None,
    on: bool = True,
) -> OutgoingEntry:
    key = uuid.uuid4().hex
    cursor = conn.execute(
        "INSERT INTO outbox_entries (key, kind, target, text, emoji, on_, undo, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key, kind, target["local_id"], text, emoji, int(on), json.dumps(undo), now_ms()),
    )
    assert cursor.lastrowid is not None
    return OutgoingEntry(
        entry_id=cursor.lastrowid,
        key=key,
        kind=kind,
        target=target["local_id"],
        target_seq=target["seq"],
        conversation=target["conversation"],
        is_group=bool(target["is_group"]),
        text=text,
        emoji=emoji,
        on=on,
    )


def _entry(row: Sequence[Any]) -> OutgoingEntry:
    return OutgoingEntry(
        entry_id=row[0],
        key=row[1],
        kind=row[2],
        target=row[3],
        target_seq=row[4],
        conversation=row[5],
        is_group=bool(row[6]),
        text=row[7],
        emoji=row[8],
        on=bool(row[9]),
    )


def _forget(conn: sqlite3.Connection, local_id: int, how: str) -> None:
    """The message's text is gone (deleted ``how``): out of the search index as well."""
    conn.execute(
        "UPDATE messages SET text = '', search_text = NULL, deleted = ? WHERE local_id = ?",
        (how, local_id),
    )


def _set_reaction(
    conn: sqlite3.Connection,
    local_id: int,
    member: str,
    name: str,
    emoji: str | None,
    seq: int | None,
    *,
    only_if: str | None,
) -> bool:
    """Make ``member``'s reaction ``emoji`` (``None``: none). With ``only_if``, only when
    the reaction is that emoji now (taking back another one changes nothing). With
    ``seq``, only when the stored one is older (a redelivered entry applies once)."""
    row = conn.execute(
        "SELECT emoji, seq FROM reactions WHERE local_id = ? AND member = ?", (local_id, member)
    ).fetchone()
    if seq is not None and row is not None and row[1] >= seq:
        return False
    current = None if row is None else row[0]
    new = emoji if only_if is None or current == only_if else current
    conn.execute(
        "INSERT INTO reactions (local_id, member, member_name, emoji, seq) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (local_id, member) DO UPDATE SET member_name = excluded.member_name, "
        "emoji = excluded.emoji, seq = MAX(seq, excluded.seq)",
        (local_id, member, name, new, seq or 0),
    )
    return new != current


def _apply_entries(conn: sqlite3.Connection, entries: Sequence[Entry]) -> list[tuple[str, int]]:
    """Apply received entries in order, in the caller's transaction; returns
    ``(conversation, local_id)`` of each message changed, once each, in order.

    An entry whose target is not here (joined later, deleted before it arrived) changes
    nothing; nor does an edit or reaction after the target's deletion, nor an entry older
    than one applied already (a redelivery: the ``seq`` decides, so each applies once).
    """
    changed: dict[tuple[str, int], None] = {}
    for entry in entries:
        conversation = entry.group or entry.sender
        row = conn.execute(
            f"SELECT local_id, edited_seq, deleted FROM messages WHERE conversation = ? "
            f"AND {_ORDER_KEY} = ? AND {_NOT_SYSTEM_LINE}",
            (conversation, entry.target),
        ).fetchone()
        if row is None:
            continue
        local_id, edited_seq, deleted = row
        if isinstance(entry, protocol.Deleted):
            if deleted == "everyone":
                continue
            _forget(conn, local_id, "everyone")
            conn.execute("DELETE FROM reactions WHERE local_id = ?", (local_id,))
        elif deleted is not None:
            continue
        elif isinstance(entry, protocol.Edited):
            if edited_seq is not None and edited_seq >= entry.seq:
                continue
            conn.execute(
                "UPDATE messages SET text = ?, search_text = ?, edited_seq = ? WHERE local_id = ?",
                (entry.text, _search_text(entry.text), entry.seq, local_id),
            )
        else:
            if not _set_reaction(
                conn,
                local_id,
                entry.sender,
                entry.sender_name,
                entry.emoji if entry.on else None,
                entry.seq,
                only_if=None if entry.on else entry.emoji,
            ):
                continue
        changed[(conversation, local_id)] = None
    return list(changed)


def _mark_entry_sent(conn: sqlite3.Connection, key: str, seq: int) -> tuple[str, int] | None:
    """The server stored our entry ``key`` at ``seq``: out of the outbox. Returns
    ``(conversation, local_id)`` of its message, ``None`` for an unknown key."""
    row = conn.execute(
        "SELECT e.kind, e.target, m.conversation FROM outbox_entries e "
        "JOIN messages m ON m.local_id = e.target WHERE e.key = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    kind, target, conversation = row
    conn.execute("DELETE FROM outbox_entries WHERE key = ?", (key,))
    if kind == "edit":
        conn.execute(
            "UPDATE messages SET edited_seq = ? WHERE local_id = ? AND edited_seq < ?",
            (seq, target, seq),
        )
    return conversation, target

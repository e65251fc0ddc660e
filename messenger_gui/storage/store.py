"""The local history of one profile, behind one class: :class:`ClientStore`."""

from __future__ import annotations

import json

from messenger_gui.storage.actions import ActionsMixin, _apply_entries, _mark_entry_sent
from messenger_gui.storage.conversations import ConversationsMixin
from messenger_gui.storage.export import ExportMixin
from messenger_gui.storage.files import FilesMixin, _store_incoming_files
from messenger_gui.storage.markers import MarkersMixin, _store_receipts, _update_statuses
from messenger_gui.storage.messages import MessagesMixin, _mark_sent, _store_incoming
from messenger_gui.storage.records import Chunk, ChunkSaved, StatusChange
from messenger_gui.storage.schema import _MESSAGE_COLUMNS, _message
from messenger_gui.storage.search import SearchMixin


class ClientStore(
    ConversationsMixin,
    MessagesMixin,
    ActionsMixin,
    MarkersMixin,
    SearchMixin,
    ExportMixin,
    FilesMixin,
):
    """The local history of one profile.

    Every write is committed durably before the method returns, so a caller may
    acknowledge to the server, or show "queued", right after it. Write methods may be
    called from any thread (they take turns); from the event loop, call them through
    :meth:`run`, which runs them on the writer thread, so the loop never waits for a disk.
    Read methods are for the thread that created the store, and quick; :meth:`read` runs a
    slower query on the reader thread.

    Args:
        directory: the profile directory (created 0700 if needed), or ``None`` for a
            throw-away in-memory store (tests).

    Raises:
        SchemaTooNewError: the database was written by a newer app version.
    """

    def __enter__(self) -> ClientStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def save_chunk(self, chunk: Chunk, *, me: str, index: bool = True) -> ChunkSaved:
        """Store everything one read from the server brought in **one** transaction:
        incoming messages (new ones only), receipts (markers and their version), group
        states, edits, deletions and reactions (applied to the stored messages), and the
        ``sent`` replies to our messages and entries; then move the ticks of every
        conversation they touch, once. Acknowledge the chunk when this returns. ``me`` is
        this client's ID. Without ``index`` (a backlog), the new messages join the search
        index later, through :meth:`index_pending` (search finds them meanwhile, by a scan).
        """
        with self._write() as conn:
            mode = (index if self._fts else None) if chunk.messages else None
            received = _store_incoming(conn, chunk.messages, index=mode) if chunk.messages else []
            if received:  # issue 10: the files of the new messages
                _store_incoming_files(conn, chunk.messages, received)
            replies = [m.local_id for m in received if m.reply_seq is not None]
            if replies:  # read back with the message each one quotes
                quoted = {
                    m.local_id: m
                    for m in map(
                        _message,
                        conn.execute(
                            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE local_id IN "
                            "(SELECT value FROM json_each(?))",
                            (json.dumps(replies),),
                        ),
                    )
                }
                received = [quoted.get(m.local_id, m) for m in received]
            updated = _apply_entries(conn, chunk.entries) if chunk.entries else []
            touched = _store_receipts(conn, chunk.receipts) if chunk.receipts else []
            for group, left in chunk.groups:
                self._save_group(conn, group, left)
                touched.append(group.group_id)
            sent_ids = []
            for reply in chunk.sent:
                marked = _mark_sent(conn, reply.key, reply.message_id, reply.seq, reply.ts)
                if marked is not None:
                    sent_ids.append(marked[0])
                    touched.append(marked[1])
                else:
                    _mark_entry_sent(conn, reply.key, reply.seq)
            changes: list[StatusChange] = []
            for conversation in dict.fromkeys(touched):
                changes += _update_statuses(conn, conversation, me)
            sent = (
                [
                    _message(row)
                    for row in conn.execute(
                        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE local_id IN "
                        "(SELECT value FROM json_each(?)) ORDER BY local_id",
                        (json.dumps(sent_ids),),
                    )
                ]
                if sent_ids
                else []
            )
        if sent_ids:
            # A message just sent is reported by MessageSent with its final status.
            just_sent = set(sent_ids)
            changes = [
                StatusChange(c.conversation, c.status, ids)
                for c in changes
                if (ids := tuple(i for i in c.local_ids if i not in just_sent))
            ]
        return ChunkSaved(received, sent, changes, updated)

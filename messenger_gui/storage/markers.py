"""Markers: how far the other participants have stored and read each conversation (from
``receipts`` events), the ticks they give our messages, and our own read markers."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence

from messenger_gui.storage.records import GroupReceipts, PeerMarker, StatusChange
from messenger_gui.storage.schema import RECEIPTS_VERSION, StoreBase
from messenger_server import protocol

log = logging.getLogger(__name__)


class MarkersMixin(StoreBase):
    """The markers of :class:`~messenger_gui.storage.ClientStore`."""

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
        with self._write() as conn:
            touched = _store_receipts(conn, batch)
            return [c for conv in touched for c in _update_statuses(conn, conv, me)]

    def update_group_statuses(self, group_ids: Iterable[str], *, me: str) -> list[StatusChange]:
        """Move the ticks of our messages in these groups after their member lists changed
        (a member who had not received a message left: everyone else has it). Returns
        the messages that changed status; ticks never go back."""
        with self._write() as conn:
            return [
                change
                for group_id in dict.fromkeys(group_ids)
                for change in _update_statuses(conn, group_id, me)
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


def _update_statuses(conn: sqlite3.Connection, conversation: str, me: str) -> list[StatusChange]:
    """Set-based: our messages of ``conversation`` up to the reached positions become
    ``delivered`` or ``read`` (only those whose ticks can still change are looked at:
    the ``messages_unconfirmed`` index)."""
    reached = _reached(conn, conversation, me)
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
    # One id per row, in seq order (the index's): a login's receipts may name 100,000.
    ids: dict[str, list[int]] = {"delivered": [], "read": []}
    for local_id, status in conn.execute(
        f"SELECT local_id, {new_status} FROM messages {where} ORDER BY seq", params
    ):
        ids[status].append(local_id)
    if ids["delivered"] or ids["read"]:
        conn.execute(f"UPDATE messages SET status = {new_status} {where}", params)
    return [
        StatusChange(conversation, status, tuple(found))  # type: ignore[arg-type]
        for status, found in ids.items()
        if found
    ]


def _store_receipts(conn: sqlite3.Connection, batch: Sequence[protocol.Receipts]) -> list[str]:
    """Store the markers of ``batch`` and its highest ``version`` in the caller's
    transaction; returns the conversations whose markers were given (for
    ``_update_statuses``)."""
    rows = [(r.group or r.by, r.by, r.delivered, r.read) for e in batch for r in e.receipts]
    conn.executemany(
        "INSERT INTO peer_markers (conversation, member, delivered, read) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (conversation, member) DO UPDATE SET "
        "delivered = max(delivered, excluded.delivered), read = max(read, excluded.read)",
        rows,
    )
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
        "SET value = max(value, excluded.value)",
        (RECEIPTS_VERSION, max(e.version for e in batch)),
    )
    return list(dict.fromkeys(row[0] for row in rows))

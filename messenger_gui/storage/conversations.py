"""Contacts, groups and the conversation list (last message, unread count, title)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable

from messenger_gui.storage.records import (
    ChatSettings,
    Contact,
    ConversationSummary,
    GroupMember,
    StoredGroup,
    StoredMessage,
    now_ms,
)
from messenger_gui.storage.schema import (
    _CONVERSATIONS_WITH_MESSAGES,
    _MESSAGE_COLUMNS,
    _ORDER_KEY,
    _PREVIEW_CHARS,
    StoreBase,
    _message,
)
from messenger_server import protocol

log = logging.getLogger(__name__)


class ConversationsMixin(StoreBase):
    """Contacts, groups and the conversation list of :class:`~messenger_gui.storage.ClientStore`."""

    # --- contacts ---

    def add_contact(
        self,
        client_id: str,
        display_name: str,
        *,
        alias: str | None = None,
        shared: bool = False,
    ) -> Contact:
        """Add a contact, or refresh the display name of a known one (its alias and
        ``added_at`` are kept unless ``alias`` is given). ``shared``: the server has just
        recorded it as our contact (see :meth:`unshared_contacts`)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO contacts (client_id, display_name, alias, added_at, shared) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                "display_name = excluded.display_name, alias = COALESCE(excluded.alias, alias), "
                "shared = MAX(shared, excluded.shared)",
                (client_id, display_name, alias, now_ms(), int(shared)),
            )
            row = conn.execute(
                "SELECT client_id, display_name, alias, added_at FROM contacts WHERE client_id = ?",
                (client_id,),
            ).fetchone()
        return Contact(*row)

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

    def unshared_contacts(self) -> list[str]:
        """The IDs of contacts the server may not know as ours yet (added while offline,
        or before the app remembered it): :meth:`MessengerClient._share_contacts` sends
        them at login, then :meth:`mark_contacts_shared`."""
        rows = self._conn.execute(
            "SELECT client_id FROM contacts WHERE shared = 0 ORDER BY client_id"
        ).fetchall()
        return [client_id for (client_id,) in rows]

    def mark_contacts_shared(self, client_ids: Iterable[str]) -> None:
        """The server has recorded these contacts (or they no longer exist there)."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE contacts SET shared = 1 WHERE client_id = ?",
                [(client_id,) for client_id in client_ids],
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
        description = group.description if isinstance(group.description, str) else None
        conn.execute(
            "INSERT INTO groups (group_id, name, created_by, created_at, left, description) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET "
            "name = excluded.name, created_by = excluded.created_by, "
            "created_at = excluded.created_at, left = excluded.left, "
            "description = excluded.description",
            (
                group.group_id,
                group.name,
                group.created_by,
                group.created_at,
                int(left),
                description or None,
            ),
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
                "SELECT group_id, name, created_by, created_at, left, description "
                f"FROM groups {where} "
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
            StoredGroup(
                row[0], row[1], row[2], row[3], bool(row[4]), tuple(members[row[0]]), row[5] or ""
            )
            for row in rows
        ]

    def unread_count(self, conversation: str) -> int:
        """Incoming messages after the read marker."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation = ? AND direction = 'in' "
            "AND sender IS NOT NULL AND seq > COALESCE((SELECT read_up_to_seq FROM read_markers "
            "WHERE conversation = ?), -1)",
            (conversation, conversation),
        ).fetchone()
        return int(row[0])

    def total_unread(self) -> int:
        """Unread messages over every listed conversation (for the tray badge)."""
        row = self._conn.execute(
            f"""
            WITH RECURSIVE {_CONVERSATIONS_WITH_MESSAGES}
            SELECT COUNT(*) FROM with_messages c JOIN messages m
            ON m.conversation = c.conversation AND m.direction = 'in' AND m.sender IS NOT NULL
            AND c.conversation NOT IN (SELECT client_id FROM blocked)
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
                EXCEPT SELECT client_id FROM blocked
            ),
            lasts AS (
                SELECT c.conversation,
                    (SELECT m.local_id FROM messages m WHERE m.conversation = c.conversation
                     ORDER BY {_ORDER_KEY} DESC, m.local_id DESC LIMIT 1) AS last_id,
                    (SELECT COUNT(*) FROM messages u
                     WHERE u.conversation = c.conversation AND u.direction = 'in'
                     AND u.sender IS NOT NULL
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
                (SELECT f.code FROM send_failures f WHERE f.local_id = l.last_id),
                substr(d.text, 1, {_PREVIEW_CHARS}), ct.client_id IS NOT NULL,
                COALESCE(cs.muted_until > :now, 0), cs.pinned_at, COALESCE(cs.archived, 0)
            FROM lasts l
            LEFT JOIN messages m ON m.local_id = l.last_id
            LEFT JOIN groups g ON g.group_id = l.conversation
            LEFT JOIN contacts ct ON ct.client_id = l.conversation
            LEFT JOIN drafts d ON d.conversation = l.conversation
            LEFT JOIN chat_settings cs ON cs.conversation = l.conversation
            ORDER BY cs.pinned_at IS NULL, cs.pinned_at DESC, activity DESC, l.conversation
            """,
            {"now": now_ms()},
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
                draft=row[10],
                is_contact=bool(row[11]),
                muted=bool(row[12]),
                pinned=row[13] is not None,
                archived=bool(row[14]),
            )
            for row in rows
        ]

    # --- system lines: what happened to a group ---

    def add_system_lines(self, lines: Iterable[tuple[str, int, str]]) -> list[StoredMessage]:
        """Store ``(group_id, event_id, text)`` lines ("Ana renamed the group to …", the
        ``text`` a :func:`~messenger_gui.storage.system_line`), each after the group's
        last message, once per ``event_id`` (a repeated event adds nothing). Returns the
        rows stored, to show. They are never unread, notified or searched."""
        stored: list[int] = []
        ts = now_ms()
        with self._write() as conn:
            for group_id, event_id, text in lines:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO messages (conversation, is_group, direction, text, "
                    "ts, seq, message_id, status) VALUES (?1, 1, 'in', ?2, ?3, "
                    "COALESCE((SELECT MAX(seq) FROM messages WHERE conversation = ?1), 0), "
                    "?4, 'received')",
                    (group_id, text, ts, -event_id),
                )
                if cursor.rowcount and cursor.lastrowid is not None:
                    stored.append(cursor.lastrowid)
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE local_id IN "
                "(SELECT value FROM json_each(?)) ORDER BY local_id",
                (json.dumps(stored),),
            ).fetchall()
        return [_message(row) for row in rows]

    # --- the user's settings of a chat (mute, pin, archive) ---

    def chat_settings(self, conversation: str) -> ChatSettings:
        row = self._conn.execute(
            "SELECT muted_until, pinned_at, archived FROM chat_settings WHERE conversation = ?",
            (conversation,),
        ).fetchone()
        if row is None:
            return ChatSettings()
        return ChatSettings(row[0], row[1] is not None, bool(row[2]))

    def set_muted(self, conversation: str, until: int | None) -> None:
        """Mute ``conversation`` until ``until`` (ms UTC; :data:`MUTED_FOREVER`), or
        unmute it (``None``)."""
        self._set_chat_setting(conversation, "muted_until", until)

    def set_pinned(self, conversation: str, pinned: bool) -> None:
        """Pin ``conversation`` to the top of the list (above the chats pinned before)
        or unpin it."""
        if not pinned:
            self._set_chat_setting(conversation, "pinned_at", None)
            return
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO chat_settings (conversation) VALUES (?)", (conversation,)
            )
            conn.execute(  # later than every other pin, even within the same millisecond
                "UPDATE chat_settings SET pinned_at = MAX(?, COALESCE((SELECT MAX(pinned_at) "
                "FROM chat_settings), 0) + 1) WHERE conversation = ?",
                (now_ms(), conversation),
            )

    def set_archived(self, conversation: str, archived: bool) -> None:
        self._set_chat_setting(conversation, "archived", int(archived))

    def _set_chat_setting(self, conversation: str, column: str, value: int | None) -> None:
        assert column in ("muted_until", "pinned_at", "archived")
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO chat_settings (conversation) VALUES (?)", (conversation,)
            )
            conn.execute(
                f"UPDATE chat_settings SET {column} = ? WHERE conversation = ?",
                (value, conversation),
            )

    def archived_to_wake(self, conversations: Iterable[str]) -> list[str]:
        """Of ``conversations`` (which just got a message), the archived ones that are
        not muted: a new message brings them back to the list (a muted one stays
        archived, as in Telegram). A quick read; :meth:`unarchive` writes."""
        return [
            row[0]
            for row in self._conn.execute(
                "SELECT conversation FROM chat_settings WHERE archived = 1 "
                "AND (muted_until IS NULL OR muted_until <= ?) "
                "AND conversation IN (SELECT value FROM json_each(?))",
                (now_ms(), json.dumps(list(conversations))),
            )
        ]

    def unarchive(self, conversations: Iterable[str]) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE chat_settings SET archived = 0 "
                "WHERE conversation IN (SELECT value FROM json_each(?))",
                (json.dumps(list(conversations)),),
            )

    # --- drafts ---

    def save_draft(self, conversation: str, text: str) -> bool:
        """Keep ``text`` as the draft of ``conversation`` (blank text removes it): it is
        shown again when the chat is opened, also after a restart. Returns False when
        nothing changed."""
        with self._write() as conn:
            if not text.strip():
                cursor = conn.execute("DELETE FROM drafts WHERE conversation = ?", (conversation,))
            else:
                cursor = conn.execute(
                    "INSERT INTO drafts (conversation, text, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (conversation) DO UPDATE SET text = excluded.text, "
                    "updated_at = excluded.updated_at WHERE text != excluded.text",
                    (conversation, text, now_ms()),
                )
        return cursor.rowcount > 0

    def draft(self, conversation: str) -> str:
        """The draft of ``conversation`` ("" when there is none)."""
        row = self._conn.execute(
            "SELECT text FROM drafts WHERE conversation = ?", (conversation,)
        ).fetchone()
        return "" if row is None else str(row[0])

    # --- blocking ---

    def block(self, client_id: str) -> bool:
        """Block ``client_id``: their chat leaves the list and their messages notify no
        more (they are still stored, and shown again once unblocked). False when they
        were blocked already."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO blocked (client_id, blocked_at) VALUES (?, ?)",
                (client_id, now_ms()),
            )
        return cursor.rowcount > 0

    def unblock(self, client_id: str) -> bool:
        """Undo :meth:`block`; False when ``client_id`` was not blocked."""
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM blocked WHERE client_id = ?", (client_id,))
        return cursor.rowcount > 0

    def is_blocked(self, client_id: str) -> bool:
        return (
            self._conn.execute("SELECT 1 FROM blocked WHERE client_id = ?", (client_id,)).fetchone()
            is not None
        )

    def conversation_title(self, conversation: str) -> str:
        """The group name, contact alias or name, the peer's last display name, or the ID."""
        return _conversation_title(self._conn, conversation)


def _conversation_title(conn: sqlite3.Connection, conversation: str) -> str:
    row = conn.execute(
        "SELECT COALESCE("
        "(SELECT name FROM groups WHERE group_id = ?1), "
        "(SELECT COALESCE(alias, display_name) FROM contacts WHERE client_id = ?1), "
        "(SELECT sender_name FROM messages WHERE conversation = ?1 AND direction = 'in' "
        " ORDER BY seq DESC LIMIT 1), ?1)",
        (conversation,),
    ).fetchone()
    return str(row[0])

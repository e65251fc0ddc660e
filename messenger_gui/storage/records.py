"""The rows the store returns: frozen dataclasses, no behaviour beyond a name or two."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import msgspec

from messenger_server import protocol

Direction = Literal["in", "out"]
MessageStatus = Literal["queued", "sent", "delivered", "read", "received"]
ExportFormat = Literal["json", "html"]


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


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
    description: str = ""
    """What the group is about ("" when it has none)."""


class Reaction(msgspec.Struct, frozen=True):
    """One member's reaction to a message (``name``: their display name, for tooltips)."""

    member: str
    name: str
    emoji: str


class Quote(msgspec.Struct, frozen=True):
    """The message a reply answers (``reply_to``), as this history has it: ``local_id`` is
    ``None`` when it is not here ("message not available"); ``text`` is ``None`` when it
    was deleted (``deleted``). ``outgoing``: we wrote it."""

    seq: int
    sender: str
    local_id: int | None
    outgoing: bool = False
    sender_name: str | None = None
    text: str | None = None
    deleted: bool = False


EntryKind = Literal["edit", "delete", "react"]


class StoredMessage(msgspec.Struct, frozen=True):
    """One message of the history, either direction.

    ``sender`` is ``None`` for outgoing messages (this client). ``seq``, ``message_id``
    are ``None`` while an outgoing message is queued; ``key`` is ``None`` for incoming ones.

    A frozen ``msgspec.Struct`` rather than a frozen dataclass: a backlog builds 100,000 of
    them, and a frozen dataclass costs 15 times as much to create (change one with
    ``msgspec.structs.replace``).
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
    reply_seq: int | None = None
    """The ``seq`` of the message this one answers (see :attr:`quote`)."""
    reply_sender: str | None = None
    forwarded_name: str | None = None
    """Set when the message is forwarded: "Forwarded from ``forwarded_name``"."""
    forwarded_sender: str | None = None
    edited: bool = False
    """Its author edited it (show "edited")."""
    deleted: str | None = None
    """``"everyone"`` (deleted for everyone) or ``"me"`` (deleted here only): ``text`` is
    empty, show the "Message deleted" placeholder."""
    reactions: tuple[Reaction, ...] = ()
    """One per member who reacted, in the order they did."""
    quote: Quote | None = None
    """The message this one answers, when it is a reply."""


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
    reply_seq: int | None = None
    reply_sender: str | None = None
    forwarded_name: str | None = None
    forwarded_sender: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingEntry:
    """An edit, deletion or reaction of ours waiting in the outbox (on disk) for the
    server's ``sent``: sent after each login with the same ``key`` until answered.
    ``target`` is the local id of the message, ``target_seq`` its ``seq``."""

    entry_id: int
    key: str
    kind: EntryKind
    target: int
    target_seq: int
    conversation: str
    is_group: bool
    text: str | None
    emoji: str | None
    on: bool


@dataclass(frozen=True, slots=True)
class EntryRefused:
    """What :meth:`ClientStore.entry_refused` did: the message ``local_id`` of
    ``conversation`` was restored (``restored``) or the entry was simply dropped."""

    conversation: str
    local_id: int
    kind: EntryKind
    restored: bool


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
    draft: str | None = None
    """What the user typed in this chat and did not send (shown as "Draft: ..."), cut to a
    preview like ``last_text``; ``None`` when there is none."""
    is_contact: bool = False
    """For a direct conversation: the peer is among the contacts (else the chat offers
    "Add to contacts")."""
    muted: bool = False
    """Muted now (no notification, a greyed badge; a mention still notifies)."""
    pinned: bool = False
    """Pinned to the top of the list (pinned chats come first, most recently pinned on top)."""
    archived: bool = False
    """In the "Archived" section rather than the main list."""


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """The user's settings of one chat (local only). ``muted_until``: ms UTC, or
    :data:`MUTED_FOREVER`, or ``None`` when not muted."""

    muted_until: int | None = None
    pinned: bool = False
    archived: bool = False

    def muted(self, now: int) -> bool:
        return self.muted_until is not None and self.muted_until > now


MUTED_FOREVER: Final = 2**62
"""``muted_until`` of a chat muted until the user unmutes it."""


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


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one read from the server brought, for :meth:`ClientStore.save_chunk` to store
    in one transaction: incoming messages, ``receipts`` events, group states (each with
    whether we have left it) and the ``sent`` replies to our messages."""

    messages: Sequence[protocol.Message] = ()
    receipts: Sequence[protocol.Receipts] = ()
    groups: Sequence[tuple[protocol.GroupInfo, bool]] = ()
    sent: Sequence[protocol.Sent] = ()
    entries: Sequence[protocol.Edited | protocol.Deleted | protocol.Reacted] = ()
    """Edits, deletions and reactions, applied after ``messages``, in the order given."""

    def __bool__(self) -> bool:
        return bool(self.messages or self.receipts or self.groups or self.sent or self.entries)


@dataclass(frozen=True, slots=True)
class ChunkSaved:
    """What :meth:`ClientStore.save_chunk` changed, to report without reading it back."""

    received: list[StoredMessage] = field(default_factory=list)
    """The incoming messages that were new, as stored, in the order they came."""
    sent: list[StoredMessage] = field(default_factory=list)
    """Our messages now stored by the server, with the status the markers give them."""
    changes: list[StatusChange] = field(default_factory=list)
    """Ticks moved by the chunk's receipts and group changes."""
    updated: list[tuple[str, int]] = field(default_factory=list)
    """``(conversation, local_id)`` of stored messages the chunk's entries changed (edited,
    deleted, reactions), in order, each once."""


SYSTEM_LINE_KINDS: Final = ("renamed", "described", "promoted", "demoted", "deleted")
"""What a system line of a group says (see :func:`system_line`)."""


def system_line(
    kind: str,
    actor: str,
    subject: str = "",
    value: str = "",
    *,
    by_me: bool = False,
    to_me: bool = False,
) -> str:
    """The stored text of a system line: what happened (``kind``, one of
    :data:`SYSTEM_LINE_KINDS`), who did it (``by_me``: this client), to whom (``to_me``),
    and the new value (a group's new name), as JSON, so that the window shows it in the
    user's language ("You made Ana an admin")."""
    line = {"system": kind, "actor": actor, "subject": subject, "value": value}
    if by_me:
        line["by_me"] = "1"
    if to_me:
        line["to_me"] = "1"
    return json.dumps(line, ensure_ascii=False)


_ENGLISH_LINES: Final = {
    "renamed": "%1 renamed the group to “%3”",
    "described": "%1 changed the group description",
    "promoted": "%1 made %2 an admin",
    "demoted": "%1 removed %2 as admin",
    "deleted": "%1 deleted the group",
}


def system_line_text(parts: dict[str, str], templates: dict[str, str] | None = None) -> str:
    """A parsed system line (:func:`parse_system_line`) as a sentence: ``templates``
    (kind → text with %1 actor, %2 subject, %3 value) or English (exports)."""
    template = (templates or _ENGLISH_LINES).get(parts["system"], "%1")
    values = {
        "1": parts.get("actor", ""),
        "2": parts.get("subject", ""),
        "3": parts.get("value", ""),
    }
    # One pass, so that a name containing "%2" is not replaced again.
    return re.sub(r"%([123])", lambda m: values[m.group(1)], template)


def parse_system_line(text: str) -> dict[str, str] | None:
    """The parts of a :func:`system_line` (``None`` when ``text`` is not one)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("system") not in SYSTEM_LINE_KINDS:
        return None
    return {str(k): str(v) for k, v in parsed.items()}


def is_system_line(message: StoredMessage) -> bool:
    """A system line ("Ana renamed the group to …"), not a message: an incoming row
    without a sender."""
    return message.direction == "in" and message.sender is None

"""Typed events from the client core to whoever listens (the Qt controller, tests), no Qt.

The core (:class:`messenger_gui.client.MessengerClient`) emits one of the frozen dataclasses
below through a :class:`Signal` each time something the user can see has changed: the
connection state, new messages, ticks, contacts and groups. Listeners are called
synchronously, on the event loop's thread, right after the change was stored, so a listener
may read :class:`~messenger_gui.storage.ClientStore` and find the new state there.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from messenger_gui.storage import MessageStatus, StoredMessage

log = logging.getLogger(__name__)

T = TypeVar("T")


class Signal(Generic[T]):
    """A Qt-free signal: callbacks connected to it are called with every emitted value.

    An exception raised by one callback is logged and does not stop the others, nor the
    code that emitted: a broken widget must never break the connection core.
    """

    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> None:
        """Call ``callback(value)`` on every :meth:`emit` from now on (once per connect)."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], object]) -> None:
        """Stop calling ``callback``; does nothing when it is not connected."""
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        """Call every connected callback with ``value``, in the order they were connected."""
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:
                log.exception("event listener %r failed on %r", callback, value)


class ConnectionState(enum.StrEnum):
    """Where the client's connection to the server stands (see ``docs/client.md``)."""

    OFFLINE = "offline"
    """Not started, or stopped."""
    CONNECTING = "connecting"
    """A connection attempt is under way."""
    ONLINE = "online"
    """Logged in; the backlog may still be arriving."""
    WAITING = "waiting"
    """The last attempt failed or the connection dropped; retrying after ``retry_in``."""
    REFUSED = "refused"
    """The server (or its certificate) was refused; no retry until started again."""
    REPLACED = "replaced"
    """The identity signed in elsewhere (``session_replaced``); no automatic retry."""


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The connection state changed. ``retry_in`` is set in ``WAITING`` (seconds until the
    next attempt); ``error_code`` says why in ``REFUSED`` (and, when known, ``WAITING``);
    ``message`` is a short English explanation for logs and tooltips."""

    state: ConnectionState
    retry_in: float | None = None
    error_code: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class MessagesReceived:
    """New incoming messages, already stored (redeliveries are not reported).
    ``backlog`` is True while the messages stored on the server during our absence arrive."""

    messages: tuple[StoredMessage, ...]
    backlog: bool
    mentioning_me: frozenset[int] = frozenset()
    r"""The ``local_id``\ s of those whose ``mentions`` name us (they notify even in a muted
    group)."""


@dataclass(frozen=True, slots=True)
class MessageStatusChanged:
    """Our messages ``local_ids`` of ``conversation`` now have ``status`` (``delivered``
    or ``read``): repaint their ticks. The client core always names the messages; an empty
    ``local_ids`` would mean "possibly any of them": reload the conversation's statuses."""

    conversation: str
    local_ids: tuple[int, ...]
    status: MessageStatus


@dataclass(frozen=True, slots=True)
class MessageSent:
    """The server stored our message: ``message`` now has its ``seq`` (it may move)."""

    message: StoredMessage


@dataclass(frozen=True, slots=True)
class MessageFailed:
    """The server refused a queued message for good (``code`` is a
    ``protocol.ErrorCode`` value such as ``not_a_member``, ``unknown_client`` or
    ``text_too_large``). It is stored as failed (``StoredMessage.failure``): kept in the
    history, not sent again, also after a restart, until the user retries
    (:class:`MessageRetried`) or deletes it (:class:`MessageDeleted`). Repaint its bubble."""

    local_id: int
    code: str
    message: str
    conversation: str = ""
    """The message's conversation (empty only when it was deleted meanwhile)."""


@dataclass(frozen=True, slots=True)
class MessageRetried:
    """The user retried a failed message: it is queued again (no ``failure``) and will be
    sent with its original key; a :class:`MessageSent` or :class:`MessageFailed` follows."""

    message: StoredMessage


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """An outgoing message that was never sent was deleted: remove its bubble."""

    conversation: str
    local_id: int


@dataclass(frozen=True, slots=True)
class MessagesUpdated:
    """Stored messages ``local_ids`` of ``conversation`` changed in place: edited, deleted
    (for everyone or for me) or their reactions. Read them again and repaint those rows
    (their position does not change)."""

    conversation: str
    local_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ActionFailed:
    """The server refused our edit, deletion or reaction (``kind``) of message
    ``local_id`` for good (``code``: ``edit_expired``, ``not_author``,
    ``unknown_message``, ``message_deleted``...). What it changed locally was restored
    (a :class:`MessagesUpdated` follows); tell the user."""

    conversation: str
    local_id: int
    kind: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ConversationsChanged:
    """Contacts or groups changed (added, renamed, members, left): reload the sidebar and
    the header of these conversations."""

    conversations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BacklogProgress:
    """``received`` of the ``total`` stored events announced at login have arrived.
    Emitted after each chunk of the backlog; the last one, when ``synced`` comes, has
    ``received == total`` (``total`` is a snapshot: fewer events may come)."""

    received: int
    total: int


@dataclass(frozen=True, slots=True)
class SystemLinesAdded:
    """Lines about a group's changes were stored ("Ana renamed the group to …",
    :func:`~messenger_gui.storage.system_line`): show them in the chat (they are not
    messages: no notification, never unread)."""

    messages: tuple[StoredMessage, ...]


@dataclass(frozen=True, slots=True)
class TypingChanged:
    """Who is typing in ``conversation`` changed: ``senders`` (client IDs, in the order
    they started; empty: nobody). Not stored: it comes from ``typing`` events, ends with
    an ``off``, a message from that sender, 6 s without a refresh, or the connection."""

    conversation: str
    senders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """What we know of these clients' presence changed (``get_presence`` answered, a
    ``presence`` event, or the connection ended): ask
    :meth:`~messenger_gui.client.MessengerClient.presence_of` again. Never stored."""

    client_ids: tuple[str, ...]


Event = (
    StateChanged
    | MessagesReceived
    | MessageStatusChanged
    | MessageSent
    | MessageFailed
    | MessageRetried
    | MessageDeleted
    | MessagesUpdated
    | ActionFailed
    | ConversationsChanged
    | BacklogProgress
    | TypingChanged
    | PresenceChanged
    | SystemLinesAdded
)
"""Everything :attr:`MessengerClient.events` emits."""

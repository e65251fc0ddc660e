"""The Messenger wire protocol: message definitions and framing, without I/O.

This module is the single definition of the wire format; the server and the
desktop client both import it. ``docs/protocol.md`` documents it for people
who write other clients.

Framing: every frame is a 4-byte unsigned big-endian length ``N`` followed by
``N`` bytes holding one UTF-8 JSON object. The object's ``"type"`` field names
its kind. Nothing here touches a socket: feed received bytes to a
:class:`FrameReader`, decode each payload with :func:`decode_client_frame` or
:func:`decode_server_frame`, and build outgoing frames with :func:`encode`.

Any malformed input raises :class:`ProtocolError` and nothing else.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Iterator
from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

PROTOCOL_VERSION: Final = 2
"""The protocol version this code speaks; sent in ``hello`` and ``welcome``. Version 1
(per-message ``delivered`` and ``read`` events, each stored and acknowledged) is no longer
spoken: a version-1 ``hello`` is answered with ``goodbye`` ``unsupported_version``."""

HEADER = struct.Struct(">I")

# --- limits (defaults; the server may lower or raise them and says so in ``welcome``) ---

MAX_FRAME_BYTES: Final = 1024 * 1024
"""Largest frame payload accepted (1 MiB)."""
MAX_TEXT_BYTES: Final = 64 * 1024
"""Largest message text, counted in UTF-8 bytes (64 KiB)."""
MAX_DISPLAY_NAME_CHARS: Final = 64
MAX_GROUP_NAME_CHARS: Final = 64
MAX_GROUP_MEMBERS: Final = 256
"""Largest group, its creator included."""
MAX_ACK_IDS: Final = 1024
"""Most ids one ``ack`` frame may carry."""
MAX_GROUPS_PAGE: Final = 50
"""Most groups one ``groups`` reply carries (``list_groups`` pages through the rest)."""
MAX_SAFE_INTEGER: Final = 2**53 - 1
"""Largest integer in any frame: exact in every JSON implementation (JavaScript's
``Number.MAX_SAFE_INTEGER``). Larger values are refused with ``invalid_field``."""
MAX_REQUEST_ID: Final = MAX_SAFE_INTEGER

# The patterns end in ``\Z``, not ``$``: msgspec matches with ``re.search``, where ``$`` also
# matches before a trailing newline and would let ``"K7QM-4XPA\n"`` through.
CLIENT_ID_PATTERN: Final = r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\Z"
"""Client IDs: eight Crockford base32 characters in two groups, e.g. ``K7QM-4XPA``."""
GROUP_ID_PATTERN: Final = r"^G-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\Z"
"""Group IDs: ``G-`` followed by the same shape, e.g. ``G-Q2RT-8HVB``."""
KEY_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}\Z"
"""Idempotency keys chosen by the sender (a UUID's hex works well)."""
CREDENTIAL_PATTERN: Final = r"^[A-Za-z0-9_-]{16,128}\Z"
INVITE_PATTERN: Final = r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\Z"
"""Invite codes made by an administrator: three groups of four Crockford base32 characters,
e.g. ``7KQM-4XPA-B8NZ``."""

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

ClientId = Annotated[str, msgspec.Meta(pattern=CLIENT_ID_PATTERN)]
GroupId = Annotated[str, msgspec.Meta(pattern=GROUP_ID_PATTERN)]
RequestId = Annotated[int, msgspec.Meta(ge=0, le=MAX_REQUEST_ID)]
EventId = Annotated[int, msgspec.Meta(ge=1, le=MAX_SAFE_INTEGER)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INTEGER)]
Version = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INTEGER)]
"""A position in the server's stream of receipt changes (see :class:`Receipts`)."""
Timestamp = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INTEGER)]
"""Milliseconds since the Unix epoch, UTC, assigned by the server."""
IdempotencyKey = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN)]
Credential = Annotated[str, msgspec.Meta(pattern=CREDENTIAL_PATTERN)]
InviteCode = Annotated[str, msgspec.Meta(pattern=INVITE_PATTERN)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DISPLAY_NAME_CHARS)]
GroupName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_GROUP_NAME_CHARS)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_BYTES)]
ShortText = Annotated[str, msgspec.Meta(max_length=64)]


class ErrorCode:
    """Error codes carried by :class:`Error` frames. Clients must treat unknown codes
    like ``internal_error``."""

    BAD_FRAME: Final = "bad_frame"
    FRAME_TOO_LARGE: Final = "frame_too_large"
    UNSUPPORTED_VERSION: Final = "unsupported_version"
    HELLO_REQUIRED: Final = "hello_required"
    NOT_AUTHENTICATED: Final = "not_authenticated"
    ALREADY_AUTHENTICATED: Final = "already_authenticated"
    REGISTRATION_CLOSED: Final = "registration_closed"
    INVITE_REQUIRED: Final = "invite_required"
    INVALID_INVITE: Final = "invalid_invite"
    TOO_MANY_CONNECTIONS: Final = "too_many_connections"
    INVALID_CREDENTIALS: Final = "invalid_credentials"
    CLIENT_DISABLED: Final = "client_disabled"
    UNKNOWN_CLIENT: Final = "unknown_client"
    UNKNOWN_GROUP: Final = "unknown_group"
    NOT_A_MEMBER: Final = "not_a_member"
    NOT_ADMIN: Final = "not_admin"
    ALREADY_A_MEMBER: Final = "already_a_member"
    GROUP_FULL: Final = "group_full"
    TOO_MANY_GROUPS: Final = "too_many_groups"
    NOT_A_CONTACT: Final = "not_a_contact"
    RECIPIENT_FULL: Final = "recipient_full"
    QUOTA_EXCEEDED: Final = "quota_exceeded"
    STORAGE_FULL: Final = "storage_full"
    UNKNOWN_MESSAGE: Final = "unknown_message"
    MESSAGE_DELETED: Final = "message_deleted"
    NOT_AUTHOR: Final = "not_author"
    EDIT_EXPIRED: Final = "edit_expired"
    LAST_ADMIN: Final = "last_admin"
    TEXT_TOO_LARGE: Final = "text_too_large"
    NAME_TOO_LONG: Final = "name_too_long"
    INVALID_FIELD: Final = "invalid_field"
    RATE_LIMITED: Final = "rate_limited"
    TIMEOUT: Final = "timeout"
    SESSION_REPLACED: Final = "session_replaced"
    SLOW_CONSUMER: Final = "slow_consumer"
    SHUTTING_DOWN: Final = "shutting_down"
    INTERNAL_ERROR: Final = "internal_error"


class ProtocolError(Exception):
    """Raised for any frame that is malformed, oversize or invalid.

    Attributes:
        code: the :class:`ErrorCode` to answer with.
        request_id: the offending request's id when it could be read, else ``None``.
    """

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def _check_name(value: str, field: str) -> None:
    if not value.strip():
        raise ValueError(f"{field} must not be blank")
    if _CONTROL_CHARS.search(value):
        raise ValueError(f"{field} must not contain control characters")


class _Frame(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=False):
    """Base of every frame. Unknown fields are ignored so that later minor versions
    can add optional fields without breaking older peers."""


# ---------------------------------------------------------------------------
# Client -> server requests. Each carries ``id``; the server answers each with
# exactly one reply carrying the same ``id``: a typed reply or ``error``.
# ---------------------------------------------------------------------------


class Hello(_Frame, frozen=True, tag="hello"):
    """First frame of every connection. Answered by :class:`Welcome`."""

    id: RequestId
    protocol: Annotated[int, msgspec.Meta(ge=1)]
    client: ShortText = ""


class Register(_Frame, frozen=True, tag="register"):
    """Ask for a new identity. Answered by :class:`Registered`; does not log in.
    ``invite`` is needed when the server's registration is ``"invite"``."""

    id: RequestId
    display_name: DisplayName
    invite: InviteCode | None = None

    def __post_init__(self) -> None:
        _check_name(self.display_name, "display_name")


class Login(_Frame, frozen=True, tag="login"):
    """Authenticate as ``client_id``. Answered by :class:`LoggedIn`; then come the receipts
    that changed after ``receipts_since``, the stored backlog, and :class:`Synced`.

    ``receipts_since`` is the ``version`` of the last :class:`Receipts` event the client
    has applied and stored (0 when it has none: every receipt of its conversations comes).
    """

    id: RequestId
    client_id: ClientId
    credential: Credential
    receipts_since: Version = 0


class Send(_Frame, frozen=True, tag="send"):
    """Send ``text`` to one client (``to``) or to a group (``group``), exactly one of them.

    ``key`` is chosen by the sender and must be reused when resending the same
    message: the server answers a repeated key with the original :class:`Sent`
    and does not deliver the message again.
    """

    id: RequestId
    key: IdempotencyKey
    text: Text
    to: ClientId | None = None
    group: GroupId | None = None
    reply_to: ReplyTo | UnsetType | None = UNSET
    """The message this one answers (section 12 of the protocol document)."""
    forwarded_from: Forwarded | UnsetType | None = UNSET
    """Who wrote the message this one forwards."""
    mentions: Mentions | UnsetType | None = UNSET
    """Members of the group this message mentions (group messages only)."""

    def __post_init__(self) -> None:
        _check_target(self.to, self.group)
        if len(self.text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise ValueError(f"text is longer than {MAX_TEXT_BYTES} bytes")
        if self.mentions and self.group is None:
            raise ValueError("'mentions' are for group messages only")


class MarkRead(_Frame, frozen=True, tag="read"):
    """Confirm reading every message up to conversation position ``up_to`` (a ``seq``)
    in the conversation with ``peer`` or in ``group``. Answered by :class:`Ok`."""

    id: RequestId
    up_to: Seq
    peer: ClientId | None = None
    group: GroupId | None = None

    def __post_init__(self) -> None:
        if (self.peer is None) == (self.group is None):
            raise ValueError("exactly one of 'peer' and 'group' must be given")


def _check_target(to: str | None, group: str | None) -> None:
    if (to is None) == (group is None):
        raise ValueError("exactly one of 'to' and 'group' must be given")


class Lookup(_Frame, frozen=True, tag="lookup"):
    """Does ``client_id`` exist, and what is its display name? Answered by :class:`Contact`."""

    id: RequestId
    client_id: ClientId


class CreateGroup(_Frame, frozen=True, tag="create_group"):
    """Create a group with the sender as admin. Answered by :class:`GroupReply`."""

    id: RequestId
    name: GroupName
    members: Annotated[list[ClientId], msgspec.Meta(max_length=MAX_GROUP_MEMBERS)]

    def __post_init__(self) -> None:
        _check_name(self.name, "name")


class AddMember(_Frame, frozen=True, tag="add_member"):
    """Admins only. Answered by :class:`GroupReply`."""

    id: RequestId
    group: GroupId
    client_id: ClientId
    admin: bool = False


class RemoveMember(_Frame, frozen=True, tag="remove_member"):
    """Admins only. Answered by :class:`GroupReply`."""

    id: RequestId
    group: GroupId
    client_id: ClientId


class LeaveGroup(_Frame, frozen=True, tag="leave_group"):
    """Leave a group. Answered by :class:`Ok`."""

    id: RequestId
    group: GroupId


class ListGroups(_Frame, frozen=True, tag="list_groups"):
    """The groups the caller belongs to, by group ID, after ``after`` (from the start when
    null), at most ``MAX_GROUPS_PAGE``. Answered by :class:`Groups`; ask again with its
    ``next`` until that is null."""

    id: RequestId
    after: GroupId | None = None


class AddContact(_Frame, frozen=True, tag="add_contact"):
    """``client_id`` is a contact of the caller: it may add the caller to groups. Answered
    by :class:`Contact` (as ``lookup``)."""

    id: RequestId
    client_id: ClientId


class RemoveContact(_Frame, frozen=True, tag="remove_contact"):
    """``client_id`` is no longer a contact of the caller. Answered by :class:`Ok`."""

    id: RequestId
    client_id: ClientId


class Ping(_Frame, frozen=True, tag="ping"):
    """Keep-alive. Answered by :class:`Pong`."""

    id: RequestId


class Ack(_Frame, frozen=True, tag="ack"):
    """Acknowledge pushed events by id: the ``message_id`` of a :class:`Message`, the
    ``event_id`` of a :class:`GroupUpdate`.

    Acknowledging a message also acknowledges every earlier message of the same
    conversation that this connection received: the server keeps one "delivered up to"
    position per conversation and member. Store messages in the order they arrive, then
    acknowledge. Not a request: it has no ``id`` and gets no reply. Acknowledging an id
    that is unknown or already acknowledged is harmless.
    """

    ids: Annotated[list[EventId], msgspec.Meta(min_length=1, max_length=MAX_ACK_IDS)]


# ---------------------------------------------------------------------------
# Conversation features (docs/protocol.md section 12): replies, forwards and mentions in
# ``send``; edits, deletions and reactions as entries of the conversation's log; typing;
# presence; group settings. Requests, replies and events alike, in that order.
# ---------------------------------------------------------------------------

MAX_EMOJI_CHARS: Final = 16
"""Longest reaction, in code points (a family with skin tones is 11)."""
MAX_DESCRIPTION_CHARS: Final = 512
"""Longest group description, in characters."""
MAX_PRESENCE_IDS: Final = 1024
"""Most client IDs one ``get_presence`` may ask about."""
TYPING_REFRESH_SECONDS: Final = 4.0
"""While the user types, a client repeats ``typing`` ``on`` this often (not more often
than :data:`TYPING_THROTTLE_SECONDS`)."""
TYPING_THROTTLE_SECONDS: Final = 3.0
"""The server forwards at most one ``typing`` ``on`` per sender and conversation in this
time, whatever came in between (the rest are dropped)."""
TYPING_EXPIRY_SECONDS: Final = 6.0
"""A receiver stops showing "typing" this long after the last ``on`` it got."""

EntrySeq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SAFE_INTEGER)]
"""The ``seq`` of an entry of a conversation: the server assigns them from 1."""
Mentions = Annotated[list[ClientId], msgspec.Meta(max_length=MAX_GROUP_MEMBERS)]
Description = Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION_CHARS)]
Emoji = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EMOJI_CHARS)]
Visibility = Literal["chats", "nobody"]
"""Who sees a client's presence: everyone who shares a chat with it, or nobody."""

_ZWJ = 0x200D
_KEYCAP = 0x20E3
_KEYCAP_BASES = frozenset("#*0123456789")
_VARIATION_SELECTORS = frozenset({0xFE0E, 0xFE0F})


def _regional(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


def _emoji_modifier(code: int) -> bool:
    """What may follow a pictograph inside one emoji: a variation selector, a skin tone,
    a tag character (subdivision flags), the keycap mark, the zero-width joiner."""
    return (
        code in _VARIATION_SELECTORS
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or code in (_KEYCAP, _ZWJ)
    )


def check_emoji(value: str) -> None:
    """Is ``value`` one emoji (roughly one grapheme cluster of pictographs)?

    Accepted: a keycap (``#``, ``*`` or a digit, optionally U+FE0F, then U+20E3); or a
    symbol of Unicode category ``So`` followed only by variation selectors, skin-tone
    modifiers and tag characters, where a further symbol may follow only a zero-width
    joiner (U+200D), or pair with a leading regional indicator (a flag). At most
    :data:`MAX_EMOJI_CHARS` code points.

    Raises:
        ValueError: it is not.
    """
    codes = [ord(char) for char in value]
    if not 1 <= len(codes) <= MAX_EMOJI_CHARS:
        raise ValueError(f"an emoji has 1 to {MAX_EMOJI_CHARS} code points")
    if value[0] in _KEYCAP_BASES:
        if codes[1:] not in ([_KEYCAP], [0xFE0F, _KEYCAP]):
            raise ValueError("not an emoji")
        return
    if unicodedata.category(value[0]) != "So" or codes[-1] == _ZWJ:
        raise ValueError("not an emoji")
    previous = codes[0]
    for index in range(1, len(codes)):
        code = codes[index]
        modifies = _emoji_modifier(code) and not (code == _ZWJ and previous == _ZWJ)
        joined = unicodedata.category(value[index]) == "So" and (
            previous == _ZWJ or (index == 1 and _regional(codes[0]) and _regional(code))
        )
        if not (modifies or joined):
            raise ValueError("one emoji only")
        previous = code


class ReplyTo(msgspec.Struct, frozen=True):
    """The message a reply answers: its ``seq`` in the same conversation and its author."""

    seq: EntrySeq
    sender: ClientId


class Forwarded(msgspec.Struct, frozen=True):
    """Who wrote a forwarded message, as the forwarder's client shows them: a display
    name, and their client ID unless the forwarder leaves it out (``null``)."""

    name: DisplayName
    sender: ClientId | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "forwarded_from.name")


class Edit(_Frame, frozen=True, tag="edit"):
    """Replace the text of message ``target`` (a ``seq``) of the conversation with ``to``
    or ``group``: its author only, within the server's edit window. Stored as an entry of
    the conversation; answered by :class:`Sent` (its ``key`` is idempotent as ``send``'s)."""

    id: RequestId
    key: IdempotencyKey
    target: EntrySeq
    text: Text
    to: ClientId | None = None
    group: GroupId | None = None

    def __post_init__(self) -> None:
        _check_target(self.to, self.group)
        if len(self.text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise ValueError(f"text is longer than {MAX_TEXT_BYTES} bytes")


class Delete(_Frame, frozen=True, tag="delete"):
    """Delete message ``target`` for everyone: its author, or in a group an admin. The
    server stops delivering it to whoever has not received it. Answered by :class:`Sent`."""

    id: RequestId
    key: IdempotencyKey
    target: EntrySeq
    to: ClientId | None = None
    group: GroupId | None = None

    def __post_init__(self) -> None:
        _check_target(self.to, self.group)


class React(_Frame, frozen=True, tag="react"):
    """Set (``on``) or take back (not ``on``) the sender's reaction ``emoji`` to message
    ``target``: one reaction per member and message, a new one replaces the old. Answered
    by :class:`Sent`."""

    id: RequestId
    key: IdempotencyKey
    target: EntrySeq
    emoji: Emoji
    on: bool = True
    to: ClientId | None = None
    group: GroupId | None = None

    def __post_init__(self) -> None:
        _check_target(self.to, self.group)
        check_emoji(self.emoji)


class Typing(_Frame, frozen=True, tag="typing"):
    """The user is typing (``on``) or stopped, in the conversation with ``to`` or in
    ``group``. Like :class:`Ack`, not a request: no ``id``, no reply, never stored;
    forwarded only to online participants, at most one ``on`` per
    :data:`TYPING_THROTTLE_SECONDS`."""

    to: ClientId | None = None
    group: GroupId | None = None
    on: bool = True

    def __post_init__(self) -> None:
        _check_target(self.to, self.group)


class GetPresence(_Frame, frozen=True, tag="get_presence"):
    """Online / last seen of ``client_ids``. Answered by :class:`Presences`, which leaves
    out whoever the caller may not see."""

    id: RequestId
    client_ids: Annotated[list[ClientId], msgspec.Meta(min_length=1, max_length=MAX_PRESENCE_IDS)]


class SetPrivacy(_Frame, frozen=True, tag="set_privacy"):
    """Change who sees the caller's presence (null or absent: unchanged). Answered by
    :class:`Privacy` with the settings in force."""

    id: RequestId
    presence: Visibility | None = None


class UpdateGroup(_Frame, frozen=True, tag="update_group"):
    """Rename a group and/or change its description (``""`` removes it). Admins only.
    Answered by :class:`GroupReply`."""

    id: RequestId
    group: GroupId
    name: GroupName | None = None
    description: Description | None = None

    def __post_init__(self) -> None:
        if self.name is None and self.description is None:
            raise ValueError("give 'name', 'description' or both")
        if self.name is not None:
            _check_name(self.name, "name")
        if self.description is not None and _CONTROL_CHARS.search(
            self.description.replace("\n", "")
        ):
            raise ValueError("description must not contain control characters but newlines")


class SetAdmin(_Frame, frozen=True, tag="set_admin"):
    """Make member ``client_id`` an admin, or not. Admins only; a group keeps at least one
    admin. Answered by :class:`GroupReply`."""

    id: RequestId
    group: GroupId
    client_id: ClientId
    admin: bool


class DeleteGroup(_Frame, frozen=True, tag="delete_group"):
    """Delete a group for everyone: every member is removed. Admins only. Answered by
    :class:`Ok`."""

    id: RequestId
    group: GroupId


class PresenceInfo(msgspec.Struct, frozen=True):
    """Whether ``client_id`` is online, else when it was last seen (ms, UTC; null when
    not known)."""

    client_id: ClientId
    online: bool
    last_seen: Timestamp | None = None


class Presences(_Frame, frozen=True, tag="presences"):
    """Reply to :class:`GetPresence`: one entry per client the caller may see."""

    id: RequestId
    presences: list[PresenceInfo]


class Privacy(_Frame, frozen=True, tag="privacy"):
    """Reply to :class:`SetPrivacy`: the caller's settings now."""

    id: RequestId
    presence: Visibility


class Edited(_Frame, frozen=True, tag="edited"):
    """Message ``target`` of the conversation now reads ``text`` (its author edited it).
    An entry of the conversation: acknowledge ``message_id`` like a :class:`Message`'s."""

    message_id: EventId
    seq: Seq
    ts: Timestamp
    sender: ClientId
    sender_name: str
    target: EntrySeq
    text: str
    to: ClientId | None = None
    group: GroupId | None = None


class Deleted(_Frame, frozen=True, tag="deleted"):
    """Message ``target`` was deleted for everyone by ``sender`` (its author or a group
    admin). An entry of the conversation: acknowledge ``message_id``."""

    message_id: EventId
    seq: Seq
    ts: Timestamp
    sender: ClientId
    sender_name: str
    target: EntrySeq
    to: ClientId | None = None
    group: GroupId | None = None


class Reacted(_Frame, frozen=True, tag="reacted"):
    """``sender`` reacted to message ``target`` with ``emoji`` (``on``: replacing its
    earlier reaction), or took that reaction back. An entry of the conversation:
    acknowledge ``message_id``."""

    message_id: EventId
    seq: Seq
    ts: Timestamp
    sender: ClientId
    sender_name: str
    target: EntrySeq
    emoji: str
    on: bool
    to: ClientId | None = None
    group: GroupId | None = None


class PeerTyping(_Frame, frozen=True, tag="typing"):
    """``sender`` is typing (``on``) or stopped, in ``group`` or (null) the direct
    conversation with ``sender``. Not stored, not acknowledged; forget an ``on`` after
    :data:`TYPING_EXPIRY_SECONDS` without another."""

    sender: ClientId
    on: bool
    group: GroupId | None = None


class Presence(_Frame, frozen=True, tag="presence"):
    """``client_id`` came online, or went offline at ``last_seen`` (null: it no longer
    shows its presence). Not stored, not acknowledged."""

    client_id: ClientId
    online: bool
    last_seen: Timestamp | None = None


Request = (
    Hello
    | Register
    | Login
    | Send
    | MarkRead
    | Lookup
    | CreateGroup
    | AddMember
    | RemoveMember
    | LeaveGroup
    | ListGroups
    | AddContact
    | RemoveContact
    | Ping
    | Edit
    | Delete
    | React
    | GetPresence
    | SetPrivacy
    | UpdateGroup
    | SetAdmin
    | DeleteGroup
)
ClientFrame = Request | Ack | Typing

# ---------------------------------------------------------------------------
# Server -> client replies. ``id`` repeats the request's ``id``.
# ---------------------------------------------------------------------------


class Limits(msgspec.Struct, frozen=True):
    """Limits in force on this server; sent in :class:`Welcome`."""

    max_frame_bytes: int = MAX_FRAME_BYTES
    max_text_bytes: int = MAX_TEXT_BYTES
    max_display_name_chars: int = MAX_DISPLAY_NAME_CHARS
    max_group_name_chars: int = MAX_GROUP_NAME_CHARS
    max_group_members: int = MAX_GROUP_MEMBERS


class Member(msgspec.Struct, frozen=True):
    client_id: ClientId
    display_name: str
    admin: bool = False


class GroupInfo(msgspec.Struct, frozen=True):
    """A group's current state. ``members`` includes every admin. ``description`` is
    absent when the group has none."""

    group_id: GroupId
    name: str
    members: list[Member]
    created_by: ClientId
    created_at: Timestamp
    description: str | UnsetType = UNSET


class Welcome(_Frame, frozen=True, tag="welcome"):
    id: RequestId
    protocol: int
    server: str
    registration: Literal["open", "invite", "closed"]
    limits: Limits


class Registered(_Frame, frozen=True, tag="registered"):
    """The new identity. The client must store ``credential``: it is never shown again."""

    id: RequestId
    client_id: ClientId
    credential: Credential
    display_name: str


class LoggedIn(_Frame, frozen=True, tag="logged_in"):
    id: RequestId
    client_id: ClientId
    display_name: str
    pending: int
    """How many stored messages and group updates were waiting at login (the backlog that
    follows; :class:`Synced` marks its end)."""


class Sent(_Frame, frozen=True, tag="sent"):
    """The message is durably stored: it will be delivered, once."""

    id: RequestId
    key: IdempotencyKey
    message_id: EventId
    seq: Seq
    ts: Timestamp
    duplicate: bool = False
    """True when ``key`` had been used already; the fields describe the original."""


class Contact(_Frame, frozen=True, tag="contact"):
    id: RequestId
    client_id: ClientId
    display_name: str


class GroupReply(_Frame, frozen=True, tag="group"):
    id: RequestId
    group: GroupInfo


class Groups(_Frame, frozen=True, tag="groups"):
    id: RequestId
    groups: list[GroupInfo]
    next: GroupId | None = None
    """Where the next page starts (``list_groups`` with ``after`` = this); null: done."""


class Ok(_Frame, frozen=True, tag="ok"):
    id: RequestId


class Pong(_Frame, frozen=True, tag="pong"):
    id: RequestId
    ts: Timestamp


class Error(_Frame, frozen=True, tag="error"):
    """A refused request. ``id`` is null when the request's id could not be read
    (a malformed frame); the connection stays open unless a :class:`Goodbye` follows."""

    code: str
    message: str
    id: RequestId | None = None


Reply = (
    Welcome
    | Registered
    | LoggedIn
    | Sent
    | Contact
    | GroupReply
    | Groups
    | Ok
    | Pong
    | Error
    | Presences
    | Privacy
)

# ---------------------------------------------------------------------------
# Server -> client events, pushed without a request.
# ---------------------------------------------------------------------------


class Message(_Frame, frozen=True, tag="message"):
    """A message for the receiving client. Acknowledge ``message_id`` with :class:`Ack`
    once it is stored (which also acknowledges the conversation's earlier messages); until
    then it is pushed again on every login.

    ``to`` is set for a direct message (it is the receiver), ``group`` for a group
    message. ``seq`` orders the conversation; it grows strictly, possibly with gaps.
    """

    message_id: EventId
    seq: Seq
    ts: Timestamp
    sender: ClientId
    sender_name: str
    text: str
    to: ClientId | None = None
    group: GroupId | None = None
    reply_to: ReplyTo | UnsetType = UNSET
    """Absent unless the message answers another one (section 12)."""
    forwarded_from: Forwarded | UnsetType = UNSET
    """Absent unless the message is forwarded."""
    mentions: list[ClientId] | UnsetType = UNSET
    """Absent unless the message mentions members of its group."""


class Receipt(msgspec.Struct, frozen=True):
    """Where one participant (``by``) stands in one conversation: it has stored every
    message up to seq ``delivered`` and read up to seq ``read``. The conversation is
    ``group``, or, when ``group`` is null, the direct conversation with ``by``."""

    by: ClientId
    delivered: Seq
    read: Seq
    group: GroupId | None = None


class Receipts(_Frame, frozen=True, tag="receipts"):
    """Delivery and read positions of other participants that moved.

    Each :class:`Receipt` is the participant's current position (not a change): a
    message you sent with ``seq <= delivered`` has reached ``by``, one with
    ``seq <= read`` has been read by ``by``. Positions only move forward.

    ``version`` orders these events: every receipt change up to ``version`` that concerns
    this client has been sent by the time this event is. Store it once the event is
    applied and send it as ``receipts_since`` in the next ``login``. Not acknowledged.
    """

    version: EventId
    receipts: list[Receipt]


class Synced(_Frame, frozen=True, tag="synced"):
    """The backlog that followed ``logged_in`` has been sent in full; live events follow.
    Not stored, not acknowledged."""


GroupChange = Literal[
    "created",
    "member_added",
    "member_removed",
    "member_left",
    "updated",
    "promoted",
    "demoted",
    "deleted",
]


class GroupUpdate(_Frame, frozen=True, tag="group_update"):
    """A group the receiver is or was in changed. ``group`` is its new state: when the
    receiver is not among its members, they were removed or left. Always stored:
    acknowledge ``event_id``."""

    event_id: EventId
    change: GroupChange
    actor: ClientId
    group: GroupInfo
    subject: ClientId | None = None


class Goodbye(_Frame, frozen=True, tag="goodbye"):
    """The server is closing the connection, for the reason in ``code``; it is the last
    frame of the connection. After ``session_replaced`` a client should not reconnect by
    itself (another connection of the same identity took over); after anything else it
    may reconnect with backoff."""

    code: str
    message: str


Event = (
    Message
    | Receipts
    | Synced
    | GroupUpdate
    | Goodbye
    | Edited
    | Deleted
    | Reacted
    | PeerTyping
    | Presence
)
ServerFrame = Reply | Event


# ---------------------------------------------------------------------------
# Encoding and decoding
# ---------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientFrame)
_server_decoder = msgspec.json.Decoder(ServerFrame)


class _AnyObject(msgspec.Struct):
    """Any JSON object: every field is skipped, so only the syntax is checked."""


_object_probe = msgspec.json.Decoder(_AnyObject)


class _IdProbe(msgspec.Struct):
    """Reads only ``id``: msgspec skips every other field without converting it, so a
    value that could not be converted elsewhere (``1e400``) does not hide the id."""

    id: object = None


_id_probe = msgspec.json.Decoder(_IdProbe)


class _TypeProbe(msgspec.Struct):
    type: object = None
    id: object = None


_type_probe = msgspec.json.Decoder(_TypeProbe)

_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
"""What msgspec raises for input that is not JSON at all. ``RecursionError`` comes from
very deeply nested arrays or objects, which no valid frame has."""


def encode_payload(frame: ClientFrame | ServerFrame) -> bytes:
    """The JSON payload of ``frame``, without the length header."""
    return _encoder.encode(frame)


def encode(frame: ClientFrame | ServerFrame) -> bytes:
    """``frame`` as bytes ready for the wire: length header plus JSON payload."""
    payload = _encoder.encode(frame)
    return HEADER.pack(len(payload)) + payload


def frame_bytes(payload: bytes) -> bytes:
    """Prefix an already-encoded payload with its length header."""
    return HEADER.pack(len(payload)) + payload


def _check_utf8(payload: bytes) -> None:
    """msgspec does not check the UTF-8 of fields it skips; the whole payload must be
    UTF-8 all the same. Nearly every frame is ASCII, which is checked without a copy."""
    if not payload.isascii():
        payload.decode("utf-8")


def _is_json_object(payload: bytes) -> bool:
    try:
        _object_probe.decode(payload)
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        return False
    return True


def _request_id_of(payload: bytes) -> int | None:
    try:
        value = _id_probe.decode(payload).id
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_REQUEST_ID:
        return value
    return None


def _error_code(message: str) -> str:
    if "text is longer" in message or ("`$.text`" in message and "length <=" in message):
        return ErrorCode.TEXT_TOO_LARGE
    if ("display_name" in message or "`$.name`" in message) and "length <=" in message:
        return ErrorCode.NAME_TOO_LONG
    return ErrorCode.INVALID_FIELD


def decode_client_frame(payload: bytes) -> ClientFrame:
    """Decode one payload sent by a client.

    Raises:
        ProtocolError: ``bad_frame`` for anything that is not a UTF-8 JSON object of a
            known type, or a field-specific code (``text_too_large``, ``name_too_long``,
            ``invalid_field``) with the request id when it could be read.
    """
    try:
        _check_utf8(payload)
        frame: ClientFrame = _client_decoder.decode(payload)
        return frame
    except msgspec.ValidationError as exc:
        message = str(exc)
        # msgspec validates while it parses: a field error may stand before broken JSON.
        if (
            "`$.type`" in message
            or "missing required field `type`" in message
            or message.startswith("Expected `object`")
            or not _is_json_object(payload)
        ):
            raise ProtocolError(ErrorCode.BAD_FRAME, message, _request_id_of(payload)) from None
        raise ProtocolError(_error_code(message), message, _request_id_of(payload)) from None
    except _DECODE_ERRORS as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"not a JSON object: {exc}") from None


def decode_server_frame(payload: bytes) -> ServerFrame:
    """Decode one payload sent by the server.

    Raises:
        ProtocolError: for anything that is not a valid server frame.
    """
    try:
        _check_utf8(payload)
        frame: ServerFrame = _server_decoder.decode(payload)
        return frame
    except (msgspec.ValidationError, *_DECODE_ERRORS) as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, str(exc)) from None


class FrameReader:
    """Splits a byte stream into frame payloads.

    Feed every chunk received with :meth:`feed`, then iterate :meth:`frames` to take
    each complete payload; decode each with :func:`decode_client_frame` or
    :func:`decode_server_frame`. After a :class:`ProtocolError` from :meth:`frames`
    the stream cannot be resynchronised: close the connection.
    """

    __slots__ = ("_buffer", "max_frame_bytes")

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self.max_frame_bytes = max_frame_bytes
        """The largest payload accepted; it may change between frames (a server accepts
        only small frames before login)."""

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete payload, or ``None`` until more bytes are fed.

        Raises:
            ProtocolError: ``frame_too_large`` when the next header announces more than
                :attr:`max_frame_bytes` (before its body arrives).
        """
        buffer = self._buffer
        if len(buffer) < HEADER.size:
            return None
        (length,) = HEADER.unpack_from(buffer)
        if length > self.max_frame_bytes:
            raise ProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {length} bytes exceeds the limit of {self.max_frame_bytes}",
            )
        end = HEADER.size + length
        if len(buffer) < end:
            return None
        payload = bytes(buffer[HEADER.size : end])
        del buffer[:end]  # O(1) amortised: CPython moves a bytearray's start instead
        return payload

    @property
    def buffered(self) -> int:
        """Bytes received but not yet taken as frames."""
        return len(self._buffer)

    def frames(self) -> Iterator[bytes]:
        """Yield each complete payload buffered so far.

        Each payload leaves the buffer as it is yielded, so an iterator abandoned halfway
        never makes a frame come twice; bytes fed while iterating are picked up.

        Raises:
            ProtocolError: ``frame_too_large`` when a header announces more than the
                limit (raised before the body arrives, so nothing is buffered for it).
        """
        while (payload := self.next_frame()) is not None:
            yield payload


def type_and_id(payload: bytes) -> tuple[str | None, int | None]:
    """``type`` and ``id`` of a payload that is a JSON object, else ``(None, None)``: what
    a receiver reads of a well-formed frame it cannot decode (a newer peer's type)."""
    try:
        probe = _type_probe.decode(payload)
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        return None, None
    kind = probe.type if isinstance(probe.type, str) else None
    request_id = probe.id
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        request_id = None
    return kind, request_id


def direct_conversation(a: str, b: str) -> str:
    """The conversation key of the direct chat between clients ``a`` and ``b``."""
    return f"{a}:{b}" if a <= b else f"{b}:{a}"

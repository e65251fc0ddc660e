"""What the repository stores and returns, and the writes it is asked to make.

Records are immutable snapshots read from the store. Writes are *operations*: small
frozen objects that the service layer collects during one turn of the event loop and
hands to :meth:`~messenger_server.repository.Repository.commit` as one transaction.
An operation says what to store, never whether it is allowed: the rules (who may send
where, who may change a group) are the service layer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    display_name: str
    secret_hash: bytes
    created_at: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class MemberRecord:
    client_id: str
    display_name: str
    admin: bool
    joined_at: int


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A group and its members, in the order they joined (the creator first)."""

    group_id: str
    name: str
    created_by: str
    created_at: int
    members: tuple[MemberRecord, ...]
    description: str = ""

    def member(self, client_id: str) -> MemberRecord | None:
        return next((m for m in self.members if m.client_id == client_id), None)

    @property
    def member_ids(self) -> frozenset[str]:
        return frozenset(m.client_id for m in self.members)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message waiting for one recipient (a backlog entry); ``kind``, ``target`` and
    ``extra`` as in :class:`InsertMessage`."""

    message_id: int
    seq: int
    ts: int
    conversation: str
    sender: str
    sender_name: str
    text: str
    kind: str | None = None
    target: int | None = None
    extra: bytes | None = None


GroupChangeKind = Literal[
    "created",
    "member_added",
    "member_removed",
    "member_left",
    "updated",
    "promoted",
    "demoted",
    "deleted",
]


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """A group update waiting for one recipient."""

    event_id: int
    change: GroupChangeKind
    actor: str
    subject: str | None
    group_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class Marker:
    """How far ``member`` has got in ``conversation``: every message up to seq
    ``delivered`` is stored on its side, and it has read up to seq ``read``.
    ``version`` orders changes of all markers (a larger one is a later change)."""

    conversation: str
    member: str
    delivered: int
    read: int
    version: int


@dataclass(frozen=True, slots=True)
class MarkerMove:
    """A marker that moved forward in a commit: its state before and after."""

    before: Marker
    after: Marker


# --- operations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InsertClient:
    """Register ``client_id``. Result: False when the ID is taken (choose another)."""

    client_id: str
    display_name: str
    secret_hash: bytes
    created_at: int


@dataclass(frozen=True, slots=True)
class InsertMessage:
    """Append a message to ``conversation``'s log.

    The pair (``sender``, ``key``) is unique: when it was used before, nothing is stored
    and the result is the original (``duplicate=True``). Result: :class:`MessageSaved`.

    ``kind`` is None for a message, else the kind of a small entry that refers to the
    message at seq ``target`` of the same conversation (an edit, a deletion, a reaction:
    the service's names). ``extra`` is the service's, stored as is and dropped with the
    text.
    """

    conversation: str
    sender: str
    key: str
    text: str
    ts: int
    kind: str | None = None
    target: int | None = None
    extra: bytes | None = None


@dataclass(frozen=True, slots=True)
class MessageSaved:
    message_id: int
    seq: int
    ts: int
    duplicate: bool
    previous: int | None = None
    """The seq of the conversation's message stored before this one (0: none), when the
    repository knows it cheaply; a repository that several nodes share must say."""


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """Give each of ``members`` a marker in ``conversation`` (a direct conversation) at
    its beginning, when it has none yet. Result: None."""

    conversation: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MoveMarkers:
    """Move ``member``'s delivered and/or read position in ``conversation`` forward to at
    least these seqs. Result: :class:`MarkerMove`, or None when nothing moved (already
    there, or ``member`` has no marker in ``conversation``)."""

    conversation: str
    member: str
    delivered: int = 0
    read: int = 0


@dataclass(frozen=True, slots=True)
class WithdrawMessage:
    """Message ``seq`` of ``conversation`` was deleted: drop its text and extra, and those
    of the entries that refer to it (but not of ``delete`` entries), as if every
    participant had them: whoever has not received them never will. Applied after the
    commit's :class:`InsertMessage` operations. Result: None."""

    conversation: str
    seq: int


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """What the store still knows of entry ``seq`` of ``conversation`` (its text may be
    gone): who stored it, when, its ``kind`` and ``target`` (None for a message), and
    whether a ``delete`` entry refers to it."""

    conversation: str
    seq: int
    sender: str
    ts: int
    kind: str | None
    target: int | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class InsertGroup:
    """Create a group (without members: add them with :class:`AddMember`). Result: False
    when the ID is taken."""

    group_id: str
    name: str
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AddMember:
    """Make ``client_id`` a member of ``group_id``, with a marker at the current end of the
    group's log (it receives only later messages, and counts as having every earlier one).
    Result: the new marker, as a :class:`MarkerMove` from nothing."""

    group_id: str
    client_id: str
    admin: bool
    joined_at: int


@dataclass(frozen=True, slots=True)
class RemoveMember:
    """``client_id`` is no longer in ``group_id`` (its marker goes too). Result: None."""

    group_id: str
    client_id: str


@dataclass(frozen=True, slots=True)
class SetAdmin:
    """Result: None."""

    group_id: str
    client_id: str
    admin: bool


@dataclass(frozen=True, slots=True)
class UpdateGroup:
    """Change a group's ``name`` and/or ``description`` (None: unchanged). Result: None."""

    group_id: str
    name: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class InsertNotices:
    """Store one group update for each of ``recipients``, pending until acknowledged.
    Result: ``dict`` recipient → event id."""

    group_id: str
    change: GroupChangeKind
    actor: str
    subject: str | None
    ts: int
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AckNotices:
    """``recipient`` has stored these group updates. Unknown ids are ignored. Result:
    None."""

    recipient: str
    event_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SetContact:
    """``owner`` has (``present``) or no longer has ``contact`` among its contacts: whether
    ``contact`` may add ``owner`` to groups. Result: None."""

    owner: str
    contact: str
    present: bool


@dataclass(frozen=True, slots=True)
class UseInvite:
    """Spend one use of an invite code. Result: True when the code existed, had a use left
    and had not expired at ``now`` (ms); False otherwise (nothing changes)."""

    code: str
    now: int


@dataclass(frozen=True, slots=True)
class SetPresence:
    """Store ``client_id``'s presence ``visibility`` and/or when it was ``last_seen``
    (ms; None: unchanged). Result: None."""

    client_id: str
    visibility: str | None = None
    last_seen: int | None = None


@dataclass(frozen=True, slots=True)
class PresenceRecord:
    """A client's stored presence: its visibility setting (None: never set) and when it
    was last seen (None: never)."""

    client_id: str
    visibility: str | None
    last_seen: int | None


@dataclass(frozen=True, slots=True)
class InviteRecord:
    code: str
    uses_left: int
    expires_at: int
    created_at: int


Operation = (
    InsertClient
    | InsertMessage
    | OpenConversation
    | MoveMarkers
    | InsertGroup
    | AddMember
    | RemoveMember
    | SetAdmin
    | InsertNotices
    | AckNotices
    | SetContact
    | UseInvite
    | WithdrawMessage
    | UpdateGroup
    | SetPresence
)
OperationResult = bool | MessageSaved | MarkerMove | dict[str, int] | None

"""Where the server's state is stored: the :class:`Repository` interface, its records and
operations, and the embedded SQLite implementation. The PostgreSQL one, for several server
nodes sharing a database, is :mod:`messenger_server.repository.postgresql`: imported only
where it is chosen, since its driver (asyncpg) is an optional dependency. :mod:`.dump` moves
a whole store from one to the other."""

from messenger_server.repository import dump
from messenger_server.repository.base import Repository, StorageError
from messenger_server.repository.records import (
    AckNotices,
    AddMember,
    ClientRecord,
    GroupChangeKind,
    GroupRecord,
    InsertClient,
    InsertGroup,
    InsertMessage,
    InsertNotices,
    InviteRecord,
    Marker,
    MarkerMove,
    MemberRecord,
    MessageSaved,
    MoveMarkers,
    OpenConversation,
    Operation,
    OperationResult,
    RemoveMember,
    SetAdmin,
    SetContact,
    StoredMessage,
    StoredNotice,
    UseInvite,
)
from messenger_server.repository.sqlite import SQLiteRepository

__all__ = [
    "AckNotices",
    "AddMember",
    "ClientRecord",
    "GroupChangeKind",
    "GroupRecord",
    "InsertClient",
    "InsertGroup",
    "InsertMessage",
    "InsertNotices",
    "InviteRecord",
    "Marker",
    "MarkerMove",
    "MemberRecord",
    "MessageSaved",
    "MoveMarkers",
    "OpenConversation",
    "Operation",
    "OperationResult",
    "RemoveMember",
    "Repository",
    "SQLiteRepository",
    "SetAdmin",
    "SetContact",
    "StorageError",
    "StoredMessage",
    "StoredNotice",
    "UseInvite",
    "dump",
]

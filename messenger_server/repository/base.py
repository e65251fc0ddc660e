"""The repository interface: what the service layer needs from a store, and nothing more.

The service layer (``messenger_server.service``) decides; a repository only stores and
reads. :class:`~messenger_server.repository.sqlite.SQLiteRepository` implements it on an
embedded SQLite file; another engine implements the same methods and passes the same
contract tests (``tests/test_repository.py``).

Messages are a log per conversation; each member of a conversation has a
:class:`~messenger_server.repository.records.Marker` in it (how far it has stored and
read). What is pending for a member is what lies after its marker, so storing a message
writes one row however many members the conversation has, and an acknowledgement moves
one marker however many messages it covers.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence

from messenger_server.repository.records import (
    ClientRecord,
    EntryRecord,
    GroupRecord,
    InviteRecord,
    Marker,
    Operation,
    OperationResult,
    PresenceRecord,
    StoredMessage,
    StoredNotice,
)


class StorageError(Exception):
    """The store failed (disk full, I/O error...): nothing of the failed call was stored."""


class Repository(abc.ABC):
    """Everything the server persists. Every method may be called concurrently; writes
    happen in the order their calls were made."""

    # -- lifecycle --

    @abc.abstractmethod
    async def open(self) -> None:
        """Create or migrate the store. Call once before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish the writes already asked for and release the store."""

    # -- writes --

    @abc.abstractmethod
    async def commit(self, operations: Sequence[Operation]) -> list[OperationResult]:
        """Apply ``operations`` as one transaction, with the effect of applying them one
        after the other; return their results in the same order, once the transaction is
        durable (on disk).

        Ids (message ids, event ids, marker versions) are allocated here, in the order of
        the operations, from one counter that never goes back, even after a crash.

        Raises:
            StorageError: the transaction failed; nothing of it was stored.
        """

    @abc.abstractmethod
    async def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        """Disable or enable a client (an administrator's action; may come from another
        process). Returns False when there is no such client. A running server sees it
        through :meth:`directory_epoch`."""

    @abc.abstractmethod
    async def forget_delivered(self, conversations: Iterable[str]) -> int:
        """Drop the text of every message of ``conversations`` that every current
        participant has stored (the rest of the row stays for idempotency until
        :meth:`expire`). Returns how many texts were dropped."""

    @abc.abstractmethod
    async def expire(self, before_ts: int, undelivered_before_ts: int) -> int:
        """Delete delivered messages stored before ``before_ts`` (ms): their idempotency
        keys are forgotten; and every message stored before ``undelivered_before_ts``,
        delivered or not (it will not be delivered any more). Returns how many."""

    # -- invites (an administrator's, possibly from another process) --

    @abc.abstractmethod
    async def create_invite(self, code: str, uses: int, expires_at: int, created_at: int) -> bool:
        """Store a new invite code; False when the code exists already."""

    @abc.abstractmethod
    async def list_invites(self) -> list[InviteRecord]:
        """Every invite code, newest first."""

    @abc.abstractmethod
    async def revoke_invite(self, code: str) -> bool:
        """Delete an invite code; False when there was none."""

    # -- reads --

    @abc.abstractmethod
    def directory_epoch(self) -> int:
        """A number that changes whenever clients are disabled or enabled, by anyone. It
        must be cheap: the service calls it at most once per turn of the event loop to
        know whether its cached client records are still valid."""

    @abc.abstractmethod
    async def get_clients(self, client_ids: Iterable[str]) -> dict[str, ClientRecord]:
        """The clients among ``client_ids`` that exist (disabled ones included)."""

    async def get_client(self, client_id: str) -> ClientRecord | None:
        return (await self.get_clients([client_id])).get(client_id)

    @abc.abstractmethod
    async def list_clients(self) -> list[ClientRecord]:
        """Every client, oldest first."""

    @abc.abstractmethod
    async def get_groups(self, group_ids: Iterable[str]) -> dict[str, GroupRecord]:
        """The groups among ``group_ids`` that exist."""

    async def get_group(self, group_id: str) -> GroupRecord | None:
        return (await self.get_groups([group_id])).get(group_id)

    @abc.abstractmethod
    async def pending_conversations(
        self, member: str, self_conversation: str
    ) -> list[tuple[str, int, int]]:
        """Where ``member`` has messages waiting: ``(conversation, after, count)`` for each
        conversation with messages after ``member``'s delivered marker (``after``) that
        others sent (or that ``member`` sent to itself, in ``self_conversation``), the
        conversation whose oldest waiting message is oldest first."""

    @abc.abstractmethod
    async def pending_messages(
        self, member: str, conversation: str, after: int, limit: int, *, own: bool = False
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages of ``conversation`` after seq ``after``, in order,
        that ``member`` did not send (``own``: including those it sent), within its
        membership."""

    @abc.abstractmethod
    async def pending_notices(self, member: str, after: int, limit: int) -> list[StoredNotice]:
        """Group updates waiting for ``member`` with event ids above ``after``, oldest
        first."""

    @abc.abstractmethod
    async def count_notices(self, member: str) -> int: ...

    @abc.abstractmethod
    async def contacts_among(self, contact: str, owners: Iterable[str]) -> set[str]:
        """The clients among ``owners`` that have ``contact`` among their contacts."""

    @abc.abstractmethod
    async def group_counts(self, client_ids: Iterable[str]) -> dict[str, int]:
        """How many groups each of ``client_ids`` belongs to (0 for none)."""

    @abc.abstractmethod
    async def groups_page(self, client_id: str, after: str | None, limit: int) -> list[GroupRecord]:
        """Up to ``limit`` groups ``client_id`` belongs to, by group ID, after ``after``."""

    @abc.abstractmethod
    async def pending_by_sender(self, member: str, self_conversation: str) -> dict[str, int]:
        """How many messages wait for ``member``, by sender (as
        :meth:`pending_conversations` counts them)."""

    @abc.abstractmethod
    async def direct_backlog(self, client_id: str) -> tuple[int, int]:
        """Direct messages not yet delivered: (waiting for ``client_id``, sent by
        ``client_id`` and waiting for their recipients). Notes to self do not count."""

    @abc.abstractmethod
    async def receipts_since(self, member: str, version: int, limit: int) -> list[Marker]:
        """The markers of other participants in ``member``'s conversations that changed
        after ``version``, in version order."""

    @abc.abstractmethod
    async def marker_version(self) -> int:
        """The version of the latest marker change committed (0: none yet)."""

    @abc.abstractmethod
    async def markers_changed(self, after: int, upto: int, limit: int) -> list[Marker]:
        """Every marker whose latest change has a version in (``after``, ``upto``], in
        version order (a node of several catching up with changes it did not hear of)."""

    # -- conversation features (edits, deletions, reactions; presence) --

    @abc.abstractmethod
    async def get_entry(self, conversation: str, seq: int) -> EntryRecord | None:
        """What is still known of entry ``seq`` of ``conversation`` (None: no such entry,
        or it expired)."""

    @abc.abstractmethod
    async def conversation_exists(self, conversation: str) -> bool:
        """Whether anyone has a marker in ``conversation`` (for a direct conversation: a
        message was sent in it)."""

    @abc.abstractmethod
    async def get_presence(self, client_ids: Iterable[str]) -> dict[str, PresenceRecord]:
        """The stored presence of those of ``client_ids`` that have one."""

    @abc.abstractmethod
    async def chat_partners(self, client_id: str) -> set[str]:
        """The clients that share a chat with ``client_id``: those it has among its
        contacts and that have it among theirs, and its fellow members of every group."""

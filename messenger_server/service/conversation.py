"""Editing, deleting for everyone and reacting to a message: small entries of its log.

Each request is checked as a ``send`` into the same conversation would be (the sender is
a member, the recipient exists, the quotas), then against the message it targets, by seq:

* ``edit``: a message (not an entry) the server still knows, not deleted, written by the
  sender, at most ``edit_window_hours`` old;
* ``delete``: a message, not deleted yet, written by the sender or, in a group, deleted
  by an admin. What has not been delivered of it, and of its edits and reactions, is
  withdrawn: whoever has not received them gets only the deletion;
* ``react``: a message, not deleted. One reaction per member and message: a new one
  replaces the old, ``on: false`` takes it back. The server keeps no tally: every client
  folds the reactions of the log in seq order.

Then the entry is stored like a message (:meth:`Messaging.store`): one row with a seq of
its own, answered ``sent``, idempotent by key, delivered in order with the conversation
and acknowledged cumulatively with it. Deciding needs what the server remembers of the
target (:class:`~.core.MessageCache`); storage is read only for a target not cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from messenger_server import protocol
from messenger_server.config import Settings
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import InsertMessage, WithdrawMessage
from messenger_server.service import entries
from messenger_server.service.core import Context, Handled, MessageState, Peer, now_ms
from messenger_server.service.messaging import Admitted, Messaging

EntryRequest = protocol.Edit | protocol.Delete | protocol.React


class Conversation:
    """The handlers of ``edit``, ``delete`` and ``react``."""

    def __init__(self, context: Context, settings: Settings, messaging: Messaging) -> None:
        self.context = context
        self.messaging = messaging
        self.edit_window_ms = settings.edit_window_hours * 3_600_000

    def edit(self, peer: Peer, request: protocol.Edit) -> Handled:
        """``edit``: answered ``sent``; the others get ``edited``."""
        return self._add(peer, request, self.edit)

    def delete(self, peer: Peer, request: protocol.Delete) -> Handled:
        """``delete``: answered ``sent``; the others get ``deleted``."""
        return self._add(peer, request, self.delete)

    def react(self, peer: Peer, request: protocol.React) -> Handled:
        """``react``: answered ``sent``; the others get ``reacted``."""
        return self._add(peer, request, self.react)

    def _add(
        self,
        peer: Peer,
        request: EntryRequest,
        retry: Callable[[Peer, Any], Handled],
        *,
        loaded: bool = False,
    ) -> Handled:
        """Decide, then store the entry with this turn's writes. Returns a coroutine when
        a group, a recipient or the target must be read first."""
        admitted = self.messaging.admit(peer, request, retry)
        if not isinstance(admitted, Admitted):
            return admitted
        conversation = admitted.conversation
        target = self.context.messages.cached(conversation, request.target)
        if target is None and not loaded:
            return self._load_then_add(peer, request, retry, conversation)
        sender = peer.session.client_id
        assert sender is not None
        refusal = self._refusal(sender, request, target, conversation)
        if refusal is not None:
            self.context.error(peer, request.id, *refusal)
            return None
        assert target is not None
        if isinstance(request, protocol.Edit):
            kind, text = entries.EDIT, request.text
        elif isinstance(request, protocol.Delete):
            kind, text = entries.DELETE, ""
        else:
            kind, text = (entries.REACT if request.on else entries.UNREACT), request.emoji
        op = InsertMessage(conversation, sender, request.key, text, now_ms(), kind, request.target)
        self.messaging.store(peer, request, op, admitted.to)
        if isinstance(request, protocol.Delete):
            # Decided: requests handled from now on see it; storage withdraws what has not
            # been delivered in the same transaction.
            target.deleted = True
            self.context.pipeline.add(WithdrawMessage(conversation, request.target))
            if admitted.to is not None:
                self.messaging.backlogs.withdrawn(sender, admitted.to)
        return None

    async def _load_then_add(
        self,
        peer: Peer,
        request: EntryRequest,
        retry: Callable[[Peer, Any], Handled],
        conversation: str,
    ) -> None:
        await self.context.messages.load(conversation, request.target)
        handled = self._add(peer, request, retry, loaded=True)
        if handled is not None:
            await handled

    def _refusal(
        self,
        sender: str,
        request: EntryRequest,
        target: MessageState | None,
        conversation: str,
    ) -> tuple[str, str] | None:
        """Why ``request`` may not refer to ``target`` (code, message), or None."""
        seq = request.target
        if target is None:
            return Code.UNKNOWN_MESSAGE, f"no message {seq} in this conversation (or too old)"
        if target.kind is not None:
            return Code.UNKNOWN_MESSAGE, f"{seq} is not a message"
        if target.deleted:
            return Code.MESSAGE_DELETED, f"message {seq} was deleted"
        if isinstance(request, protocol.Edit):
            if target.sender != sender:
                return Code.NOT_AUTHOR, "only its author edits a message"
            if now_ms() - target.ts > self.edit_window_ms:
                return Code.EDIT_EXPIRED, "the message is too old to be edited"
        elif isinstance(request, protocol.Delete) and target.sender != sender:
            group = self.context.groups.cached(conversation) if request.group else None
            member = group.members.get(sender) if group is not None else None
            if member is None or not member.admin:
                return Code.NOT_AUTHOR, "only its author, or a group's admin, deletes a message"
        return None

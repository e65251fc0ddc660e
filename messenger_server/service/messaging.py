"""Sending, delivering and acknowledging messages; the backlog at login.

``send``: the sender may write there (the recipient exists and is not disabled, or the
sender is a member of the group); the message is stored (one row, whatever the group's
size) with the writes of this loop turn; once on disk, the sender gets ``sent`` and every
online recipient the ``message``. The sender's idempotency key makes a resend return the
original. A reply names a message of the same conversation (checked when the server still
knows it), mentions name members of the group; both are stored with the message.

The entries of ``.conversation`` (edits, deletions, reactions) go through the same
:meth:`Messaging.admit` and :meth:`Messaging.store`: to the log, to the recipients, into
the backlog (see ``.entries``), acknowledged like messages.

``ack``: moves the acknowledging member's delivered marker in each conversation to the
highest message acknowledged (acks are cumulative), which is what the senders' receipts
report.

What is pending for a member is what comes after its marker in each conversation, sent by
someone else (or by itself, in the conversation with itself); :meth:`send_pending_messages`
sends it after ``login``, paced by the client's reading and acknowledging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final

from messenger_server import protocol
from messenger_server.config import Settings
from messenger_server.logs import limit_repeats
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import (
    AckNotices,
    InsertMessage,
    MessageSaved,
    MoveMarkers,
    OpenConversation,
    StorageError,
)
from messenger_server.service import entries
from messenger_server.service.bus import Deliver
from messenger_server.service.core import Context, Handled, MessageState, Peer, now_ms
from messenger_server.service.groups import Groups
from messenger_server.service.receipts import Receipts, is_group

log = logging.getLogger(__name__)
limit_repeats(log)

PAGE: Final = 1000
"""Messages read per query while sending a backlog."""
MAX_INFLIGHT: Final = 8000
"""Messages pushed to one connection and not acknowledged: above this, live messages are
no longer pushed to it; they are read from storage once it has acknowledged the rest."""
BACKLOG_INFLIGHT: Final = 4000
"""The backlog waits for acknowledgements above this many unacknowledged messages."""
MAX_OPENED: Final = 200_000
WRITE_CHUNK: Final = 128 * 1024
"""Backlog bytes queued before waiting for the client to read them."""


def self_conversation(client_id: str) -> str:
    return protocol.direct_conversation(client_id, client_id)


class Backlogs:
    """How many direct messages wait for each client, and how many each client sent that
    wait for their recipients: the quotas a stranger cannot get past (group messages only
    come from groups one agreed to be in, and expire like every message).

    Counted here as messages are stored and acknowledged; read from storage the first
    time a client is concerned after the server starts (and after an expiry)."""

    RECOUNT_AFTER: Final = 1.0
    """With several nodes, seconds before a count that reached a limit is read again."""

    def __init__(self, context: Context) -> None:
        self._repository = context.repository
        self.waiting_for: dict[str, int] = {}
        self.waiting_from: dict[str, int] = {}
        self._loaded_at: dict[str, float] = {}

    def known(self, *client_ids: str) -> bool:
        return all(c in self.waiting_for for c in client_ids)

    async def load(self, *client_ids: str) -> None:
        for client_id in client_ids:
            if client_id not in self.waiting_for:
                waiting_for, waiting_from = await self._repository.direct_backlog(client_id)
                if client_id not in self.waiting_for:  # counted meanwhile
                    self.waiting_for[client_id] = waiting_for
                    self.waiting_from[client_id] = waiting_from
                    self._loaded_at[client_id] = time.monotonic()

    def recount(self, *client_ids: str) -> bool:
        """Forget the counts of ``client_ids`` that were read more than
        :attr:`RECOUNT_AFTER` ago; returns whether any was (load them again)."""
        now = time.monotonic()
        stale = [c for c in client_ids if now - self._loaded_at.get(c, 0.0) > self.RECOUNT_AFTER]
        for client_id in stale:
            self.waiting_for.pop(client_id, None)
            self.waiting_from.pop(client_id, None)
        return bool(stale)

    def stored(self, sender: str, recipient: str) -> None:
        if recipient in self.waiting_for:
            self.waiting_for[recipient] += 1
        if sender in self.waiting_from:
            self.waiting_from[sender] += 1

    def delivered(self, recipient: str, senders: list[str]) -> None:
        if recipient in self.waiting_for:
            self.waiting_for[recipient] = max(0, self.waiting_for[recipient] - len(senders))
        for sender in senders:
            if sender in self.waiting_from:
                self.waiting_from[sender] = max(0, self.waiting_from[sender] - 1)

    def forget(self) -> None:
        """Messages expired: count again."""
        self.waiting_for.clear()
        self.waiting_from.clear()
        self._loaded_at.clear()

    def withdrawn(self, *client_ids: str) -> None:
        """Messages between these clients were withdrawn (deleted before delivery): count
        theirs again."""
        for client_id in client_ids:
            self.waiting_for.pop(client_id, None)
            self.waiting_from.pop(client_id, None)


Posting = protocol.Send | protocol.Edit | protocol.Delete | protocol.React
"""A request that adds a message or an entry to a conversation's log."""


@dataclass(frozen=True, slots=True)
class Admitted:
    """Where a :data:`Posting` goes: its conversation, and the recipient of a direct one."""

    conversation: str
    to: str | None


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a stored message is: what delivering it in order needs."""

    conversation: str
    sender: str
    message_id: int
    seq: int
    previous: int | None
    """The seq of the conversation's message before it (None: not known)."""


class Messaging:
    def __init__(
        self, context: Context, settings: Settings, receipts: Receipts, groups: Groups
    ) -> None:
        self.context = context
        self.settings = settings
        self.receipts = receipts
        self.groups = groups
        self._opened: OrderedDict[str, None] = OrderedDict()
        """Direct conversations known to have both markers (saves a write per message)."""
        self._ack_waiters: dict[Peer, asyncio.Future[None]] = {}
        self._backlogs: dict[Peer, asyncio.Task[None]] = {}
        self.touched: set[str] = set()
        """Conversations whose markers moved since the last clean-up (see ``forget``)."""
        self.backlogs = Backlogs(context)
        self._positions: dict[Peer, dict[str, int]] = {}
        """With several nodes: per connection and conversation, the seq up to which every
        message for the client is known to have been pushed (see :meth:`_deliver`)."""
        self._dirty: dict[Peer, set[str] | None] = {}
        """With several nodes: conversations to read from storage for a connection
        (``None``: every one)."""

    # -- send --

    def send(self, peer: Peer, request: protocol.Send, *, reply_checked: bool = False) -> Handled:
        """``send``: decide, then store with this turn's writes; ``sent`` follows the
        commit. Needs storage first only for a recipient, group or replied-to message not
        seen yet."""
        admitted = self.admit(peer, request, self.send)
        if not isinstance(admitted, Admitted):
            return admitted
        conversation = admitted.conversation
        mentions: list[str] = []
        if isinstance(request.mentions, list) and request.mentions:
            group = self.context.groups.cached(conversation)
            assert group is not None  # admitted: cached
            mentions = list(dict.fromkeys(request.mentions))
            strangers = [m for m in mentions if m not in group.members]
            if strangers:
                self.context.error(
                    peer, request.id, Code.NOT_A_MEMBER, f"{strangers[0]} is not in the group"
                )
                return None
        reply = request.reply_to if isinstance(request.reply_to, protocol.ReplyTo) else None
        if reply is not None:
            target = self.context.messages.cached(conversation, reply.seq)
            if target is None and not reply_checked:
                return self._load_reply_then_send(peer, request, conversation, reply.seq)
            if target is not None and (target.kind is not None or target.sender != reply.sender):
                self.context.error(
                    peer,
                    request.id,
                    Code.UNKNOWN_MESSAGE,
                    f"no message {reply.seq} by {reply.sender} in this conversation",
                )
                return None
        forwarded = request.forwarded_from
        extra = entries.pack_extras(
            reply, forwarded if isinstance(forwarded, protocol.Forwarded) else None, mentions
        )
        sender = peer.session.client_id
        assert sender is not None
        self.store(
            peer,
            request,
            InsertMessage(conversation, sender, request.key, request.text, now_ms(), extra=extra),
            admitted.to,
        )
        return None

    async def _load_reply_then_send(
        self, peer: Peer, request: protocol.Send, conversation: str, seq: int
    ) -> None:
        await self.context.messages.load(conversation, seq)
        handled = self.send(peer, request, reply_checked=True)
        if handled is not None:
            await handled

    def admit(
        self, peer: Peer, request: Posting, retry: Callable[[Peer, Any], Handled]
    ) -> Admitted | Handled:
        """May the peer's client write ``request`` into its conversation now? Returns
        where (:class:`Admitted`); or None when refused (the ``error`` is queued); or a
        coroutine that loads what the decision needs, then calls ``retry(peer, request)``
        (the caller returns it: the connection's next frames wait for it)."""
        sender = peer.session.client_id
        assert sender is not None
        if isinstance(request, protocol.Send | protocol.Edit):
            limit = self.settings.max_text_bytes
            if limit < protocol.MAX_TEXT_BYTES and len(request.text.encode()) > limit:
                self.context.error(
                    peer, request.id, Code.TEXT_TOO_LARGE, f"text exceeds {limit} bytes"
                )
                return None
        if self.context.disk.full():
            self.context.error(peer, request.id, Code.STORAGE_FULL, "the server is out of space")
            return None
        if request.group is not None:
            group = self.context.groups.cached(request.group)
            if group is None:
                return self._load_then(peer, request, retry)
            if sender not in group.members:
                self.context.error(
                    peer, request.id, Code.NOT_A_MEMBER, f"not a member of {request.group}"
                )
                return None
            return Admitted(request.group, None)
        assert request.to is not None
        recipient = self.context.directory.cached(request.to)
        if recipient is None:
            return self._load_then(peer, request, retry)
        if recipient.disabled:
            self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, f"no client {request.to}")
            return None
        if request.to != sender:
            backlogs = self.backlogs
            if not backlogs.known(sender, request.to):
                return self._load_then(peer, request, retry)
            full = (
                backlogs.waiting_for[request.to] >= self.settings.max_pending_per_client
                or backlogs.waiting_from[sender] >= self.settings.max_pending_per_sender
            )
            if full and self.context.bus.clustered and backlogs.recount(sender, request.to):
                # other nodes see the deliveries: count again before refusing
                return self._load_then(peer, request, retry)
            if backlogs.waiting_for[request.to] >= self.settings.max_pending_per_client:
                self.context.error(
                    peer, request.id, Code.RECIPIENT_FULL, "too much is waiting for this client"
                )
                return None
            if backlogs.waiting_from[sender] >= self.settings.max_pending_per_sender:
                self.context.error(
                    peer,
                    request.id,
                    Code.QUOTA_EXCEEDED,
                    "too many of your messages wait for their recipients",
                )
                return None
        return Admitted(protocol.direct_conversation(sender, request.to), request.to)

    async def _load_then(
        self, peer: Peer, request: Posting, retry: Callable[[Peer, Any], Handled]
    ) -> None:
        if request.group is not None:
            if await self.context.groups.load(request.group) is None:
                self.context.error(
                    peer, request.id, Code.UNKNOWN_GROUP, f"no group {request.group}"
                )
                return
        else:
            assert request.to is not None
            if not await self.context.directory.load([request.to]):
                self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, f"no client {request.to}")
                return
            sender = peer.session.client_id
            assert sender is not None
            await self.backlogs.load(sender, request.to)
        handled = retry(peer, request)
        if handled is not None:
            await handled

    def opened(self, conversation: str) -> bool:
        """Whether the direct ``conversation`` is known to have been opened (a message
        was stored in it since the server started)."""
        return conversation in self._opened

    def store(self, peer: Peer, request: Posting, op: InsertMessage, to: str | None) -> None:
        """Store ``op``, a message or an entry that ``request`` adds to its conversation,
        with this turn's writes: once it is on disk, ``request`` is answered ``sent`` and
        every recipient online gets its event (``to``: the recipient of a direct one)."""
        session = peer.session
        sender = op.sender
        conversation = op.conversation
        if to is not None and conversation not in self._opened:
            self.context.pipeline.add(OpenConversation(conversation, (sender, to)))
            self._opened[conversation] = None
            if len(self._opened) > MAX_OPENED:
                self._opened.popitem(last=False)

        def saved(result: object) -> None:
            if not isinstance(result, MessageSaved):
                self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
                return
            peer.reply(
                protocol.Sent(
                    request.id, request.key, result.message_id, result.seq, result.ts,
                    result.duplicate,
                )
            )  # fmt: skip
            if result.duplicate:
                return  # routed the first time
            if op.kind is None:
                self.receipts.note_sent(conversation, sender, result.seq)
            self.context.messages.put(
                conversation, result.seq, MessageState(sender, result.ts, op.kind)
            )
            data = protocol.encode(
                entries.event(
                    result.message_id, result.seq, result.ts, sender, session.display_name,
                    op.text, op.kind, op.target, op.extra, to, request.group,
                )
            )  # fmt: skip
            if to is not None:
                recipients = [to]
                if to != sender:
                    self.backlogs.stored(sender, to)
            else:
                group = self.context.groups.cached(conversation)
                recipients = [] if group is None else [m for m in group.members if m != sender]
            message = Stored(conversation, sender, result.message_id, result.seq, result.previous)
            self.route(message, recipients, data)
            self._own(peer, conversation, result.seq, result.previous)
            bus = self.context.bus
            if bus.clustered:
                online = self.context.online
                elsewhere = [r for r in recipients if r not in online]
                if elsewhere:
                    bus.publish(
                        Deliver(
                            conversation, sender, result.message_id, result.seq,
                            result.previous, elsewhere, data,
                        )
                    )  # fmt: skip

        self.context.pipeline.add(op, saved)

    def route(self, message: Stored, recipients: list[str], data: bytes) -> None:
        """Push a stored message to those of ``recipients`` connected here."""
        online = self.context.online
        direct = not is_group(message.conversation)
        for recipient in recipients:
            target = online.get(recipient)
            if target is not None:
                counted = message.sender if direct and recipient != message.sender else None
                self._deliver(target, data, message, counted)

    def deliver_remote(self, event: Deliver) -> None:
        """A message another node stored, for clients that may be connected here."""
        self.receipts.note_sent(event.conversation, event.sender, event.seq)
        message = Stored(
            event.conversation, event.sender, event.message_id, event.seq, event.previous
        )
        self.route(message, event.recipients, event.frame)

    def _deliver(
        self, target: Peer, data: bytes, message: Stored, counted: str | None = None
    ) -> None:
        """Push one message, unless the connection is catching up from storage anyway.

        One node stores and pushes a conversation's messages in seq order. Several nodes
        each push the messages they stored, and those stored by the others as they hear of
        them: in an order of their own. So with several nodes a message is pushed at once
        only when everything before it in its conversation is known to have been pushed on
        the connection (``previous`` is at most the connection's position there); otherwise
        the conversation is read from storage (:meth:`_pull`), where it is in order."""
        session = target.session
        if session.behind:
            return  # read from storage once the client has caught up
        conversation = message.conversation
        if self.context.bus.clustered:
            if session.syncing or target in self._backlogs:
                self._mark(target, conversation)
                return  # the end of the backlog reads it
            positions = self._positions.setdefault(target, {})
            position = positions.get(conversation)
            if position is not None and position >= message.seq:
                return  # pushed already (read from storage)
            if position is None or message.previous is None or position < message.previous:
                self._mark(target, conversation)
                self._pull(target)
                return
        inflight = session.delivering
        if len(inflight) >= MAX_INFLIGHT:
            log.info("%s: %d messages unacknowledged: pausing", session.client_id, len(inflight))
            session.behind = True
            return
        if self.context.bus.clustered:
            self._positions[target][conversation] = message.seq
        inflight.add(message.message_id, conversation, message.seq, counted)
        target.push(data, conversation, message.seq)

    def _own(self, peer: Peer, conversation: str, seq: int, previous: int | None) -> None:
        """The peer's client stored a message: its position in the conversation moves
        past it when nothing before it was missing (see :meth:`_deliver`)."""
        positions = self._positions.get(peer)
        if positions is None:
            return
        position = positions.get(conversation)
        if position is not None and previous is not None and position >= previous:
            positions[conversation] = max(position, seq)

    def _mark(self, peer: Peer, conversation: str | None) -> None:
        """``conversation`` is to be read from storage for ``peer`` (None: every one)."""
        if peer in self._dirty:
            marked = self._dirty[peer]
            if marked is not None and conversation is not None:
                marked.add(conversation)
            else:
                self._dirty[peer] = None
        else:
            self._dirty[peer] = None if conversation is None else {conversation}

    def _pull(self, peer: Peer) -> None:
        """Read the conversations marked for ``peer`` from storage (with several nodes)."""
        if peer in self._backlogs or peer.closed or peer.session.behind:
            return  # the end of the backlog pulls again
        if peer in self._dirty:
            self.start_backlog(peer, catching_up=True, only=self._dirty.pop(peer))

    def resync(self, peer: Peer) -> None:
        """Live messages may have been lost on their way from other nodes: read every
        conversation of ``peer``'s client from storage."""
        if peer.session.client_id is not None:
            self._mark(peer, None)
            self._pull(peer)

    # -- ack --

    def acknowledge(self, peer: Peer, ack: protocol.Ack) -> Handled:
        """``ack``: move the delivered markers (one write per conversation acknowledged),
        and drop acknowledged group updates. A group's senders are found from its cached
        state: a group not cached yet is loaded first."""
        session = peer.session
        member = session.client_id
        assert member is not None
        moved, others, counted = session.delivering.acknowledge(ack.ids)
        if counted:
            self.backlogs.delivered(member, counted)
        groups = self.context.groups
        if any(is_group(c) and groups.cached(c) is None for c in moved):
            return self._load_then_move(peer, member, moved, others)
        self._move(peer, member, moved, others)
        return None

    async def _load_then_move(
        self, peer: Peer, member: str, moved: dict[str, int], others: list[int]
    ) -> None:
        for conversation in moved:
            if is_group(conversation):
                await self.context.groups.load(conversation)
        self._move(peer, member, moved, others)

    def _move(self, peer: Peer, member: str, moved: dict[str, int], others: list[int]) -> None:
        session = peer.session
        pipeline = self.context.pipeline
        for conversation, seq in moved.items():
            pipeline.add(MoveMarkers(conversation, member, delivered=seq), self.receipts.moved)
            self.touched.add(conversation)
        if others:
            pipeline.add(AckNotices(member, tuple(others)))
        inflight = len(session.delivering)
        if inflight < BACKLOG_INFLIGHT // 2:
            waiter = self._ack_waiters.pop(peer, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if inflight == 0 and session.behind and peer not in self._backlogs:
            session.behind = False
            self.start_backlog(peer, catching_up=True)

    async def _wait_for_acks(self, peer: Peer) -> None:
        while len(peer.session.delivering) > BACKLOG_INFLIGHT and not peer.closed:
            waiter = self._ack_waiters.get(peer)
            if waiter is None or waiter.done():
                waiter = self._ack_waiters[peer] = asyncio.get_running_loop().create_future()
            await waiter

    # -- the backlog --

    def start_backlog(
        self,
        peer: Peer,
        *,
        plan: list[tuple[str, int, int]] | None = None,
        receipts_since: int | None = None,
        catching_up: bool = False,
        only: set[str] | None = None,
    ) -> None:
        """Send what is pending for the peer's client in the background: receipts that
        changed after ``receipts_since`` (at login), group updates, then messages, then
        ``synced``; live events wait behind it (the session must be syncing already, or
        ``catching_up``: then only messages, of the conversations in ``only`` if given)."""
        if catching_up:
            peer.session.start_backlog()
        task = asyncio.get_running_loop().create_task(
            self._run_backlog(peer, plan, receipts_since, catching_up, only)
        )
        self._backlogs[peer] = task
        task.add_done_callback(lambda _: self._backlog_done(peer))

    def _backlog_done(self, peer: Peer) -> None:
        self._backlogs.pop(peer, None)
        if peer in self._dirty:
            self._pull(peer)

    async def _run_backlog(
        self,
        peer: Peer,
        plan: list[tuple[str, int, int]] | None,
        receipts_since: int | None,
        catching_up: bool,
        only: set[str] | None,
    ) -> None:
        try:
            await self.send_pending_messages(peer, plan, receipts_since, catching_up, only)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("%s: sending the backlog failed", peer.session.client_id)
            peer.close(Code.INTERNAL_ERROR, "internal server error")

    async def send_pending_messages(
        self,
        peer: Peer,
        plan: list[tuple[str, int, int]] | None,
        receipts_since: int | None,
        catching_up: bool = False,
        only: set[str] | None = None,
    ) -> None:
        """Send every stored event for the peer's client, paced by its reading and
        acknowledging; then the live events held back meanwhile."""
        session = peer.session
        member = session.client_id
        assert member is not None
        repository = self.context.repository
        covered: dict[Hashable, int] = {}
        if receipts_since is not None:
            covered["receipts"] = await self.receipts.send_since(peer, receipts_since)
        if not catching_up:
            covered["notices"] = await self._send_notices(peer, member)
        if plan is None:
            plan = await repository.pending_conversations(member, self_conversation(member))
        positions = self._positions.get(peer) if self.context.bus.clustered else None
        if only is not None:
            plan = [entry for entry in plan if entry[0] in only]
        if positions is not None:  # what was pushed since is not sent again
            plan = [(c, max(after, positions.get(c, after)), n) for c, after, n in plan]
        own = self_conversation(member)
        for conversation, after, _ in plan:
            covered[conversation] = after
            while not peer.closed:
                page = await repository.pending_messages(
                    member, conversation, after, PAGE, own=conversation == own
                )
                if not page:
                    break
                group = conversation if is_group(conversation) else None
                to = None if group else member
                inflight = session.delivering
                data: list[bytes] = []
                size = 0
                for message in page:
                    counted = None if group or message.sender == member else message.sender
                    inflight.add(message.message_id, conversation, message.seq, counted)
                    frame = protocol.encode(
                        entries.event(
                            message.message_id, message.seq, message.ts, message.sender,
                            message.sender_name, message.text, message.kind, message.target,
                            message.extra, to, group,
                        )
                    )  # fmt: skip
                    data.append(frame)
                    size += len(frame)
                    if size >= WRITE_CHUNK:  # paced by the client's reading
                        peer.send_data(b"".join(data))
                        data.clear()
                        size = 0
                        await peer.drain()
                peer.send_data(b"".join(data))
                after = page[-1].seq
                covered[conversation] = after
                await peer.drain()
                await self._wait_for_acks(peer)
                if len(page) < PAGE:
                    break
        if peer.closed:
            return
        if not catching_up:
            peer.reply(protocol.Synced())
        if self.context.bus.clustered:
            positions = self._positions.setdefault(peer, {})
            for conversation, _, _ in plan:
                positions[conversation] = max(covered[conversation], positions.get(conversation, 0))
        session.finish_backlog(lambda key, position: position <= covered.get(key, -1))

    async def _send_notices(self, peer: Peer, member: str) -> int:
        after = 0
        while not peer.closed:
            notices = await self.context.repository.pending_notices(member, after, PAGE)
            if not notices:
                break
            data = []
            for notice in notices:
                data.append(protocol.encode(await self.groups.group_update(notice)))
            peer.send_data(b"".join(data))
            after = notices[-1].event_id
            await peer.drain()
        return after

    # -- connections ending --

    def forget(self, peer: Peer) -> None:
        """The connection ended: stop its backlog."""
        task = self._backlogs.pop(peer, None)
        if task is not None:
            task.cancel()
        self._positions.pop(peer, None)
        self._dirty.pop(peer, None)
        waiter = self._ack_waiters.pop(peer, None)
        if waiter is not None and not waiter.done():
            waiter.cancel()

    async def forget_delivered(self) -> None:
        """Drop the texts that every recipient has (the server keeps no history)."""
        touched, self.touched = self.touched, set()
        if touched:
            with contextlib.suppress(StorageError):
                await self.context.repository.forget_delivered(touched)

"""Sending, delivering and acknowledging messages; the backlog at login.

``send``: the sender may write there (the recipient exists and is not disabled, or the
sender is a member of the group); the message is stored (one row, whatever the group's
size) with the writes of this loop turn; once on disk, the sender gets ``sent`` and every
online recipient the ``message``. The sender's idempotency key makes a resend return the
original. Files attached are checked first (:meth:`Files.attach`); each recipient may
then download them.

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
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

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
from messenger_server.service.bus import Deliver
from messenger_server.service.core import Context, Handled, Peer, now_ms
from messenger_server.service.files import Attached, Files, decode_files
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

    def __init__(self, context: Context) -> None:
        self._repository = context.repository
        self.waiting_for: dict[str, int] = {}
        self.waiting_from: dict[str, int] = {}

    def known(self, *client_ids: str) -> bool:
        return all(c in self.waiting_for for c in client_ids)

    async def load(self, *client_ids: str) -> None:
        for client_id in client_ids:
            if client_id not in self.waiting_for:
                waiting_for, waiting_from = await self._repository.direct_backlog(client_id)
                if client_id not in self.waiting_for:  # counted meanwhile
                    self.waiting_for[client_id] = waiting_for
                    self.waiting_from[client_id] = waiting_from

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
        self,
        context: Context,
        settings: Settings,
        receipts: Receipts,
        groups: Groups,
        files: Files,
    ) -> None:
        self.context = context
        self.settings = settings
        self.receipts = receipts
        self.groups = groups
        self.files = files
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
        self._dirty: dict[Peer, set[str]] = {}
        """With several nodes: conversations to read from storage for a connection."""

    # -- send --

    def send(self, peer: Peer, request: protocol.Send) -> Handled:
        """``send``: decide, then store with this turn's writes; ``sent`` follows the
        commit. Needs storage first only for a recipient or group not seen yet, and for
        the files attached."""
        limit = self.settings.max_text_bytes
        if limit < protocol.MAX_TEXT_BYTES and len(request.text.encode()) > limit:
            self.context.error(peer, request.id, Code.TEXT_TOO_LARGE, f"text exceeds {limit} bytes")
            return None
        if self.context.disk.full():
            self.context.error(peer, request.id, Code.STORAGE_FULL, "the server is out of space")
            return None
        if request.files:
            return self._attach_then_send(peer, request)
        return self._send(peer, request, None)

    async def _attach_then_send(self, peer: Peer, request: protocol.Send) -> None:
        attached = await self.files.attach(peer, request)
        if attached is not None:
            handled = self._send(peer, request, attached)
            if handled is not None:
                await handled

    def _send(self, peer: Peer, request: protocol.Send, attached: Attached | None) -> Handled:
        sender = peer.session.client_id
        assert sender is not None
        if request.group is not None:
            group = self.context.groups.cached(request.group)
            if group is None:
                return self._load_then_send(peer, request, attached)
            if sender not in group.members:
                self.context.error(
                    peer, request.id, Code.NOT_A_MEMBER, f"not a member of {request.group}"
                )
                return None
            self._store(peer, request, request.group, None, attached)
            return None
        assert request.to is not None
        recipient = self.context.directory.cached(request.to)
        if recipient is None:
            return self._load_then_send(peer, request, attached)
        if recipient.disabled:
            self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, f"no client {request.to}")
            return None
        if request.to != sender:
            backlogs = self.backlogs
            if not backlogs.known(sender, request.to):
                return self._load_then_send(peer, request, attached)
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
        conversation = protocol.direct_conversation(sender, request.to)
        if conversation not in self._opened:
            self.context.pipeline.add(OpenConversation(conversation, (sender, request.to)))
            self._opened[conversation] = None
            if len(self._opened) > MAX_OPENED:
                self._opened.popitem(last=False)
        self._store(peer, request, conversation, request.to, attached)
        return None

    async def _load_then_send(
        self, peer: Peer, request: protocol.Send, attached: Attached | None
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
        handled = self._send(peer, request, attached)
        if handled is not None:
            await handled

    def _store(
        self,
        peer: Peer,
        request: protocol.Send,
        conversation: str,
        to: str | None,
        attached: Attached | None,
    ) -> None:
        session = peer.session
        sender = session.client_id
        assert sender is not None
        files = attached.files if attached is not None else None

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
            self.receipts.note_sent(conversation, sender, result.seq)
            data = protocol.encode(
                protocol.Message(
                    message_id=result.message_id,
                    seq=result.seq,
                    ts=result.ts,
                    sender=sender,
                    sender_name=session.display_name,
                    text=protocol.message_text(request.text, files),
                    to=to,
                    group=request.group,
                    files=files,
                )
            )
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

        insert = InsertMessage(conversation, sender, request.key, request.text, now_ms())
        if attached is not None:  # every recipient may download the files
            if to is not None:
                recipients: tuple[str, ...] = (to,)
            else:
                group = self.context.groups.cached(conversation)
                recipients = tuple(m for m in group.members if m != sender) if group else ()
            insert = dataclasses.replace(
                insert, files=attached.stored, file_ids=attached.file_ids, recipients=recipients
            )
        self.context.pipeline.add(insert, saved)

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
                self._dirty.setdefault(target, set()).add(conversation)
                return  # the end of the backlog reads it
            positions = self._positions.setdefault(target, {})
            position = positions.get(conversation)
            if position is not None and position >= message.seq:
                return  # pushed already (read from storage)
            if position is None or message.previous is None or position < message.previous:
                self._dirty.setdefault(target, set()).add(conversation)
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

    def _pull(self, peer: Peer) -> None:
        """Read the conversations marked for ``peer`` from storage (with several nodes)."""
        if peer in self._backlogs or peer.closed or peer.session.behind:
            return  # the end of the backlog pulls again
        conversations = self._dirty.pop(peer, None)
        if conversations:
            self.start_backlog(peer, catching_up=True, only=conversations)

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
                    files = decode_files(message.files)
                    frame = protocol.encode(
                        protocol.Message(
                            message_id=message.message_id,
                            seq=message.seq,
                            ts=message.ts,
                            sender=message.sender,
                            sender_name=message.sender_name,
                            text=protocol.message_text(message.text, files),
                            to=to,
                            group=group,
                            files=files,
                        )
                    )
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

"""Delivery and read receipts, as markers.

Each member of a conversation has one marker: delivered up to seq N (moved by its acks),
read up to seq M (moved by its ``read`` requests). A sender learns where the others
stand from ``receipts`` events carrying markers, never from one event per message:

* live, after each commit, one ``receipts`` event per client concerned with every marker
  of that commit it should hear of. In a direct conversation that is the other member; in
  a group, the members who sent something the marker just passed (or, when that is not
  known since the server started, every online member);
* at login, every marker of the client's conversations that changed after the
  ``receipts_since`` version the client says it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Final

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import Marker, MarkerMove, MoveMarkers, StorageError
from messenger_server.service.bus import Moved
from messenger_server.service.core import Context, Handled, Peer

log = logging.getLogger(__name__)

PAGE: Final = 2000
"""Markers read per query when catching a client up at login."""
MAX_TRACKED_GROUPS: Final = 50_000


def is_group(conversation: str) -> bool:
    return conversation.startswith("G-")


def direct_members(conversation: str) -> tuple[str, str]:
    a, _, b = conversation.partition(":")
    return a, b


def as_receipt(marker: Marker) -> protocol.Receipt:
    group = marker.conversation if is_group(marker.conversation) else None
    return protocol.Receipt(marker.member, marker.delivered, marker.read, group)


MarkerFields = tuple[str, str, int, int, int]


def _fields(marker: Marker) -> MarkerFields:
    return marker.conversation, marker.member, marker.delivered, marker.read, marker.version


class _Senders:
    """Who sent what in one group since the server started: the last seq each member
    sent, and the first seq seen (before it, nothing is known)."""

    __slots__ = ("first_seen", "last_sent")

    def __init__(self, first_seen: int) -> None:
        self.first_seen = first_seen
        self.last_sent: dict[str, int] = {}


class Horizon:
    """With several nodes: how far this node has handled marker changes without a gap —
    its own commits', the others' heard through the bus (in any order), or read back from
    the database — :attr:`upto`. A client is told no later ``version`` than that, so that
    the one it keeps for ``receipts_since`` never runs ahead of a change it has not been
    sent. (The shared database hands out versions in commit order without gaps.)"""

    def __init__(self, upto: int) -> None:
        self.upto = upto
        self._ahead: dict[int, float] = {}
        """Versions handled beyond a gap, and when."""

    def seen(self, version: int, now: float) -> None:
        if version <= self.upto:
            return
        self._ahead.setdefault(version, now)
        while self.upto + 1 in self._ahead:
            self.upto += 1
            del self._ahead[self.upto]

    def gap(self, older_than: float) -> int | None:
        """The highest version handled beyond a gap that is older than ``older_than``
        (the changes between :attr:`upto` and it are to be read from the database)."""
        if not self._ahead or min(self._ahead.values()) > older_than:
            return None
        return max(self._ahead)

    def filled(self, upto: int) -> None:
        """Every change up to ``upto`` has been handled (read back, or superseded by a
        later change of the same marker, to be heard of in its turn)."""
        self.upto = max(self.upto, upto)
        for version in [v for v in self._ahead if v <= self.upto]:
            del self._ahead[version]
        while self.upto + 1 in self._ahead:
            self.upto += 1
            del self._ahead[self.upto]


class Receipts:
    GAP_WAIT: Final = 1.0
    """With several nodes: seconds a gap in the marker versions heard may last before the
    changes in it are read from the database (lost on the bus, or slow)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.horizon: Horizon | None = None
        """With several nodes (see :meth:`watch_versions`)."""
        self._loop = asyncio.get_running_loop()
        self._senders: OrderedDict[str, _Senders] = OrderedDict()
        self._outgoing: dict[str, dict[tuple[str, str], Marker]] = {}
        self._flush_scheduled = False
        self._published: list[tuple[MarkerFields, MarkerFields]] = []

    # -- what the others need to know --

    def track(self, group_id: str) -> None:
        """A group was just created: every message of it will be seen here."""
        self._senders[group_id] = _Senders(0)

    def note_sent(self, conversation: str, sender: str, seq: int) -> None:
        """A message was stored: remember who sent it, to tell them of the markers that
        pass it."""
        if not is_group(conversation):
            return
        senders = self._senders.get(conversation)
        if senders is None:
            senders = self._senders[conversation] = _Senders(seq)
            if len(self._senders) > MAX_TRACKED_GROUPS:
                self._senders.popitem(last=False)
        else:
            self._senders.move_to_end(conversation)
        senders.last_sent[sender] = seq

    def moved(self, result: object) -> None:
        """Pipeline callback of a :class:`MoveMarkers`: queue the marker for whoever
        should hear of it; the events go out once this commit's callbacks are done."""
        if not isinstance(result, MarkerMove):
            return
        if self.context.bus.clustered:
            self._published.append((_fields(result.before), _fields(result.after)))
            self._schedule_flush()
        self.queue(result)

    def queue(self, move: MarkerMove) -> None:
        """Queue a marker that moved (here or on another node) for those online here who
        should hear of it."""
        if self.horizon is not None:
            self.horizon.seen(move.after.version, self._loop.time())
        for target in self._targets(move):
            peer = self.context.online.get(target)
            if peer is None:
                continue  # it gets the marker at its next login
            after = move.after
            self._outgoing.setdefault(target, {})[(after.conversation, after.member)] = after
        if self._outgoing:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _targets(self, move: MarkerMove) -> list[str]:
        conversation, member = move.after.conversation, move.after.member
        if not is_group(conversation):
            a, b = direct_members(conversation)
            return [b if member == a else a]
        group = self.context.groups.cached(conversation)
        if group is None:
            return []
        since = min(
            move.before.delivered if move.after.delivered > move.before.delivered else 2**63,
            move.before.read if move.after.read > move.before.read else 2**63,
        )
        senders = self._senders.get(conversation)
        if senders is None or since + 1 < senders.first_seen:
            return [m for m in group.members if m != member]  # not known: tell everyone
        return [
            m
            for m, last in senders.last_sent.items()
            if m != member and last > since and m in group.members
        ]

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._published:  # the other nodes' clients may need to hear of them too
            self.context.bus.publish(Moved(self._published))
            self._published = []
        outgoing, self._outgoing = self._outgoing, {}
        for target, markers in outgoing.items():
            peer = self.context.online.get(target)
            if peer is None:
                continue
            version = max(marker.version for marker in markers.values())
            told = version if self.horizon is None else min(version, self.horizon.upto)
            if told < 1:  # nothing to vouch for yet (the first change is still missing)
                self._outgoing.setdefault(target, {}).update(markers)
                self._loop.call_later(self.GAP_WAIT, self._schedule_flush)
                continue
            event = protocol.Receipts(told, [as_receipt(m) for m in markers.values()])
            peer.push(protocol.encode(event), "receipts", version)

    async def start_horizon(self) -> None:
        """With several nodes: start the :class:`Horizon` at the database's latest marker
        version (before this node hears of any change)."""
        if self.context.bus.clustered:
            self.horizon = Horizon(await self.context.repository.marker_version())

    async def watch_versions(self) -> None:
        """With several nodes: keep the :class:`Horizon`, reading from the database the
        marker changes of a gap that lasts (until cancelled)."""
        horizon = self.horizon
        if horizon is None:
            return
        repository = self.context.repository
        while True:
            await asyncio.sleep(self.GAP_WAIT / 2)
            upto = horizon.gap(self._loop.time() - self.GAP_WAIT)
            if upto is None:
                continue
            try:
                after = horizon.upto
                while after < upto:
                    markers = await repository.markers_changed(after, upto, PAGE)
                    for group in {m.conversation for m in markers if is_group(m.conversation)}:
                        await self.context.groups.load(group)
                    for marker in markers:  # how far it was before: not known
                        before = Marker(marker.conversation, marker.member, 0, 0, 0)
                        self.queue(MarkerMove(before, marker))
                    if len(markers) < PAGE:
                        break
                    after = markers[-1].version
                horizon.filled(upto)
                log.info("marker changes not heard of read back, up to version %d", upto)
            except StorageError:
                log.warning("reading marker changes back failed; trying again")

    # -- requests --

    def mark_read(self, peer: Peer, request: protocol.MarkRead) -> Handled:
        """``read``: move the reader's read marker; answered ``ok`` once stored."""
        reader = peer.session.client_id
        assert reader is not None
        if request.group is not None:
            group = self.context.groups.cached(request.group)
            if group is None:
                return self._load_then_mark(peer, request)
            if reader not in group.members:
                self.context.error(peer, request.id, Code.NOT_A_MEMBER, "not a member of the group")
                return None
            conversation = request.group
        else:
            assert request.peer is not None
            if self.context.directory.cached(request.peer) is None:
                return self._load_then_mark(peer, request)
            conversation = protocol.direct_conversation(reader, request.peer)

        def done(result: object) -> None:
            if isinstance(result, StorageError):
                self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
                return
            peer.reply(protocol.Ok(request.id))
            self.moved(result)

        self.context.pipeline.add(MoveMarkers(conversation, reader, read=request.up_to), done)
        return None

    async def _load_then_mark(self, peer: Peer, request: protocol.MarkRead) -> None:
        if request.group is not None:
            if await self.context.groups.load(request.group) is None:
                self.context.error(peer, request.id, Code.UNKNOWN_GROUP, "no such group")
                return
        else:
            assert request.peer is not None
            if not await self.context.directory.load([request.peer]):
                self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, "unknown client ID")
                return
        self.mark_read(peer, request)

    # -- at login --

    async def send_since(self, peer: Peer, since: int) -> int:
        """Send every marker of the client's conversations that changed after ``since``;
        returns the last version sent (``since`` when none)."""
        member = peer.session.client_id
        assert member is not None
        version = since
        while not peer.closed:
            markers = await self.context.repository.receipts_since(member, version, PAGE)
            if not markers:
                break
            version = markers[-1].version
            peer.send_data(
                protocol.encode(protocol.Receipts(version, [as_receipt(m) for m in markers]))
            )
            await peer.drain()
            if len(markers) < PAGE:
                break
        return version

"""What every feature of the service layer shares: the connection interface, the write
pipeline, and the in-memory views of clients and groups that the rules are decided on.

The server is one process with one event loop: the rules are decided on these views, in
the order requests arrive, and the pipeline stores the decisions in that same order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import msgspec

from messenger_server import protocol
from messenger_server.config import Settings
from messenger_server.repository import (
    ClientRecord,
    GroupRecord,
    MemberRecord,
    Operation,
    OperationResult,
    Repository,
    StorageError,
)
from messenger_server.service.bus import Bus, LocalBus
from messenger_server.session import ServerSession

log = logging.getLogger(__name__)

Handled = Coroutine[Any, Any, None] | None
"""What a request handler returns: ``None`` when it is done, or a coroutine to await
before the connection's next frame is handled (it needs storage first)."""

Done = Callable[[Any], None]
"""Called with an operation's result, or with the :class:`StorageError` that lost it."""


ID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U, so IDs read aloud without ambiguity."""


def generate_unique_id(prefix: str = "") -> str:
    """A random ID such as ``K7QM-4XPA`` (40 bits; ``prefix`` is prepended as is).

    Uniqueness is checked where the ID is stored: the caller tries another on a clash.
    """
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(8))
    return f"{prefix}{chars[:4]}-{chars[4:]}"


def now_ms() -> int:
    """Milliseconds since the Unix epoch: the protocol's timestamps."""
    return time.time_ns() // 1_000_000


class Peer(Protocol):
    """One client connection, as the service layer sees it (the server's connection
    object). Frames queued here are written at the end of the loop turn."""

    @property
    def session(self) -> ServerSession: ...

    @property
    def address(self) -> str | None:
        """The client's IP address (for limits per address)."""

    def reply(self, frame: protocol.ServerFrame) -> None:
        """Queue a reply (or a frame that is never held back, such as ``synced``)."""

    def send_data(self, data: bytes) -> None:
        """Queue already-encoded frames (the backlog)."""

    def push(self, data: bytes, key: Hashable = None, position: int = 0) -> None:
        """Queue a live event (see :meth:`ServerSession.push`); closes a client that is
        too far behind."""

    def close(self, code: str, message: str) -> None:
        """Say ``goodbye`` and close."""

    @property
    def closed(self) -> bool: ...

    async def drain(self) -> None:
        """Write what is queued and wait until the client has read most of it."""


class Pipeline:
    """Collects the writes of every connection during one turn of the event loop and
    commits them as one transaction; while it commits, the next turns' writes gather for
    the one after. A thousand senders each with one message in flight thus cost one
    transaction, not a thousand.

    Operations are stored in the order they were added. :meth:`add` takes a callback
    (for the hot paths: no future per operation); :meth:`run` awaits.

    Commits start at most every :attr:`INTERVAL` (unless :attr:`FULL` operations wait):
    below saturation a commit is quick, and without the pause every few messages would
    cost a commit of their own, with its fsync and its thread hand-offs (measured: a third
    less CPU per message at 1,500 msg/s, for at most 2 ms more latency).
    """

    INTERVAL: Final = 0.002
    """Seconds between the starts of two commits, at the least."""
    FULL: Final = 512
    """Operations waiting that start a commit at once."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._loop = asyncio.get_running_loop()
        self._ops: list[Operation] = []
        self._callbacks: list[Done | None] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._in_flight: asyncio.Task[None] | None = None
        self._in_flight_waiters: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._last_start = -1.0
        self.batches = 0

    def add(self, op: Operation, done: Done | None = None) -> None:
        """Store ``op`` with the writes of this turn; ``done(result)`` is called once it is
        on disk (or with the :class:`StorageError` that lost it)."""
        self._ops.append(op)
        self._callbacks.append(done)
        if not self._scheduled and self._in_flight is None:
            self._schedule()

    def _schedule(self) -> None:
        self._scheduled = True
        wait = self._last_start + self.INTERVAL - self._loop.time()
        if wait > 0 and len(self._ops) < self.FULL:
            self._loop.call_later(wait, self._flush)
        else:
            self._loop.call_soon(self._flush)

    async def run(self, ops: Sequence[Operation]) -> list[OperationResult]:
        """Store ``ops`` (in order, with this turn's other writes) and return their results.

        Raises:
            StorageError: they were not stored.
        """
        future: asyncio.Future[list[Any]] = self._loop.create_future()
        results: list[Any] = [None] * len(ops)
        remaining = [len(ops)]

        def collect(index: int) -> Done:
            def done(result: Any) -> None:
                results[index] = result
                remaining[0] -= 1
                if remaining[0] == 0 and not future.done():
                    errors = [r for r in results if isinstance(r, StorageError)]
                    if errors:
                        future.set_exception(errors[0])
                    else:
                        future.set_result(results)

            return done

        for index, op in enumerate(ops):
            self.add(op, collect(index))
        if not ops:
            return []
        return await future

    def barrier(self) -> Awaitable[None]:
        """Resolves once every write added before this call is on disk."""
        future: asyncio.Future[None] = self._loop.create_future()
        if self._ops:
            self._waiters.append(future)
        elif self._in_flight is not None:
            self._in_flight_waiters.append(future)
        else:
            future.set_result(None)
        return future

    @property
    def idle(self) -> bool:
        return not self._ops and self._in_flight is None

    def _flush(self) -> None:
        self._scheduled = False
        if self._in_flight is not None or not self._ops:
            return
        ops, callbacks, waiters = self._ops, self._callbacks, self._waiters
        self._ops, self._callbacks, self._waiters = [], [], []
        self._in_flight_waiters = waiters
        self._last_start = self._loop.time()
        self._in_flight = self._loop.create_task(self._commit(ops, callbacks))

    async def _commit(self, ops: list[Operation], callbacks: list[Done | None]) -> None:
        try:
            results: list[Any] = await self._repository.commit(ops)
        except StorageError as exc:
            results = [exc] * len(ops)
        except BaseException as exc:  # a bug: fail these writes, keep the pipeline going
            log.exception("storage commit failed")
            results = [StorageError(str(exc))] * len(ops)
        self.batches += 1
        self._in_flight = None
        for done, result in zip(callbacks, results, strict=True):
            if done is not None:
                try:
                    done(result)
                except Exception:
                    log.exception("handling a stored write failed")
        for waiter in self._in_flight_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._in_flight_waiters = []
        if self._ops and not self._scheduled:
            self._schedule()

    async def drain(self) -> None:
        """Wait until everything added so far is stored (shutdown)."""
        while not self.idle:
            await self.barrier()
            if self._in_flight is not None:
                await asyncio.wait([self._in_flight])


class Directory:
    """The clients the server has seen, cached. An administrator may disable a client
    from another process: the repository's directory epoch tells, and the cache is
    dropped when it changes (checked at most once per turn of the event loop)."""

    MAX_CACHED: Final = 200_000

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._loop = asyncio.get_running_loop()
        self._clients: OrderedDict[str, ClientRecord] = OrderedDict()
        self._epoch = repository.directory_epoch()
        self._checked = False

    def _check_epoch(self) -> None:
        if self._checked:
            return
        self._checked = True
        self._loop.call_soon(self._uncheck)
        epoch = self._repository.directory_epoch()
        if epoch != self._epoch:
            self._epoch = epoch
            self._clients.clear()

    def _uncheck(self) -> None:
        self._checked = False

    def cached(self, client_id: str) -> ClientRecord | None:
        """The client's record if it is cached (``None`` says nothing: load it)."""
        self._check_epoch()
        return self._clients.get(client_id)

    def put(self, record: ClientRecord) -> None:
        self._clients[record.client_id] = record
        if len(self._clients) > self.MAX_CACHED:
            self._clients.popitem(last=False)

    async def load(self, client_ids: Iterable[str]) -> dict[str, ClientRecord]:
        """The existing clients among ``client_ids`` (disabled ones included)."""
        self._check_epoch()
        wanted = list(dict.fromkeys(client_ids))
        found = {c: r for c in wanted if (r := self._clients.get(c)) is not None}
        missing = [c for c in wanted if c not in found]
        if missing:
            for record in (await self._repository.get_clients(missing)).values():
                self.put(record)
                found[record.client_id] = record
        return found

    async def active(self, client_id: str) -> ClientRecord | None:
        """The client, when it exists and is not disabled."""
        record = self.cached(client_id)
        if record is None:
            record = (await self.load([client_id])).get(client_id)
        return None if record is None or record.disabled else record


@dataclass(slots=True)
class GroupState:
    """A group as the rules see it: decided on here, then stored through the pipeline."""

    group_id: str
    name: str
    created_by: str
    created_at: int
    members: dict[str, MemberRecord] = field(default_factory=dict)
    """By client ID, in the order they joined."""
    description: str = ""

    @classmethod
    def of(cls, record: GroupRecord) -> GroupState:
        return cls(
            record.group_id,
            record.name,
            record.created_by,
            record.created_at,
            {m.client_id: m for m in record.members},
            record.description,
        )

    def info(self) -> protocol.GroupInfo:
        return protocol.GroupInfo(
            group_id=self.group_id,
            name=self.name,
            members=[
                protocol.Member(m.client_id, m.display_name, m.admin) for m in self.members.values()
            ],
            created_by=self.created_by,
            created_at=self.created_at,
            description=self.description or msgspec.UNSET,
        )


class GroupCache:
    """Every group touched since the server started, loaded on first use. The rules
    change these states before their writes are stored; nothing else changes groups."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._groups: dict[str, GroupState] = {}
        self._reads: dict[str, int] = {}

    def cached(self, group_id: str) -> GroupState | None:
        return self._groups.get(group_id)

    def put(self, state: GroupState) -> None:
        self._groups[state.group_id] = state

    def forget(self, group_id: str) -> None:
        self._groups.pop(group_id, None)

    async def refresh(self, group_id: str) -> GroupState | None:
        """Read the group again (with several nodes: it changed, maybe elsewhere). A
        cached state is updated in place, for whoever holds it; of reads that overlap,
        the one started last is kept."""
        started = self._reads[group_id] = self._reads.get(group_id, 0) + 1
        record = await self._repository.get_group(group_id)
        if self._reads.get(group_id) != started:
            return self._groups.get(group_id)  # a later read decides
        del self._reads[group_id]
        if record is None:
            self._groups.pop(group_id, None)
            return None
        fresh = GroupState.of(record)
        state = self._groups.get(group_id)
        if state is None:
            self._groups[group_id] = fresh
            return fresh
        for name in ("name", "created_by", "created_at", "description"):
            setattr(state, name, getattr(fresh, name))
        state.members.clear()
        state.members.update(fresh.members)
        return state

    async def load(self, group_id: str) -> GroupState | None:
        state = self._groups.get(group_id)
        if state is None:
            record = await self._repository.get_group(group_id)
            state = self._groups.get(group_id)  # loaded meanwhile by another request
            if state is None and record is not None:
                state = self._groups[group_id] = GroupState.of(record)
        return state


@dataclass(slots=True)
class MessageState:
    """What the rules need of a message (or entry) of a conversation: its author, its
    server time, its kind (None: a message; else an entry's, see ``entries``), and
    whether it was deleted for everyone."""

    sender: str
    ts: int
    kind: str | None
    deleted: bool = False


class MessageCache:
    """Recently stored messages and entries, by (conversation, seq), and those loaded to
    decide on an edit, a deletion, a reaction or a reply. The rules mark a deletion here
    when they decide it, before it is stored, so that requests handled meanwhile see it.
    The server keeps no history: what storage no longer has (after ``dedupe_days``) is
    unknown here too."""

    MAX_CACHED: Final = 50_000
    """About 10 MiB; a reaction or an edit to an older message reads storage once."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._states: OrderedDict[tuple[str, int], MessageState] = OrderedDict()

    def cached(self, conversation: str, seq: int) -> MessageState | None:
        """The state if it is cached (``None`` says nothing: load it)."""
        return self._states.get((conversation, seq))

    def put(self, conversation: str, seq: int, state: MessageState) -> None:
        self._states[(conversation, seq)] = state
        if len(self._states) > self.MAX_CACHED:
            self._states.popitem(last=False)

    async def load(self, conversation: str, seq: int) -> MessageState | None:
        """The state of entry ``seq`` of ``conversation``, or None when storage does not
        know it (never stored, or expired)."""
        state = self._states.get((conversation, seq))
        if state is not None:
            return state
        record = await self._repository.get_entry(conversation, seq)
        state = self._states.get((conversation, seq))  # loaded meanwhile
        if state is None and record is not None:
            state = MessageState(record.sender, record.ts, record.kind, record.deleted)
            self.put(conversation, seq, state)
        return state


class DiskGuard:
    """Whether the disk holding the data is too full to accept more: new messages,
    registrations and groups are then refused (``storage_full``) while acknowledgements,
    reads and logins go on, so that what fills the disk can drain. Checked at most once a
    second."""

    def __init__(self, path: Path, min_free_bytes: int) -> None:
        self._path = path
        self._min_free = min_free_bytes
        self._checked_at = -1.0
        self._full = False

    def full(self) -> bool:
        if self._min_free <= 0:
            return False
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            self._checked_at = now
            try:
                free = shutil.disk_usage(self._path).free
            except OSError:
                free = self._min_free  # cannot tell: do not refuse
            if (free < self._min_free) != self._full:
                self._full = free < self._min_free
                log.warning(
                    "free disk space %s the threshold (%d MiB free): sends %s",
                    "below" if self._full else "back above",
                    free // (1024 * 1024),
                    "refused" if self._full else "accepted again",
                )
        return self._full


@dataclass(slots=True)
class Context:
    """The shared pieces, built once per server."""

    repository: Repository
    pipeline: Pipeline
    directory: Directory
    groups: GroupCache
    messages: MessageCache
    disk: DiskGuard
    bus: Bus
    """How this node tells the others (a :class:`LocalBus` when it is alone)."""
    online: dict[str, Peer] = field(default_factory=dict)
    """The logged-in connection of each online client (on this node)."""

    @classmethod
    def create(cls, repository: Repository, settings: Settings, bus: Bus | None = None) -> Context:
        return cls(
            repository,
            Pipeline(repository),
            Directory(repository),
            GroupCache(repository),
            MessageCache(repository),
            DiskGuard(settings.data_dir, settings.min_free_disk_mb * 1024 * 1024),
            bus if bus is not None else LocalBus(),
        )

    def error(self, peer: Peer, request_id: int | None, code: str, message: str) -> None:
        peer.reply(protocol.Error(code, message, request_id))

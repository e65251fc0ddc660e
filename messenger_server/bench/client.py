"""The simulated users: one :class:`asyncio.Protocol` per connection, no task, no stream.

Per message the generator writes a ``send`` and an ``ack`` and reads a ``sent``, a
``message`` and (usually) a ``receipts``, as the server does the mirror image; to stay
well below the server's cost it keeps the hot path flat: frames are split and decoded in
``data_received`` itself with the lean :mod:`.wire` decoder, ``send`` frames come from
byte templates, and a chunk's deliveries are acknowledged with one ``ack`` carrying the
last message of each conversation (acks are cumulative per conversation in protocol 2).

Setup (``hello``, ``register``, ``login``, ``create_group``) goes through
:meth:`BenchClient.request`, which awaits the reply; everything is checked by the shared
:class:`~.verify.Verifier`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Final, cast

import msgspec

from messenger_server import protocol
from messenger_server.bench import wire
from messenger_server.bench.verify import Inbox, Outbox, Verifier
from messenger_server.bench.wire import NUMBER_DIGITS, SEND_ID_BASE, decode

REPLY_TYPES: Final = frozenset(
    {"welcome", "registered", "logged_in", "sent", "contact", "group", "groups", "ok", "pong"}
)
Address = tuple[str, int]
FLOOD_ID_BASE: Final = 1 << 40
"""Request ids of a flood's pings."""


@dataclass(frozen=True, slots=True)
class Identity:
    client_id: str
    credential: str
    display_name: str
    address: Address
    """The server this client belongs to (``--servers`` spreads clients round-robin)."""


class Refused(Exception):
    """A setup request got an ``error`` (or no reply): the run cannot go on."""


class BenchClient(asyncio.Protocol):
    """One simulated user's connection.

    Connect with :meth:`open`, then :meth:`login`; send with :meth:`start_sending`
    (closed loop: ``window`` messages in flight, the next one written when a ``sent``
    comes) or :meth:`send_one` (paced by the caller).
    """

    def __init__(self, verifier: Verifier, identity: Identity | None, strict: bool) -> None:
        self.verifier = verifier
        self.identity = identity
        self.client_id = identity.client_id if identity is not None else "?"
        self.strict = strict
        self.transport: asyncio.Transport | None = None
        self.frames_in = 0
        self.frames_out = 0
        self.receipts_events = 0
        self.sent_replies = 0
        self.pending_at_login = -1
        self.on_receipts: Callable[[BenchClient, wire.Frame], None] | None = None
        """Called with each ``receipts`` event (the backlog scenario waits on them)."""
        self.on_typing: Callable[[BenchClient, wire.Frame], None] | None = None
        """Called with each ``typing`` event (the typing scenario counts them)."""
        self.sent_seqs: dict[int, int] | None = None
        """When a dict: the ``seq`` of each message number's ``sent`` (what to react to)."""
        self.react_numbers: dict[int, int] = {}
        """For ``reacted`` events: the reactor's number of the reaction to each of this
        client's messages, by the message's seq (see :meth:`prepare_reactions`)."""
        self.last_sent_seq = 0
        self.outbox: Outbox | None = None
        self.inbox: Inbox | None = None
        if identity is not None:
            self.outbox = verifier.outbox(identity.client_id)
            self.inbox = verifier.inbox(identity.client_id)
        self._buffer = b""
        self._next_id = 1
        self._waiting: dict[int, asyncio.Future[wire.Frame]] = {}
        self._synced: asyncio.Future[None] | None = None
        self._closing = False
        self._closed = asyncio.get_running_loop().create_future()
        # the closed-loop sender
        self._unsent = 0
        self._output: list[bytes] | None = None
        """While a chunk is handled, what to write at its end (one write per chunk)."""
        self._templates: list[bytes] = []
        self._conversations: list[str] = []
        self._targets: list[int] | None = None
        self._first_reaction = 0
        # flooding (the abuse scenario): pings as fast as the server takes them
        self.pongs = 0
        self._flooding = False
        self._writable = asyncio.Event()
        self._writable.set()

    # -- connecting --

    @classmethod
    async def open(
        cls, verifier: Verifier, identity: Identity | None, address: Address, strict: bool
    ) -> BenchClient:
        """Connect to ``address`` and say ``hello``."""
        loop = asyncio.get_running_loop()
        transport, client = await loop.create_connection(
            lambda: cls(verifier, identity, strict), address[0], address[1]
        )
        client.transport = transport  # uvloop may call connection_made later
        welcome = await client.request(
            protocol.Hello(id=0, protocol=protocol.PROTOCOL_VERSION, client="messenger-bench")
        )
        if welcome.type != "welcome" or welcome.protocol != protocol.PROTOCOL_VERSION:
            client.fail(f"hello answered with {welcome.type} (protocol {welcome.protocol})")
        return client

    async def login(self) -> None:
        """Log in and wait for the backlog to end (``synced``)."""
        assert self.identity is not None
        loop = asyncio.get_running_loop()
        self._synced = loop.create_future()
        reply = await self.request(
            protocol.Login(
                id=0, client_id=self.identity.client_id, credential=self.identity.credential
            )
        )
        if reply.type != "logged_in" or reply.client_id != self.identity.client_id:
            raise Refused(f"{self.client_id}: login answered with {reply.type}")
        self.pending_at_login = reply.pending
        await self._synced

    async def request(self, frame: protocol.Request) -> wire.Frame:
        """Send a setup request (its ``id`` is replaced) and return its reply.

        Raises:
            Refused: the reply is an ``error`` (also reported to the verifier).
        """
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[wire.Frame] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self.write(wire.request(msgspec.structs.replace(frame, id=request_id)))
        reply = await future
        if reply.type == "error":
            raise Refused(f"{self.client_id}: {type(frame).__name__} refused: {reply.code}")
        return reply

    def write(self, data: bytes) -> None:
        """Write one frame now."""
        assert self.transport is not None
        self.transport.write(data)
        self.frames_out += 1

    def close(self) -> None:
        """Close the connection (expected: not a failure)."""
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    async def wait_closed(self) -> None:
        await self._closed

    def fail(self, what: str) -> None:
        self.verifier.fail(f"{self.client_id}: {what}")

    # -- sending --

    def prepare(self, conversations: Sequence[str], text_bytes: int) -> None:
        """Messages will go to ``conversations`` (peers or groups) in turn, with texts of
        ``text_bytes`` (at least the message number and a space)."""
        self._conversations = list(conversations)
        self._templates = [wire.send_template(c, text_bytes) for c in conversations]

    def prepare_reactions(self, peer: str, targets: Sequence[int], emoji: str) -> None:
        """What is sent next are reactions ``emoji`` in the conversation with ``peer``, to
        the messages at ``targets``, one each, in order (the peer's client maps each seq
        back to the reaction's number with :attr:`react_numbers`)."""
        assert self.outbox is not None
        self._conversations = [peer]
        self._templates = [wire.react_template(peer, emoji)]
        self._targets = list(targets)
        self._first_reaction = len(self.outbox.started)

    def write_frames(self, data: bytes, count: int) -> None:
        """Write ``count`` frames already framed in ``data`` (not requests: no reply)."""
        assert self.transport is not None
        self.transport.write(data)
        self.frames_out += count

    def start_sending(self, count: int, window: int) -> None:
        """Closed loop: send ``count`` messages, ``window`` unanswered at most."""
        self._unsent = count
        for _ in range(min(window, count)):
            self._unsent -= 1
            self.send_one(perf_counter_ns())

    def send_one(self, started: int) -> None:
        """Write the next message; ``started`` is when it was due (its latency's start)."""
        outbox = self.outbox
        assert outbox is not None
        turn = len(outbox.started) % len(self._conversations)
        n = self.verifier.sending(outbox, self._conversations[turn], started)
        targets = self._targets
        payload = self._templates[turn] % (
            SEND_ID_BASE + n,
            n,
            n if targets is None else targets[n - self._first_reaction],
        )
        self.frames_out += 1
        if self._output is not None:  # inside data_received: one write at its end
            self._output.append(len(payload).to_bytes(4, "big") + payload)
            return
        assert self.transport is not None
        self.transport.write(len(payload).to_bytes(4, "big") + payload)

    # -- flooding --

    async def flood(self, batch: int = 256) -> None:
        """Write ``ping``s without pause, as fast as the connection takes them (the
        server's rate limit is back-pressure: it stops reading). Until cancelled."""
        self._flooding = True
        frames = b"".join(wire.request(protocol.Ping(id=FLOOD_ID_BASE + n)) for n in range(batch))
        assert self.transport is not None
        while not self.transport.is_closing():
            await self._writable.wait()
            self.transport.write(frames)
            self.frames_out += batch
            await asyncio.sleep(0)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport instances (nor registered as such)
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closing:
            self.fail(f"connection lost ({exc or 'closed by the server'})")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(Refused(f"{self.client_id}: connection lost"))
        if self._synced is not None and not self._synced.done():
            self._synced.set_exception(Refused(f"{self.client_id}: connection lost"))
        if not self._closed.done():
            self._closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        size = len(data)
        position = 0
        now = perf_counter_ns()
        verifier = self.verifier
        acks: dict[str, int] | None = None
        output: list[bytes] = []
        self._output = output
        while size - position >= 4:
            start = position + 4
            end = start + int.from_bytes(data[position:start], "big")
            if end > size:
                break
            payload = data[start:end]
            position = end
            try:
                frame = decode(payload)
            except msgspec.DecodeError as exc:
                self.fail(f"undecodable frame: {exc}")
                continue
            self.frames_in += 1
            if self.strict and (complaint := wire.check_strictly(payload)) is not None:
                self.fail(f"invalid {frame.type} frame: {complaint}")
            kind = frame.type
            if kind == "message":
                group = frame.group if frame.group.__class__ is str else None
                key = group or frame.sender
                verifier.delivered(
                    self.inbox, frame.sender, group, _number(frame.text), frame.message_id,  # type: ignore[arg-type]
                    frame.seq, now,
                )  # fmt: skip
                if acks is None:
                    acks = {key: frame.message_id}
                else:
                    acks[key] = frame.message_id
            elif kind == "sent" and frame.id is not None and frame.id >= SEND_ID_BASE:
                verifier.replied(
                    self.outbox, frame.id - SEND_ID_BASE, frame.message_id, frame.duplicate, now,  # type: ignore[arg-type]
                )  # fmt: skip
                self.sent_replies += 1
                if frame.seq > self.last_sent_seq:
                    self.last_sent_seq = frame.seq
                if self.sent_seqs is not None:
                    self.sent_seqs[frame.id - SEND_ID_BASE] = frame.seq
                if self._unsent > 0:
                    self._unsent -= 1
                    self.send_one(now)
            elif kind == "receipts":
                self.receipts_events += 1
                if self.on_receipts is not None:
                    self.on_receipts(self, frame)
            elif kind == "reacted":
                verifier.delivered(
                    self.inbox, frame.sender, None, self.react_numbers.get(frame.target, -1),  # type: ignore[arg-type]
                    frame.message_id, frame.seq, now,
                )  # fmt: skip
                if acks is None:
                    acks = {frame.sender: frame.message_id}
                else:
                    acks[frame.sender] = frame.message_id
            else:
                acks = self._other(frame, acks)
        if position < size:
            self._buffer = data[position:]
        self._output = None
        if acks is not None:
            if len(acks) == 1:
                for message_id in acks.values():
                    output.append(wire.ack_one(message_id))
                self.frames_out += 1
            else:
                ids = list(acks.values())
                for begin in range(0, len(ids), protocol.MAX_ACK_IDS):
                    output.append(wire.ack(ids[begin : begin + protocol.MAX_ACK_IDS]))
                    self.frames_out += 1
        if output:
            transport = self.transport
            assert transport is not None
            transport.write(output[0] if len(output) == 1 else b"".join(output))

    def _other(self, frame: wire.Frame, acks: dict[str, int] | None) -> dict[str, int] | None:
        """Every frame but the hot three."""
        kind = frame.type
        if kind == "synced":
            if self._synced is None or self._synced.done():
                self.verifier.stray(self.client_id, "`synced`")
            else:
                self._synced.set_result(None)
        elif kind == "group_update":
            if acks is None:
                acks = {}
            acks[f"#{frame.event_id}"] = frame.event_id
        elif kind == "error":
            if frame.id is not None and frame.id >= wire.SEND_ID_BASE:
                self.fail(f"message {frame.id - wire.SEND_ID_BASE} refused: {frame.code}")
            else:
                self.fail(f"error {frame.code}: {frame.message}")
            future = self._waiting.pop(frame.id, None) if frame.id is not None else None
            if future is not None and not future.done():
                future.set_result(frame)
        elif kind == "pong" and self._flooding and (frame.id or 0) >= FLOOD_ID_BASE:
            self.pongs += 1
        elif kind == "typing" and self.on_typing is not None:
            self.on_typing(self, frame)
        elif kind == "goodbye":
            self.fail(f"goodbye {frame.code}: {frame.message}")
        elif kind in REPLY_TYPES and frame.id is not None and frame.id in self._waiting:
            future = self._waiting.pop(frame.id)
            if not future.done():
                future.set_result(frame)
        else:
            self.verifier.stray(self.client_id, f"`{kind}` frame (id {frame.id})")
        return acks


def _number(text: str) -> int:
    """The sender's message number that starts a benchmark message's text, or -1."""
    try:
        return int(text[:NUMBER_DIGITS])
    except ValueError:
        return -1


# --- many clients at once ---


async def register(
    verifier: Verifier,
    addresses: Sequence[Address],
    count: int,
    *,
    prefix: str = "bench",
    parallel: int = 100,
    strict: bool = False,
) -> list[Identity]:
    """Register ``count`` new identities, spread round-robin over ``addresses``: requests
    pipelined on up to ``parallel`` connections (one commit serves many)."""
    identities: list[Identity | None] = [None] * count
    connections = min(parallel, count)

    async def registrar(first: int) -> None:
        address = addresses[first % len(addresses)]
        client = await BenchClient.open(verifier, None, address, strict)
        try:
            indices = range(first, count, connections)
            # every connection talks to one server: keep the round-robin by index
            replies = await asyncio.gather(
                *(
                    client.request(protocol.Register(id=0, display_name=f"{prefix} {i}"))
                    for i in indices
                )
            )
            for i, reply in zip(indices, replies, strict=True):
                identities[i] = Identity(
                    reply.client_id, reply.credential, f"{prefix} {i}", address
                )
        finally:
            client.close()

    if len(addresses) > 1 and connections % len(addresses):
        connections -= connections % len(addresses)  # keep index → server round-robin
        connections = max(connections, len(addresses))
    await asyncio.gather(*(registrar(first) for first in range(connections)))
    return [identity for identity in identities if identity is not None]


async def connect(
    verifier: Verifier,
    identities: Sequence[Identity],
    *,
    parallel: int = 100,
    strict: bool = False,
) -> list[BenchClient]:
    """Connect and log in every identity, ``parallel`` at a time; each is back from its
    ``synced`` when this returns."""
    clients: list[BenchClient | None] = [None] * len(identities)
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < len(identities):
            identity = identities[i]
            client = await BenchClient.open(verifier, identity, identity.address, strict)
            await client.login()
            clients[i] = client

    await asyncio.gather(*(worker() for _ in range(min(parallel, len(identities)))))
    return [client for client in clients if client is not None]


def close_all(clients: Sequence[BenchClient]) -> None:
    for client in clients:
        client.close()

"""The protocol's state machines, without I/O: one object per connection, fed bytes.

As in python-websockets, a session never touches a socket. The I/O adapter feeds every
chunk it reads to :meth:`receive_data`, takes what to handle next, and writes whatever
:meth:`data_to_send` returns:

* :class:`ServerSession` is the server's side of one connection: framing, the connection
  states (greeting, login), which requests each state allows, the rate limit, the
  invalid-frame budget, output coalescing and the backlog's ordering of live events.
  ``messenger_server.server`` is its asyncio adapter.
* :class:`ClientSession` is a client's side: it numbers requests, matches each reply to
  its request by ``id`` (never by position), follows the greeting and login, and hands
  out events. The desktop app's ``messenger_gui.connection``, ``messenger-bench`` and the
  tests' wire client are its adapters.

The rules implemented here are those of ``docs/protocol.md`` sections 2 and 3.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.ratelimit import TokenBucket

MAX_BAD_FRAMES: Final = 10
"""Invalid frames tolerated from a logged-in client; the next one ends the connection."""
PRELOGIN_MAX_FRAME_BYTES: Final = 4096
"""The largest frame accepted before login (a ``login`` or ``register`` is a few hundred
bytes): what a connection that never logs in can make the server hold."""


class State(enum.Enum):
    CONNECTED = "connected"
    """Transport open; only ``hello`` is allowed."""
    GREETED = "greeted"
    """``hello`` accepted; ``register`` and ``login`` are allowed."""
    LOGGED_IN = "logged_in"
    """Authenticated; every request but ``hello``, ``register`` and ``login``."""
    CLOSED = "closed"
    """Nothing more is received; the adapter closes the transport once the output is
    written."""


# --- the server's side ---------------------------------------------------------------------


class Inflight:
    """Messages pushed on one connection and not acknowledged yet.

    An ``ack`` is cumulative per conversation: acknowledging a message acknowledges the
    conversation's earlier messages too. :meth:`acknowledge` turns the ids of an ``ack``
    into the highest acknowledged seq per conversation, and forgets everything they cover.
    """

    __slots__ = ("_by_conversation", "_conversation_of")

    def __init__(self) -> None:
        self._conversation_of: dict[int, tuple[str, int]] = {}
        self._by_conversation: dict[str, list[tuple[int, int, str | None]]] = {}

    def __len__(self) -> int:
        return len(self._conversation_of)

    def add(self, message_id: int, conversation: str, seq: int, counted: str | None = None) -> None:
        """``message_id`` (at ``seq`` of ``conversation``) was pushed (or is about to be:
        a live message held back behind the backlog). Adding it twice is harmless.
        ``counted`` names a sender whose quota the message counts against."""
        if message_id in self._conversation_of:
            return
        self._conversation_of[message_id] = (conversation, seq)
        entry = (seq, message_id, counted)
        heap = self._by_conversation.get(conversation)
        if heap is None:
            self._by_conversation[conversation] = [entry]
        else:
            heapq.heappush(heap, entry)

    def acknowledge(self, ids: Iterable[int]) -> tuple[dict[str, int], list[int], list[str]]:
        """Returns the highest acknowledged seq per conversation, the ids that are not
        messages pushed here (group updates, or messages acknowledged already), and the
        ``counted`` sender of each message the acknowledgement covered."""
        moved: dict[str, int] = {}
        others: list[int] = []
        counted: list[str] = []
        conversation_of = self._conversation_of
        for message_id in ids:
            found = conversation_of.get(message_id)
            if found is None:
                others.append(message_id)
                continue
            conversation, seq = found
            if seq > moved.get(conversation, -1):
                moved[conversation] = seq
        for conversation, seq in moved.items():
            heap = self._by_conversation[conversation]
            while heap and heap[0][0] <= seq:
                _, message_id, sender = heapq.heappop(heap)
                del conversation_of[message_id]
                if sender is not None:
                    counted.append(sender)
            if not heap:
                del self._by_conversation[conversation]
        return moved, others, counted

    def clear(self) -> None:
        self._conversation_of.clear()
        self._by_conversation.clear()


class ServerSession:
    """The server's side of one connection.

    Feed received bytes to :meth:`receive_data`, then call :meth:`next_request` until it
    returns ``None``, handling each frame it gives: it gives only frames the current state
    allows, in the order they were received; everything else it answers itself (an
    ``error``, or a ``goodbye`` that closes the session). Frames are taken from the input
    one at a time, so the limits in force when a frame is taken apply to it (before login,
    only small frames: :data:`PRELOGIN_MAX_FRAME_BYTES`). A handler that must wait (for
    storage) may stop calling :meth:`next_request` until it is done: the input waits.

    Rate limits are back-pressure, not refusals: when a request (or an ``ack``) finds its
    token bucket empty, :meth:`next_request` returns ``None`` and :attr:`throttled_for`
    says how many seconds to stop reading the connection before asking again.

    After handling, write :meth:`data_to_send` to the transport; when :attr:`state` is
    ``CLOSED`` write it, then close the transport.

    Call :meth:`authenticated` once a ``login`` is accepted (``hello``'s version is
    checked here), :meth:`refuse_login` to refuse one, and :meth:`fail` to end the session
    with a ``goodbye``.
    """

    __slots__ = (
        "_ack_bucket",
        "_bad_frames",
        "_bucket",
        "_deferred",
        "_deferred_bytes",
        "_held",
        "_max_deferred_bytes",
        "_max_frame_bytes",
        "_output",
        "_output_bytes",
        "_reader",
        "behind",
        "client_id",
        "close_reason",
        "delivering",
        "display_name",
        "state",
        "syncing",
        "throttled_for",
    )

    def __init__(
        self,
        *,
        max_frame_bytes: int = protocol.MAX_FRAME_BYTES,
        bucket: TokenBucket | None = None,
        ack_bucket: TokenBucket | None = None,
        max_deferred_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self._reader = protocol.FrameReader(min(max_frame_bytes, PRELOGIN_MAX_FRAME_BYTES))
        self._max_frame_bytes = max_frame_bytes
        self._bucket = bucket
        self._ack_bucket = ack_bucket
        self._held: protocol.ClientFrame | None = None
        self._output: list[bytes] = []
        self._output_bytes = 0
        self._bad_frames = 0
        self._deferred: list[tuple[Hashable, int, bytes]] = []
        self._deferred_bytes = 0
        self._max_deferred_bytes = max_deferred_bytes
        self.state = State.CONNECTED
        self.client_id: str | None = None
        self.display_name = ""
        self.close_reason: str | None = None
        """Why the session closed (a ``goodbye`` code, or a reason for the log)."""
        self.syncing = False
        """True while the backlog is being sent: live events are held back meanwhile."""
        self.delivering = Inflight()
        """Messages pushed and not yet acknowledged (see :class:`Inflight`)."""
        self.behind = False
        """Live messages are not pushed (too many unacknowledged): they are read from
        storage once the client has acknowledged what it has."""
        self.throttled_for = 0.0
        """After :meth:`next_request` returned ``None``: seconds to wait before reading on
        (a rate limit), or 0."""

    # -- input --

    def receive_data(self, data: bytes) -> None:
        """Take bytes received from the transport; :meth:`next_request` takes the frames."""
        if self.state is not State.CLOSED:
            self._reader.feed(data)

    def next_request(self) -> protocol.ClientFrame | None:
        """The next frame to handle, or ``None`` when no complete frame is waiting, a rate
        limit says to wait (:attr:`throttled_for`), or the session is closed. ``hello``
        (of the right version), ``register``, ``login``, the requests of a logged-in
        session, ``ack`` and ``typing`` are given; the rest is answered here."""
        self.throttled_for = 0.0
        while self.state is not State.CLOSED:
            frame = self._held
            self._held = None
            if frame is None:
                frame = self._take()
                if frame is None:
                    return None
            bucket = self._ack_bucket if isinstance(frame, protocol.Ack) else self._bucket
            if bucket is not None:
                wait = bucket.wait()
                if wait > 0:
                    self._held = frame
                    self.throttled_for = wait
                    return None
                bucket.take()
            if isinstance(frame, protocol.Ack | protocol.Typing):  # no id, never answered
                if self.state is State.LOGGED_IN:
                    return frame
                self.fail(Code.NOT_AUTHENTICATED, "log in first")
                return None
            if self._allowed(frame):
                return frame
        return None

    def _take(self) -> protocol.ClientFrame | None:
        """The next well-formed frame of the input; invalid ones are answered here."""
        while self.state is not State.CLOSED:
            try:
                payload = self._reader.next_frame()
                if payload is None:
                    return None
                return protocol.decode_client_frame(payload)
            except protocol.ProtocolError as exc:
                if exc.code == Code.FRAME_TOO_LARGE:
                    self.fail(exc.code, exc.message)
                else:
                    self._invalid(exc)
        return None

    def _allowed(self, frame: protocol.Request) -> bool:
        state = self.state
        if state is State.LOGGED_IN:
            if isinstance(frame, protocol.Hello | protocol.Register | protocol.Login):
                self.send(protocol.Error(Code.ALREADY_AUTHENTICATED, "already logged in", frame.id))
                return False
            return True
        if state is State.CONNECTED:
            if not isinstance(frame, protocol.Hello):
                self.fail(Code.HELLO_REQUIRED, "the first frame must be hello")
                return False
            if frame.protocol != protocol.PROTOCOL_VERSION:
                self.fail(
                    Code.UNSUPPORTED_VERSION,
                    f"this server speaks protocol {protocol.PROTOCOL_VERSION},"
                    f" not {frame.protocol}",
                )
                return False
            self.state = State.GREETED
            return True
        if isinstance(frame, protocol.Register | protocol.Login):
            return True
        self.send(protocol.Error(Code.NOT_AUTHENTICATED, "log in first", frame.id))
        return False

    def _invalid(self, exc: protocol.ProtocolError) -> None:
        if self.state is not State.LOGGED_IN:
            self.fail(exc.code, exc.message)
            return
        self._bad_frames += 1
        if self._bad_frames > MAX_BAD_FRAMES:
            self.fail(exc.code, "too many invalid frames")
            return
        self.send(protocol.Error(exc.code, exc.message, exc.request_id))

    # -- state changes the server decides --

    def authenticated(self, client_id: str, display_name: str) -> None:
        """A ``login`` was accepted: from now on the session is ``client_id``'s, and frames
        up to the server's ``max_frame_bytes`` are accepted."""
        self.state = State.LOGGED_IN
        self.client_id = client_id
        self.display_name = display_name
        self._reader.max_frame_bytes = self._max_frame_bytes

    def refuse_login(self, request_id: int, code: str, message: str) -> None:
        """Answer a refused ``login`` with an ``error`` and close, without ``goodbye``."""
        self.send(protocol.Error(code, message, request_id))
        self._close(code)

    def fail(self, code: str, message: str) -> None:
        """End the session: queue ``goodbye`` as its last frame. Nothing is received any
        more; write :meth:`data_to_send`, then close the transport."""
        if self.state is State.CLOSED:
            return
        self.send(protocol.Goodbye(code, message))
        self._close(code)

    def _close(self, reason: str) -> None:
        self.state = State.CLOSED
        self.close_reason = reason
        self._held = None
        self._deferred.clear()
        self.delivering.clear()

    def connection_lost(self, reason: str) -> None:
        """The transport ended (or was aborted): forget queued input and output."""
        if self.state is not State.CLOSED:
            self._close(reason)
        self._output.clear()
        self._output_bytes = 0

    # -- output --

    def send(self, frame: protocol.ServerFrame) -> None:
        """Queue a frame for the client."""
        self.send_data(protocol.encode(frame))

    def send_data(self, data: bytes) -> None:
        """Queue already-framed bytes (a frame encoded once for many sessions)."""
        if self.state is State.CLOSED:
            return  # ``goodbye`` (or a refused login's error) was the last frame
        self._output.append(data)
        self._output_bytes += len(data)

    @property
    def output_bytes(self) -> int:
        """Bytes queued and not yet taken by :meth:`data_to_send`."""
        return self._output_bytes

    def data_to_send(self) -> bytes:
        """Everything queued for the client since the last call, as one buffer."""
        output = self._output
        if not output:
            return b""
        data = output[0] if len(output) == 1 else b"".join(output)
        output.clear()
        self._output_bytes = 0
        return data

    # -- live events and the backlog --

    def push(self, data: bytes, key: Hashable = None, position: int = 0) -> bool:
        """Queue a live event (already framed): ``position`` in the stream ``key`` (for
        instance a conversation's seq, or a receipt version).

        While the backlog is being sent (:attr:`syncing`) the event is held back, so that
        nothing overtakes the backlog; :meth:`finish_backlog` sends it afterwards unless
        the backlog already carried it. Returns False when the held-back events exceed
        their limit: the client is too far behind, close the connection.
        """
        if self.state is State.CLOSED:
            return True
        if not self.syncing:
            self.send_data(data)
            return True
        self._deferred.append((key, position, data))
        self._deferred_bytes += len(data)
        return self._deferred_bytes <= self._max_deferred_bytes

    def start_backlog(self) -> None:
        """From now on live events are held back until :meth:`finish_backlog`."""
        self.syncing = True

    def finish_backlog(self, covered: Callable[[Hashable, int], bool]) -> None:
        """The backlog has been queued. Queue the held-back live events, in the order they
        happened, except those for which ``covered(key, position)`` says the backlog
        carried them already (an event with key ``None`` is always sent)."""
        self.syncing = False
        deferred, self._deferred = self._deferred, []
        self._deferred_bytes = 0
        for key, position, data in deferred:
            if key is None or not covered(key, position):
                self.send_data(data)


# --- the client's side ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    """The reply to ``request``: its typed reply or an ``error``."""

    request: protocol.Request
    reply: protocol.Reply


@dataclass(frozen=True, slots=True)
class EventReceived:
    """A server event (a ``goodbye`` included), or an ``error`` without ``id`` (about a
    frame whose id the server could not read)."""

    event: protocol.Event | protocol.Error


ClientEvent = ReplyReceived | EventReceived

R = TypeVar("R", bound=protocol.Request)

KNOWN_SERVER_TYPES: Final = frozenset(
    kind.__struct_config__.tag
    for kind in (
        protocol.Welcome,
        protocol.Registered,
        protocol.LoggedIn,
        protocol.Sent,
        protocol.Contact,
        protocol.GroupReply,
        protocol.Groups,
        protocol.Ok,
        protocol.Pong,
        protocol.Error,
        protocol.Message,
        protocol.Receipts,
        protocol.Synced,
        protocol.GroupUpdate,
        protocol.Goodbye,
        protocol.Presences,
        protocol.Privacy,
        protocol.Edited,
        protocol.Deleted,
        protocol.Reacted,
        protocol.PeerTyping,
        protocol.Presence,
    )
)
"""The ``type`` of every server frame this code understands."""


class ClientSession:
    """A client's side of one connection.

    Build requests with :meth:`send_request` (it numbers them), acknowledge with
    :meth:`send_ack`, and write :meth:`data_to_send` to the transport after each. Feed
    received bytes to :meth:`receive_data` and take :meth:`events_received`: each reply
    comes as :class:`ReplyReceived` with the request it answers, each event as
    :class:`EventReceived`, in the order received.

    Frames of a type this code does not know are skipped (a newer server's event); one
    that carries the ``id`` of a waiting request fails that request with an ``error``
    ``internal_error``. A malformed frame raises :class:`protocol.ProtocolError` from
    :meth:`receive_data`: the stream cannot be trusted any more, close the connection.
    """

    __slots__ = (
        "_events",
        "_next_id",
        "_output",
        "_reader",
        "client_id",
        "goodbye",
        "limits",
        "pending",
        "server_protocol",
        "state",
    )

    def __init__(self, *, max_frame_bytes: int = 16 * 1024 * 1024) -> None:
        self._reader = protocol.FrameReader(max_frame_bytes)
        self._next_id = 1
        self._output: list[bytes] = []
        self._events: list[ClientEvent] = []
        self.pending: dict[int, protocol.Request] = {}
        """Requests sent and not answered yet, by ``id``."""
        self.state = State.CONNECTED
        self.limits = protocol.Limits()
        """The limits announced in ``welcome`` (the defaults until it comes)."""
        self.server_protocol: int | None = None
        self.client_id: str | None = None
        self.goodbye: protocol.Goodbye | None = None

    @property
    def next_request_id(self) -> int:
        """The ``id`` :meth:`send_request` gives next."""
        return self._next_id

    def send_request(self, build: Callable[[int], R]) -> R:
        """Queue the request ``build(request_id)`` with a fresh id; returns it (its
        reply will come as a :class:`ReplyReceived` for it)."""
        request_id = self._next_id
        self._next_id += 1
        request = build(request_id)
        self.pending[request_id] = request
        self._output.append(protocol.encode(request))
        return request

    def send_ack(self, ids: Iterable[int]) -> None:
        """Queue ``ack`` frames for ``ids`` (split into frames of at most
        ``MAX_ACK_IDS``); nothing for an empty list."""
        ids = list(ids)
        step = protocol.MAX_ACK_IDS
        for start in range(0, len(ids), step):
            self._output.append(protocol.encode(protocol.Ack(ids=ids[start : start + step])))

    def send_typing(self, *, to: str | None = None, group: str | None = None, on: bool) -> None:
        """Queue a ``typing`` notice for the conversation with ``to`` or ``group`` (no id,
        no reply). :class:`TypingNotices` says when to send one."""
        self._output.append(protocol.encode(protocol.Typing(to=to, group=group, on=on)))

    def forget(self, request_id: int) -> protocol.Request | None:
        """Stop waiting for a reply to ``request_id`` (a late reply is then skipped)."""
        return self.pending.pop(request_id, None)

    def data_to_send(self) -> bytes:
        output = self._output
        if not output:
            return b""
        data = b"".join(output)
        output.clear()
        return data

    def receive_data(self, data: bytes) -> None:
        """Take bytes received from the server; decoded frames become events.

        Raises:
            protocol.ProtocolError: a malformed frame (the frames before it were taken).
        """
        self._reader.feed(data)
        for payload in self._reader.frames():
            self._receive_frame(payload)

    def events_received(self) -> list[ClientEvent]:
        """Replies and events received since the last call, in order."""
        events, self._events = self._events, []
        return events

    def _receive_frame(self, payload: bytes) -> None:
        try:
            frame = protocol.decode_server_frame(payload)
        except protocol.ProtocolError:
            kind, request_id = protocol.type_and_id(payload)
            if kind is None or kind in KNOWN_SERVER_TYPES:
                raise
            request = self.pending.pop(request_id, None) if request_id is not None else None
            if request is not None:
                self._events.append(
                    ReplyReceived(
                        request,
                        protocol.Error(Code.INTERNAL_ERROR, f"unknown reply {kind!r}", request.id),
                    )
                )
            return
        request_id = getattr(frame, "id", None)
        if request_id is None:
            if isinstance(frame, protocol.Goodbye):
                self.goodbye = frame
                self.state = State.CLOSED
            self._events.append(EventReceived(frame))  # type: ignore[arg-type]
            return
        request = self.pending.pop(request_id, None)
        if request is None:
            return  # a reply nobody waits for any more
        reply: protocol.Reply = frame  # type: ignore[assignment]
        if isinstance(reply, protocol.Welcome):
            self.state = State.GREETED
            self.limits = reply.limits
            self.server_protocol = reply.protocol
        elif isinstance(reply, protocol.LoggedIn):
            self.state = State.LOGGED_IN
            self.client_id = reply.client_id
        self._events.append(ReplyReceived(request, reply))


# --- typing, on either side ----------------------------------------------------------------


class TypingNotices:
    """When a client should send ``typing``: tell it every time the user edits the draft
    of a conversation (:meth:`edited`), sends it or empties it (:meth:`stopped`); each
    returns the notice to send now (``True``: on, ``False``: off) or ``None``.

    ``on`` goes at the first keystroke and again at most every
    :data:`~messenger_server.protocol.TYPING_REFRESH_SECONDS` while typing goes on;
    ``off`` when the user stops (or :meth:`idle` finds no keystroke for that long).
    ``now`` is any monotonic clock, in seconds.
    """

    __slots__ = ("_typing",)

    def __init__(self) -> None:
        self._typing: dict[str, tuple[float, float]] = {}
        """conversation → when ``on`` was last sent, and the last keystroke."""

    def edited(self, conversation: str, now: float) -> bool | None:
        state = self._typing.get(conversation)
        if state is None or now - state[0] >= protocol.TYPING_REFRESH_SECONDS:
            self._typing[conversation] = (now, now)
            return True
        self._typing[conversation] = (state[0], now)
        return None

    def stopped(self, conversation: str) -> bool | None:
        return False if self._typing.pop(conversation, None) is not None else None

    def idle(self, now: float) -> list[str]:
        """The conversations where the user stopped typing a while ago: send ``off`` to
        each (they are forgotten here). Call it every second or so."""
        quiet = [
            conversation
            for conversation, (_, last) in self._typing.items()
            if now - last >= protocol.TYPING_REFRESH_SECONDS
        ]
        for conversation in quiet:
            del self._typing[conversation]
        return quiet


class TypingIndicators:
    """Who is typing where, from the ``typing`` events received: feed each event to
    :meth:`received`, and a message to :meth:`message_received` (its sender has stopped),
    then ask :meth:`typing_in`. An ``on`` lasts
    :data:`~messenger_server.protocol.TYPING_EXPIRY_SECONDS` unless renewed. ``now`` is any
    monotonic clock, in seconds. A conversation is the group ID, or the other client's ID
    for a direct one."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[str, dict[str, float]] = {}
        """conversation → sender → when its ``on`` runs out."""

    def received(self, event: protocol.PeerTyping, now: float) -> str:
        """Apply a ``typing`` event; returns the conversation it is about."""
        conversation = event.group or event.sender
        senders = self._until.setdefault(conversation, {})
        if event.on:
            senders[event.sender] = now + protocol.TYPING_EXPIRY_SECONDS
        else:
            senders.pop(event.sender, None)
        return conversation

    def message_received(self, conversation: str, sender: str) -> None:
        """A message from ``sender`` arrived in ``conversation``: it is no longer typing."""
        senders = self._until.get(conversation)
        if senders is not None:
            senders.pop(sender, None)

    def typing_in(self, conversation: str, now: float) -> list[str]:
        """Who is typing in ``conversation`` now, in the order they started."""
        senders = self._until.get(conversation)
        if not senders:
            return []
        for sender in [s for s, until in senders.items() if until <= now]:
            del senders[sender]
        return list(senders)

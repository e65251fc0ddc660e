"""The asyncio server: connections, authentication, routing and durable delivery.

Each connection is served by :meth:`MessengerServer.handle_client`, one coroutine per
connection that reads chunks, splits them into frames with the sans-I/O
:class:`~messenger_server.protocol.FrameReader` and handles every frame of a chunk
together: all ``send`` requests of a chunk become one storage call, and storage
group-commits the calls of all connections into one transaction. A message is
acknowledged (``sent``) and pushed to its recipients only after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from messenger_server import __version__, protocol
from messenger_server.auth import hash_credential, new_credential, verify_credential
from messenger_server.config import Settings
from messenger_server.protocol import ErrorCode as Code
from messenger_server.ratelimit import TokenBucket
from messenger_server.storage import (
    AckedMessage,
    GroupChange,
    GroupRecord,
    NewMessage,
    NewReceipt,
    PendingGroupUpdate,
    PendingItem,
    PendingMessage,
    PendingReceipt,
    Refused,
    SavedMessage,
    Storage,
    now_ms,
)

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
BACKLOG_PAGE = 500
BACKLOG_HIGH_WATER = 256 * 1024
"""Output buffered while sending the backlog before waiting for the client to read it."""
MAX_BAD_FRAMES = 10
"""Invalid frames tolerated from an authenticated client before it is disconnected."""
SWEEP_INTERVAL = 1.0
PRUNE_INTERVAL = 3600.0


class Closed(Exception):
    """The session ended; raised to leave a handler early."""


@dataclass(eq=False, slots=True)
class Session:
    """One client connection.

    Output is coalesced: frames written during one turn of the event loop go to the socket
    together, in one ``send``, at the end of that turn (or at :meth:`flush`). Under load a
    client gets its ``sent`` replies, messages and receipts in a few large writes instead of
    one system call per frame.
    """

    writer: asyncio.StreamWriter
    peer: str
    bucket: TokenBucket
    max_buffer: int
    connected_at: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    greeted: bool = False
    client_id: str | None = None
    display_name: str = ""
    syncing: bool = False
    deferred: list[tuple[int, bytes]] = field(default_factory=list)
    deferred_bytes: int = 0
    bad_frames: int = 0
    closed: bool = False
    backlog_task: asyncio.Task[None] | None = None
    outgoing: list[bytes] = field(default_factory=list)
    outgoing_bytes: int = 0

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the client; it is sent at the end of this loop turn. A
        client that lets more than ``max_buffer`` bytes pile up is not reading: it is cut
        off at once (whatever it has not acknowledged stays stored for its next
        connection)."""
        if self.closed:
            return
        if not self.outgoing:
            asyncio.get_running_loop().call_soon(self.flush)
        self.outgoing.append(data)
        self.outgoing_bytes += len(data)
        if self.outgoing_bytes + self.writer.transport.get_write_buffer_size() > self.max_buffer:
            self.abort("not reading fast enough")

    def flush(self) -> None:
        """Hand everything queued by :meth:`write` to the transport now."""
        if not self.outgoing or self.closed:
            self.outgoing.clear()
            return
        data = self.outgoing[0] if len(self.outgoing) == 1 else b"".join(self.outgoing)
        self.outgoing.clear()
        self.outgoing_bytes = 0
        self.writer.write(data)

    def push(self, event_id: int, data: bytes) -> None:
        """Send a server event; held back while the stored backlog is being sent so that
        events keep their order."""
        if not self.syncing:
            self.write(data)
            return
        self.deferred.append((event_id, data))
        self.deferred_bytes += len(data)
        if self.deferred_bytes > self.max_buffer:
            self.abort("too many events while catching up")

    def abort(self, reason: str) -> None:
        log.warning("%s: disconnecting a slow consumer (%s): %s", self.peer, self.client_id, reason)
        self.closed = True
        self.outgoing.clear()
        self.writer.transport.abort()


def group_info(group: GroupRecord) -> protocol.GroupInfo:
    return protocol.GroupInfo(
        group_id=group.group_id,
        name=group.name,
        members=[protocol.Member(m.client_id, m.display_name, m.admin) for m in group.members],
        created_by=group.created_by,
        created_at=group.created_at,
    )


class MessengerServer:
    """Serves the Messenger protocol from ``storage`` according to ``settings``.

    Call :meth:`start`, then :meth:`serve_forever` or await :meth:`stop` later.
    """

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.sessions: dict[str, Session] = {}
        self._all: set[Session] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        """The running :meth:`handle_client` tasks."""
        self._stopping = False
        self._limits = protocol.Limits(
            max_frame_bytes=settings.max_frame_bytes,
            max_text_bytes=settings.max_text_bytes,
            max_group_members=settings.max_group_members,
        )

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> list[tuple[str, int]]:
        """Listen; returns the bound (host, port) pairs."""
        ssl_context = None
        if self.settings.tls_cert is not None and self.settings.tls_key is not None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        self._server = await asyncio.start_server(
            self.handle_client,
            self.settings.host,
            self.settings.port,
            ssl=ssl_context,
            ssl_handshake_timeout=self.settings.handshake_timeout if ssl_context else None,
            limit=READ_CHUNK,
        )
        self._spawn(self._sweep())
        self._spawn(self._prune())
        addresses = [sock.getsockname()[:2] for sock in self._server.sockets]
        for host, port in addresses:
            log.info(
                "listening on %s:%d%s (registration %s)",
                host,
                port,
                " with TLS" if ssl_context else "",
                self.settings.registration,
            )
        return addresses

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def serve_forever(self) -> None:
        assert self._server is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def stop(self) -> None:
        """Stop accepting, tell every client, close connections. Storage is the
        caller's to close (after this returns, nothing writes to it any more)."""
        if self._stopping:
            return
        self._stopping = True
        log.info("shutting down: %d connections", len(self._all))
        if self._server is not None:
            self._server.close()
        for session in list(self._all):
            self._close(session, Code.SHUTTING_DOWN, "the server is shutting down")
        # Connection handlers end by themselves once their socket is closed, after the
        # storage call they may be waiting for (so that nothing is cut off mid-write).
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        for task in [*self._tasks, *self._handlers]:
            task.cancel()
        leftovers = self._tasks | self._handlers
        if leftovers:
            await asyncio.wait(leftovers, timeout=5)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _sweep(self) -> None:
        """Close connections that stay silent too long or never finish the handshake."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = time.monotonic()
            for session in list(self._all):
                if session.client_id is None:
                    if now - session.connected_at > self.settings.handshake_timeout:
                        self._close(session, Code.TIMEOUT, "handshake not completed in time")
                elif now - session.last_seen > self.settings.idle_timeout:
                    self._close(session, Code.TIMEOUT, "idle for too long")

    async def _prune(self) -> None:
        while True:
            cutoff = now_ms() - self.settings.dedupe_days * 86_400_000
            try:
                pruned = await self.storage.prune(cutoff)
                if pruned:
                    log.info("forgot %d expired idempotency keys", pruned)
            except Exception:
                log.exception("pruning failed")
            await asyncio.sleep(PRUNE_INTERVAL)

    # -- connections --------------------------------------------------------

    async def handle_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one connection until it closes."""
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            await self._serve(reader, writer)
        finally:
            self._handlers.discard(handler)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        session = Session(
            writer,
            peer,
            TokenBucket(self.settings.rate_limit, self.settings.rate_burst),
            self.settings.max_write_buffer,
        )
        if self._stopping or len(self._all) >= self.settings.max_connections:
            session.write(
                protocol.encode(protocol.Goodbye(Code.SHUTTING_DOWN, "the server is not accepting"))
            )
            session.flush()
            writer.close()
            return
        writer.transport.set_write_buffer_limits(high=256 * 1024)
        self._all.add(session)
        frames = protocol.FrameReader(self.settings.max_frame_bytes)
        try:
            while not session.closed:
                data = await reader.read(READ_CHUNK)
                if not data:
                    break
                session.last_seen = time.monotonic()
                frames.feed(data)
                await self._handle_chunk(session, frames)
        except Closed:
            pass
        except protocol.ProtocolError as exc:
            log.info("%s: %s", session.peer, exc.message)
            self._close(session, exc.code, exc.message)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.debug("%s: connection lost: %s", session.peer, exc)
        except Exception:
            log.exception("%s: internal error", session.peer)
            self._close(session, Code.INTERNAL_ERROR, "internal server error")
        finally:
            session.flush()  # replies to the last frames of a client that half-closed
            self._forget(session)
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _forget(self, session: Session) -> None:
        session.closed = True
        self._all.discard(session)
        if session.client_id is not None and self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]
            log.info("%s: %s went offline", session.peer, session.client_id)
        if session.backlog_task is not None:
            session.backlog_task.cancel()

    def _close(self, session: Session, code: str, message: str) -> None:
        """Send a connection-level error, then close. The pending messages stay stored."""
        if session.closed:
            return
        log.info("%s: closing (%s: %s)", session.peer, code, message)
        session.write(protocol.encode(protocol.Goodbye(code, message)))
        session.flush()
        session.closed = True
        self._forget(session)
        session.writer.close()

    def _reply(self, session: Session, frame: protocol.Reply) -> None:
        session.write(protocol.encode(frame))

    def _error(self, session: Session, request_id: int | None, code: str, message: str) -> None:
        session.write(protocol.encode(protocol.Error(code, message, request_id)))

    async def _handle_chunk(self, session: Session, frames: protocol.FrameReader) -> None:
        """Handle every complete frame received. Consecutive ``send`` and ``ack`` frames
        are handled together (one storage call each); any other request first flushes
        them, so that a client sees the effects of its frames in the order it sent them."""
        sends: list[protocol.Send] = []
        acks: list[int] = []
        for payload in frames.frames():
            try:
                frame = protocol.decode_client_frame(payload)
            except protocol.ProtocolError as exc:
                if session.client_id is None:
                    raise
                session.bad_frames += 1
                if session.bad_frames > MAX_BAD_FRAMES:
                    raise protocol.ProtocolError(exc.code, "too many invalid frames") from None
                self._error(session, exc.request_id, exc.code, exc.message)
                continue
            if isinstance(frame, protocol.Ack):
                if session.client_id is None:
                    raise protocol.ProtocolError(Code.NOT_AUTHENTICATED, "log in first")
                acks.extend(frame.ids)
                continue
            if not session.bucket.take():
                self._error(session, frame.id, Code.RATE_LIMITED, "too many requests; slow down")
                continue
            if isinstance(frame, protocol.Send) and session.client_id is not None:
                sends.append(frame)
                continue
            await self._flush(session, sends, acks)
            await self._handle_request(session, frame)
            if session.closed:
                raise Closed
        await self._flush(session, sends, acks)

    async def _flush(self, session: Session, sends: list[protocol.Send], acks: list[int]) -> None:
        if sends:
            await self._handle_sends(session, sends)
            sends.clear()
        if acks:
            await self._handle_acks(session, acks)
            acks.clear()

    async def _handle_request(self, session: Session, frame: protocol.Request) -> None:
        if not session.greeted:
            if not isinstance(frame, protocol.Hello):
                raise protocol.ProtocolError(Code.HELLO_REQUIRED, "the first frame must be hello")
            await self.handle_hello(session, frame)
            return
        if session.client_id is None:
            if isinstance(frame, protocol.Register):
                await self.handle_registration(session, frame)
            elif isinstance(frame, protocol.Login):
                await self.handle_login(session, frame)
            else:
                self._error(session, frame.id, Code.NOT_AUTHENTICATED, "log in first")
            return
        match frame:
            case protocol.Ping():
                self._reply(session, protocol.Pong(id=frame.id, ts=now_ms()))
            case protocol.MarkRead():
                await self.handle_read(session, frame)
            case protocol.Lookup():
                await self.handle_lookup(session, frame)
            case protocol.CreateGroup():
                await self.handle_group_creation(session, frame)
            case protocol.AddMember() | protocol.RemoveMember() | protocol.LeaveGroup():
                await self.handle_membership(session, frame)
            case protocol.ListGroups():
                groups = await self.storage.groups_of(session.client_id)
                self._reply(session, protocol.Groups(frame.id, [group_info(g) for g in groups]))
            case protocol.Hello() | protocol.Register() | protocol.Login():
                self._error(session, frame.id, Code.ALREADY_AUTHENTICATED, "already logged in")
            case _:
                self._error(session, frame.id, Code.BAD_FRAME, "unexpected request")

    # -- handshake ----------------------------------------------------------

    async def handle_hello(self, session: Session, hello: protocol.Hello) -> None:
        if hello.protocol != protocol.PROTOCOL_VERSION:
            raise protocol.ProtocolError(
                Code.UNSUPPORTED_VERSION,
                f"this server speaks protocol {protocol.PROTOCOL_VERSION}, not {hello.protocol}",
            )
        session.greeted = True
        self._reply(
            session,
            protocol.Welcome(
                id=hello.id,
                protocol=protocol.PROTOCOL_VERSION,
                server=f"messenger-server/{__version__}",
                registration=self.settings.registration,
                limits=self._limits,
            ),
        )

    async def handle_registration(self, session: Session, request: protocol.Register) -> None:
        """Create a new identity. The connection stays unauthenticated: log in next."""
        if self.settings.registration != "open":
            self._error(
                session, request.id, Code.REGISTRATION_CLOSED, "this server does not register"
            )
            return
        display_name = request.display_name.strip()
        credential = new_credential()
        client = await self.storage.save_client_id(display_name, hash_credential(credential))
        log.info("%s: registered %s", session.peer, client.client_id)
        self._reply(
            session,
            protocol.Registered(request.id, client.client_id, credential, client.display_name),
        )

    async def handle_login(self, session: Session, request: protocol.Login) -> None:
        """Authenticate, take over from an older connection of the same client, then
        start pushing the stored backlog."""
        client = await self.storage.get_client(request.client_id)
        if client is None:
            self._refuse_login(session, request.id, Code.UNKNOWN_CLIENT, "unknown client ID")
        if not verify_credential(request.credential, client.secret_hash):
            self._refuse_login(session, request.id, Code.INVALID_CREDENTIALS, "wrong credential")
        if client.disabled:
            self._refuse_login(session, request.id, Code.CLIENT_DISABLED, "account disabled")
        if session.closed or self._stopping:
            raise Closed
        previous = self.sessions.get(client.client_id)
        if previous is not None:
            # One live connection per identity: the newest wins. A stale socket (a laptop
            # that changed networks) must not keep the messages from the new one.
            self._close(previous, Code.SESSION_REPLACED, "signed in from another connection")
        session.client_id = client.client_id
        session.display_name = client.display_name
        session.syncing = True
        self.sessions[client.client_id] = session
        # Acks that the previous connection sent just before it ended may still be on
        # their way to disk: let them land, or their messages would be pushed again.
        await self.storage.sync()
        pending = await self.storage.count_pending(client.client_id)
        log.info("%s: %s online, %d pending", session.peer, client.client_id, pending)
        self._reply(
            session, protocol.LoggedIn(request.id, client.client_id, client.display_name, pending)
        )
        session.backlog_task = asyncio.create_task(self._run_backlog(session))

    def _refuse_login(self, session: Session, request_id: int, code: str, message: str) -> NoReturn:
        log.info("%s: login refused: %s", session.peer, code)
        self._error(session, request_id, code, message)
        session.flush()
        self._forget(session)
        session.writer.close()
        raise Closed

    async def _run_backlog(self, session: Session) -> None:
        try:
            await self.send_pending_messages(session)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("%s: sending the backlog failed", session.peer)
            self._close(session, Code.INTERNAL_ERROR, "internal server error")

    async def send_pending_messages(self, session: Session) -> None:
        """Push every stored event for the session's client, oldest first, paced by the
        client's reading; then the live events that arrived meanwhile."""
        assert session.client_id is not None
        after = 0
        groups: dict[str, protocol.GroupInfo] = {}
        while not session.closed:
            items = await self.storage.get_pending_messages(session.client_id, after, BACKLOG_PAGE)
            if not items:
                break
            for item in items:
                session.write(await self._encode_pending(item, groups))
                # Paced by the client's reading: the backlog never counts as "not reading".
                if session.outgoing_bytes > BACKLOG_HIGH_WATER:
                    session.flush()
                    await session.writer.drain()
            after = items[-1].event_id
            session.flush()
            await session.writer.drain()
        session.syncing = False
        deferred, session.deferred = session.deferred, []
        session.deferred_bytes = 0
        for event_id, data in deferred:
            if event_id == 0 or event_id > after:
                session.write(data)

    async def _encode_pending(
        self, item: PendingItem, groups: dict[str, protocol.GroupInfo]
    ) -> bytes:
        match item:
            case PendingMessage():
                return protocol.encode(
                    protocol.Message(
                        message_id=item.event_id,
                        seq=item.seq,
                        ts=item.ts,
                        sender=item.sender,
                        sender_name=item.sender_name,
                        text=item.text,
                        to=item.to,
                        group=item.group,
                    )
                )
            case PendingReceipt(kind="delivered"):
                assert item.message_id is not None
                return protocol.encode(
                    protocol.Delivered(
                        message_id=item.message_id,
                        seq=item.seq,
                        by=item.by,
                        group=item.group,
                        event_id=item.event_id,
                    )
                )
            case PendingReceipt():
                return protocol.encode(
                    protocol.Read(
                        by=item.by,
                        up_to=item.seq,
                        ts=item.ts,
                        group=item.group,
                        event_id=item.event_id,
                    )
                )
            case PendingGroupUpdate():
                info = groups.get(item.group_id)
                if info is None:
                    record = await self.storage.get_group(item.group_id)
                    info = groups[item.group_id] = (
                        group_info(record)
                        if record is not None
                        else protocol.GroupInfo(item.group_id, "", [], item.actor, item.ts)
                    )
                return protocol.encode(
                    protocol.GroupUpdate(
                        event_id=item.event_id,
                        change=item.change,
                        actor=item.actor,
                        group=info,
                        subject=item.subject,
                    )
                )

    # -- messages -------------------------------------------------------------

    async def _handle_sends(self, session: Session, sends: list[protocol.Send]) -> None:
        assert session.client_id is not None
        sender = session.client_id
        limit = self.settings.max_text_bytes
        if limit < protocol.MAX_TEXT_BYTES:
            accepted = []
            for request in sends:
                if len(request.text.encode()) > limit:
                    self._error(
                        session, request.id, Code.TEXT_TOO_LARGE, f"text exceeds {limit} bytes"
                    )
                else:
                    accepted.append(request)
            sends = accepted
        results = await self.storage.save_pending_messages(
            [NewMessage(sender, s.key, s.text, s.to, s.group) for s in sends]
        )
        for request, result in zip(sends, results, strict=True):
            if isinstance(result, Refused):
                self._error(session, request.id, result.code, result.message)
                continue
            self._reply(
                session,
                protocol.Sent(
                    request.id,
                    request.key,
                    result.message_id,
                    result.seq,
                    result.ts,
                    result.duplicate,
                ),
            )
            if result.recipients:
                self._route(session, request, result)

    def _route(self, session: Session, request: protocol.Send, saved: SavedMessage) -> None:
        data = protocol.encode(
            protocol.Message(
                message_id=saved.message_id,
                seq=saved.seq,
                ts=saved.ts,
                sender=session.client_id or "",
                sender_name=session.display_name,
                text=request.text,
                to=request.to,
                group=request.group,
            )
        )
        self._push_to(saved.recipients, saved.message_id, data)

    def _push_to(self, recipients: Iterable[str], event_id: int, data: bytes) -> None:
        for recipient in recipients:
            target = self.sessions.get(recipient)
            if target is not None:
                target.push(event_id, data)

    async def _handle_acks(self, session: Session, ids: list[int]) -> None:
        assert session.client_id is not None
        acked = await self.storage.acknowledge(session.client_id, ids)
        if acked:
            await self._send_delivered(acked)

    async def _send_delivered(self, acked: list[AckedMessage]) -> None:
        """Tell each online sender that its message was stored by the recipient. The
        receipt is already stored (by ``acknowledge``): a sender offline now, or whose
        connection drops before it acks, gets it on its next login."""
        for message in acked:
            target = self.sessions.get(message.sender)
            if target is not None:
                target.push(
                    message.receipt_id,
                    protocol.encode(
                        protocol.Delivered(
                            message.message_id,
                            message.seq,
                            message.recipient,
                            message.group,
                            message.receipt_id,
                        )
                    ),
                )

    async def handle_read(self, session: Session, request: protocol.MarkRead) -> None:
        """Relay a read confirmation to the other side of the conversation. It is stored
        for every recipient until acknowledged, so that it survives their being offline
        or losing the connection at that moment."""
        reader = session.client_id
        assert reader is not None
        if request.group is not None:
            group = await self.storage.get_group(request.group)
            if group is None:
                self._error(session, request.id, Code.UNKNOWN_GROUP, "no such group")
                return
            if group.member(reader) is None:
                self._error(session, request.id, Code.NOT_A_MEMBER, "not a member of the group")
                return
            targets = [m.client_id for m in group.members if m.client_id != reader]
        else:
            assert request.peer is not None
            if await self.storage.get_client(request.peer) is None:
                self._error(session, request.id, Code.UNKNOWN_CLIENT, "unknown client ID")
                return
            targets = [request.peer] if request.peer != reader else []
        ts = now_ms()
        event_ids = await self.storage.save_receipts(
            [
                NewReceipt(target, "read", reader, request.up_to, ts, None, request.group)
                for target in targets
            ]
        )
        for target, event_id in zip(targets, event_ids, strict=True):
            self._push_to(
                (target,),
                event_id,
                protocol.encode(protocol.Read(reader, request.up_to, ts, request.group, event_id)),
            )
        self._reply(session, protocol.Ok(request.id))

    async def handle_lookup(self, session: Session, request: protocol.Lookup) -> None:
        client = await self.storage.get_client(request.client_id)
        if client is None or client.disabled:
            self._error(session, request.id, Code.UNKNOWN_CLIENT, "no client with this ID")
        else:
            self._reply(
                session, protocol.Contact(request.id, client.client_id, client.display_name)
            )

    # -- groups ---------------------------------------------------------------

    async def handle_group_creation(self, session: Session, request: protocol.CreateGroup) -> None:
        assert session.client_id is not None
        try:
            change = await self.storage.save_group(
                request.name.strip(),
                session.client_id,
                request.members,
                self.settings.max_group_members,
            )
        except Refused as exc:
            self._error(session, request.id, exc.code, exc.message)
            return
        self._reply(session, protocol.GroupReply(request.id, group_info(change.group)))
        self._announce(change)

    async def handle_membership(
        self,
        session: Session,
        request: protocol.AddMember | protocol.RemoveMember | protocol.LeaveGroup,
    ) -> None:
        actor = session.client_id
        assert actor is not None
        try:
            if isinstance(request, protocol.AddMember):
                change = await self.storage.add_member(
                    request.group,
                    actor,
                    request.client_id,
                    request.admin,
                    self.settings.max_group_members,
                )
            elif isinstance(request, protocol.RemoveMember):
                change = await self.storage.remove_member(request.group, actor, request.client_id)
            else:
                change = await self.storage.remove_member(request.group, actor, actor)
        except Refused as exc:
            self._error(session, request.id, exc.code, exc.message)
            return
        if isinstance(request, protocol.LeaveGroup):
            self._reply(session, protocol.Ok(request.id))
        else:
            self._reply(session, protocol.GroupReply(request.id, group_info(change.group)))
        self._announce(change)

    def _announce(self, change: GroupChange) -> None:
        info = group_info(change.group)
        for recipient, event_id in change.notices.items():
            if recipient in self.sessions:
                self._push_to(
                    (recipient,),
                    event_id,
                    protocol.encode(
                        protocol.GroupUpdate(
                            event_id=event_id,
                            change=change.change,
                            actor=change.actor,
                            group=info,
                            subject=change.subject,
                        )
                    ),
                )

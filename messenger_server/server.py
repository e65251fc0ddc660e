"""The asyncio server: connections in, frames to the service layer, frames out.

Each connection is an :class:`asyncio.Protocol` (no task per connection) around a
sans-I/O :class:`~messenger_server.session.ServerSession`: received bytes go to the
session, each frame it lets through goes to its handler in the service's table, and
everything the handlers queued, for every connection, is written once at the end of the
loop turn. A handler that needs storage first returns a coroutine: the connection's next
frames wait until it is done, so that a client sees its frames take effect in order.

Runs on uvloop when it is installed (see ``__main__``) and on asyncio's own loop alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import typing
from collections.abc import Coroutine, Hashable
from typing import Any, Final

from messenger_server import __version__, protocol
from messenger_server.config import Settings, redact_url
from messenger_server.logs import limit_repeats, shown
from messenger_server.protocol import ErrorCode as Code
from messenger_server.ratelimit import TokenBucket
from messenger_server.repository import Repository, StorageError
from messenger_server.service import Service
from messenger_server.service.bus import Bus
from messenger_server.service.core import now_ms
from messenger_server.session import ServerSession, State

log = logging.getLogger(__name__)
limit_repeats(log)

HIGH_WATER: Final = 256 * 1024
"""Output buffered for a connection before a backlog waits for the client to read."""
CLOSE_GRACE: Final = 5.0
"""Seconds a closed connection may take to flush its last frames before it is aborted (a
client that stopped reading cannot hold a closed connection's memory)."""
ACK_RATE_FACTOR: Final = 4
"""``ack`` frames have a token bucket of their own, this many times the requests' one."""
SWEEP_INTERVAL: Final = 1.0
CLEANUP_INTERVAL: Final = 5.0
EXPIRE_INTERVAL: Final = 3600.0


class Connection(asyncio.Protocol):
    """One client connection: the I/O adapter of its session, and the service's
    :class:`~messenger_server.service.core.Peer`."""

    def __init__(self, server: MessengerServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        settings = server.settings
        self.session = ServerSession(
            max_frame_bytes=settings.max_frame_bytes,
            bucket=TokenBucket(settings.rate_limit, settings.rate_burst),
            ack_bucket=TokenBucket(
                settings.rate_limit * ACK_RATE_FACTOR, settings.rate_burst * ACK_RATE_FACTOR
            ),
            max_deferred_bytes=settings.max_write_buffer,
        )
        self.connected_at = self.last_seen = server.loop.time()
        self.address: str | None = None
        """The client's IP address, once counted against ``max_connections_per_ip``."""
        self._busy = False
        self._throttle: asyncio.TimerHandle | None = None
        self._reading = True
        self._writable: asyncio.Future[None] | None = None

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peername = transport.get_extra_info("peername")
        if peername:
            self.peer = f"{peername[0]}:{peername[1]}"
        transport = self.transport
        server = self.server
        if server.stopping or len(server.connections) >= server.settings.max_connections:
            self.session.fail(Code.SHUTTING_DOWN, "the server is not accepting")
            self._write_now()
            return
        address = peername[0] if peername else "?"
        if server.per_address.get(address, 0) >= server.settings.max_connections_per_ip:
            log.warning("%s: too many connections from this address", self.peer)
            self.session.fail(Code.TOO_MANY_CONNECTIONS, "too many connections from your address")
            self._write_now()
            return
        server.per_address[address] = server.per_address.get(address, 0) + 1
        self.address = address
        transport.set_write_buffer_limits(high=HIGH_WATER)
        server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_seen = self.server.loop.time()
        self.session.receive_data(data)
        if not self._busy and self._throttle is None:
            self._process()

    def eof_received(self) -> bool | None:
        return None  # close: replies to what was received are still written first

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.debug("%s: connection lost: %s", self.peer, exc)
        self.session.connection_lost("connection lost")
        self.server.connections.discard(self)
        if self.address is not None:
            left = self.server.per_address.pop(self.address) - 1
            if left:
                self.server.per_address[self.address] = left
            self.address = None
        self.server.service.disconnected(self)
        if self._throttle is not None:
            self._throttle.cancel()
        if self.session.client_id is not None:
            log.info("%s: %s went offline", self.peer, self.session.client_id)
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self.server.loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # -- handling frames --

    def _process(self) -> None:
        """Handle the frames received, until one needs storage first (the connection is
        then busy) or a rate limit says to wait: in both cases reading pauses, and the
        client's own frames wait in its socket (back-pressure), nobody else's."""
        session = self.session
        handlers = self.server.service.handlers
        while not self._busy:
            frame = session.next_request()
            if frame is None:
                if session.throttled_for > 0:
                    self._throttle = self.server.loop.call_later(
                        session.throttled_for, self._unthrottle
                    )
                break
            if type(frame) is protocol.Hello:
                self.server.welcome(self, frame)
                continue
            try:
                result = handlers[type(frame)](self, frame)
            except Exception:
                log.exception("%s: handling %s failed", self.peer, type(frame).__name__)
                session.fail(Code.INTERNAL_ERROR, "internal server error")
                break
            if result is not None:
                self._busy = True
                self.server.spawn(self._finish(result))
        self._read(not self._busy and self._throttle is None)
        self._queued()

    def _unthrottle(self) -> None:
        self._throttle = None
        if not self._busy:
            self._process()

    def _read(self, wanted: bool) -> None:
        transport = self.transport
        if wanted == self._reading or transport is None or transport.is_closing():
            return
        self._reading = wanted
        if wanted:
            transport.resume_reading()
        else:
            transport.pause_reading()

    async def _finish(self, handling: Coroutine[Any, Any, None]) -> None:
        try:
            await handling
        except StorageError:
            self.close(Code.INTERNAL_ERROR, "internal server error")
        except Exception:
            log.exception("%s: handling a request failed", self.peer)
            self.close(Code.INTERNAL_ERROR, "internal server error")
        finally:
            self._busy = False
        if self._throttle is None:
            self._process()

    # -- output (the service's Peer) --

    @property
    def closed(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def reply(self, frame: protocol.ServerFrame) -> None:
        self.session.send(frame)
        self._queued()

    def send_data(self, data: bytes) -> None:
        self.session.send_data(data)
        self._queued()

    def push(self, data: bytes, key: Hashable = None, position: int = 0) -> None:
        if not self.session.push(data, key, position):
            self.abort("too many events while catching up")
            return
        self._queued()

    def close(self, code: str, message: str) -> None:
        """Say ``goodbye`` and close once it is written."""
        if self.session.state is not State.CLOSED:
            self.session.fail(code, message)
        self._write_now()

    def abort(self, reason: str) -> None:
        """Drop the connection at once, without a frame (a client that does not read)."""
        log.warning("%s: disconnecting %s: %s", self.peer, self.session.client_id, reason)
        self.session.connection_lost(reason)
        if self.transport is not None:
            self.transport.abort()

    async def drain(self) -> None:
        self._write_now()
        while self._writable is not None and not self._writable.done() and not self.closed:
            await self._writable

    def _queued(self) -> None:
        """Something may be queued: write it at the end of this loop turn (or now, when the
        session has ended)."""
        if self.session.state is State.CLOSED:
            self._write_now()
        elif self.session.output_bytes:
            self.server.dirty.add(self)
            self.server.flush_soon()

    def _write_now(self) -> None:
        transport = self.transport
        if transport is None:
            return
        data = self.session.data_to_send()
        if data and not transport.is_closing():
            transport.write(data)
        if self.session.state is State.CLOSED:
            if not transport.is_closing():
                log.info(
                    "%s: closing %s (%s)",
                    self.peer,
                    self.session.client_id or "",
                    shown(self.session.close_reason),
                )
                transport.close()
                if transport.get_write_buffer_size():
                    self.server.loop.call_later(CLOSE_GRACE, transport.abort)
        elif transport.get_write_buffer_size() > self.server.settings.max_write_buffer:
            # Whatever it has not acknowledged stays stored for its next connection.
            self.abort("not reading fast enough")


class MessengerServer:
    """Serves the Messenger protocol from ``repository`` according to ``settings``.

    Call :meth:`start`, then :meth:`serve_forever` or await :meth:`stop` later. The
    repository is the caller's to open before and close after.
    """

    def __init__(self, settings: Settings, repository: Repository, bus: Bus | None = None) -> None:
        self.settings = settings
        self.repository = repository
        self.loop = asyncio.get_running_loop()
        self.service = Service(settings, repository, bus)
        self.bus = self.service.context.bus
        self.connections: set[Connection] = set()
        self.per_address: dict[str, int] = {}
        """Open connections per client IP address."""
        self.dirty: set[Connection] = set()
        self.stopping = False
        self._flush_scheduled = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._limits = protocol.Limits(
            max_frame_bytes=settings.max_frame_bytes,
            max_text_bytes=settings.max_text_bytes,
            max_group_members=settings.max_group_members,
        )

    @property
    def sessions(self) -> dict[str, Any]:
        """The logged-in connection of each online client."""
        return self.service.context.online

    # -- lifecycle --

    async def start(self) -> list[tuple[str, int]]:
        """Listen; returns the bound (host, port) pairs."""
        ssl_context = None
        if self.settings.tls_cert is not None and self.settings.tls_key is not None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
            # Authenticated encryption only (TLS 1.3's suites all are): no CBC.
            ssl_context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
            ssl_context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        self._server = await self.loop.create_server(
            lambda: Connection(self),
            self.settings.host,
            self.settings.port,
            ssl=ssl_context,
            ssl_handshake_timeout=self.settings.handshake_timeout if ssl_context else None,
        )
        await self.service.receipts.start_horizon()
        await self.bus.start(self.service.cluster.handle)
        self.spawn(self._sweep())
        self.spawn(self._clean_up())
        self.spawn(self.service.cluster.run())
        addresses = [sock.getsockname()[:2] for sock in self._server.sockets]
        if self.bus.clustered:
            log.info(
                "node %s of several: bus at %s", self.bus.node, redact_url(self.settings.bus_url)
            )
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
        """Stop accepting, tell every client, store what was decided, close. The
        repository is the caller's to close afterwards."""
        if self.stopping:
            return
        self.stopping = True
        log.info("shutting down: %d connections", len(self.connections))
        self.service.stopping()
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close(Code.SHUTTING_DOWN, "the server is shutting down")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.service.context.pipeline.drain(), timeout=10)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)
        await self.bus.close()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def flush_soon(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write what every connection got during this loop turn: one ``write`` each."""
        self._flush_scheduled = False
        dirty, self.dirty = self.dirty, set()
        for connection in dirty:
            connection._write_now()

    def welcome(self, connection: Connection, hello: protocol.Hello) -> None:
        """``hello`` (its version was checked by the session): answer with ``welcome``."""
        connection.reply(
            protocol.Welcome(
                id=hello.id,
                protocol=protocol.PROTOCOL_VERSION,
                server=f"messenger-server/{__version__}",
                registration=self.settings.registration,
                limits=self._limits,
            )
        )

    async def _sweep(self) -> None:
        """Close connections that stay silent too long or never finish logging in."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = self.loop.time()
            for connection in list(self.connections):
                if connection.session.client_id is None:
                    if now - connection.connected_at > self.settings.handshake_timeout:
                        connection.close(Code.TIMEOUT, "handshake not completed in time")
                elif now - connection.last_seen > self.settings.idle_timeout:
                    connection.close(Code.TIMEOUT, "idle for too long")

    async def _clean_up(self) -> None:
        """Drop delivered texts every few seconds; forget expired idempotency keys hourly."""
        messaging = self.service.messaging
        next_expiry = self.loop.time()
        while True:
            await asyncio.sleep(CLEANUP_INTERVAL)
            try:
                await messaging.forget_delivered()
                if self.loop.time() >= next_expiry:
                    next_expiry = self.loop.time() + EXPIRE_INTERVAL
                    now = now_ms()
                    expired = await self.repository.expire(
                        now - self.settings.dedupe_days * 86_400_000,
                        now - self.settings.message_ttl_days * 86_400_000,
                    )
                    if expired:
                        log.info("forgot %d expired messages and idempotency keys", expired)
                        messaging.backlogs.forget()
            except Exception:
                log.exception("clean-up failed")

"""One connection to the server, over asyncio streams: the I/O around the protocol session.

:class:`ServerConnection` is the asyncio adapter of the sans-I/O
:class:`messenger_server.session.ClientSession`, as ``asyncio/connection.py`` is for
python-websockets' ``Protocol``: the session frames, numbers requests, matches each reply to
its request by ``id`` and skips frames of unknown types; the adapter owns the socket (TCP or
TLS), the read loop, one future per request with its timeout, and the keep-alive. Every
chunk read is fed to the session and its frames are handed, in order, to a callback. It
knows nothing about storage or the user interface;
:class:`messenger_gui.client.MessengerClient` uses one per connection attempt and
:func:`messenger_gui.client.register_client` one for registering.

Only asyncio streams and timers are used, so it runs on qasync's loop as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from messenger_gui import tls
from messenger_server import protocol
from messenger_server.session import ChunkReceived, ClientEvent, ClientSession, ReplyReceived

log = logging.getLogger(__name__)

READ_CHUNK: Final = 64 * 1024
"""Bytes read at once: each read's frames are decoded in one turn of the event loop (the
GUI thread's), so a read is kept to a few milliseconds of work (~400 messages)."""
MAX_SERVER_FRAME_BYTES: Final = 16 * 1024 * 1024
"""Frames the client accepts from the server (the protocol says at least 16 MiB)."""

R = TypeVar("R", bound=protocol.ServerFrame)


class RequestError(Exception):
    """The server refused a request (``code`` is a ``protocol.ErrorCode`` value), or the
    request could not be made (see the subclasses). ``message`` is English, for logs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NotConnectedError(RequestError):
    """The request needs the server and there is no logged-in connection, or the
    connection ended before the reply came (the request may or may not have happened)."""

    def __init__(self, message: str = "not connected to the server") -> None:
        super().__init__("not_connected", message)


class CertificateError(RequestError):
    """The server's TLS certificate is not trusted: ``certificate_untrusted`` (it does not
    verify against the CA store) or ``certificate_mismatch`` (it differs from the pinned
    one). Retrying does not help; the user must decide."""


CERTIFICATE_UNTRUSTED: Final = "certificate_untrusted"
CERTIFICATE_MISMATCH: Final = "certificate_mismatch"


class ConnectionClosed(Exception):
    """Why a connection ended. ``goodbye`` is the server's last frame when it sent one."""

    def __init__(self, message: str, goodbye: protocol.Goodbye | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.goodbye = goodbye


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """How to trust the server. ``pinned_fingerprint`` set: accept exactly that
    certificate. ``accept_any``: accept any certificate and report its fingerprint (trust
    on first use, only while registering). Otherwise verify against ``ca_file`` or the
    system's CA store."""

    pinned_fingerprint: str | None = None
    ca_file: str | Path | None = None
    accept_any: bool = False


async def open_stream(
    host: str, port: int, tls_options: TlsOptions | None, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str | None]:
    """Open a TCP (and, with ``tls_options``, TLS) connection.

    Returns the streams and the SHA-256 fingerprint of the server's certificate (``None``
    without TLS).

    Raises:
        CertificateError: the certificate is not trusted; the connection is closed.
        OSError, TimeoutError: the server could not be reached in ``timeout`` seconds.
    """
    if tls_options is None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=READ_CHUNK), timeout
        )
        return reader, writer, None
    pinning = tls_options.accept_any or tls_options.pinned_fingerprint is not None
    context = tls.pinning_context() if pinning else tls.verified_context(tls_options.ca_file)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host,
                port,
                ssl=context,
                server_hostname=host,
                ssl_handshake_timeout=timeout,
                limit=READ_CHUNK,
            ),
            timeout,
        )
    except ssl.SSLCertVerificationError as exc:
        raise CertificateError(
            CERTIFICATE_UNTRUSTED, f"the server's certificate is not trusted: {exc.verify_message}"
        ) from None
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if der is None:  # pragma: no cover - a TLS server always presents a certificate
        writer.close()
        raise CertificateError(CERTIFICATE_UNTRUSTED, "the server presented no certificate")
    fingerprint = tls.certificate_fingerprint(der)
    pinned = tls_options.pinned_fingerprint
    if pinned is not None and not tls.same_fingerprint(pinned, fingerprint):
        writer.close()
        raise CertificateError(
            CERTIFICATE_MISMATCH,
            f"the server's certificate changed: expected {pinned}, got {fingerprint}",
        )
    return reader, writer, fingerprint


FramesCallback = Callable[["ServerConnection", Sequence[protocol.ServerFrame]], None]
ChunksCallback = Callable[[Sequence[ChunkReceived]], None]
"""Takes the download chunks of one read, in order (issue 10); must not block."""


class ServerConnection:
    """A connection to the server: send requests, get replies by ``id``, receive events.

    Call :meth:`start` once to begin reading (:meth:`open` does). Every chunk read from the
    socket is fed to the :class:`~messenger_server.session.ClientSession`; its frames
    (replies included, after their futures were resolved, and events) are passed, in
    order, to ``on_frames(connection, frames)``, which must not block. A malformed frame,
    a request left unanswered for ``request_timeout`` seconds, or a ``ping`` unanswered
    for ``pong_timeout`` closes the connection; :meth:`wait_closed` then returns why, and
    every request still waiting fails with :class:`NotConnectedError`.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_frames: FramesCallback,
        *,
        request_timeout: float = 30.0,
        peer_fingerprint: str | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_frames = on_frames
        self._request_timeout = request_timeout
        self.peer_fingerprint = peer_fingerprint
        """SHA-256 fingerprint of the server's certificate (``None`` without TLS)."""
        self._loop = asyncio.get_running_loop()
        self._session = ClientSession(max_frame_bytes=MAX_SERVER_FRAME_BYTES)
        self._waiting: dict[int, tuple[asyncio.Future[protocol.ServerFrame], asyncio.Handle]] = {}
        """The future and timeout of every request sent and not answered, by ``id``."""
        self._closed = asyncio.Event()
        self._close_reason: ConnectionClosed | None = None
        self._last_sent = self._loop.time()
        self._last_received = self._loop.time()
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_chunks: ChunksCallback | None = None
        """Where download chunks go (set it before asking ``download``); without it they
        are dropped."""

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        on_frames: FramesCallback,
        *,
        tls_options: TlsOptions | None = None,
        connect_timeout: float = 10.0,
        request_timeout: float = 30.0,
    ) -> ServerConnection:
        """Connect (see :func:`open_stream` for what it raises) and start reading."""
        reader, writer, fingerprint = await open_stream(host, port, tls_options, connect_timeout)
        connection = cls(
            reader,
            writer,
            on_frames,
            request_timeout=request_timeout,
            peer_fingerprint=fingerprint,
        )
        connection.start()
        return connection

    @property
    def goodbye(self) -> protocol.Goodbye | None:
        """The server's ``goodbye``, once it said one (its last frame)."""
        return self._session.goodbye

    @property
    def limits(self) -> protocol.Limits:
        """The limits the server announced in ``welcome`` (the defaults before it)."""
        return self._session.limits

    # --- lifecycle ---

    def start(self) -> None:
        """Start the read loop (once)."""
        self._spawn(self._read_loop())

    def start_keepalive(self, ping_interval: float, pong_timeout: float) -> None:
        """Send ``ping`` whenever nothing was sent or nothing received for
        ``ping_interval`` seconds, and close the connection when its ``pong`` does not come
        within ``pong_timeout``. Start it after login: ``ping`` needs a logged-in session."""
        self._spawn(self._keepalive(ping_interval, pong_timeout))

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> ConnectionClosed:
        """Wait until the connection has ended; returns why."""
        await self._closed.wait()
        assert self._close_reason is not None
        return self._close_reason

    def abort(self, reason: str) -> None:
        """Close the connection now (unsent data is dropped); requests waiting fail."""
        self._finish(ConnectionClosed(reason, self.goodbye))

    async def close(self) -> None:
        """Close the connection and wait for its tasks to end."""
        self.abort("closed by the client")
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 2)

    def _finish(self, reason: ConnectionClosed) -> None:
        if self._closed.is_set():
            return
        self._close_reason = reason
        self._closed.set()
        transport = self._writer.transport
        if transport is not None and not transport.is_closing():
            transport.abort()
        waiting, self._waiting = self._waiting, {}
        for future, handle in waiting.values():
            handle.cancel()
            if not future.done():
                future.set_exception(NotConnectedError(f"connection lost: {reason.message}"))
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- writing ---

    def _flush(self) -> None:
        """Write what the session has queued."""
        data = self._session.data_to_send()
        if data:
            self._writer.write(data)
            self._last_sent = self._loop.time()

    def send_request(
        self, build: Callable[[int], protocol.Request], *, timeout: float | None = None
    ) -> asyncio.Future[protocol.ServerFrame]:
        """Write the request ``build(request_id)`` and return the future of its reply.

        The future's result is the typed reply; it fails with :class:`RequestError` for an
        ``error`` reply (or a reply of a type this client does not know:
        ``internal_error``), with ``RequestError("timeout")`` (the connection is then
        closed: a server that does not answer is treated as gone) or with
        :class:`NotConnectedError` when the connection ends first.

        Raises:
            NotConnectedError: the connection is already closed.
            ValueError: ``build`` refused its arguments (e.g. a blank text); nothing sent.
        """
        if self.closed:
            raise NotConnectedError()
        request = self._session.send_request(build)
        future: asyncio.Future[protocol.ServerFrame] = self._loop.create_future()
        limit = self._request_timeout if timeout is None else timeout
        handle = self._loop.call_later(limit, self._expire, request)
        self._waiting[request.id] = (future, handle)
        self._flush()
        return future

    async def request(
        self,
        build: Callable[[int], protocol.Request],
        expected: type[R],
        *,
        timeout: float | None = None,
    ) -> R:
        """Send a request and wait for its reply, which must be of type ``expected``.

        Raises:
            RequestError: an ``error`` reply, an unexpected reply type (``bad_frame``) or
                no reply in time (``timeout``).
            NotConnectedError: the connection ended first.
        """
        reply = await self.send_request(build, timeout=timeout)
        if not isinstance(reply, expected):
            raise RequestError(
                protocol.ErrorCode.BAD_FRAME, f"unexpected reply {type(reply).__name__}"
            )
        return reply

    def send_ack(self, ids: Sequence[int]) -> None:
        """Acknowledge stored events, in frames of at most ``MAX_ACK_IDS`` ids. Does
        nothing when the connection is closed (the events come again next login)."""
        if self.closed or not ids:
            return
        self._session.send_ack(ids)
        self._flush()

    def send_typing(self, *, to: str | None = None, group: str | None = None, on: bool) -> None:
        """Write a ``typing`` notice (no id, never answered). Does nothing when the
        connection is closed (typing is never worth keeping)."""
        if self.closed:
            return
        self._session.send_typing(to=to, group=group, on=on)
        self._flush()

    async def drain(self) -> None:
        """Wait until the socket's write buffer has room again."""
        if not self.closed:
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()

    # --- files (issue 10) ---

    def upload_limit(self, upload_id: int) -> int:
        """The offset up to which chunks of ``upload_id`` may be sent now (the server's
        window, moved by ``upload_status`` and ``upload_progress``)."""
        return self._session.upload_limit(upload_id)

    async def write_chunk(self, upload_id: int, offset: int, data: bytes) -> None:
        """Write one upload chunk, behind every request already queued, and wait until the
        socket has taken it: a text sent meanwhile waits behind one chunk at most
        (``docs/protocol.md`` 11.6.7). Call it with the chunks of an upload in order.

        Raises:
            NotConnectedError: the connection is closed.
        """
        if self.closed:
            raise NotConnectedError()
        self._session.send_chunk(upload_id, offset, data)
        while self._session.chunks_waiting and not self.closed:
            self._flush()
            await self.drain()
        if self.closed:
            raise NotConnectedError()

    def forget(self, request_id: int) -> None:
        """Stop taking the chunks of download ``request_id`` (it was cancelled)."""
        self._session.forget(request_id)
        entry = self._waiting.pop(request_id, None)
        if entry is not None:
            future, handle = entry
            handle.cancel()
            if not future.done():
                future.cancel()

    def _expire(self, request: protocol.Request) -> None:
        entry = self._waiting.pop(request.id, None)
        if entry is None:
            return
        self._session.forget(request.id)
        future, _ = entry
        kind = type(request).__name__
        if not future.done():
            future.set_exception(
                RequestError(protocol.ErrorCode.TIMEOUT, f"no reply to {kind} in time")
            )
        log.warning("no reply to %s %d in time: closing the connection", kind, request.id)
        self.abort(f"no reply to {kind} in time")

    # --- reading ---

    async def _read_loop(self) -> None:
        reason = ConnectionClosed("connection closed by the server")
        try:
            while data := await self._reader.read(READ_CHUNK):
                self._last_received = self._loop.time()
                try:
                    self._session.receive_data(data)
                finally:  # the frames before a malformed one are valid: handle them
                    chunks = self._session.chunks_received()  # before their download_end
                    if chunks and self.on_chunks is not None:
                        self.on_chunks(chunks)
                    events = self._session.events_received()
                    if events:
                        self._dispatch(events)
                if self.closed:
                    return
        except protocol.ProtocolError as exc:
            log.error("malformed frame from the server (%s): %s", exc.code, exc.message)
            reason = ConnectionClosed(f"malformed frame from the server: {exc.message}")
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            reason = ConnectionClosed(f"connection lost: {exc}")
        except asyncio.CancelledError:
            reason = ConnectionClosed("closed by the client")
            raise
        except Exception as exc:  # a bug in a callback must not leave a zombie connection
            log.exception("handling frames from the server failed")
            reason = ConnectionClosed(f"internal error: {exc}")
        finally:
            goodbye = self.goodbye
            if goodbye is not None and reason.goodbye is None:
                reason = ConnectionClosed(
                    f"server said goodbye: {goodbye.code}: {goodbye.message}", goodbye
                )
            self._finish(reason)

    def _dispatch(self, events: list[ClientEvent]) -> None:
        """Resolve the futures of the replies, then hand every frame to the callback."""
        frames: list[protocol.ServerFrame] = []
        for item in events:
            if not isinstance(item, ReplyReceived):
                event = item.event
                if isinstance(event, protocol.Goodbye):
                    log.info("server goodbye: %s: %s", event.code, event.message)
                elif isinstance(event, protocol.Error):  # about a frame it could not read
                    log.warning("server error without id: %s: %s", event.code, event.message)
                    continue
                frames.append(event)
                continue
            reply = item.reply
            frames.append(reply)
            entry = self._waiting.pop(item.request.id, None)
            if entry is None:  # pragma: no cover - the session forgets what we stop awaiting
                continue
            future, handle = entry
            handle.cancel()
            if future.done():
                continue
            if isinstance(reply, protocol.Error):
                future.set_exception(RequestError(reply.code, reply.message))
            else:
                future.set_result(reply)
        self._on_frames(self, frames)

    async def _keepalive(self, interval: float, pong_timeout: float) -> None:
        while not self.closed:
            quiet_since = min(self._last_sent, self._last_received)
            wait = quiet_since + interval - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                await self.request(
                    lambda request_id: protocol.Ping(id=request_id),
                    protocol.Pong,
                    timeout=pong_timeout,
                )
            except NotConnectedError:
                return
            except RequestError as exc:
                if exc.code == protocol.ErrorCode.TIMEOUT:
                    log.warning("no pong within %.1f s: the connection is dead", pong_timeout)
                    return
                log.warning("ping refused (%s); trying again later", exc.code)

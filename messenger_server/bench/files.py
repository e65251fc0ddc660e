"""The file scenario: one file over loopback, uploaded and downloaded, while texts flow.

Against the server: a sender uploads a file of ``--file`` MiB (``upload``, chunks,
``finish_upload``: until the server has checked and stored it), attaches it to a message,
and its recipient downloads it (``download``, chunks, ``download_end``). During each
transfer the sender writes a text to the recipient every 5 ms on the same connections:
their latency, from the ``send`` written to the ``message`` read, says whether texts wait
behind the file. The server's memory is sampled every 10 ms.

Against the baseline (:mod:`.copy`): the same bytes, over one TCP connection into a file
and back out of it, without any protocol: the throughput the server is compared with.

Everything is verified: the file's SHA-256 as downloaded, the ``message`` that carries it,
every text delivered once, no ``error`` or ``goodbye``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from messenger_server import protocol
from messenger_server.bench.client import Identity, Refused, register
from messenger_server.bench.scenarios import Invalid, Measurement, Meter, Options, Span
from messenger_server.bench.target import Target
from messenger_server.bench.verify import Verifier
from messenger_server.session import ClientSession, EventReceived, ReplyReceived

TEXT_INTERVAL: Final = 0.005
"""Seconds between two texts during a transfer."""
RSS_INTERVAL: Final = 0.01
MIB: Final = 1024 * 1024
R = TypeVar("R", bound=protocol.Reply)


RECEIVE_BUFFER: Final = 4 * MIB


class FileClient(asyncio.BufferedProtocol):
    """One user's connection. Requests, replies and events go through the shared sans-I/O
    :class:`ClientSession`; the chunks of a download are read straight from the receive
    buffer into the file's buffer (one copy, as the copy baseline's reader makes), so that
    the generator costs well below the server per byte. Like any client should
    (docs/protocol.md 11.6.7), it writes requests at once and upload chunks one at a time,
    each when the transport has taken the previous one, within the upload window."""

    def __init__(self) -> None:
        self.session = ClientSession()
        self._buffer = bytearray(RECEIVE_BUFFER)
        self._start = self._end = 0
        self._offsets: dict[int, int] = {}
        """The next offset expected of each download."""
        self.transport: asyncio.Transport | None = None
        self.failures: list[str] = []
        self.on_message: Callable[[protocol.Message, int], None] | None = None
        self.downloads: dict[int, memoryview] = {}
        """Where the chunks of each download go, by request id."""
        self._replies: dict[int, asyncio.Future[protocol.Reply]] = {}
        self._synced: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writable = asyncio.Event()
        self._writable.set()
        self._progress = asyncio.Event()
        self._closed = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, address: tuple[str, int]) -> FileClient:
        loop = asyncio.get_running_loop()
        transport, client = await loop.create_connection(cls, address[0], address[1])
        client.transport = transport  # uvloop may call connection_made later
        welcome = await client.request(
            lambda i: protocol.Hello(id=i, protocol=protocol.PROTOCOL_VERSION, client="bench"),
            protocol.Welcome,
        )
        assert welcome.protocol == protocol.PROTOCOL_VERSION
        return client

    async def login(self, identity: Identity) -> None:
        """Log in and wait for the end of the backlog."""
        self._synced = asyncio.get_running_loop().create_future()
        await self.request(
            lambda i: protocol.Login(
                id=i, client_id=identity.client_id, credential=identity.credential
            ),
            protocol.LoggedIn,
        )
        await self._synced

    # -- writing --

    def _flush(self) -> None:
        assert self.transport is not None
        data = self.session.data_to_send()
        if data:
            self.transport.write(data)

    async def request(self, build: Callable[[int], protocol.Request], kind: type[R]) -> R:
        """Send a request and return its reply, which must be of ``kind``.

        Raises:
            Refused: any other reply (an ``error``).
        """
        frame = self.session.send_request(build)
        future: asyncio.Future[protocol.Reply] = asyncio.get_running_loop().create_future()
        self._replies[frame.id] = future
        self._flush()
        reply = await future
        if not isinstance(reply, kind):
            raise Refused(f"{type(frame).__name__} answered with {reply!r}")
        return reply

    def download(self, file_id: str, into: memoryview) -> asyncio.Future[protocol.Reply]:
        """Start downloading a file into ``into``; the future of its reply."""
        frame = self.session.send_request(lambda i: protocol.Download(id=i, file_id=file_id))
        self.downloads[frame.id] = into
        future: asyncio.Future[protocol.Reply] = asyncio.get_running_loop().create_future()
        self._replies[frame.id] = future
        self._flush()
        return future

    def send_text(self, to: str, key: str) -> None:
        """A ``send`` written now, its ``sent`` not awaited (checked when it comes)."""
        self.session.send_request(lambda i: protocol.Send(id=i, key=key, text=key, to=to))
        self._flush()

    async def upload(self, upload_id: int, data: memoryview, offset: int) -> None:
        """The chunks of ``data`` from ``offset``: each written once the transport has
        taken the previous one (its buffer holds at most about one chunk), within the
        server's upload window."""
        step = self.session.limits.file_chunk_bytes
        for start in range(offset, len(data), step):
            end = min(start + step, len(data))
            while self.session.upload_limit(upload_id) < end:
                self._progress.clear()
                await self._progress.wait()
            self.session.send_chunk(upload_id, start, data[start:end])
            self._flush()
            if not self._writable.is_set():
                await self._writable.wait()
            if self.transport is None or self.transport.is_closing():
                raise ConnectionError("connection lost during the upload")

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=protocol.FILE_CHUNK_BYTES)
        sock = transport.get_extra_info("socket")
        option = getattr(socket, "TCP_NOTSENT_LOWAT", None)
        if sock is not None and option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, protocol.FILE_CHUNK_BYTES)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._writable.set()
        self._progress.set()
        for future in self._replies.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))
        if not self._closed.done():
            self._closed.set_result(None)

    def get_buffer(self, sizehint: int) -> memoryview:
        buffer = self._buffer
        if len(buffer) - self._end < 65536:  # move what is unread to the front
            unread = self._end - self._start
            buffer[:unread] = buffer[self._start : self._end]
            self._start, self._end = 0, unread
        return memoryview(buffer)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        now = time.perf_counter_ns()
        self._end += nbytes
        buffer, start, end = self._buffer, self._start, self._end
        frames: list[bytes] = []
        while end - start >= 4:
            size = int.from_bytes(buffer[start : start + 4], "big")
            if end - start < 4 + size:
                if 4 + size > len(buffer):
                    self._buffer = buffer = buffer + bytearray(4 + size)  # a big frame
                break
            if buffer[start + 4] == protocol.CHUNK_MARKER:
                self._chunk(memoryview(buffer)[start + 4 : start + 4 + size])
            else:
                frames.append(bytes(buffer[start : start + 4 + size]))
            start += 4 + size
        if start == end:
            start = end = 0
        self._start, self._end = start, end
        if frames:
            self._frames(b"".join(frames), now)

    def _chunk(self, payload: memoryview) -> None:
        _, _, transfer, offset = protocol.CHUNK_HEADER.unpack_from(payload)
        target = self.downloads.get(transfer)
        if target is None or offset != self._offsets.get(transfer, 0):
            self.failures.append(f"chunk at {offset} of download {transfer}: not expected")
            return
        data = payload[protocol.CHUNK_HEADER.size :]
        target[offset : offset + len(data)] = data
        self._offsets[transfer] = offset + len(data)

    def _frames(self, data: bytes, now: int) -> None:
        session = self.session
        try:
            session.receive_data(data)
        except protocol.ProtocolError as exc:
            self.failures.append(f"malformed frame: {exc.message}")
        for item in session.events_received():
            if isinstance(item, ReplyReceived):
                future = self._replies.pop(item.request.id, None)
                if future is not None:
                    future.set_result(item.reply)
                elif not isinstance(item.reply, protocol.Sent):
                    self.failures.append(f"unexpected reply {item.reply!r}")
                continue
            assert isinstance(item, EventReceived)
            event = item.event
            if isinstance(event, protocol.Message):
                if self.on_message is not None:
                    self.on_message(event, now)
                session.send_ack([event.message_id])
                self._flush()
            elif isinstance(event, protocol.UploadProgress):
                self._progress.set()
            elif isinstance(event, protocol.Synced):
                if not self._synced.done():
                    self._synced.set_result(None)
            elif isinstance(event, protocol.Goodbye | protocol.Error):
                self.failures.append(f"{type(event).__name__}: {event.code}: {event.message}")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Texts:
    """The texts written during a transfer, and when each was read by its recipient."""

    written: dict[str, int] = field(default_factory=dict)
    latencies: list[int] = field(default_factory=list)
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when every text written so far has arrived."""

    def received(self, message: protocol.Message, now: int) -> None:
        if message.text in self.seen:
            self.duplicates += 1
            return
        self.seen.add(message.text)
        written = self.written.get(message.text)
        if written is not None:
            self.latencies.append(now - written)
        if len(self.seen) >= len(self.written) and not self.missing():
            self.arrived.set()

    def missing(self) -> list[str]:
        return sorted(set(self.written) - self.seen)


async def _every(interval: float, action: Callable[[], None]) -> None:
    while True:
        action()
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def _background(*loops: Awaitable[None]) -> Any:
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Memory:
    """The target's resident memory, sampled."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.samples: list[int] = []

    def sample(self) -> None:
        if (kib := self.target.rss_kib()) is not None:
            self.samples.append(kib)

    def growth_mib(self, before: int | None) -> float | None:
        if before is None or not self.samples:
            return None
        return (max(self.samples) - before) / 1024


def _percentile(values: list[int], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] / 1e6


def _transfer_figures(
    figures: dict[str, float | None],
    phase: str,
    size: int,
    span: Span,
    memory: Memory,
    before: int | None,
    texts: Texts | None = None,
) -> None:
    seconds = span.seconds
    figures[f"{phase} MB/s"] = size / seconds / 1e6
    figures[f"{phase} ms"] = seconds * 1e3
    cpu = span.target_cpu
    figures[f"CPU ms/MiB ({phase})"] = None if cpu is None else cpu * 1e3 / (size / MIB)
    figures[f"RSS growth MiB ({phase})"] = memory.growth_mib(before)
    if texts is not None:
        figures[f"texts during {phase}"] = len(texts.latencies)
        figures[f"text latency p50 ms ({phase})"] = _percentile(texts.latencies, 0.5)
        figures[f"text latency p99 ms ({phase})"] = _percentile(texts.latencies, 0.99)
    figures[f"CPU busy ({phase})"] = None if cpu is None else cpu / seconds
    figures[f"generator busy ({phase})"] = span.generator_cpu / seconds
    others = span.others_cpu
    figures[f"others busy ({phase})"] = None if others is None else others / seconds


def _content(options: Options) -> tuple[memoryview, str]:
    data = os.urandom(options.file_mib * MIB)
    return memoryview(data), hashlib.sha256(data).hexdigest()


# --- the scenario -----------------------------------------------------------------------------


async def file(target: Target, options: Options) -> Measurement:
    """The file scenario against ``target``: the server, or the copy baseline."""
    if target.name == "copy":
        return await _copy(target, options)
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[FileClient] = []
    try:
        await _transfers(target, options, measurement, clients)
    except (Invalid, Refused, OSError, AssertionError) as exc:
        verifier.fail(str(exc) or type(exc).__name__)
    finally:
        for client in clients:
            verifier.failures.extend(client.failures)
            client.close()
    verifier.finish()
    measurement.failures = verifier.describe()
    if measurement.valid:
        measurement.checked = (
            f"{options.file_mib} MiB: stored with its SHA-256 checked, downloaded with the same"
            " SHA-256; every text delivered once"
        )
    return measurement


async def _transfers(
    target: Target, options: Options, measurement: Measurement, clients: list[FileClient]
) -> None:
    figures = measurement.figures
    data, sha256 = _content(options)
    size = len(data)
    sender_id, receiver_id = await register(
        Verifier(), target.addresses, 2, prefix="file", strict=options.strict
    )
    sender = await FileClient.open(sender_id.address)
    receiver = await FileClient.open(receiver_id.address)
    clients += [sender, receiver]
    await sender.login(sender_id)
    await receiver.login(receiver_id)
    figures["file MiB"] = options.file_mib

    # upload, while the sender writes texts on the same connection
    texts = Texts()
    attached: asyncio.Future[protocol.Message] = asyncio.get_running_loop().create_future()

    def on_message(message: protocol.Message, now: int) -> None:
        if message.files:
            if not attached.done():
                attached.set_result(message)
        else:
            texts.received(message, now)

    receiver.on_message = on_message
    counter = iter(range(1 << 62))

    def text() -> None:
        key = f"t{next(counter)}"
        texts.written[key] = time.perf_counter_ns()
        sender.send_text(receiver_id.client_id, key)

    memory = Memory(target)
    before = target.rss_kib()
    status = await sender.request(
        lambda i: protocol.Upload(id=i, size=size, sha256=sha256, name="bench.bin"),
        protocol.UploadStatus,
    )
    assert status.upload_id is not None and status.offset == 0, status
    upload_id = status.upload_id
    meter = Meter(target, [])
    meter.start()
    async with _background(_every(TEXT_INTERVAL, text), _every(RSS_INTERVAL, memory.sample)):
        await sender.upload(upload_id, data, 0)
        stored = await sender.request(
            lambda i: protocol.FinishUpload(id=i, upload_id=upload_id), protocol.FileReply
        )
    span = meter.read()
    assert stored.file.sha256 == sha256 and stored.file.size == size, stored
    await _settle_texts(texts, options)
    _transfer_figures(figures, "upload", size, span, memory, before, texts)
    upload_texts = texts

    # the message that carries it
    await sender.request(
        lambda i: protocol.Send(
            id=i, key="file", to=receiver_id.client_id,
            files=[protocol.Attachment(stored.file.file_id)],
        ),
        protocol.Sent,
    )  # fmt: skip
    try:
        async with asyncio.timeout(options.stall):
            message = await attached
    except TimeoutError:
        raise Invalid("the message with the file never came") from None
    [info] = message.files or []
    assert (info.file_id, info.size, info.sha256) == (stored.file.file_id, size, sha256), info

    # download, while the sender writes texts to the downloading connection
    texts = Texts()
    memory = Memory(target)
    before = target.rss_kib()
    received = bytearray(size)
    meter = Meter(target, [])
    meter.start()
    async with _background(_every(TEXT_INTERVAL, text), _every(RSS_INTERVAL, memory.sample)):
        end = await receiver.download(info.file_id, memoryview(received))
    span = meter.read()
    assert isinstance(end, protocol.DownloadEnd) and end.length == size, end
    await _settle_texts(texts, options)
    _transfer_figures(figures, "download", size, span, memory, before, texts)
    if hashlib.sha256(received).hexdigest() != sha256:
        raise Invalid("the file downloaded is not the file uploaded (SHA-256)")
    await receiver.request(lambda i: protocol.Downloaded(id=i, file_id=info.file_id), protocol.Ok)
    for phase, sent in (("upload", upload_texts), ("download", texts)):
        if sent.missing() or sent.duplicates:
            raise Invalid(
                f"texts during the {phase}: {len(sent.missing())} missing,"
                f" {sent.duplicates} delivered twice"
            )
    figures["RSS before MiB"] = None if before is None else before / 1024


async def _settle_texts(texts: Texts, options: Options) -> None:
    """Wait for the texts written during a transfer to arrive (they are counted then)."""
    if texts.missing():
        texts.arrived.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(options.stall):
                await texts.arrived.wait()


# --- the baseline -------------------------------------------------------------------------------


class _Sink(asyncio.BufferedProtocol):
    """Reads a download of the copy baseline straight into its buffer."""

    def __init__(self, buffer: memoryview) -> None:
        self.buffer = buffer
        self.received = 0
        self.done = asyncio.get_running_loop().create_future()
        self._spare = memoryview(bytearray(4096))

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.received >= len(self.buffer):
            return self._spare  # more than asked for: not counted, checked by the hash
        return self.buffer[self.received :]

    def buffer_updated(self, nbytes: int) -> None:
        if self.received >= len(self.buffer):
            return
        self.received += nbytes
        if self.received == len(self.buffer) and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"copy: lost after {self.received} bytes"))


async def _copy(target: Target, options: Options) -> Measurement:
    from messenger_server.bench.copy import HEADER  # here: the copy runs as __main__ too

    measurement = Measurement(target.name)
    figures = measurement.figures
    data, sha256 = _content(options)
    size = len(data)
    host, port = target.addresses[0]
    try:
        memory = Memory(target)
        before = target.rss_kib()
        meter = Meter(target, [])
        meter.start()
        async with _background(_every(RSS_INTERVAL, memory.sample)):
            reader, writer = await asyncio.open_connection(host, port)
            writer.transport.set_write_buffer_limits(high=protocol.FILE_CHUNK_BYTES)
            writer.write(HEADER.pack(b"U", size))
            step = protocol.FILE_CHUNK_BYTES
            for start in range(0, size, step):
                writer.write(data[start : start + step])
                await writer.drain()
            if await reader.readexactly(1) != b"K":
                raise Invalid("the copy did not confirm")
            writer.close()
        _transfer_figures(figures, "upload", size, meter.read(), memory, before)

        memory = Memory(target)
        received = bytearray(size)
        meter = Meter(target, [])
        meter.start()
        async with _background(_every(RSS_INTERVAL, memory.sample)):
            loop = asyncio.get_running_loop()
            transport, sink = await loop.create_connection(
                lambda: _Sink(memoryview(received)), host, port
            )
            transport.write(HEADER.pack(b"D", size))
            await sink.done
            transport.close()
        _transfer_figures(figures, "download", size, meter.read(), memory, before)
        if hashlib.sha256(received).hexdigest() != sha256:
            raise Invalid("the copy came back different (SHA-256)")
        figures["RSS before MiB"] = None if before is None else before / 1024
        measurement.checked = f"{options.file_mib} MiB there and back, SHA-256 equal"
    except (Invalid, OSError) as exc:
        measurement.failures.append(str(exc))
    return measurement

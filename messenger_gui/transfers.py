"""Files of messages on the wire: preparing, uploading and downloading them. No Qt.

:class:`Transfers` belongs to a :class:`~messenger_gui.client.MessengerClient` (its
``transfers``), which calls it on each connection. It follows ``docs/protocol.md`` section
11:

* **Sending.** :meth:`Transfers.prepare` copies each file into the profile's ``outbox``
  folder while hashing it (SHA-256), off the event loop, so the message survives a restart
  and the source being moved or changed. After every login the client runs
  :meth:`Transfers.upload_pump`: each file still to upload is announced with ``upload``
  (same size and SHA-256 as before: the server says how many bytes it has, so an upload
  resumes after a disconnection or a restart instead of starting from zero), its bytes are
  written one chunk at a time within the server's window, then ``finish_upload``; the
  client then sends the message with the file IDs.
* **Receiving.** A message's files are stored with it (``remote``); images up to
  :attr:`Transfers.auto_download_bytes` are wanted at once, others when the user asks
  (:meth:`Transfers.download`). :meth:`Transfers.download_pump` downloads wanted files, at
  most four at a time, into ``files/.partial`` as the chunks come (so a download resumes
  from what it has), checks the SHA-256, moves the file to ``files/`` under its sanitized
  name and says ``downloaded``.

Progress and every change of a file's state are reported through :attr:`Transfers.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from messenger_gui.connection import NotConnectedError, RequestError, ServerConnection
from messenger_gui.events import Signal
from messenger_gui.filenames import guess_media_type, safe_file_name, unique_path
from messenger_gui.storage import ClientStore
from messenger_gui.storage.files import FileState, NewFile, StoredFile
from messenger_server import protocol
from messenger_server.session import ChunkReceived

log = logging.getLogger(__name__)

Code = protocol.ErrorCode

AUTO_DOWNLOAD_BYTES: Final = 5 * 1024 * 1024
"""Images up to this size are downloaded as soon as their message arrives (a setting)."""
MAX_DOWNLOADS: Final = 4
"""Downloads at once on a connection (the server's limit)."""
OUTBOX_DIR: Final = "outbox"
"""The profile's folder of files waiting to be sent (and kept once sent: our copy)."""
FILES_DIR: Final = "files"
"""The profile's folder of received files."""
PARTIAL_DIR: Final = ".partial"
"""Inside :data:`FILES_DIR`: downloads under way, by message and position."""
COPY_BLOCK: Final = 1024 * 1024
MIN_DOWNLOAD_RATE: Final = 32 * 1024
"""Bytes per second below which a download counts as stalled (its request times out)."""
UPLOAD_REFUSALS: Final = frozenset(
    {Code.FILE_TOO_LARGE, Code.QUOTA_EXCEEDED, Code.INVALID_FIELD, Code.NAME_TOO_LONG}
)
"""``upload`` errors retrying cannot fix: the message is marked failed (the user may retry
it, e.g. after freeing quota)."""


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """Bytes of a file transferred so far: for an upload, what the server confirmed it
    has; for a download, what is on this disk."""

    conversation: str
    local_id: int
    position: int
    done: int
    total: int
    upload: bool


@dataclass(frozen=True, slots=True)
class FileChanged:
    """A file's state changed (read it again with ``ClientStore.file``): uploaded,
    downloaded (``path`` set), failed, wanted or no longer wanted."""

    conversation: str
    local_id: int
    position: int
    state: FileState


TransferEvent = TransferProgress | FileChanged


class UploadRefused(Exception):
    """The server refused an upload for good (``code``); the message cannot be sent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _copy_and_hash(source: Path, target: Path) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (created 0600) and return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while block := reader.read(COPY_BLOCK):
            digest.update(block)
            writer.write(block)
            size += len(block)
        writer.flush()
        os.fsync(writer.fileno())
    return size, digest.hexdigest()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while block := reader.read(COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _is_closed(connection: ServerConnection) -> bool:
    """``connection.closed``, read again after an ``await`` (mypy narrows the property)."""
    return connection.closed


def _upload_frame(item: StoredFile, request_id: int) -> protocol.Upload:
    return protocol.Upload(
        id=request_id, size=item.size, sha256=item.sha256, name=item.name, mime=item.mime
    )


def _finish_frame(upload_id: int, request_id: int) -> protocol.FinishUpload:
    return protocol.FinishUpload(id=request_id, upload_id=upload_id)


def _cancel_frame(upload_id: int, request_id: int) -> protocol.CancelUpload:
    return protocol.CancelUpload(id=request_id, upload_id=upload_id)


def _append(path: Path, blocks: Sequence[bytes]) -> None:
    with path.open("ab") as writer:
        for block in blocks:
            writer.write(block)


class Transfers:
    """The file transfers of one client (see the module's docstring).

    Args:
        store: the profile's history (files are rows of ``message_files``).
        directory: the profile directory; ``outbox/`` and ``files/`` are made in it.
        auto_download_bytes: images up to this size are downloaded automatically
            (0: never).
    """

    def __init__(
        self,
        store: ClientStore,
        directory: Path,
        *,
        auto_download_bytes: int = AUTO_DOWNLOAD_BYTES,
    ) -> None:
        self.store = store
        self.outbox_dir = directory / OUTBOX_DIR
        self.files_dir = directory / FILES_DIR
        self.partial_dir = self.files_dir / PARTIAL_DIR
        self.auto_download_bytes = auto_download_bytes
        self.events: Signal[TransferEvent] = Signal()
        """Every :data:`TransferEvent`, synchronously, on the event loop's thread."""
        self.bytes_uploaded = 0
        """Bytes of files written to the server by this object (resumes skip what the
        server had)."""
        self.upload_offsets: list[int] = []
        """The ``offset`` of every ``upload_status`` that started sending (a resumed
        upload's is not 0)."""
        self.download_offsets: list[int] = []
        """The ``offset`` of every ``download`` asked (a resumed download's is not 0)."""
        self._uploads_changed = asyncio.Event()
        self._downloads_changed = asyncio.Event()
        self._window_moved = asyncio.Event()
        self._uploading: dict[int, StoredFile] = {}
        """Our uploads under way, by ``upload_id`` (to report ``upload_progress``)."""
        self._upload_task: asyncio.Task[None] | None = None
        self._upload_key: tuple[int, int] | None = None
        self._cancelled_uploads: set[int] = set()
        self._downloading: dict[tuple[int, int], tuple[ServerConnection, int]] = {}
        """Downloads under way: their connection and request id."""
        self._sinks: dict[int, asyncio.Queue[bytes | None]] = {}
        """Received chunks of each download request, for its writer."""

    # --- sending ---

    async def prepare(
        self, paths: Sequence[Path], thumbnails: Sequence[str | None] | None = None
    ) -> list[NewFile]:
        """Copy ``paths`` into the outbox, hashing them (off the event loop), and describe
        them for :meth:`~messenger_gui.storage.ClientStore.queue_outgoing_files`.

        Raises:
            OSError: a file could not be read or copied (nothing is left in the outbox).
        """
        prepared: list[NewFile] = []
        folder = self.outbox_dir / uuid.uuid4().hex
        await asyncio.to_thread(folder.mkdir, parents=True, mode=0o700)
        try:
            for n, source in enumerate(paths):
                name = safe_file_name(Path(source).name)
                target = folder / f"{n}-{name}"
                size, sha256 = await asyncio.to_thread(_copy_and_hash, Path(source), target)
                thumbnail = thumbnails[n] if thumbnails is not None else None
                prepared.append(
                    NewFile(name, size, guess_media_type(name), sha256, str(target), thumbnail)
                )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            raise
        return prepared

    def uploads_changed(self) -> None:
        """New files to upload (or a failed message retried): wake the upload pump."""
        self._uploads_changed.set()

    async def upload_pump(
        self,
        connection: ServerConnection,
        uploaded: Callable[[int], None],
        refused: Callable[[int, UploadRefused], None],
    ) -> None:
        """Upload every file waiting, one at a time, oldest message first, until the
        connection ends; then wait for more. ``uploaded(local_id)`` is called when a file
        of a message is stored on the server (send the message once all are);
        ``refused(local_id, error)`` when the server refuses one for good."""
        while not connection.closed:
            self._uploads_changed.clear()
            for item in self.store.files_to_upload():
                current = self.store.file(item.local_id, item.position)
                if current is None or current.state != "upload":
                    continue  # cancelled meanwhile
                self._upload_key = item.key
                self._upload_task = asyncio.get_running_loop().create_task(
                    self._upload(connection, item)
                )
                try:
                    await self._upload_task
                except asyncio.CancelledError:
                    if item.local_id not in self._cancelled_uploads:
                        raise  # the pump itself was cancelled
                    self._cancelled_uploads.discard(item.local_id)
                    continue  # the user cancelled this upload
                except (NotConnectedError, OSError) as exc:
                    log.info("upload of %s stopped: %s", item.key, exc)
                    if isinstance(exc, OSError) and not connection.closed:
                        refused(item.local_id, UploadRefused(Code.NOT_FOUND, str(exc)))
                        continue
                    return
                except UploadRefused as exc:
                    refused(item.local_id, exc)
                    continue
                except RequestError as exc:
                    if exc.code == Code.TIMEOUT:
                        return
                    log.warning("upload of %s failed for now: %s", item.key, exc)
                    await asyncio.sleep(1.0)
                    self._uploads_changed.set()
                    break
                finally:
                    self._upload_key = None
                    self._upload_task = None
                uploaded(item.local_id)
            await self._uploads_changed.wait()

    async def _upload(self, connection: ServerConnection, item: StoredFile) -> None:
        assert item.path is not None
        path = Path(item.path)
        for _attempt in range(3):
            try:
                status = await connection.request(
                    functools.partial(_upload_frame, item),
                    protocol.UploadStatus,
                )
            except RequestError as exc:
                if exc.code in UPLOAD_REFUSALS:
                    raise UploadRefused(exc.code, exc.message) from None
                raise
            if status.file is not None:
                file_id = status.file.file_id
                break
            assert status.upload_id is not None
            upload_id = status.upload_id
            self.upload_offsets.append(status.offset)
            self._uploading[upload_id] = item
            try:
                self._report_upload(item, status.offset)
                await self._send_bytes(connection, upload_id, path, status.offset, item.size)
                try:
                    reply = await connection.request(
                        functools.partial(_finish_frame, upload_id),
                        protocol.FileReply,
                    )
                except RequestError as exc:
                    if exc.code in (Code.UPLOAD_INCOMPLETE, Code.NOT_FOUND):
                        continue  # ask again where the server stands
                    if exc.code == Code.HASH_MISMATCH:
                        raise UploadRefused(exc.code, exc.message) from None
                    raise
            finally:
                self._uploading.pop(upload_id, None)
            file_id = reply.file.file_id
            break
        else:
            raise RequestError(Code.INTERNAL_ERROR, "the upload did not complete")
        await self.store.run(self.store.set_file_uploaded, item.local_id, item.position, file_id)
        self._report_upload(item, item.size)
        self.events.emit(FileChanged(item.conversation, item.local_id, item.position, "uploaded"))

    async def _send_bytes(
        self, connection: ServerConnection, upload_id: int, path: Path, offset: int, size: int
    ) -> None:
        step = connection.limits.file_chunk_bytes
        with path.open("rb") as reader:
            reader.seek(offset)
            while offset < size:
                limit = connection.upload_limit(upload_id)
                while offset >= limit:
                    self._window_moved.clear()
                    closed = asyncio.ensure_future(connection.wait_closed())
                    moved = asyncio.ensure_future(self._window_moved.wait())
                    await asyncio.wait([closed, moved], return_when=asyncio.FIRST_COMPLETED)
                    closed.cancel()
                    moved.cancel()
                    if connection.closed:
                        raise NotConnectedError()
                    limit = connection.upload_limit(upload_id)
                data = reader.read(min(step, size - offset, limit - offset))
                if not data:
                    raise OSError(f"{path} is shorter than {size} bytes")
                await connection.write_chunk(upload_id, offset, data)
                offset += len(data)
                self.bytes_uploaded += len(data)

    def on_upload_progress(self, event: protocol.UploadProgress) -> None:
        """The server confirmed bytes of an upload: move the window, report progress."""
        self._window_moved.set()
        item = self._uploading.get(event.upload_id)
        if item is not None:
            self._report_upload(item, event.offset)

    def _report_upload(self, item: StoredFile, done: int) -> None:
        self.events.emit(
            TransferProgress(item.conversation, item.local_id, item.position, done, item.size, True)
        )

    async def cancel_upload(self, local_id: int, connection: ServerConnection | None) -> None:
        """Stop uploading the files of ``local_id`` (the caller deletes the message) and tell
        the server to drop what it has of them."""
        task = self._upload_task
        if task is not None and self._upload_key is not None and self._upload_key[0] == local_id:
            self._cancelled_uploads.add(local_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if connection is None or connection.closed:
            return
        for item in self.store.message_files(local_id):
            if item.state != "upload":
                continue
            with contextlib.suppress(RequestError):
                status = await connection.request(
                    functools.partial(_upload_frame, item),
                    protocol.UploadStatus,
                )
                if status.upload_id is not None:
                    upload_id = status.upload_id
                    await connection.request(
                        functools.partial(_cancel_frame, upload_id),
                        protocol.Ok,
                    )

    def remove_outbox_copies(self, files: Sequence[StoredFile]) -> None:
        """Delete the outbox copies of a deleted unsent message's files."""
        for item in files:
            if item.path is None:
                continue
            path = Path(item.path)
            if path.is_relative_to(self.outbox_dir):
                with contextlib.suppress(OSError):
                    path.unlink()
                with contextlib.suppress(OSError):
                    path.parent.rmdir()

    # --- receiving ---

    def wanted_automatically(self, files: Sequence[StoredFile]) -> list[tuple[int, int]]:
        """The files of new messages to download without asking: images up to
        :attr:`auto_download_bytes`."""
        return [
            f.key
            for f in files
            if f.direction == "in" and f.is_image and f.size <= self.auto_download_bytes
        ]

    async def download(self, local_id: int, position: int) -> bool:
        """Want a received file: it is downloaded now when online, else after the next
        login. Returns False when it is not a file waiting on the server (done already,
        or outgoing)."""
        moved = await self.store.run(self.store.want_downloads, [(local_id, position)])
        if moved:
            self._changed(local_id, position, "download")
        return bool(moved)

    async def want(self, keys: Sequence[tuple[int, int]]) -> None:
        """Want these files (see :meth:`download`)."""
        if not keys:
            return
        for local_id, position in await self.store.run(self.store.want_downloads, keys):
            self._changed(local_id, position, "download")

    async def cancel_download(self, local_id: int, position: int) -> bool:
        """Stop downloading a file (what was received is kept: asking again resumes).
        Returns False when it was not being downloaded or wanted."""
        moved = await self.store.run(
            self.store.set_file_state, local_id, position, "remote", only_from=("download",)
        )
        running = self._downloading.get((local_id, position))
        if running is not None:
            connection, request_id = running
            if request_id and not connection.closed:
                with contextlib.suppress(RequestError, ValueError):
                    connection.send_request(
                        lambda rid: protocol.CancelDownload(id=rid, download=request_id)
                    )
        if moved:
            self._changed(local_id, position, "remote")
        return moved

    def _changed(self, local_id: int, position: int, state: FileState) -> None:
        item = self.store.file(local_id, position)
        if item is None:
            return
        self.events.emit(FileChanged(item.conversation, local_id, position, state))
        if state == "download":
            self._downloads_changed.set()

    def on_chunks(self, chunks: Sequence[ChunkReceived]) -> None:
        """Hand received download chunks to their writers (copies: the views die)."""
        for chunk in chunks:
            sink = self._sinks.get(chunk.request.id)
            if sink is not None:
                sink.put_nowait(bytes(chunk.data))

    async def download_pump(self, connection: ServerConnection) -> None:
        """Download every wanted file, :data:`MAX_DOWNLOADS` at a time, until the connection
        ends; then wait for more."""
        slots = asyncio.Semaphore(MAX_DOWNLOADS)
        running: set[asyncio.Task[None]] = set()
        try:
            while not connection.closed:
                self._downloads_changed.clear()
                for item in self.store.files_to_download():
                    if item.key in self._downloading:
                        continue
                    await slots.acquire()
                    if _is_closed(connection):
                        return
                    self._downloading[item.key] = (connection, 0)
                    task = asyncio.get_running_loop().create_task(
                        self._download_file(connection, item)
                    )
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(lambda _t: slots.release())
                await self._downloads_changed.wait()
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running, timeout=5)

    async def _download_file(self, connection: ServerConnection, item: StoredFile) -> None:
        try:
            await self._download(connection, item)
        except NotConnectedError:
            pass  # resumed after the next login
        except asyncio.CancelledError:
            raise
        except RequestError as exc:
            if exc.code == Code.NOT_FOUND:
                await self._fail(item, exc.code)
            elif exc.code == Code.TIMEOUT:
                pass
            else:
                log.warning("download of %s failed for now: %s", item.key, exc)
        except OSError as exc:
            log.error("download of %s could not be written: %s", item.key, exc)
            await self._fail(item, "disk_error")
        except Exception:
            log.exception("download of %s failed", item.key)
        finally:
            self._downloading.pop(item.key, None)

    async def _fail(self, item: StoredFile, code: str) -> None:
        await self.store.run(
            self.store.set_file_state, item.local_id, item.position, "failed", error=code
        )
        self.events.emit(FileChanged(item.conversation, item.local_id, item.position, "failed"))

    def _partial_path(self, item: StoredFile) -> Path:
        return self.partial_dir / f"{item.local_id}-{item.position}.part"

    async def _download(self, connection: ServerConnection, item: StoredFile) -> None:
        assert item.file_id is not None
        file_id = item.file_id
        await asyncio.to_thread(self.partial_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
        part = self._partial_path(item)
        for attempt in range(2):
            offset = part.stat().st_size if part.exists() else 0
            if offset > item.size:
                part.unlink()
                offset = 0
            if offset < item.size:
                await self._receive(connection, item, file_id, part, offset)
                if self.store.file(item.local_id, item.position) is None:
                    return
                current = self.store.file(item.local_id, item.position)
                if current is None or current.state != "download":
                    return  # cancelled
                if (part.stat().st_size if part.exists() else 0) < item.size:
                    raise NotConnectedError("the download ended early")
            elif not part.exists():
                part.touch(mode=0o600)  # an empty file
            if await asyncio.to_thread(_hash_file, part) == item.sha256:
                break
            log.warning("download of %s does not match its SHA-256; again from 0", item.key)
            part.unlink()
            if attempt:
                await self._fail(item, Code.HASH_MISMATCH)
                return
        target = await asyncio.to_thread(self._move_in, part, item.name)
        await self.store.run(
            self.store.set_file_state, item.local_id, item.position, "done", path=str(target)
        )
        self.events.emit(TransferProgress(
            item.conversation, item.local_id, item.position, item.size, item.size, False
        ))  # fmt: skip
        self.events.emit(FileChanged(item.conversation, item.local_id, item.position, "done"))
        with contextlib.suppress(RequestError):
            await connection.request(
                lambda rid: protocol.Downloaded(id=rid, file_id=file_id), protocol.Ok
            )

    def _move_in(self, part: Path, name: str) -> Path:
        target = unique_path(self.files_dir, name)
        os.replace(part, target)
        return target

    async def _receive(
        self, connection: ServerConnection, item: StoredFile, file_id: str, part: Path, offset: int
    ) -> None:
        """One ``download`` from ``offset``: chunks appended to ``part`` as they come."""
        sink: asyncio.Queue[bytes | None] = asyncio.Queue()
        ids: list[int] = []

        def build(rid: int) -> protocol.Download:
            ids.append(rid)
            self._sinks[rid] = sink
            return protocol.Download(id=rid, file_id=file_id, offset=offset)

        timeout = 30.0 + (item.size - offset) / MIN_DOWNLOAD_RATE
        self.download_offsets.append(offset)
        future = connection.send_request(build, timeout=timeout)
        self._downloading[item.key] = (connection, ids[0])
        writer = asyncio.get_running_loop().create_task(self._write(item, part, offset, sink))
        try:
            reply = await future
            if not isinstance(reply, protocol.DownloadEnd):
                raise RequestError(Code.BAD_FRAME, f"unexpected reply {type(reply).__name__}")
        finally:
            self._sinks.pop(ids[0], None)
            sink.put_nowait(None)
            await writer

    async def _write(
        self, item: StoredFile, part: Path, offset: int, sink: asyncio.Queue[bytes | None]
    ) -> None:
        """Append what ``sink`` brings to ``part``, off the event loop, a batch at a time."""
        done = offset
        while True:
            block = await sink.get()
            blocks = [] if block is None else [block]
            ending = block is None
            while not ending and not sink.empty():
                more = sink.get_nowait()
                if more is None:
                    ending = True
                else:
                    blocks.append(more)
            if blocks:
                await asyncio.to_thread(_append, part, blocks)
                done += sum(len(b) for b in blocks)
                self.events.emit(TransferProgress(
                    item.conversation, item.local_id, item.position, done, item.size, False
                ))  # fmt: skip
            if ending:
                return

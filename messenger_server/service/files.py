"""Files: uploading, downloading, attaching files to messages, and how long files stay.

**Upload.** ``upload`` names the file (size, SHA-256, name, media type); the server makes an
upload and a partial blob for it, or finds the one this client began earlier with the same
bytes and says how far it got (a resumed upload continues there, also after a crash of
either side). Chunks are appended to the partial blob in the background, in order; the
connection stops reading while too much waits to be written, so that a fast client costs
the server a bounded amount of memory whatever the file's size. ``finish_upload`` checks
the SHA-256 and stores the file; its bytes become a blob named by that hash, shared by
every file with the same bytes (whoever uploaded them: nobody learns that).

**Attach.** ``send`` with ``files`` attaches files the sender uploaded: each recipient of
the message (every other member, for a group) may then download them.

**Download.** Only the uploader and the recipients of a message attaching a file may
download it; anyone else is told it does not exist. The chunks of a download are written
one at a time, each only when the connection has room for it (see ``Peer.send_chunk``):
the replies and events of the same connection never wait behind more than about one.

**Lifetime.** A file stays until every recipient has said ``downloaded`` and has
acknowledged the message that brought it, or until ``file_ttl_days`` after its upload;
an upload not finished within ``upload_ttl_hours`` is dropped. A blob goes with the last
file using it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from messenger_server import protocol
from messenger_server.blobs import BlobMissing, BlobReader, BlobStore, BlobWriter
from messenger_server.config import Settings
from messenger_server.logs import limit_repeats
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import (
    DeleteFiles,
    DeleteUploads,
    FileRecord,
    InsertFile,
    InsertUpload,
    MarkDownloaded,
    StorageError,
    UploadRecord,
)
from messenger_server.service.core import ID_ALPHABET, Context, DiskGuard, Handled, Peer, now_ms

log = logging.getLogger(__name__)
limit_repeats(log)

MAX_DOWNLOADS: Final = 4
"""Downloads running at once on one connection."""
READ_AHEAD: Final = 2
"""Chunks of a download read from disk ahead of the one being written (so that the next
one is ready the moment the connection has room): with it, a download holds at most
four chunks (1 MiB) in memory."""
WRITE_BACKLOG: Final = protocol.UPLOAD_WINDOW_BYTES + 4 * protocol.FILE_CHUNK_BYTES
"""Bytes of an upload received and not written yet above which the connection stops
reading until half of them are on disk: only a client that ignores the upload window gets
there (the others never have more than the window in flight)."""
PROGRESS_STEP: Final = protocol.UPLOAD_WINDOW_BYTES // 4
"""Bytes written between two ``upload_progress`` events (at most; the last one says the
whole file is written)."""
MIB: Final = 1024 * 1024


def new_file_id() -> str:
    """A random file ID such as ``F-7KQM-4XPA-B8NZ-R5TV`` (80 bits)."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(16))
    return "F-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def new_upload_id() -> int:
    """A random upload id, from 1 to 2^53 - 1."""
    return secrets.randbelow(protocol.MAX_SAFE_INTEGER) + 1


_files_encoder: Final = msgspec.json.Encoder()
_files_decoder: Final = msgspec.json.Decoder(list[protocol.FileInfo])


def encode_files(files: list[protocol.FileInfo]) -> str:
    """The attached files of a message, as the repository stores them."""
    return _files_encoder.encode(files).decode()


def decode_files(stored: str | None) -> list[protocol.FileInfo] | None:
    return None if stored is None else _files_decoder.decode(stored)


def file_info(record: FileRecord, thumbnail: str | None = None) -> protocol.FileInfo:
    return protocol.FileInfo(
        record.file_id, record.name, record.size, record.mime, record.sha256, thumbnail
    )


class Refused(Exception):
    """A request refused with an ``error`` of this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Attached:
    """The files of a ``send``, checked: what the message carries and the repository
    stores."""

    files: list[protocol.FileInfo]
    stored: str
    file_ids: tuple[str, ...]


@dataclass(eq=False)
class OpenUpload:
    """An upload whose partial blob is open, and the connection sending it (if any)."""

    record: UploadRecord
    writer: BlobWriter
    peer: Peer | None = None
    reported: int = 0
    """The offset of the last ``upload_progress`` (or ``upload_status``) sent."""

    def written(self, offset: int) -> None:
        """Bytes reached the disk: tell the client that sends them, every
        :data:`PROGRESS_STEP` (this moves its window)."""
        if self.peer is None:
            return
        if offset - self.reported >= PROGRESS_STEP or offset == self.record.size:
            self.reported = offset
            self.peer.reply(protocol.UploadProgress(self.record.upload_id, offset))


@dataclass(eq=False)
class Transfer:
    """A download running on a connection."""

    request: protocol.Download
    cancelled: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Files:
    def __init__(self, context: Context, settings: Settings, blobs: BlobStore) -> None:
        self.context = context
        self.settings = settings
        self.blobs = blobs
        self.disk = DiskGuard(settings.blobs_path, settings.min_free_disk_mb * MIB)
        """The disk of the blobs (often the data directory's: then the same check)."""
        self._open: dict[int, OpenUpload] = {}
        self._opening: dict[int, asyncio.Future[OpenUpload]] = {}
        self._uploading: dict[Peer, dict[int, OpenUpload]] = {}
        """The uploads each connection asked about (``upload``): the ones it may send
        chunks for."""
        self._downloads: dict[Peer, dict[int, Transfer]] = {}
        self._blob_lock = asyncio.Lock()
        """Held while a blob is made or deleted: a blob whose last file is being deleted
        must not be deleted under an upload of the same bytes that just finished."""
        self.touched: set[str] = set()
        """Files a recipient said it downloaded since the last clean-up."""
        self._tasks: set[asyncio.Task[Any]] = set()
        """Deletions running in the background (referenced until they end)."""

    # -- upload --

    def upload(self, peer: Peer, request: protocol.Upload) -> Handled:
        """``upload``: answered ``upload_status`` (or ``error``)."""
        if request.size > self.settings.max_file_bytes:
            self.context.error(
                peer,
                request.id,
                Code.FILE_TOO_LARGE,
                f"files are at most {self.settings.max_file_bytes} bytes here",
            )
            return None
        if self.context.disk.full() or not self.disk.has_room(request.size):
            self.context.error(peer, request.id, Code.STORAGE_FULL, "the server is out of space")
            return None
        return self._guarded(peer, request.id, self._upload(peer, request))

    async def _upload(self, peer: Peer, request: protocol.Upload) -> None:
        uploader = self._client(peer)
        repository = self.context.repository
        uploads = await repository.uploads_of(uploader)
        same = next(
            (u for u in uploads if u.sha256 == request.sha256 and u.size == request.size), None
        )
        if same is not None:  # resumed: from what is on disk
            upload = await self._open_upload(same, peer)
            await upload.writer.drained()
            peer.reply(protocol.UploadStatus(request.id, same.upload_id, upload.writer.size))
            return
        earlier = await repository.files_like(uploader, request.sha256, request.size)
        if earlier:  # uploaded before by this client: nothing to send
            stored = next(
                (f for f in earlier if (f.name, f.mime) == (request.name, request.mime)), None
            )
            if stored is None:  # the same bytes under another name: a file of its own
                stored = await self._insert_file(
                    uploader, request.sha256, request.size, request.name, request.mime
                )
            peer.reply(protocol.UploadStatus(request.id, None, request.size, file_info(stored)))
            return
        if len(uploads) >= self.settings.max_uploads_per_client:
            raise Refused(
                Code.TOO_MANY_TRANSFERS,
                f"at most {self.settings.max_uploads_per_client} unfinished uploads:"
                " finish or cancel one first",
            )
        quota = self.settings.file_quota_mb * MIB
        if await repository.stored_bytes(uploader) + request.size > quota:
            raise Refused(
                Code.QUOTA_EXCEEDED, f"your files would take more than {quota} bytes here"
            )
        while True:  # 53 random bits: a clash is next to impossible, but cheap to retry
            upload_id, created = new_upload_id(), now_ms()
            (inserted,) = await self.context.pipeline.run(
                [
                    InsertUpload(
                        upload_id, uploader, request.sha256, request.size, request.name,
                        request.mime, created,
                    )
                ]
            )  # fmt: skip
            if inserted:
                break
        record = UploadRecord(
            upload_id, uploader, request.sha256, request.size, request.name, request.mime, created
        )
        upload = await self._open_upload(record, peer)
        log.info("%s uploads %d bytes (upload %d)", uploader, record.size, record.upload_id)
        peer.reply(protocol.UploadStatus(request.id, record.upload_id, upload.writer.size))

    async def _open_upload(self, record: UploadRecord, peer: Peer) -> OpenUpload:
        """The upload, open (its partial blob created or continued), now sent by ``peer``."""
        upload_id = record.upload_id
        upload = self._open.get(upload_id)
        if upload is not None and upload.writer.failed is not None:  # try again from the disk
            self._close_upload(upload_id)
            await upload.writer.close()
            upload = self._open.get(upload_id)
        if upload is None:
            opening = self._opening.get(upload_id)
            if opening is not None:
                upload = await asyncio.shield(opening)
            else:
                opening = self._opening[upload_id] = asyncio.get_running_loop().create_future()
                try:
                    writer = await self.blobs.receive(upload_id)
                    if writer.size > record.size:  # not these bytes: start again
                        await writer.close()
                        await self.blobs.discard(upload_id)
                        writer = await self.blobs.receive(upload_id)
                    upload = self._open[upload_id] = OpenUpload(record, writer)
                    writer.on_written = upload.written
                    opening.set_result(upload)
                except BaseException as exc:
                    opening.set_exception(exc)
                    opening.exception()  # retrieved: whoever waits gets it too
                    raise
                finally:
                    del self._opening[upload_id]
        if upload.peer is not None and upload.peer is not peer:
            self._uploading.get(upload.peer, {}).pop(upload_id, None)
        if not peer.closed:  # else forget() has run for it already
            upload.peer = peer
            upload.reported = upload.writer.size
            self._uploading.setdefault(peer, {})[upload_id] = upload
        return upload

    async def _claim(self, peer: Peer, upload_id: int) -> OpenUpload:
        """The client's upload ``upload_id``, open.

        Raises:
            Refused: ``not_found`` when the client has no such upload.
        """
        client = self._client(peer)
        upload = self._open.get(upload_id)
        record = upload.record if upload is not None else None
        if record is None:
            record = await self.context.repository.get_upload(upload_id)
        if record is None or record.uploader != client:
            raise Refused(Code.NOT_FOUND, f"no upload {upload_id}")
        return await self._open_upload(record, peer)

    def receive_chunk(self, peer: Peer, chunk: protocol.Chunk) -> Handled:
        """A chunk of an upload: appended to its partial blob in the background. The
        connection waits (reads nothing more) while too much waits to be written."""
        upload = self._uploading.get(peer, {}).get(chunk.id)
        if upload is None:
            peer.session.refuse(
                Code.NOT_FOUND, f"no upload {chunk.id} on this connection (send upload first)"
            )
            return None
        writer = upload.writer
        if writer.failed is not None:
            return None  # finish_upload will say why
        size = len(chunk.data)
        if chunk.offset != writer.size or chunk.offset + size > upload.record.size:
            peer.session.refuse(
                Code.INVALID_FIELD,
                f"chunk of {size} bytes at {chunk.offset} of upload {chunk.id}:"
                f" expected one at {writer.size} of a file of {upload.record.size} bytes",
            )
            return None
        writer.append(chunk.data)
        if writer.backlog > WRITE_BACKLOG:
            return writer.drained(WRITE_BACKLOG // 2)
        return None

    def finish_upload(self, peer: Peer, request: protocol.FinishUpload) -> Handled:
        """``finish_upload``: answered ``file`` once the file is checked and stored."""
        return self._guarded(peer, request.id, self._finish(peer, request))

    async def _finish(self, peer: Peer, request: protocol.FinishUpload) -> None:
        upload = await self._claim(peer, request.upload_id)
        record, writer = upload.record, upload.writer
        await writer.drained()
        if writer.failed is None and writer.size < record.size:
            raise Refused(
                Code.UPLOAD_INCOMPLETE,
                f"the server has {writer.size} of {record.size} bytes: send the rest",
            )
        async with self._blob_lock:
            try:
                matches = await writer.commit(record.sha256)
            except OSError as exc:
                raise _storage_refusal(exc) from None
            self._close_upload(record.upload_id)
            if not matches:
                await self.context.pipeline.run([DeleteUploads((record.upload_id,))])
                log.info("upload %d: the bytes do not match their SHA-256", record.upload_id)
                raise Refused(
                    Code.HASH_MISMATCH,
                    "the bytes received do not have the SHA-256 announced: upload them again",
                )
            stored = await self._insert_file(
                record.uploader, record.sha256, record.size, record.name, record.mime,
                record.upload_id,
            )  # fmt: skip
        log.info("%s stored file %s (%d bytes)", record.uploader, stored.file_id, stored.size)
        peer.reply(protocol.FileReply(request.id, file_info(stored)))

    async def _insert_file(
        self, uploader: str, sha256: str, size: int, name: str, mime: str, upload: int | None = None
    ) -> FileRecord:
        while True:
            file_id, created = new_file_id(), now_ms()
            (inserted,) = await self.context.pipeline.run(
                [InsertFile(file_id, uploader, sha256, size, name, mime, created, upload)]
            )
            if inserted:
                return FileRecord(file_id, uploader, sha256, size, name, mime, created)

    def cancel_upload(self, peer: Peer, request: protocol.CancelUpload) -> Handled:
        """``cancel_upload``: the upload and its bytes are gone; answered ``ok``."""
        return self._guarded(peer, request.id, self._cancel_upload(peer, request))

    async def _cancel_upload(self, peer: Peer, request: protocol.CancelUpload) -> None:
        upload = await self._claim(peer, request.upload_id)
        await self._drop_upload(upload.record)
        peer.reply(protocol.Ok(request.id))

    async def _drop_upload(self, record: UploadRecord) -> None:
        upload = self._close_upload(record.upload_id)
        if upload is not None:
            await upload.writer.close()
        await self.context.pipeline.run([DeleteUploads((record.upload_id,))])
        await self.blobs.discard(record.upload_id)
        # An upload keeps the blob of its bytes, if there is one (see
        # Repository.referenced_blobs): the last to go deletes it.
        async with self._blob_lock:
            if not await self.context.repository.referenced_blobs([record.sha256]):
                await self.blobs.delete(record.sha256)

    def _close_upload(self, upload_id: int) -> OpenUpload | None:
        """Nobody may send chunks for the upload any more."""
        upload = self._open.pop(upload_id, None)
        if upload is not None and upload.peer is not None:
            self._uploading.get(upload.peer, {}).pop(upload_id, None)
            upload.peer = None
        return upload

    # -- attach --

    async def attach(self, peer: Peer, request: protocol.Send) -> Attached | None:
        """Check the files of a ``send``: each must be one the sender uploaded and still
        stored. Answers the ``error`` itself and returns None when one is not."""
        sender = self._client(peer)
        wanted = request.files or []
        try:
            found = await self.context.repository.get_files(a.file_id for a in wanted)
        except StorageError:
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            return None
        files = []
        for attachment in wanted:
            record = found.get(attachment.file_id)
            if record is None or record.uploader != sender:
                self.context.error(
                    peer,
                    request.id,
                    Code.NOT_FOUND,
                    f"no file {attachment.file_id} of yours: upload it (again)",
                )
                return None
            files.append(file_info(record, attachment.thumbnail))
        return Attached(files, encode_files(files), tuple(f.file_id for f in files))

    # -- download --

    def download(self, peer: Peer, request: protocol.Download) -> Handled:
        """``download``: chunks, then ``download_end`` (or ``error``)."""
        running = self._downloads.get(peer, {})
        if len(running) >= MAX_DOWNLOADS:
            self.context.error(
                peer,
                request.id,
                Code.TOO_MANY_TRANSFERS,
                f"at most {MAX_DOWNLOADS} downloads at once on a connection",
            )
            return None
        if request.id in running:
            self.context.error(
                peer, request.id, Code.INVALID_FIELD, "a download with this id is running"
            )
            return None
        return self._guarded(peer, request.id, self._start_download(peer, request))

    async def _start_download(self, peer: Peer, request: protocol.Download) -> None:
        record = await self._readable(peer, request.file_id)
        if request.offset > record.size:
            raise Refused(Code.INVALID_FIELD, f"offset past the end ({record.size} bytes)")
        left = record.size - request.offset
        length = left if request.length is None else min(request.length, left)
        try:
            reader = await self.blobs.reader(record.sha256)
        except BlobMissing:
            log.error("file %s has no blob %s", record.file_id, record.sha256)
            raise Refused(Code.NOT_FOUND, f"no file {request.file_id}") from None
        if peer.closed:
            await reader.close()
            return
        transfer = Transfer(request)
        self._downloads.setdefault(peer, {})[request.id] = transfer
        transfer.task = asyncio.get_running_loop().create_task(
            self._stream(peer, transfer, record, reader, length)
        )

    async def _readable(self, peer: Peer, file_id: str) -> FileRecord:
        """The file, when the client may download it: it uploaded it, or was sent it.

        Raises:
            Refused: ``not_found`` otherwise, exactly as for a file that does not exist.
        """
        client = self._client(peer)
        repository = self.context.repository
        record = (await repository.get_files([file_id])).get(file_id)
        if record is None or (
            record.uploader != client and not await repository.is_file_recipient(file_id, client)
        ):
            raise Refused(Code.NOT_FOUND, f"no file {file_id}")
        return record

    async def _stream(
        self, peer: Peer, transfer: Transfer, record: FileRecord, reader: BlobReader, length: int
    ) -> None:
        """Write the chunks one at a time as the connection takes them, reading ahead: the
        next chunks are read from disk while one is written (:data:`READ_AHEAD` at most)."""
        request = transfer.request
        start = request.offset
        sent = 0
        ready: asyncio.Queue[bytearray | None] = asyncio.Queue(READ_AHEAD)
        reading = asyncio.get_running_loop().create_task(
            self._read_ahead(reader, record, request.id, start, length, ready)
        )
        try:
            while sent < length and not transfer.cancelled:
                frame = await ready.get()
                if frame is None:
                    raise OSError(f"blob {record.sha256} is shorter than file {record.file_id}")
                await peer.send_chunk(frame)
                sent += len(frame) - protocol.CHUNK_PREFIX.size
            peer.reply(protocol.DownloadEnd(request.id, record.file_id, start, sent))
        except (ConnectionError, asyncio.CancelledError):
            pass
        except OSError as exc:
            log.error("reading file %s failed: %s", record.file_id, exc)
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "reading the file failed")
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await reading
            await reader.close()
            running = self._downloads.get(peer)
            if running is not None and running.get(request.id) is transfer:
                del running[request.id]
                if not running:
                    del self._downloads[peer]

    @staticmethod
    async def _read_ahead(
        reader: BlobReader,
        record: FileRecord,
        request_id: int,
        start: int,
        length: int,
        ready: asyncio.Queue[bytearray | None],
    ) -> None:
        """Read the chunk frames of a download into ``ready`` (``None``: the blob ended
        too soon)."""
        header = protocol.CHUNK_PREFIX
        done = 0
        while done < length:
            size = min(protocol.FILE_CHUNK_BYTES, length - done)
            frame = bytearray(header.size + size)
            read = await reader.readinto(start + done, memoryview(frame)[header.size :])
            if read != size:
                await ready.put(None)
                return
            header.pack_into(
                frame, 0, protocol.CHUNK_HEADER.size + size, protocol.CHUNK_MARKER,
                protocol.CHUNK_KIND, request_id, start + done,
            )  # fmt: skip
            await ready.put(frame)
            done += size

    def cancel_download(self, peer: Peer, request: protocol.CancelDownload) -> Handled:
        """``cancel_download``: the download ends after the chunk being written (its
        ``download_end`` says how much was sent). Answered ``ok``, also when it had ended."""
        transfer = self._downloads.get(peer, {}).get(request.download)
        if transfer is not None:
            transfer.cancelled = True
        peer.reply(protocol.Ok(request.id))
        return None

    def downloaded(self, peer: Peer, request: protocol.Downloaded) -> Handled:
        """``downloaded``: the client has the file; answered ``ok`` once that is stored."""
        return self._guarded(peer, request.id, self._downloaded(peer, request))

    async def _downloaded(self, peer: Peer, request: protocol.Downloaded) -> None:
        client = self._client(peer)
        repository = self.context.repository
        if await repository.is_file_recipient(request.file_id, client):
            await self.context.pipeline.run([MarkDownloaded(request.file_id, client)])
            self.touched.add(request.file_id)
        else:
            await self._readable(peer, request.file_id)  # the uploader's own: nothing to do
        peer.reply(protocol.Ok(request.id))

    # -- connections ending --

    def forget(self, peer: Peer) -> None:
        """The connection ended: its downloads stop; its uploads stay, to be resumed (their
        partial blobs are released once what was received is written)."""
        for transfer in self._downloads.pop(peer, {}).values():
            transfer.cancelled = True
            if transfer.task is not None:
                transfer.task.cancel()
        for upload in self._uploading.pop(peer, {}).values():
            if upload.peer is peer:
                upload.peer = None
                task = asyncio.get_running_loop().create_task(self._release(upload))
                task.add_done_callback(_log_failure)

    async def _release(self, upload: OpenUpload) -> None:
        await upload.writer.drained()
        if upload.peer is None and self._open.get(upload.record.upload_id) is upload:
            del self._open[upload.record.upload_id]
            await upload.writer.close()

    async def close(self) -> None:
        """The server stops: release every partial blob (their uploads stay, to be
        resumed after the restart)."""
        await self.settled()
        for peer in list(self._downloads):
            self.forget(peer)
        uploads = list(self._open.values())
        self._open.clear()
        self._uploading.clear()
        for upload in uploads:
            await upload.writer.close()

    # -- lifetime --

    async def forget_downloaded(self) -> int:
        """Delete the files that recipients said they downloaded, when everyone has them
        (every few seconds). Returns how many files were deleted."""
        touched, self.touched = self.touched, set()
        if not touched:
            return 0
        return await self._delete(await self.context.repository.files_done(touched))

    async def expire(self, now: int) -> tuple[int, int]:
        """Drop uploads older than ``upload_ttl_hours``, and delete files older than
        ``file_ttl_days`` or that everyone has (hourly). Returns (uploads, files)."""
        repository = self.context.repository
        uploads = await repository.expired_uploads(now - self.settings.upload_ttl_hours * 3_600_000)
        for record in uploads:
            await self._drop_upload(record)
        expired = await repository.expired_files(now - self.settings.file_ttl_days * 86_400_000)
        done = await repository.files_done()
        return len(uploads), await self._delete({*expired, *done})

    def withdrawn(self, result: object) -> None:
        """The callback of a stored ``WithdrawMessage`` (a message deleted for everyone):
        its files that no other message brought to anyone are deleted, blobs included,
        so that those who had not downloaded them never can."""
        if isinstance(result, list) and result:
            task = asyncio.get_running_loop().create_task(self._delete(result))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(_log_failure)

    async def settled(self) -> None:
        """Wait for the deletions running in the background (see :meth:`withdrawn`)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _delete(self, file_ids: Iterable[str]) -> int:
        wanted = tuple(sorted(file_ids))
        if not wanted:
            return 0
        async with self._blob_lock:
            (orphans,) = await self.context.pipeline.run([DeleteFiles(wanted)])
            assert isinstance(orphans, list)
            for sha256 in orphans:
                await self.blobs.delete(sha256)
        log.info("deleted %d files (%d blobs)", len(wanted), len(orphans))
        return len(wanted)

    async def reconcile(self) -> None:
        """At start: delete partial blobs without an upload and blobs without a file
        (left by a crash between the two steps of a deletion)."""
        repository = self.context.repository
        for upload_id in await self.blobs.partials():
            if upload_id not in self._open and await repository.get_upload(upload_id) is None:
                await self.blobs.discard(upload_id)
        async with self._blob_lock:
            blobs = await self.blobs.blobs()
            referenced = await repository.referenced_blobs(blobs)
            stray = [sha256 for sha256 in blobs if sha256 not in referenced]
            for sha256 in stray:
                await self.blobs.delete(sha256)
        if stray:
            log.info("deleted %d blobs no file refers to", len(stray))

    # -- helpers --

    @staticmethod
    def _client(peer: Peer) -> str:
        client = peer.session.client_id
        assert client is not None
        return client

    async def _guarded(self, peer: Peer, request_id: int, work: Coroutine[Any, Any, None]) -> None:
        """Run a request; a refusal becomes its ``error`` reply."""
        try:
            await work
        except Refused as exc:
            self.context.error(peer, request_id, exc.code, exc.message)
        except StorageError:
            self.context.error(peer, request_id, Code.INTERNAL_ERROR, "internal server error")
        except OSError as exc:
            log.error("file storage failed: %s", exc)
            refusal = _storage_refusal(exc)
            self.context.error(peer, request_id, refusal.code, refusal.message)


def _storage_refusal(exc: OSError) -> Refused:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return Refused(Code.STORAGE_FULL, "the server is out of space")
    return Refused(Code.INTERNAL_ERROR, "internal server error")


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("releasing an upload or deleting files failed: %s", exc)

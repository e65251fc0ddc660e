"""The blob store on the server's own disk: one file per blob, named by its SHA-256.

Layout of the store's folder (``blob_dir``, by default ``<data_dir>/blobs``)::

    ab/cd/abcd…(64 hex digits)   a blob (a file's bytes), fanned out over 65,536 folders
    partial/<upload id>          the bytes received so far of an unfinished upload

A partial grows by appending; committing it flushes it to disk (``fsync``), then renames
it into place and flushes the folder, so that a blob is always complete and a crash
leaves at most a partial to continue or delete. Every disk operation runs on a small
thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from messenger_server.blobs.base import BlobMissing, BlobReader, BlobStats, BlobStore, BlobWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

PARTIAL: Final = "partial"
HASH_BLOCK: Final = 1024 * 1024
"""Bytes read at a time when a continued partial is hashed again."""
BATCH_BYTES: Final = 1024 * 1024
"""Bytes written (and hashed) in one hand-off to a thread, at most (one chunk more): what
a writer reports as written at a time."""
SYNC_STEP: Final = 8 * 1024 * 1024
"""Bytes written between two flushes to the disk in the background while a partial grows,
so that the flush at commit has little left to do."""
_datasync: Final = getattr(os, "fdatasync", os.fsync)
_BLOB_NAME: Final = re.compile(r"[0-9a-f]{64}\Z")


def _sync_folder(path: Path) -> None:
    """Make a rename in ``path`` durable (where the platform can: not on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore(BlobStore):
    """Blobs in the folder ``root`` (created when opened)."""

    def __init__(self, root: Path, *, threads: int = 4) -> None:
        self.root = root
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle --

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="blobs")
        await self._run(lambda: (self.root / PARTIAL).mkdir(parents=True, exist_ok=True))

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise OSError("the blob store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def path_of(self, sha256: str) -> Path:
        """Where the blob ``sha256`` is (or would be)."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def partial_path(self, upload_id: int) -> Path:
        return self.root / PARTIAL / str(upload_id)

    # -- uploads --

    async def receive(self, upload_id: int) -> BlobWriter:
        path = self.partial_path(upload_id)

        def open_partial() -> tuple[int, int]:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
            return fd, os.lseek(fd, 0, os.SEEK_END)

        fd, size = await self._run(open_partial)
        return _FileWriter(self, path, fd, size)

    async def discard(self, upload_id: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self._run(os.unlink, self.partial_path(upload_id))

    async def partials(self) -> list[int]:
        def names() -> list[int]:
            return [int(p.name) for p in (self.root / PARTIAL).iterdir() if p.name.isdigit()]

        return await self._run(names)

    # -- blobs --

    async def reader(self, sha256: str) -> BlobReader:
        path = self.path_of(sha256)

        def open_blob() -> tuple[Any, int]:
            file = open(path, "rb", buffering=0)  # noqa: SIM115 - the reader closes it
            return file, os.fstat(file.fileno()).st_size

        try:
            file, size = await self._run(open_blob)
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return _FileReader(self, file, size)

    async def exists(self, sha256: str) -> bool:
        return await self._run(self.path_of(sha256).is_file)

    async def delete(self, sha256: str) -> bool:
        try:
            await self._run(os.unlink, self.path_of(sha256))
        except FileNotFoundError:
            return False
        return True

    async def blobs(self) -> list[str]:
        def names() -> list[str]:
            return [
                path.name
                for path in self.root.glob("??/??/*")
                if _BLOB_NAME.match(path.name) and path.parent.parent.parent == self.root
            ]

        return await self._run(names)

    async def stats(self) -> BlobStats:
        def count() -> BlobStats:
            blobs = [p.stat().st_size for p in self.root.glob("??/??/*") if p.is_file()]
            partials = [p.stat().st_size for p in (self.root / PARTIAL).iterdir() if p.is_file()]
            return BlobStats(len(blobs), sum(blobs), len(partials), sum(partials))

        return await self._run(count)


class _FileWriter(BlobWriter):
    """Appends on the store's threads, one batch at a time: what was appended while the
    previous batch was written goes in the next one (up to :data:`BATCH_BYTES`), so a
    fast sender costs one hand-off per batch, not per chunk. The hash is updated as the
    bytes are written (a continued partial is first hashed again from the disk)."""

    def __init__(self, store: FileBlobStore, path: Path, fd: int, size: int) -> None:
        self._store = store
        self._path = path
        self._fd: int | None = fd
        self._size = size
        self._on_disk = size
        self._queue: list[bytes | bytearray | memoryview] = []
        self._queued = 0
        self._hash = hashlib.sha256()
        self._hashed = 0
        self._job: asyncio.Future[int] | None = None
        self._sync: asyncio.Future[None] | None = None
        self._synced = size
        self._failed: OSError | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._loop = asyncio.get_running_loop()
        if size:
            self._start()  # hash what an earlier writer left

    @property
    def size(self) -> int:
        return self._size

    @property
    def backlog(self) -> int:
        return self._queued

    @property
    def failed(self) -> OSError | None:
        return self._failed

    def append(self, data: bytes | bytearray | memoryview) -> None:
        if self._failed is not None or self._fd is None or not data:
            return
        self._queue.append(data)
        self._queued += len(data)
        self._size += len(data)
        if self._job is None:
            self._start()

    def _start(self) -> None:
        queue = self._queue
        taken = size = 0
        while taken < len(queue) and (size < BATCH_BYTES or not taken):
            size += len(queue[taken])
            taken += 1
        batch = queue[:taken]
        del queue[:taken]
        executor = self._store._executor
        if executor is None:
            self._fail(OSError("the blob store is closed"))
            return
        self._job = self._loop.run_in_executor(executor, self._write, batch)
        self._job.add_done_callback(self._written)

    def _write(self, batch: list[bytes | bytearray | memoryview]) -> int:
        """On a store thread: bring the hash up to what is on disk, then write ``batch``."""
        fd = self._fd
        assert fd is not None
        if self._hashed < self._on_disk:
            os.lseek(fd, self._hashed, os.SEEK_SET)
            while self._hashed < self._on_disk:
                block = os.read(fd, min(HASH_BLOCK, self._on_disk - self._hashed))
                if not block:
                    raise OSError(f"{self._path} is shorter than it was")
                self._hash.update(block)
                self._hashed += len(block)
        written = 0
        for data in batch:
            view = memoryview(data)
            while view:
                count = os.write(fd, view)
                view = view[count:]
            self._hash.update(data)
            written += len(data)
            self._on_disk += len(data)
            self._hashed += len(data)
        return written

    def _written(self, job: asyncio.Future[int]) -> None:
        self._job = None
        error = job.exception()
        if error is not None:
            self._fail(error if isinstance(error, OSError) else OSError(str(error)))
        else:
            self._queued -= job.result()
            if self._queue:
                self._start()
            if self.on_written is not None:
                self.on_written(self._on_disk)
            if self._on_disk - self._synced >= SYNC_STEP and self._sync is None:
                self._flush_in_background()
        self._wake()

    def _flush_in_background(self) -> None:
        executor, fd = self._store._executor, self._fd
        if executor is None or fd is None:
            return
        self._synced = self._on_disk
        self._sync = self._loop.run_in_executor(executor, _datasync, fd)
        self._sync.add_done_callback(self._flushed)

    def _flushed(self, sync: asyncio.Future[None]) -> None:
        self._sync = None
        if not sync.cancelled() and (error := sync.exception()) is not None:
            log.warning("flushing %s failed: %s", self._path.name, error)  # commit retries

    def _fail(self, error: OSError) -> None:
        log.warning("writing %s failed: %s", self._path.name, error)
        self._failed = error
        self._queue.clear()
        self._queued = 0
        self._size = self._on_disk

    def _wake(self) -> None:
        waiting = self._waiters
        self._waiters = []
        for below, waiter in waiting:
            if waiter.done():
                continue
            if self._failed is not None or self._settled(below):
                waiter.set_result(None)
            else:
                self._waiters.append((below, waiter))

    def _settled(self, below: int) -> bool:
        return self._queued <= below and (below > 0 or self._job is None)

    async def drained(self, below: int = 0) -> None:
        if self._failed is not None or self._settled(below):
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append((below, waiter))
        await waiter

    async def _settle(self) -> None:
        """Everything queued written, and no background flush running (the descriptor is
        then the caller's to close)."""
        await self.drained()
        if self._sync is not None:
            await asyncio.wait([self._sync])

    async def commit(self, sha256: str) -> bool:
        await self._settle()
        if self._failed is not None:
            raise self._failed
        fd = self._fd
        assert fd is not None
        self._fd = None
        matches = self._hash.hexdigest() == sha256
        target = self._store.path_of(sha256)
        path = self._path

        def finish() -> None:
            try:
                if matches:
                    os.fsync(fd)
            finally:
                os.close(fd)
            if not matches:
                path.unlink(missing_ok=True)
            elif target.exists():  # the same bytes, uploaded before: keep one copy
                path.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                _sync_folder(target.parent)

        await self._store._run(finish)
        return matches

    async def close(self) -> None:
        await self._settle()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class _FileReader(BlobReader):
    def __init__(self, store: FileBlobStore, file: Any, size: int) -> None:
        self._store = store
        self._file = file
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    async def readinto(self, offset: int, buffer: memoryview) -> int:
        def read() -> int:
            self._file.seek(offset)
            done = 0
            while done < len(buffer):
                count = self._file.readinto(buffer[done:])
                if not count:
                    break
                done += count
            return done

        return await self._store._run(read)

    async def close(self) -> None:
        self._file.close()

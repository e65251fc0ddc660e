"""The blob store interface: what the file service needs from a place to keep bytes.

Bytes arrive in order, a chunk at a time, into the *partial* blob of an upload
(:class:`BlobWriter`); the store hashes them as they come. :meth:`BlobWriter.commit`
checks the hash and makes the partial the blob named by it, atomically: a blob exists
whole or not at all, and holds exactly the bytes its name says. Blobs are read by range
(:class:`BlobReader`). Nothing here knows who uploaded what or who may read it.

Neither side ever holds a whole file: a writer keeps at most what it was handed and has
not written yet (the caller bounds it with :meth:`BlobWriter.drained`), a reader the
buffer it is given.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass


class BlobMissing(Exception):
    """No blob (or partial) by that name."""


@dataclass(frozen=True, slots=True)
class BlobStats:
    blobs: int
    blob_bytes: int
    partials: int
    partial_bytes: int


class BlobWriter(abc.ABC):
    """The partial blob of one upload, open for appending.

    :meth:`append` queues bytes without waiting; they are written (and hashed) in the
    background, in order. The caller bounds what waits by awaiting :meth:`drained`. Once
    a write failed, every later append is dropped and :attr:`failed` says why.
    :attr:`on_written`, when set, is called (on the event loop) with the bytes on disk
    after each write.
    """

    on_written: Callable[[int], None] | None = None

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Bytes appended so far, written or still queued: where the next append goes."""

    @property
    @abc.abstractmethod
    def backlog(self) -> int:
        """Bytes appended and not written yet."""

    @property
    @abc.abstractmethod
    def failed(self) -> OSError | None:
        """Why writing failed (the disk is full…), or None."""

    @abc.abstractmethod
    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` after everything appended before. ``data`` must not change until
        it is written (until :attr:`backlog` no longer counts it)."""

    @abc.abstractmethod
    async def drained(self, below: int = 0) -> None:
        """Wait until at most ``below`` bytes are queued (or writing failed)."""

    @abc.abstractmethod
    async def commit(self, sha256: str) -> bool:
        """Write what is queued, then make the partial the blob ``sha256`` if its bytes
        hash to that (durably: it survives a crash once this returns). Returns False when
        they do not: the partial is deleted. When the blob exists already (the same bytes
        uploaded by someone else), the partial is deleted and the blob kept. The writer is
        closed either way.

        Raises:
            OSError: writing failed (see :attr:`failed`); the partial stays.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Write what is queued and release the partial; it stays, to be continued by
        another writer."""


class BlobReader(abc.ABC):
    """One blob, open for reading by range."""

    @property
    @abc.abstractmethod
    def size(self) -> int: ...

    @abc.abstractmethod
    async def readinto(self, offset: int, buffer: memoryview) -> int:
        """Read up to ``len(buffer)`` bytes from ``offset`` into ``buffer``; returns how
        many (fewer only at the end of the blob)."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class BlobStore(abc.ABC):
    """Bytes named by their SHA-256 (lower-case hex), and the partial blobs of unfinished
    uploads, named by upload id."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Create what the store needs. Call once before anything else."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def receive(self, upload_id: int) -> BlobWriter:
        """The partial blob of ``upload_id``, created empty or continued where it stopped
        (its :attr:`~BlobWriter.size` says where). At most one writer per upload at a
        time: the caller sees to it."""

    @abc.abstractmethod
    async def discard(self, upload_id: int) -> None:
        """Delete the partial blob of ``upload_id`` (nothing when there is none)."""

    @abc.abstractmethod
    async def partials(self) -> list[int]:
        """The upload ids that have a partial blob."""

    @abc.abstractmethod
    async def reader(self, sha256: str) -> BlobReader:
        """Open the blob ``sha256`` for reading. A blob deleted while a reader has it open
        stays readable through that reader.

        Raises:
            BlobMissing: there is no such blob.
        """

    @abc.abstractmethod
    async def exists(self, sha256: str) -> bool: ...

    @abc.abstractmethod
    async def delete(self, sha256: str) -> bool:
        """Delete the blob ``sha256``; False when there was none."""

    @abc.abstractmethod
    async def blobs(self) -> list[str]:
        """The name of every blob (to find those nothing refers to any more)."""

    @abc.abstractmethod
    async def stats(self) -> BlobStats: ...

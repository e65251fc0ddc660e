"""The blob store: bytes in by chunks, named by their SHA-256, read back by range. Real
files in a temporary folder."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from messenger_server.blobs import BlobMissing, BlobStats, FileBlobStore
from messenger_server.blobs import filesystem as filesystem_module

pytestmark = pytest.mark.timeout(30)

DATA = os.urandom(3 * 1024 * 1024 + 17)
SHA = hashlib.sha256(DATA).hexdigest()
CHUNK = 256 * 1024


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FileBlobStore]:
    blobs = FileBlobStore(tmp_path / "blobs")
    await blobs.open()
    yield blobs
    await blobs.close()


def chunks(data: bytes, start: int = 0, end: int | None = None) -> list[bytes]:
    end = len(data) if end is None else end
    return [data[i : min(i + CHUNK, end)] for i in range(start, end, CHUNK)]


async def read_all(store: FileBlobStore, sha256: str, step: int = 100_000) -> bytes:
    reader = await store.reader(sha256)
    out = bytearray()
    buffer = bytearray(step)
    try:
        while (count := await reader.readinto(len(out), memoryview(buffer))) > 0:
            out += buffer[:count]
    finally:
        await reader.close()
    return bytes(out)


async def test_chunks_appended_become_the_blob_named_by_their_hash(store: FileBlobStore) -> None:
    writer = await store.receive(7)
    for chunk in chunks(DATA):
        writer.append(chunk)
    assert writer.size == len(DATA)
    assert await writer.commit(SHA)
    assert await store.exists(SHA)
    assert store.path_of(SHA).read_bytes() == DATA
    assert await store.partials() == []
    assert await read_all(store, SHA) == DATA


async def test_a_partial_continues_where_it_stopped(store: FileBlobStore) -> None:
    """What an earlier writer left (a connection that dropped, a server killed) is hashed
    again from the disk, so the hash of the whole is right."""
    half = len(DATA) // 2 + 3
    first = await store.receive(7)
    for chunk in chunks(DATA, 0, half):
        first.append(chunk)
    await first.close()
    assert await store.partials() == [7]

    second = await store.receive(7)
    assert second.size == half
    for chunk in chunks(DATA, half):
        second.append(chunk)
    assert await second.commit(SHA)
    assert await read_all(store, SHA) == DATA


async def test_bytes_that_do_not_have_their_hash_are_discarded(store: FileBlobStore) -> None:
    writer = await store.receive(8)
    writer.append(b"not what was announced")
    assert not await writer.commit(SHA)
    assert not await store.exists(SHA)
    assert await store.partials() == []


async def test_the_same_bytes_from_two_uploads_are_one_blob(store: FileBlobStore) -> None:
    for upload in (1, 2):
        writer = await store.receive(upload)
        writer.append(DATA)
        assert await writer.commit(SHA)
    assert await store.blobs() == [SHA]
    assert await store.stats() == BlobStats(1, len(DATA), 0, 0)


async def test_ranges_are_read_from_any_offset(store: FileBlobStore) -> None:
    writer = await store.receive(1)
    writer.append(DATA)
    await writer.commit(SHA)
    reader = await store.reader(SHA)
    assert reader.size == len(DATA)
    buffer = bytearray(1000)
    assert await reader.readinto(12345, memoryview(buffer)) == 1000
    assert bytes(buffer) == DATA[12345:13345]
    assert await reader.readinto(len(DATA) - 10, memoryview(buffer)) == 10  # the end
    assert bytes(buffer[:10]) == DATA[-10:]
    await reader.close()


async def test_a_blob_is_deleted_and_then_missing(store: FileBlobStore) -> None:
    writer = await store.receive(1)
    writer.append(b"abc")
    sha = hashlib.sha256(b"abc").hexdigest()
    await writer.commit(sha)
    reader = await store.reader(sha)
    assert await store.delete(sha)
    assert not await store.delete(sha)
    assert not await store.exists(sha)
    with pytest.raises(BlobMissing):
        await store.reader(sha)
    if os.name == "posix":  # a download under way finishes
        buffer = bytearray(3)
        assert await reader.readinto(0, memoryview(buffer)) == 3 and buffer == b"abc"
    await reader.close()


async def test_what_waits_to_be_written_is_bounded_by_the_caller(store: FileBlobStore) -> None:
    writer = await store.receive(1)
    for chunk in chunks(DATA):
        writer.append(chunk)
    assert writer.backlog <= len(DATA)
    await writer.drained(CHUNK)
    assert writer.backlog <= CHUNK
    await writer.drained()
    assert writer.backlog == 0
    await writer.close()
    assert (store.root / "partial" / "1").stat().st_size == len(DATA)


async def test_a_failed_write_drops_what_follows_and_keeps_the_partial(
    store: FileBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = await store.receive(3)
    writer.append(DATA[:CHUNK])
    await writer.drained()

    def disk_full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(filesystem_module.os, "write", disk_full)
    writer.append(DATA[CHUNK : 2 * CHUNK])
    await writer.drained()
    assert writer.failed is not None and writer.failed.errno == errno.ENOSPC
    assert writer.size == CHUNK  # what is on disk: where a new writer continues
    writer.append(DATA[2 * CHUNK : 3 * CHUNK])
    assert writer.backlog == 0
    with pytest.raises(OSError):
        await writer.commit(SHA)
    monkeypatch.undo()
    await writer.close()
    again = await store.receive(3)
    assert again.size == CHUNK
    again.append(DATA[CHUNK:])
    assert await again.commit(SHA)


async def test_partials_are_listed_and_discarded(store: FileBlobStore) -> None:
    for upload in (5, 6):
        writer = await store.receive(upload)
        writer.append(b"x" * upload)
        await writer.close()
    assert sorted(await store.partials()) == [5, 6]
    assert await store.stats() == BlobStats(0, 0, 2, 11)
    await store.discard(5)
    await store.discard(5)  # nothing left: nothing happens
    assert await store.partials() == [6]

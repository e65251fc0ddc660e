"""Files end to end (docs/protocol.md section 11): real server, real sockets, real SQLite
and a real blob store on disk. Files of a few MiB."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from messenger_server import protocol
from messenger_server.blobs import filesystem as filesystem_module
from messenger_server.protocol import ErrorCode as Code
from messenger_server.service import files as files_module
from messenger_server.service.core import DiskGuard, now_ms
from tests.conftest import RunningServer
from tests.wire import Identity, WireClient

pytestmark = pytest.mark.timeout(60)

Factory = Callable[..., Awaitable[RunningServer]]

MIB = 1024 * 1024
PHOTO = os.urandom(3 * MIB + 12345)
THUMBNAIL = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_of(server: RunningServer) -> files_module.Files:
    assert server.server is not None
    return server.server.service.files


def blob_exists(server: RunningServer, sha256: str) -> bool:
    return (server.settings.blobs_path / sha256[:2] / sha256[2:4] / sha256).is_file()


async def stored(client: WireClient, data: bytes = PHOTO, name: str = "praia.jpg") -> str:
    reply = await client.upload(data, name, "image/jpeg")
    assert isinstance(reply, protocol.FileReply), reply
    assert (reply.file.name, reply.file.size, reply.file.sha256) == (name, len(data), sha(data))
    return reply.file.file_id


async def send_file(
    client: WireClient,
    file_id: str,
    *,
    to: str | None = None,
    group: str | None = None,
    text: str = "",
    key: str | None = None,
) -> protocol.ServerFrame:
    return await client.request(
        protocol.Send,
        key=key or f"f{client.next_id}",
        text=text,
        to=to,
        group=group,
        files=[protocol.Attachment(file_id, THUMBNAIL)],
    )


def error_code(reply: protocol.ServerFrame) -> str:
    assert isinstance(reply, protocol.Error), reply
    return reply.code


# --- the flow -------------------------------------------------------------------------------


async def test_a_file_sent_is_downloaded_by_its_recipient_byte_for_byte(
    server: RunningServer,
) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    file_id = await stored(alice)
    sent = await send_file(alice, file_id, to=bob_id.client_id, text="Olha a praia!")
    assert isinstance(sent, protocol.Sent)

    [message] = await bob.messages(1)
    assert message.text == "Olha a praia!"
    assert message.files == [
        protocol.FileInfo(file_id, "praia.jpg", len(PHOTO), "image/jpeg", sha(PHOTO), THUMBNAIL)
    ]
    end, data = await bob.download(file_id)
    assert end == protocol.DownloadEnd(end.id, file_id, 0, len(PHOTO))  # type: ignore[union-attr]
    assert sha(data) == message.files[0].sha256  # checked end to end
    assert isinstance(await bob.request(protocol.Downloaded, file_id=file_id), protocol.Ok)


async def test_a_client_that_does_not_know_files_reads_their_names(server: RunningServer) -> None:
    """A file without a caption comes with a line per file in ``text``."""
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    photo = await stored(alice)
    report = await stored(alice, b"%PDF-1.7 ...", "relatório.pdf")
    reply = await alice.request(
        protocol.Send,
        key="two",
        to=bob_id.client_id,
        files=[protocol.Attachment(photo), protocol.Attachment(report)],
    )
    assert isinstance(reply, protocol.Sent)
    [message] = await bob.messages(1)
    assert message.text == "📎 praia.jpg\n📎 relatório.pdf"
    assert [f.thumbnail for f in message.files or []] == [None, None]


async def test_an_offline_recipient_gets_the_files_in_its_backlog(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    await bob.close()
    file_id = await stored(alice)
    await send_file(alice, file_id, to=bob_id.client_id)
    bob = await server.connect()
    await bob.login(bob_id)
    [message] = await bob.messages(1)
    assert message.text == "📎 praia.jpg" and message.files is not None
    assert message.files[0].thumbnail == THUMBNAIL
    _, data = await bob.download(file_id)
    assert data == PHOTO


async def test_one_upload_to_a_group_serves_every_member(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    members = [await server.user(name) for name in ("Bruno", "Carla", "Dora")]
    for client, _ in members:
        await client.add_contacts(alice_id.client_id)
    group = await alice.request(
        protocol.CreateGroup, name="Família", members=[i.client_id for _, i in members]
    )
    assert isinstance(group, protocol.GroupReply)
    file_id = await stored(alice)
    await send_file(alice, file_id, group=group.group.group_id, text="para todos")
    for client, _ in members:
        [message] = await client.messages(1)
        assert message.files is not None and message.files[0].file_id == file_id
        _, data = await client.download(file_id)
        assert data == PHOTO
    assert len(list(server.settings.blobs_path.glob("??/??/*"))) == 1


async def test_a_download_resumes_from_an_offset_and_takes_ranges(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    file_id = await stored(alice)
    await send_file(alice, file_id, to=bob_id.client_id)
    await bob.messages(1)
    end, tail = await bob.download(file_id, offset=MIB + 7)
    assert isinstance(end, protocol.DownloadEnd) and end.length == len(PHOTO) - MIB - 7
    assert tail == PHOTO[MIB + 7 :]
    end, middle = await bob.download(file_id, offset=100, length=1000)
    assert middle == PHOTO[100:1100]
    end, rest = await bob.download(file_id, offset=len(PHOTO) - 5, length=1000)  # past the end
    assert isinstance(end, protocol.DownloadEnd) and (end.length, rest) == (5, PHOTO[-5:])
    end, nothing = await bob.download(file_id, offset=len(PHOTO))
    assert isinstance(end, protocol.DownloadEnd) and (end.length, nothing) == (0, b"")
    reply, _ = await bob.download(file_id, offset=len(PHOTO) + 1)
    assert error_code(reply) == Code.INVALID_FIELD


async def test_an_upload_resumes_on_a_new_connection_where_it_stopped(
    server: RunningServer,
) -> None:
    alice, alice_id = await server.user("Alice")
    status = await alice.upload(PHOTO, "praia.jpg", "image/jpeg", until=MIB + 1000)
    assert isinstance(status, protocol.UploadStatus) and status.upload_id is not None
    await alice.close()  # the network fails

    again = await server.connect()
    await again.login(alice_id)
    reply = await again.upload(PHOTO, "praia.jpg", "image/jpeg")
    assert isinstance(reply, protocol.FileReply), reply
    assert reply.file.sha256 == sha(PHOTO)
    # ...because the server said where to go on:
    assert again.session.limits.file_chunk_bytes == protocol.FILE_CHUNK_BYTES


async def test_the_upload_status_says_how_far_an_upload_got(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    first = await alice.upload(PHOTO, until=3 * protocol.FILE_CHUNK_BYTES)
    assert isinstance(first, protocol.UploadStatus)
    status = await alice.request(
        protocol.Upload, size=len(PHOTO), sha256=sha(PHOTO), name="other name.bin"
    )
    assert status == protocol.UploadStatus(
        status.id, first.upload_id, 3 * protocol.FILE_CHUNK_BYTES
    )  # type: ignore[union-attr]


async def test_the_same_bytes_uploaded_again_by_their_uploader_need_no_transfer(
    server: RunningServer,
) -> None:
    alice, _ = await server.user("Alice")
    file_id = await stored(alice)
    status = await alice.request(
        protocol.Upload, size=len(PHOTO), sha256=sha(PHOTO), name="praia.jpg", mime="image/jpeg"
    )
    assert isinstance(status, protocol.UploadStatus) and status.file is not None
    assert (status.upload_id, status.offset, status.file.file_id) == (None, len(PHOTO), file_id)
    renamed = await alice.request(
        protocol.Upload, size=len(PHOTO), sha256=sha(PHOTO), name="copy.jpg", mime="image/jpeg"
    )
    assert isinstance(renamed, protocol.UploadStatus) and renamed.file is not None
    assert renamed.file.file_id != file_id and renamed.file.name == "copy.jpg"


async def test_cancelled_transfers_stop(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    status = await alice.upload(PHOTO, until=MIB)
    assert isinstance(status, protocol.UploadStatus)
    reply = await alice.request(protocol.CancelUpload, upload_id=status.upload_id)
    assert isinstance(reply, protocol.Ok)
    assert not (server.settings.blobs_path / "partial" / str(status.upload_id)).exists()
    reply = await alice.request(protocol.FinishUpload, upload_id=status.upload_id)
    assert error_code(reply) == Code.NOT_FOUND

    file_id = await stored(alice)
    slow = await slow_connection(server, alice_id)
    download, future = slow.start_download(file_id)
    await asyncio.sleep(0.1)
    assert isinstance(
        await slow.request(protocol.CancelDownload, download=download.id), protocol.Ok
    )
    end = await asyncio.wait_for(future, 10)
    assert isinstance(end, protocol.DownloadEnd) and end.length < len(PHOTO)


# --- integrity ------------------------------------------------------------------------------


async def test_bytes_that_do_not_match_their_hash_are_refused(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    corrupt = PHOTO[:1000] + b"X" + PHOTO[1001:]
    reply = await alice.upload(corrupt, sha256=sha(PHOTO))
    assert error_code(reply) == Code.HASH_MISMATCH
    assert not blob_exists(server, sha(PHOTO))
    assert list((server.settings.blobs_path / "partial").iterdir()) == []
    assert isinstance(await alice.upload(PHOTO), protocol.FileReply)  # starts again at 0


async def test_finishing_before_every_byte_was_sent_says_so(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    status = await alice.upload(PHOTO, until=1000)
    assert isinstance(status, protocol.UploadStatus)
    reply = await alice.request(protocol.FinishUpload, upload_id=status.upload_id)
    assert error_code(reply) == Code.UPLOAD_INCOMPLETE
    assert isinstance(reply, protocol.Error) and "1000 of" in reply.message


async def test_chunks_at_the_wrong_place_are_refused(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    status = await alice.upload(PHOTO, until=1000)
    assert isinstance(status, protocol.UploadStatus) and status.upload_id is not None
    alice.send_raw(protocol.encode_chunk(protocol.Chunk(status.upload_id, 5000, b"gap")))
    alice.send_raw(protocol.encode_chunk(protocol.Chunk(12345, 0, b"unknown upload")))
    first = await alice.next_event(protocol.Error)
    second = await alice.next_event(protocol.Error)
    assert (first.code, first.id, second.code) == (Code.INVALID_FIELD, None, Code.NOT_FOUND)
    status = await alice.request(protocol.Upload, size=len(PHOTO), sha256=sha(PHOTO), name="x")
    assert isinstance(status, protocol.UploadStatus) and status.offset == 1000  # nothing taken


# --- isolation ------------------------------------------------------------------------------


async def test_only_the_uploader_and_the_recipients_may_download(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    mallory, _ = await server.user("Mallory")
    file_id = await stored(alice)
    await send_file(alice, file_id, to=bob_id.client_id)

    _, own = await alice.download(file_id)
    assert own == PHOTO
    reply, data = await mallory.download(file_id)
    assert error_code(reply) == Code.NOT_FOUND and data == b""
    unknown, _ = await mallory.download("F-0000-0000-0000-0000")
    assert isinstance(reply, protocol.Error) and isinstance(unknown, protocol.Error)
    assert reply.message.replace(file_id, "?") == unknown.message.replace(unknown.message[8:], "?")
    assert error_code(await mallory.request(protocol.Downloaded, file_id=file_id)) == Code.NOT_FOUND
    # nor may anyone attach a file of someone else's
    reply = await send_file(mallory, file_id, to=bob_id.client_id)
    assert error_code(reply) == Code.NOT_FOUND
    await bob.messages(1)


async def test_a_stranger_learns_nothing_from_the_hash_of_someone_elses_file(
    server: RunningServer,
) -> None:
    """Content addressing does not leak: the same bytes must be sent in full, and end as a
    file of the stranger's own (one blob on disk)."""
    alice, _ = await server.user("Alice")
    mallory, _ = await server.user("Mallory")
    await stored(alice)
    status = await mallory.request(
        protocol.Upload, size=len(PHOTO), sha256=sha(PHOTO), name="praia.jpg", mime="image/jpeg"
    )
    assert isinstance(status, protocol.UploadStatus)
    assert (status.offset, status.file) == (0, None)
    reply = await mallory.request(protocol.FinishUpload, upload_id=status.upload_id)
    assert error_code(reply) == Code.UPLOAD_INCOMPLETE
    await mallory.request(protocol.CancelUpload, upload_id=status.upload_id)
    await stored(mallory)
    assert len(list(server.settings.blobs_path.glob("??/??/*"))) == 1


# --- lifetime ---------------------------------------------------------------------------------


async def test_a_file_is_deleted_once_every_recipient_has_it(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    file_id = await stored(alice)
    await send_file(alice, file_id, to=bob_id.client_id)
    await bob.messages(1)  # acknowledged
    files = files_of(server)
    await files.forget_downloaded()
    assert blob_exists(server, sha(PHOTO))  # acknowledged, not downloaded

    _, data = await bob.download(file_id)
    assert data == PHOTO
    assert isinstance(await bob.request(protocol.Downloaded, file_id=file_id), protocol.Ok)
    assert await server.pending(bob_id.client_id) == 0  # the ack is stored
    assert await files.forget_downloaded() == 1
    assert not blob_exists(server, sha(PHOTO))
    reply, _ = await alice.download(file_id)
    assert error_code(reply) == Code.NOT_FOUND


async def test_a_group_file_stays_until_the_last_member_has_it(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    members = [await server.user(name) for name in ("Bruno", "Carla")]
    for client, _ in members:
        await client.add_contacts(alice_id.client_id)
    group = await alice.request(
        protocol.CreateGroup, name="G", members=[i.client_id for _, i in members]
    )
    assert isinstance(group, protocol.GroupReply)
    file_id = await stored(alice)
    await send_file(alice, file_id, group=group.group.group_id)
    files = files_of(server)
    for index, (client, identity) in enumerate(members):
        await client.messages(1)
        await client.download(file_id)
        await client.request(protocol.Downloaded, file_id=file_id)
        await server.pending(identity.client_id)
        deleted = await files.forget_downloaded()
        assert deleted == (1 if index == len(members) - 1 else 0)
    assert not blob_exists(server, sha(PHOTO))


async def test_files_and_uploads_expire(server_factory: Factory) -> None:
    server = await server_factory(file_ttl_days=2, upload_ttl_hours=3)
    alice, _ = await server.user("Alice")
    file_id = await stored(alice)
    status = await alice.upload(os.urandom(1000), until=500)
    assert isinstance(status, protocol.UploadStatus)
    files = files_of(server)
    assert await files.expire(now_ms() + 2 * 3_600_000) == (0, 0)
    assert await files.expire(now_ms() + 4 * 3_600_000) == (1, 0)
    assert not (server.settings.blobs_path / "partial" / str(status.upload_id)).exists()
    assert await files.expire(now_ms() + 3 * 86_400_000) == (0, 1)
    assert not blob_exists(server, sha(PHOTO))
    reply, _ = await alice.download(file_id)
    assert error_code(reply) == Code.NOT_FOUND


async def test_blobs_nothing_refers_to_are_deleted_at_start(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    await stored(alice)
    stray = server.settings.blobs_path / "ab" / "cd" / ("abcd" + "0" * 60)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a crash")
    (server.settings.blobs_path / "partial" / "424242").write_bytes(b"no upload")
    await files_of(server).reconcile()
    assert not stray.exists()
    assert not (server.settings.blobs_path / "partial" / "424242").exists()
    assert blob_exists(server, sha(PHOTO))


# --- limits ---------------------------------------------------------------------------------


async def test_a_file_over_the_size_limit_is_refused_and_the_limit_announced(
    server_factory: Factory,
) -> None:
    server = await server_factory(max_file_bytes=MIB)
    alice, _ = await server.user("Alice")
    assert alice.session.limits.max_file_bytes == MIB
    reply = await alice.request(protocol.Upload, size=MIB + 1, sha256="0" * 64, name="big")
    assert error_code(reply) == Code.FILE_TOO_LARGE


async def test_a_clients_files_are_bounded_by_its_quota(server_factory: Factory) -> None:
    server = await server_factory(file_quota_mb=8)
    alice, _ = await server.user("Alice")
    await stored(alice)  # 3 MiB
    await stored(alice, PHOTO[::-1])  # 6 MiB
    reply = await alice.request(protocol.Upload, size=2 * MIB, sha256="0" * 64, name="more")
    assert error_code(reply) == Code.QUOTA_EXCEEDED
    reply = await alice.request(protocol.Upload, size=MIB, sha256="0" * 64, name="fits")
    assert isinstance(reply, protocol.UploadStatus)


async def test_unfinished_uploads_per_client_are_bounded(server_factory: Factory) -> None:
    server = await server_factory(max_uploads_per_client=2)
    alice, _ = await server.user("Alice")
    for n in range(2):
        reply = await alice.request(protocol.Upload, size=10, sha256=f"{n}" * 64, name="x")
        assert isinstance(reply, protocol.UploadStatus)
    reply = await alice.request(protocol.Upload, size=10, sha256="2" * 64, name="x")
    assert error_code(reply) == Code.TOO_MANY_TRANSFERS
    reply = await alice.request(protocol.Upload, size=10, sha256="1" * 64, name="x")
    assert isinstance(reply, protocol.UploadStatus)  # resuming is fine


async def test_downloads_at_once_per_connection_are_bounded(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    file_id = await stored(alice, PHOTO[: 2 * MIB])  # more than what the buffers hold
    slow = await slow_connection(server, alice_id)
    running = [slow.start_download(file_id) for _ in range(files_module.MAX_DOWNLOADS + 1)]
    replies = await asyncio.gather(*(future for _, future in running))
    assert [type(r) for r in replies].count(protocol.DownloadEnd) == files_module.MAX_DOWNLOADS
    assert error_code(replies[-1]) == Code.TOO_MANY_TRANSFERS


async def test_no_upload_when_the_disk_of_the_files_is_nearly_full(
    server: RunningServer,
) -> None:
    alice, _ = await server.user("Alice")
    free = shutil.disk_usage(server.settings.blobs_path).free
    files_of(server).disk = DiskGuard(server.settings.blobs_path, free - MIB)
    reply = await alice.request(protocol.Upload, size=2 * MIB, sha256="0" * 64, name="x")
    assert error_code(reply) == Code.STORAGE_FULL
    files_of(server).disk = DiskGuard(server.settings.blobs_path, 10**15)  # full
    reply = await alice.request(protocol.Upload, size=10, sha256="0" * 64, name="x")
    assert error_code(reply) == Code.STORAGE_FULL


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("a\x00b.txt", Code.INVALID_FIELD),
        ("evil\u2028name", Code.INVALID_FIELD),
        ("   ", Code.INVALID_FIELD),
        ("x" * 256, Code.NAME_TOO_LONG),
    ],
)
async def test_file_names_are_checked(server: RunningServer, name: str, code: str) -> None:
    alice, _ = await server.user("Alice")
    frame = b'{"type":"upload","id":99,"size":1,"sha256":"%s","name":"%s"}' % (
        b"0" * 64,
        name.encode("unicode_escape").replace(b"\\x", b"\\u00"),
    )
    future = alice.expect_reply(99)
    alice.send_raw(protocol.frame_bytes(frame))
    assert error_code(await asyncio.wait_for(future, 5)) == code


async def test_names_are_never_paths(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    reply = await alice.upload(b"secret", "../../../messenger.db")
    assert isinstance(reply, protocol.FileReply) and reply.file.name == "../../../messenger.db"
    assert (server.settings.data_dir / "messenger.db").stat().st_size > 6
    assert blob_exists(server, sha(b"secret"))


async def test_a_thumbnail_over_its_limit_is_refused(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    _, bob = await server.user("Bob")
    file_id = await stored(alice, b"tiny")
    frame = (
        b'{"type":"send","id":77,"key":"t","to":"%s","files":[{"file_id":"%s","thumbnail":"%s"}]}'
        % (bob.client_id.encode(), file_id.encode(), b"A" * (protocol.MAX_THUMBNAIL_CHARS + 1))
    )
    future = alice.expect_reply(77)
    alice.send_raw(protocol.frame_bytes(frame))
    assert error_code(await asyncio.wait_for(future, 5)) == Code.INVALID_FIELD


# --- no head-of-line blocking ---------------------------------------------------------------


async def test_a_text_reaches_a_client_that_is_downloading_long_before_the_download_ends(
    server: RunningServer,
) -> None:
    """Bob downloads 8 MiB over a slow link (a small receive window, read at about
    4 MiB/s: two seconds); a text Alice sends meanwhile must not wait behind the rest of
    the file. The bound is generous: the speed itself is measured by messenger-bench."""
    alice, _ = await server.user("Alice")
    big = os.urandom(8 * MIB)
    file_id = await stored(alice, big, "video.mp4")
    await send_file(alice, file_id, to=(bob_id := await _registered(server, "Bob")).client_id)
    bob = await slow_connection(server, bob_id)
    await bob.messages(1)

    download, finished = bob.start_download(file_id)
    while bob.downloaded < MIB:  # well under way
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await alice.send("still there?", to=bob_id.client_id)
    [message] = await bob.messages(1)
    waited = time.monotonic() - started
    at_message = bob.downloaded
    end = await asyncio.wait_for(finished, 30)
    assert isinstance(end, protocol.DownloadEnd) and end.length == len(big)
    assert message.text == "still there?"
    assert at_message < len(big) - 2 * MIB, "the text waited behind the file"
    assert waited < 1.0, f"the text took {waited:.2f} s"
    assert bytes(bob.downloads.pop(download.id)) == big


async def test_a_text_sent_while_uploading_is_answered_at_once(server: RunningServer) -> None:
    """Alice uploads over a slow link (a chunk every 0.1 s); her text goes behind the chunks
    already written, and the server answers it without waiting for the rest."""
    alice, _ = await server.user("Alice")
    _, bob = await server.user("Bob")
    big = os.urandom(2 * MIB)
    status = await alice.request(protocol.Upload, size=len(big), sha256=sha(big), name="v.mp4")
    assert isinstance(status, protocol.UploadStatus) and status.upload_id is not None
    upload_id = status.upload_id

    async def trickle() -> None:
        step = protocol.FILE_CHUNK_BYTES
        for offset in range(0, len(big), step):
            await alice.send_chunks(upload_id, big, offset, offset + step)
            await asyncio.sleep(0.1)

    upload = asyncio.ensure_future(trickle())
    await asyncio.sleep(0.25)
    started = time.monotonic()
    sent = await alice.send("uploading…", to=bob.client_id)
    waited = time.monotonic() - started
    assert isinstance(sent, protocol.Sent)
    assert not upload.done(), "the text waited for the upload"
    assert waited < 0.5, f"the text took {waited:.2f} s"
    await upload
    finished = await alice.request(protocol.FinishUpload, upload_id=upload_id)
    assert isinstance(finished, protocol.FileReply)


async def test_a_slow_disk_slows_the_upload_not_the_texts(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's disk takes 0.2 s per write: the upload goes at the pace of its window
    (moved by upload_progress events), while the connection's other frames do not wait."""
    real_write = filesystem_module._FileWriter._write

    def slow_write(writer: Any, batch: Any) -> int:
        time.sleep(0.2)
        return real_write(writer, batch)  # type: ignore[no-any-return]

    monkeypatch.setattr(filesystem_module._FileWriter, "_write", slow_write)
    alice, _ = await server.user("Alice")
    _, bob = await server.user("Bob")
    big = os.urandom(8 * MIB)
    upload = asyncio.ensure_future(alice.upload(big, "video.mp4"))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    sent = await alice.send("is it there yet?", to=bob.client_id)
    waited = time.monotonic() - started
    assert isinstance(sent, protocol.Sent)
    assert not upload.done()
    assert waited < 0.25, f"the text took {waited:.2f} s"
    assert isinstance(await upload, protocol.FileReply)
    offsets = []
    while not alice.events.empty():
        event = alice.events.get_nowait()
        if isinstance(event, protocol.UploadProgress):
            offsets.append(event.offset)
    assert offsets == sorted(offsets) and offsets[-1] == len(big)


async def slow_connection(server: RunningServer, identity: Identity) -> WireClient:
    """A new connection of ``identity`` with a small receive window, read slowly
    (about 4 MiB/s): a download on it takes a while."""
    client = await WireClient.connect(server.port, receive_buffer=64 * 1024)
    server.clients.append(client)
    await client.login(identity)
    client.read_pause, client.read_size = 0.015, 64 * 1024
    return client


async def _registered(server: RunningServer, name: str) -> Identity:
    client = await server.connect()
    identity = await client.register(name)
    await client.close()
    return identity


# --- files and the conversation features (section 12) ------------------------------------------


async def group_with(server: RunningServer, *names: str) -> tuple[Any, list[Any], str]:
    alice, alice_id = await server.user("Alice")
    members = [await server.user(name) for name in names]
    for client, _ in members:
        await client.add_contacts(alice_id.client_id)
    group = await alice.request(
        protocol.CreateGroup, name="G", members=[i.client_id for _, i in members]
    )
    assert isinstance(group, protocol.GroupReply)
    return alice, members, group.group.group_id


async def test_a_file_message_is_replied_to_and_its_caption_edited(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    file_id = await stored(alice)
    sent = await send_file(alice, file_id, to=bob_id.client_id, text="Olha a praia!")
    assert isinstance(sent, protocol.Sent)
    [photo] = await bob.messages(1)
    reply = await bob.request(
        protocol.Send,
        key="re",
        text="Que linda!",
        to=alice_id.client_id,
        reply_to=protocol.ReplyTo(photo.seq, alice_id.client_id),
    )
    assert isinstance(reply, protocol.Sent)
    [answer] = await alice.messages(1)
    assert answer.reply_to == protocol.ReplyTo(photo.seq, alice_id.client_id)
    edit = await alice.request(
        protocol.Edit, key="ed", target=photo.seq, text="Olha a praia de Búzios!",
        to=bob_id.client_id,
    )  # fmt: skip
    assert isinstance(edit, protocol.Sent)
    [edited] = await bob.entries(1)
    assert isinstance(edited, protocol.Edited) and edited.text == "Olha a praia de Búzios!"
    _, data = await bob.download(file_id)  # the file is as it was
    assert data == PHOTO


async def test_a_file_message_deleted_for_everyone_cannot_be_downloaded_any_more(
    server: RunningServer,
) -> None:
    """Bruno downloaded the photo before the deletion; Carla had not: she never can."""
    alice, [(bruno, _), (carla, carla_id)], group = await group_with(server, "Bruno", "Carla")
    file_id = await stored(alice)
    await send_file(alice, file_id, group=group, text="ops")
    [photo] = await bruno.messages(1)
    _, data = await bruno.download(file_id)
    assert data == PHOTO
    await carla.close()  # offline: the message waits for her

    deleted = await alice.request(protocol.Delete, key="del", target=photo.seq, group=group)
    assert isinstance(deleted, protocol.Sent)
    [gone] = await bruno.entries(1)
    assert isinstance(gone, protocol.Deleted) and gone.target == photo.seq
    await files_of(server).settled()

    reply, _ = await bruno.download(file_id)
    assert error_code(reply) == Code.NOT_FOUND
    assert not blob_exists(server, sha(PHOTO))
    carla = await server.connect()
    await carla.login(carla_id)
    [entry] = await carla.entries(1)  # only the deletion: the message was withdrawn
    assert isinstance(entry, protocol.Deleted)
    reply, _ = await carla.download(file_id)
    assert error_code(reply) == Code.NOT_FOUND
    reply, _ = await alice.download(file_id)  # the uploader's own copy goes too
    assert error_code(reply) == Code.NOT_FOUND


async def test_a_file_also_sent_elsewhere_stays_for_that_message(server: RunningServer) -> None:
    alice, [(bruno, bruno_id)], group = await group_with(server, "Bruno")
    file_id = await stored(alice)
    await send_file(alice, file_id, group=group)
    await send_file(alice, file_id, to=bruno_id.client_id)
    first, _ = await bruno.messages(2)
    assert first.group == group
    deleted = await alice.request(protocol.Delete, key="del", target=first.seq, group=group)
    assert isinstance(deleted, protocol.Sent)
    await bruno.entries(1)
    await files_of(server).settled()
    _, data = await bruno.download(file_id)  # the direct message still brings it
    assert data == PHOTO

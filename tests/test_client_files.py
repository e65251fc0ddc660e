"""Files in the client core (issue 10): two or three desktops on a real server, real
sockets, real SQLite, real files on disk. The transfers are ``messenger_gui.transfers``."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from messenger_gui.client import register_client
from messenger_gui.events import MessageFailed, MessageSent, MessagesReceived
from messenger_gui.filenames import is_executable_name, safe_file_name, unique_path
from messenger_gui.storage.files import StoredFile
from messenger_gui.transfers import FileChanged, TransferEvent, TransferProgress
from messenger_server import protocol
from tests.client_support import Desktops, TcpProxy, User, eventually, settle
from tests.conftest import RunningServer
from tests.wire import WireClient

pytestmark = pytest.mark.timeout(60)

MIB = 1024 * 1024
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005fe02fe0def46b80000000049454e44ae426082"
)


@pytest.fixture
async def desktops(tmp_path: Path) -> AsyncIterator[Desktops]:
    opened = Desktops(tmp_path / "desktops")
    yield opened
    await opened.close()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def content_of(path: str | None) -> bytes:
    assert path is not None
    return Path(path).read_bytes()


def files_in(user: User, conversation: str) -> list[StoredFile]:
    messages = user.store.messages_slice(conversation, 0, 1000)
    found = user.store.files_of(m.local_id for m in messages)
    return [f for m in messages for f in found.get(m.local_id, [])]


class TransferLog:
    def __init__(self, user: User) -> None:
        self.events: list[TransferEvent] = []
        user.client.transfers.events.connect(self.events.append)

    def uploaded_progress(self) -> list[int]:
        return [e.done for e in self.events if isinstance(e, TransferProgress) and e.upload]


async def contacts(port: int, *users: User) -> None:
    for user in users:
        await user.add_contacts(port, *(other for other in users if other is not user))


async def downloaded(user: User, conversation: str, count: int = 1) -> list[StoredFile]:
    await user.log.wait(
        lambda: [f.state for f in files_in(user, conversation)].count("done") >= count
    )
    return files_in(user, conversation)


async def test_a_document_goes_with_its_caption_and_downloads_when_asked(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    content = os.urandom(700_000)  # three chunks
    source = write(tmp_path / "docs" / "relatório.pdf", content)

    queued = await ana.client.send_files(bruno.id, False, [source], "o relatório")
    assert queued.status == "queued"
    await ana.log.wait(lambda: bool(ana.log.of(MessageSent)))
    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
    [message] = bruno.store.messages_slice(ana.id, 0, 10)
    assert message.text == "o relatório"
    [incoming] = files_in(bruno, ana.id)
    assert (incoming.name, incoming.size, incoming.state) == (
        "relatório.pdf",
        len(content),
        "remote",
    )
    assert incoming.mime == "application/pdf"
    assert incoming.sha256 == hashlib.sha256(content).hexdigest()

    assert await bruno.client.download_file(incoming.local_id, incoming.position)
    [done] = await downloaded(bruno, ana.id)
    assert done.path is not None
    assert content_of(done.path) == content
    assert Path(done.path).parent == bruno.directory / "files"
    assert Path(done.path).name == "relatório.pdf"
    # Ana keeps her copy in her outbox, independent of the source.
    [mine] = files_in(ana, bruno.id)
    assert mine.state == "uploaded" and mine.path is not None
    assert content_of(mine.path) == content


async def test_small_images_download_by_themselves_larger_ones_wait(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno", auto_download_bytes=100_000)
    small = write(tmp_path / "ponto.png", PNG_1X1)
    large = write(tmp_path / "foto.jpg", os.urandom(300_000))
    thumbnail = base64.b64encode(PNG_1X1).decode()

    await ana.client.send_files(bruno.id, False, [small, large], thumbnails=[None, thumbnail])
    [png] = [f for f in await downloaded(bruno, ana.id) if f.name == "ponto.png"]
    assert png.path is not None and content_of(png.path) == PNG_1X1
    await settle(bruno)
    [jpeg] = [f for f in files_in(bruno, ana.id) if f.name == "foto.jpg"]
    assert jpeg.state == "remote"
    assert jpeg.thumbnail == thumbnail  # shown while the image waits
    # Without a caption the stored text is what older clients show: a line per file.
    [message] = bruno.store.messages_slice(ana.id, 0, 10)
    assert message.text == "\N{PAPERCLIP} ponto.png\n\N{PAPERCLIP} foto.jpg"


async def test_a_file_sent_offline_waits_in_the_outbox_and_survives_its_source(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Ana")
    ana = desktops.open(identity, "ana", start=False)
    content = os.urandom(200_000)
    source = write(tmp_path / "lista.txt", content)

    queued = await ana.client.send_files(bruno.id, False, [source], "")
    source.unlink()  # the outbox has its own copy
    assert ana.store.message(queued.local_id).status == "queued"  # type: ignore[union-attr]

    ana.client.start()
    await ana.log.wait(lambda: bool(ana.log.of(MessageSent)))
    await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
    [incoming] = files_in(bruno, ana.id)
    await bruno.client.download_file(incoming.local_id, 0)
    [done] = await downloaded(bruno, ana.id)
    assert content_of(done.path or "") == content


async def test_an_upload_resumes_after_the_connection_drops(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Ana")
    ana = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "ana")
    transfers = TransferLog(ana)
    content = os.urandom(12 * MIB)
    source = write(tmp_path / "video.mp4", content)
    try:
        await ana.wait_online()
        cut = False

        def cut_once(event: TransferEvent) -> None:
            nonlocal cut
            if isinstance(event, TransferProgress) and event.upload and event.done > 0 and not cut:
                cut = True
                proxy.cut()

        ana.client.transfers.events.connect(cut_once)
        await ana.client.send_files(bruno.id, False, [source])
        await ana.log.wait(lambda: bool(ana.log.of(MessageSent)), timeout=30)
        offsets = ana.client.transfers.upload_offsets
        assert cut and len(offsets) == 2 and offsets[0] == 0
        assert offsets[1] >= MIB  # resumed where the server stood, not from zero
        assert ana.client.transfers.bytes_uploaded < 2 * len(content)
        assert transfers.uploaded_progress()[-1] == len(content)
        await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
        [incoming] = files_in(bruno, ana.id)
        await bruno.client.download_file(incoming.local_id, 0)
        [done] = await downloaded(bruno, ana.id)
        assert hashlib.sha256(content_of(done.path or "")).digest() == (
            hashlib.sha256(content).digest()
        )
    finally:
        await proxy.close()


async def test_an_upload_resumes_after_the_app_restarts(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Ana")
    ana = desktops.open(identity, "ana")
    await ana.wait_online()
    content = os.urandom(12 * MIB)
    source = write(tmp_path / "backup.zip", content)
    confirmed = asyncio.Event()
    ana.client.transfers.events.connect(
        lambda e: confirmed.set() if isinstance(e, TransferProgress) and e.done > 0 else None
    )
    queued = await ana.client.send_files(bruno.id, False, [source])
    await asyncio.wait_for(confirmed.wait(), 20)
    await ana.client.stop()  # the app quits mid-upload
    ana.store.close()

    again = desktops.open(identity, "ana")  # the same profile, a new process's objects
    await again.log.wait(lambda: bool(again.log.of(MessageSent)), timeout=30)
    [offset] = again.client.transfers.upload_offsets
    assert offset >= MIB
    assert again.client.transfers.bytes_uploaded == len(content) - offset
    assert again.store.message(queued.local_id).status != "queued"  # type: ignore[union-attr]
    await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
    [incoming] = files_in(bruno, ana.id)
    assert incoming.size == len(content)


async def test_a_download_resumes_after_the_connection_drops(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    ana = await desktops.user(server.port, "Ana")
    identity = await register_client("127.0.0.1", server.port, "Bruno")
    bruno = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "bruno")
    content = os.urandom(6 * MIB)
    source = write(tmp_path / "dados.bin", content)
    try:
        await bruno.wait_online()
        await ana.client.send_files(bruno.id, False, [source])
        await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
        cut = False

        def cut_once(event: TransferEvent) -> None:
            nonlocal cut
            progress = isinstance(event, TransferProgress) and not event.upload
            if progress and not cut and 0 < event.done < len(content):  # type: ignore[union-attr]
                cut = True
                proxy.cut()

        bruno.client.transfers.events.connect(cut_once)
        [incoming] = files_in(bruno, ana.id)
        await bruno.client.download_file(incoming.local_id, 0)
        [done] = await downloaded(bruno, ana.id)
        offsets = bruno.client.transfers.download_offsets
        assert cut and offsets[0] == 0 and offsets[-1] > 0
        assert content_of(done.path or "") == content
        assert not list((bruno.directory / "files" / ".partial").iterdir())
    finally:
        await proxy.close()


async def test_one_upload_serves_every_member_of_a_group(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    await contacts(server.port, ana, bruno, carla)
    group = await ana.client.create_group("Viagem", [bruno.id, carla.id])
    content = os.urandom(400_000)
    await ana.client.send_files(
        group.group_id, True, [write(tmp_path / "roteiro.pdf", content)], "roteiro"
    )
    await ana.log.wait(lambda: bool(ana.log.of(MessageSent)))
    assert ana.client.transfers.upload_offsets == [0]  # uploaded once
    for member in (bruno, carla):
        await member.log.wait(lambda m=member: bool(files_in(m, group.group_id)))  # type: ignore[misc]
        [incoming] = files_in(member, group.group_id)
        await member.client.download_file(incoming.local_id, 0)
        [done] = await downloaded(member, group.group_id)
        assert content_of(done.path or "") == content


HOSTILE_NAMES = [
    ("../../.bashrc", "bashrc"),
    ("..\\..\\Windows\\System32\\evil.dll", "evil.dll"),
    ("C:\\boot.ini", "boot.ini"),
    ("CON.txt", "_CON.txt"),
    ("nul", "_nul"),
    ("fatura\u202efdp.exe", "fatura_fdp.exe"),
    ("a\u2066b\u2069c.txt", "a_b_c.txt"),
    ("...", "file"),
    ("  relatório .  ", "relatório"),
    ("x" * 250 + ".pdf", "x" * 196 + ".pdf"),
]


@pytest.mark.parametrize(("name", "expected"), HOSTILE_NAMES)
def test_hostile_names_become_one_plain_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


def test_unique_paths_and_executable_types(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert unique_path(tmp_path, "a.txt") == tmp_path / "a (1).txt"
    assert unique_path(tmp_path, "../a.txt") == tmp_path / "a (1).txt"
    assert is_executable_name("setup.EXE") and is_executable_name("run.sh")
    assert is_executable_name("foto.jpg\u202eexe.sh")
    assert not is_executable_name("foto.jpg") and not is_executable_name("notas.txt")


async def test_hostile_names_received_land_inside_the_files_folder(
    server: RunningServer, desktops: Desktops
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    wire = await WireClient.connect(server.port)
    ana = await wire.register("Ana")
    await wire.login(ana)
    names = ["../../.bashrc", "..\\evil.exe", "CON", "doc\u202etxt.exe"]
    ids = []
    for n, name in enumerate(names):
        reply = await wire.upload(f"payload {n}".encode(), name)
        assert isinstance(reply, protocol.FileReply), reply
        ids.append(reply.file.file_id)
    sent = await wire.request(
        protocol.Send,
        key="hostile",
        text="",
        to=bruno.id,
        files=[protocol.Attachment(file_id=i) for i in ids],
    )
    assert isinstance(sent, protocol.Sent), sent
    await bruno.log.wait(lambda: len(files_in(bruno, ana.client_id)) == len(names))
    for item in files_in(bruno, ana.client_id):
        assert item.name == names[item.position]  # stored as sent, shown as plain text
        await bruno.client.download_file(item.local_id, item.position)
    done = await downloaded(bruno, ana.client_id, len(names))
    folder = bruno.directory / "files"
    paths = sorted(Path(f.path or "").name for f in done)
    assert paths == sorted(["bashrc", "evil.exe", "_CON", "doc_txt.exe"])
    for item in done:
        path = Path(item.path or "")
        assert path.parent == folder
        assert content_of(item.path) == f"payload {item.position}".encode()
    assert not (bruno.directory.parent / ".bashrc").exists()
    await wire.close()


async def test_cancelling_a_download_keeps_what_came_and_asking_again_resumes(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    content = os.urandom(8 * MIB)
    await ana.client.send_files(bruno.id, False, [write(tmp_path / "grande.iso", content)])
    await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
    [incoming] = files_in(bruno, ana.id)
    cancelled = asyncio.Event()
    transfers = TransferLog(bruno)

    def cancel_once(event: TransferEvent) -> None:
        if isinstance(event, TransferProgress) and not cancelled.is_set() and event.done > 0:
            cancelled.set()
            asyncio.get_running_loop().create_task(
                bruno.client.cancel_download(incoming.local_id, 0)
            )

    bruno.client.transfers.events.connect(cancel_once)
    await bruno.client.download_file(incoming.local_id, 0)
    await asyncio.wait_for(cancelled.wait(), 20)
    await eventually(lambda: not bruno.client.transfers._downloading)
    assert any(isinstance(e, FileChanged) and e.state == "remote" for e in transfers.events)
    if not await bruno.client.download_file(incoming.local_id, 0):
        # The cancel came while the last bytes were being checked: the file is here.
        assert files_in(bruno, ana.id)[0].state == "done"
    [done] = await downloaded(bruno, ana.id)
    assert content_of(done.path or "") == content
    offsets = bruno.client.transfers.download_offsets
    # Resumed from what had come (or, when every byte had come before the cancel took
    # effect, nothing was asked again).
    assert offsets[0] == 0 and (len(offsets) == 1 or offsets[-1] > 0)


async def test_a_file_larger_than_the_quota_fails_the_message(
    server_factory: object, desktops: Desktops, tmp_path: Path
) -> None:
    server = await server_factory(file_quota_mb=1)  # type: ignore[operator]
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    queued = await ana.client.send_files(
        bruno.id, False, [write(tmp_path / "big.bin", os.urandom(2 * MIB))]
    )
    await ana.log.wait(lambda: bool(ana.log.of(MessageFailed)))
    [failed] = ana.log.of(MessageFailed)
    assert (failed.local_id, failed.code) == (queued.local_id, "quota_exceeded")


async def test_search_finds_a_message_by_its_file_name(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    await ana.client.send_files(
        bruno.id, False, [write(tmp_path / "orçamento-2026.xlsx", b"planilha")], "veja"
    )
    await bruno.log.wait(lambda: bool(files_in(bruno, ana.id)))
    for user in (ana, bruno):
        hits = user.store.search("orcamento")
        assert [h.text for h in hits] == ["veja"], user.identity.display_name


async def test_the_export_lists_files_with_links_to_the_copies_here(
    server: RunningServer, desktops: Desktops, tmp_path: Path
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    await ana.client.send_files(
        bruno.id,
        False,
        [write(tmp_path / "a.txt", b"one"), write(tmp_path / "Tom & Jerry.txt", b"two")],
        "two files",
    )
    await bruno.log.wait(lambda: len(files_in(bruno, ana.id)) == 2)
    await bruno.client.download_file(files_in(bruno, ana.id)[0].local_id, 0)
    [first, _] = await downloaded(bruno, ana.id)
    assert first.path is not None
    exported = json.loads(bruno.store.export_conversation(ana.id, "json"))
    assert exported[0]["text"] == "two files"
    assert exported[0]["files"] == [
        {"name": "a.txt", "size": 3, "mime": "text/plain",
         "sha256": hashlib.sha256(b"one").hexdigest(), "file": Path(first.path).as_uri()},
        {"name": "Tom & Jerry.txt", "size": 3, "mime": "text/plain",
         "sha256": hashlib.sha256(b"two").hexdigest(), "file": None},
    ]  # fmt: skip
    page = bruno.store.export_conversation(ana.id, "html")
    assert f'<a href="{Path(first.path).as_uri()}">a.txt</a>' in page
    assert "Tom &amp; Jerry.txt" in page and "Tom & Jerry" not in page

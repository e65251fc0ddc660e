"""Crash safety: kill -9 the server process mid-load, restart it on the same data
directory, and check that every message acknowledged to a sender is delivered exactly
once, and that file transfers resume where they stopped."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from messenger_server import protocol
from tests.wire import Identity, WireClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

LISTENING = re.compile(rb"listening on [^ ]+:(\d+)")


class ServerProcess:
    """``messenger-server`` as a child process, as an admin would run it."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.process: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MESSENGER_")}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "messenger_server",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--log-level", "INFO",
            stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        assert self.process.stderr is not None
        async with asyncio.timeout(20):
            while True:
                line = await self.process.stderr.readline()
                if not line:
                    raise RuntimeError("server exited before listening")
                if match := LISTENING.search(line):
                    self.port = int(match.group(1))
                    break
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        return self.port

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while await self.process.stderr.readline():
            pass

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 20)


async def registered(port: int, name: str) -> Identity:
    client = await WireClient.connect(port)
    identity = await client.register(name)
    await client.close()
    return identity


async def test_acknowledged_messages_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    port = await server.start()
    receiver = await registered(port, "Receiver")
    senders = [await registered(port, f"Sender {i}") for i in range(4)]

    acknowledged: dict[str, set[str]] = {s.client_id: set() for s in senders}
    attempted: dict[str, list[str]] = {s.client_id: [] for s in senders}
    killed = asyncio.Event()

    async def flood(identity: Identity) -> None:
        client = await WireClient.connect(port)
        await client.login(identity)
        in_flight: dict[int, str] = {}
        try:
            for i in range(100_000):
                if killed.is_set():
                    break
                key = f"{identity.client_id[:4]}-{i}"
                frame, future = client.new_request(
                    protocol.Send, key=key, text=key, to=receiver.client_id
                )
                attempted[identity.client_id].append(key)
                in_flight[frame.id] = key
                client.send_frame(frame)
                future.add_done_callback(
                    lambda f, key=key: (
                        acknowledged[identity.client_id].add(key)
                        if not f.cancelled()
                        and f.exception() is None
                        and isinstance(f.result(), protocol.Sent)
                        else None
                    )
                )
                if i % 50 == 49:
                    await asyncio.sleep(0)
                    await client.writer.drain()
        except (ConnectionError, OSError):
            pass
        await client.wait_closed(timeout=20)

    floods = [asyncio.create_task(flood(s)) for s in senders]
    # Let a good amount of traffic be acknowledged, then pull the plug.
    async with asyncio.timeout(30):
        while sum(len(a) for a in acknowledged.values()) < 2000:
            await asyncio.sleep(0.01)
    server.kill()
    killed.set()
    await server.process.wait()  # type: ignore[union-attr]
    await asyncio.gather(*floods)
    total_acked = sum(len(a) for a in acknowledged.values())
    assert total_acked >= 2000

    # Restart on the same data directory and port; the receiver drains everything.
    restarted = ServerProcess(tmp_path / "data", port)
    await restarted.start()
    client = await WireClient.connect(port)
    logged_in = await client.login(receiver)
    assert isinstance(logged_in, protocol.LoggedIn)
    received = await client.messages(logged_in.pending, timeout=60)
    texts = [m.text for m in received]

    assert len(texts) == len(set(texts)), "a message was delivered twice"
    delivered = set(texts)
    for sender in senders:
        missing = acknowledged[sender.client_id] - delivered
        assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
        # Per sender, delivery order is the sending order.
        order = [t for t in texts if t.startswith(sender.client_id[:4])]
        assert order == sorted(order, key=lambda t: int(t.rsplit("-", 1)[1]))

    # Resending everything that was attempted (as a client's outbox would, after a lost
    # acknowledgement) creates no duplicates.
    await client.request(protocol.Ping)
    for sender in senders:
        sender_client = await WireClient.connect(port)
        await sender_client.login(sender)
        unsure = [k for k in attempted[sender.client_id] if k not in delivered][:50]
        unsure += sorted(acknowledged[sender.client_id])[:50]
        for key in unsure:
            reply = await sender_client.request(
                protocol.Send, key=key, text=key, to=receiver.client_id
            )
            assert isinstance(reply, protocol.Sent)
            assert reply.duplicate == (key in delivered)
        await sender_client.close()
    extra = [m.text for m in await client.messages_within(1.0)]
    assert not set(extra) & delivered, "a resend delivered a duplicate"
    await client.close()
    assert await restarted.terminate() == 0


async def test_sigterm_shuts_down_gracefully_with_exit_code_0(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    port = await server.start()
    client = await WireClient.connect(port)
    identity = await client.register("Alice")
    await client.login(identity)
    assert await server.terminate() == 0
    await client.wait_closed()
    assert client.close_error is not None
    assert client.close_error.code == protocol.ErrorCode.SHUTTING_DOWN


async def test_transfers_resume_after_kill_9_where_they_stopped(tmp_path: Path) -> None:
    """A partial upload survives a crash of the server with its offset; a stored file
    survives one whole; a download goes on from where it stopped."""
    data = os.urandom(4 * 1024 * 1024 + 321)
    sha256 = hashlib.sha256(data).hexdigest()
    server = ServerProcess(tmp_path / "data")
    port = await server.start()
    alice, bob = await registered(port, "Alice"), await registered(port, "Bob")

    client = await WireClient.connect(port)
    await client.login(alice)
    status = await client.upload(data, "video.mp4", "video/mp4", until=2_500_000)
    assert isinstance(status, protocol.UploadStatus) and status.upload_id is not None
    resumed = await client.request(protocol.Upload, size=len(data), sha256=sha256, name="v.mp4")
    assert isinstance(resumed, protocol.UploadStatus) and resumed.offset == 2_500_000
    await client.send_chunks(status.upload_id, data, 2_500_000, 3_000_000)
    server.kill()  # with chunks maybe still on their way
    await server.process.wait()  # type: ignore[union-attr]
    await client.wait_closed()

    server = ServerProcess(tmp_path / "data", port)
    await server.start()
    client = await WireClient.connect(port)
    await client.login(alice)
    resumed = await client.request(protocol.Upload, size=len(data), sha256=sha256, name="v.mp4")
    assert isinstance(resumed, protocol.UploadStatus)
    assert resumed.upload_id == status.upload_id
    assert 2_500_000 <= resumed.offset <= 3_000_000, resumed.offset
    stored = await client.upload(data, "video.mp4", "video/mp4")  # from that offset on
    assert isinstance(stored, protocol.FileReply) and stored.file.sha256 == sha256
    sent = await client.request(
        protocol.Send,
        key="video",
        to=bob.client_id,
        files=[protocol.Attachment(stored.file.file_id)],
    )
    assert isinstance(sent, protocol.Sent)
    server.kill()
    await server.process.wait()  # type: ignore[union-attr]

    server = ServerProcess(tmp_path / "data", port)
    await server.start()
    receiver = await WireClient.connect(port)
    await receiver.login(bob)
    [message] = await receiver.messages(1)
    assert message.files is not None and message.files[0].sha256 == sha256
    _, head = await receiver.download(stored.file.file_id, length=1_000_000)
    server.kill()
    await server.process.wait()  # type: ignore[union-attr]

    server = ServerProcess(tmp_path / "data", port)
    await server.start()
    receiver = await WireClient.connect(port)
    await receiver.login(bob)
    end, tail = await receiver.download(stored.file.file_id, offset=len(head))
    assert isinstance(end, protocol.DownloadEnd)
    assert hashlib.sha256(head + tail).hexdigest() == sha256
    assert await server.terminate() == 0

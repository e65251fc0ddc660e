"""``messenger-bench``: a load generator that measures the server.

It starts ``messenger-server`` as a child process on a temporary data directory (or
uses ``--server HOST:PORT``), registers ``--clients`` clients, connects them all, and
has each send ``--messages`` direct messages to random peers, keeping up to
``--window`` unacknowledged sends in flight. Receivers acknowledge in batches, as the
desktop app does. It reports durable sends per second (``sent`` replies), deliveries
per second, send-to-delivery latency, and the server's memory per idle connection.

    messenger-bench --clients 1000 --messages 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from messenger_server import protocol

LISTENING = re.compile(rb"listening on [^ ]+:(\d+)")


@dataclass
class Stats:
    sent: int = 0
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)


class BenchClient:
    """A lean protocol client: pre-encoded frames, batched acks, no validation beyond
    what the shared decoder does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.frames = protocol.FrameReader(16 * 1024 * 1024)
        self.replies: dict[int, asyncio.Future[protocol.ServerFrame]] = {}
        self.next_id = 1
        self.client_id = ""
        self.window: asyncio.Semaphore | None = None
        self.sent_at: dict[int, float] = {}
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, host: str, port: int) -> BenchClient:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        client = cls(reader, writer)
        client.task = asyncio.create_task(client.read_loop(None))
        await client.request(protocol.Hello, protocol=protocol.PROTOCOL_VERSION, client="bench")
        return client

    async def request(self, kind: type, **fields: object) -> protocol.ServerFrame:
        request_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[protocol.ServerFrame] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        self.writer.write(protocol.encode(kind(id=request_id, **fields)))
        return await future

    async def read_loop(self, stats: Stats | None) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await self.reader.read(1 << 20):
                self.frames.feed(data)
                acks: list[int] = []
                for payload in self.frames.frames():
                    frame = protocol.decode_server_frame(payload)
                    if isinstance(frame, protocol.Message):
                        acks.append(frame.message_id)
                        if stats is not None:
                            stats.delivered += 1
                            sent = float(frame.text.partition(" ")[0])
                            stats.latencies.append(time.perf_counter() - sent)
                    elif isinstance(frame, protocol.Sent):
                        if stats is not None:
                            stats.sent += 1
                        if self.window is not None:
                            self.window.release()
                    elif isinstance(frame, protocol.Delivered | protocol.Read):
                        if frame.event_id is not None:
                            acks.append(frame.event_id)
                    elif (future := self.replies.pop(getattr(frame, "id", -1), None)) is not None:
                        future.set_result(frame)
                    elif isinstance(frame, protocol.Error):
                        print(f"error: {frame.code}: {frame.message}", file=sys.stderr)
                        if self.window is not None:
                            self.window.release()
                step = protocol.MAX_ACK_IDS
                for start in range(0, len(acks), step):
                    self.writer.write(protocol.encode(protocol.Ack(ids=acks[start : start + step])))

    async def send_many(self, peers: Sequence[str], count: int, window: int) -> None:
        self.window = asyncio.Semaphore(window)
        prefix = self.client_id.replace("-", "")
        for i in range(count):
            await self.window.acquire()
            self.next_id += 1
            frame = protocol.Send(
                id=self.next_id,
                key=f"{prefix}{i}",
                text=f"{time.perf_counter():.6f} benchmark message {i}",
                to=random.choice(peers),
            )
            self.writer.write(protocol.encode(frame))
            if i % 16 == 15:
                await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        if self.task is not None:
            self.task.cancel()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def start_server(data_dir: Path) -> tuple[asyncio.subprocess.Process, int]:
    """Start ``messenger-server`` on a free port; returns the process and its port."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "messenger_server", "--port", "0", "--data-dir", str(data_dir),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MESSENGER_LOG_LEVEL": "INFO", "MESSENGER_RATE_LIMIT": "100000",
             "MESSENGER_RATE_BURST": "100000"},
    )  # fmt: skip
    assert process.stderr is not None
    while True:
        line = await process.stderr.readline()
        if not line:
            raise RuntimeError("the server exited before listening")
        if match := LISTENING.search(line):
            asyncio.get_running_loop().create_task(_drain(process.stderr))
            return process, int(match.group(1))


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading the server's log so that its pipe never fills up."""
    while await stream.read(65536):
        pass


async def run(args: argparse.Namespace) -> dict[str, float]:
    process = None
    tmp = None
    if args.server:
        host, _, port_text = args.server.rpartition(":")
        port = int(port_text)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="messenger-bench-")
        process, port = await start_server(Path(tmp.name))
        host = "127.0.0.1"
    try:
        registrar = await BenchClient.connect(host, port)
        identities = []
        for i in range(args.clients):
            reply = await registrar.request(protocol.Register, display_name=f"bench {i}")
            assert isinstance(reply, protocol.Registered), reply
            identities.append((reply.client_id, reply.credential))
        await registrar.close()

        base_rss = rss_kib(process.pid) if process else 0
        clients: list[BenchClient] = []
        for start in range(0, len(identities), 100):
            batch = await asyncio.gather(
                *(BenchClient.connect(host, port) for _ in identities[start : start + 100])
            )
            clients.extend(batch)
        for client, (client_id, credential) in zip(clients, identities, strict=True):
            reply = await client.request(protocol.Login, client_id=client_id, credential=credential)
            assert isinstance(reply, protocol.LoggedIn), reply
            client.client_id = client_id
        await asyncio.sleep(0.5)
        idle_rss = rss_kib(process.pid) if process else 0

        stats = Stats()
        for client in clients:
            assert client.task is not None
            client.task.cancel()
            client.task = asyncio.create_task(client.read_loop(stats))
        peers = [client_id for client_id, _ in identities]
        total = args.clients * args.messages
        started = time.perf_counter()
        cpu_before = cpu_seconds(process.pid) if process else 0.0
        await asyncio.gather(*(c.send_many(peers, args.messages, args.window) for c in clients))
        while stats.delivered < total or stats.sent < total:
            await asyncio.sleep(0.01)
            if time.perf_counter() - started > args.timeout:
                print("timed out", file=sys.stderr)
                break
        elapsed = time.perf_counter() - started
        peak_rss = rss_kib(process.pid) if process else 0
        server_cpu = cpu_seconds(process.pid) - cpu_before if process else 0.0
        for client in clients:
            await client.close()
        latencies = sorted(stats.latencies) or [0.0]
        return {
            "clients": args.clients,
            "messages": total,
            "seconds": elapsed,
            "sent_per_second": stats.sent / elapsed,
            "delivered_per_second": stats.delivered / elapsed,
            "latency_p50_ms": statistics.median(latencies) * 1000,
            "latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "server_cpu_seconds": server_cpu,
            "server_cpu_us_per_message": server_cpu / max(1, stats.delivered) * 1e6,
            "idle_kib_per_connection": (idle_rss - base_rss) / max(1, args.clients),
            "server_rss_mib": peak_rss / 1024,
        }
    finally:
        if process is not None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=30)
        if tmp is not None:
            tmp.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="messenger-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100, help="messages per client")
    parser.add_argument("--window", type=int, default=32, help="unacknowledged sends per client")
    parser.add_argument("--server", help="HOST:PORT of a running server (default: start one)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    for name, value in results.items():
        print(f"{name:>26}: {value:,.1f}" if isinstance(value, float) else f"{name:>26}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

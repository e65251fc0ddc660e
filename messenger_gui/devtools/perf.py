"""Measurements for ``docs/benchmarks.md`` (``python -m messenger_gui.devtools.perf``).

``chat``: builds a 100,000-message conversation through the real store API, opens it in the
real :class:`~messenger_gui.ui.main_window.MainWindow` (offscreen unless a platform is set)
and prints how long opening, paging back and jumping to an old message take, each beside a
baseline of the same run (repainting a page already loaded), the longest stall of the event
loop while scrolling back, and the process's peak memory.

``catchup``: starts a real server (a child process), fills it with ``--messages`` messages for
two people who are offline, and times the real client catching up, each run in a process of
its own (so its memory is its own):

* Marina, headless (the client core, no Qt): login → every message stored and acknowledged;
* Bruno, with the real app's window open (his chat with the sender open as the first
  message arrives): the same, plus the longest stall of the event loop and the memory;
* Ana, the sender, headless and then with her window open (her chat with Marina open): login
  → the ticks of every one of her messages delivered (the receipts catch-up).

A measurement, not a test: nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from messenger_gui.client import MessengerClient, register_client
from messenger_gui.devtools.demo import ANA, OWN_ID, OWN_NAME, long_conversation
from messenger_gui.events import (
    BacklogProgress,
    ConnectionState,
    Event,
    MessageSent,
    MessagesReceived,
    MessageStatusChanged,
    StateChanged,
)
from messenger_gui.storage import ClientData, ClientStore, load_client_data, save_client_data
from messenger_server import protocol
from messenger_server.session import ClientSession

LISTENING = re.compile(r"listening on [^ ]+:(\d+)")
RUN_TIMEOUT = 600.0
"""Longest a single catch-up may take before it is reported as not finished."""


# --- memory ------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mib() -> float:
    """Current resident set size of this process in MiB (the peak where unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


@dataclass
class Sampler:
    """Samples the resident memory every ``interval`` seconds on a thread of its own."""

    interval: float = 0.1
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.samples.append(rss_mib())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(rss_mib())

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append(rss_mib())
        return {
            "rss_start_mib": round(self.samples[0], 1),
            "rss_max_mib": round(max(self.samples), 1),
            "rss_end_mib": round(self.samples[-1], 1),
        }


# --- chat: a 100,000-message conversation in the window ------------------------------------------


def fill(store: ClientStore, count: int, *, unread: int = 0) -> None:
    """``count`` messages from Ana, stored in backlog-sized batches; all but the last
    ``unread`` are read."""
    store.add_contact(*ANA)
    batch = []
    last_seq = 0
    for message in long_conversation(count):
        batch.append(message)
        last_seq = message.seq
        if len(batch) == 2000:
            store.save_messages_to_history(batch)
            batch = []
    store.save_messages_to_history(batch)
    if last_seq - unread > 0:
        store.set_read_marker(ANA[0], last_seq - unread)


def chat(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from messenger_gui.ui.main_window import MainWindow
    from messenger_gui.ui.theme import Theme

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store = ClientStore(Path(tmp) / "profile")
        fill(store, args.messages, unread=args.unread)
        fill_s = time.perf_counter() - started
        rss_before = peak_rss_mib()

        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        Theme(app, Qt.ColorScheme.Light)
        window = MainWindow(store, OWN_ID, OWN_NAME)
        window.resize(1100, 720)
        window.show()
        app.processEvents()
        view = window.chat_view
        model = window.message_model

        def timed(action: Callable[[], object]) -> float:
            """Milliseconds for ``action``, the events it posts and a repaint."""
            begun = time.perf_counter()
            action()
            app.processEvents()
            view.viewport().repaint()
            return (time.perf_counter() - begun) * 1000

        open_ms = timed(lambda: window.open_conversation(ANA[0], False))
        rows_at_open = model.rowCount()
        last = model.message(model.rowCount() - 1)
        shown_last = last is not None and last.text.startswith(f"{args.messages}:")
        baseline_ms = min(timed(lambda: None) for _ in range(10))

        # Scroll back page by page as a wheel would (a page of pixels at a time), with the
        # event loop running between steps; record the longest gap between its turns.
        stalls: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        tick = QTimer()
        tick.setInterval(5)
        last_turn = [clock.nsecsElapsed()]

        def turn() -> None:
            now = clock.nsecsElapsed()
            stalls.append((now - last_turn[0]) / 1e6)
            last_turn[0] = now

        tick.timeout.connect(turn)
        bar = view.verticalScrollBar()
        steps = 0
        scroll_started = time.perf_counter()
        tick.start()
        last_turn[0] = clock.nsecsElapsed()
        page_height = max(1, view.viewport().height())
        while model.rowCount() < rows_at_open + args.pages * 100 and steps < args.pages * 40:
            bar.setValue(max(0, bar.value() - page_height // 2))
            deadline = time.perf_counter() + 0.03  # a frame or two between wheel steps
            while time.perf_counter() < deadline:
                app.processEvents()
            steps += 1
            if not model.can_fetch_older() and bar.value() == 0:
                break
        tick.stop()
        scroll_s = time.perf_counter() - scroll_started
        loaded = model.rowCount()
        pages_loaded = max(0, loaded - rows_at_open) / 100
        page_ms = timed(lambda: view.verticalScrollBar().setValue(0))

        target = store.messages_slice(ANA[0], 10, 1)[0]
        jump_ms = timed(lambda: window.show_message(target.local_id))
        rss = peak_rss_mib()

        print(f"messages in the conversation:        {args.messages:,}")
        print(f"building the store (not the app):    {fill_s:.1f} s")
        print(f"baseline: repaint a loaded page:     {baseline_ms:.0f} ms")
        print(
            f"open + show the last page:           {open_ms:.0f} ms "
            f"(rows loaded: {rows_at_open}, last shown: {shown_last})"
        )
        print(
            f"scroll back by half screens:         {steps} steps in {scroll_s:.1f} s, "
            f"{pages_loaded:.0f} pages loaded; longest stall of the event loop "
            f"{max(stalls, default=0):.0f} ms, stalls > 50 ms: {sum(s > 50 for s in stalls)}"
        )
        print(f"scroll to the top of what is loaded: {page_ms:.0f} ms (rows loaded: {loaded:,})")
        print(f"jump to message #11 (search hit):     {jump_ms:.0f} ms")
        print(f"peak RSS of the process:             {rss:.0f} MiB (before the window: "
              f"{rss_before:.0f} MiB)")
        window.close()
        store.close()
    return 0


# --- catchup: a server with a 100,000-message backlog ---------------------------------------


class Server:
    """``messenger-server`` as a child process on a temporary data directory, with the
    per-connection rate limit lifted (filling it sends 200,000 messages from one client)."""

    def __init__(self, data: Path) -> None:
        env = {
            **os.environ,
            "MESSENGER_RATE_LIMIT": "1000000",
            "MESSENGER_RATE_BURST": "1000000",
            "MESSENGER_LOG_LEVEL": "INFO",
        }
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "messenger_server", "--host", "127.0.0.1"),
                *("--port", "0", "--data-dir", str(data)),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.port = 0
        for line in self.process.stderr:
            match = LISTENING.search(line)
            if match:
                self.port = int(match.group(1))
                break
        if not self.port:
            raise RuntimeError("the server did not start")
        # Keep reading its log, or it blocks once the pipe is full.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def pending_for(port: int, identity: ClientData) -> int:
    """What the server says is waiting for ``identity`` (``logged_in.pending``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    session = ClientSession()
    try:
        session.send_request(lambda rid: protocol.Hello(id=rid, protocol=2, client="perf"))
        session.send_request(
            lambda rid: protocol.Login(
                id=rid, client_id=identity.client_id, credential=identity.credential
            )
        )
        writer.write(session.data_to_send())
        while True:
            data = await reader.read(65536)
            if not data:
                raise RuntimeError("the server closed the connection")
            session.receive_data(data)
            for item in session.events_received():
                reply = getattr(item, "reply", None)
                if isinstance(reply, protocol.LoggedIn):
                    return reply.pending
    finally:
        writer.close()


async def prepare(data: Path, port: int, count: int) -> dict[str, ClientData]:
    """Register Ana, Marina and Bruno; Ana sends ``count`` messages to each of the other two
    through her real client (her history then holds them, sent) while they are offline."""
    people = {}
    for name in ("Ana", "Marina", "Bruno"):
        identity = await register_client("127.0.0.1", port, name)
        save_client_data(data / name.lower(), identity)
        people[name.lower()] = identity
    store = ClientStore(data / "ana")
    # The fill is not what is measured: no fsync per queued message (the store's own
    # connection is used for this one pragma; the app never does this).
    writer = getattr(store, "_writer", None) or store._conn
    writer.execute("PRAGMA synchronous = OFF")
    started = time.perf_counter()
    for n in range(count):
        for peer in ("marina", "bruno"):
            store.queue_outgoing(people[peer].client_id, False, f"{n + 1}: message number {n + 1}")
    writer.execute("PRAGMA synchronous = FULL")
    took = time.perf_counter() - started
    print(f"  queued {2 * count:,} messages in Ana's outbox in {took:.1f} s")
    client = MessengerClient(store, people["ana"])
    sent = 0
    all_sent = asyncio.Event()

    def on_event(event: Event) -> None:
        nonlocal sent
        if isinstance(event, MessageSent):
            sent += 1
            if sent >= 2 * count:
                all_sent.set()

    client.events.connect(on_event)
    started = time.perf_counter()
    client.start()
    await asyncio.wait_for(all_sent.wait(), RUN_TIMEOUT)
    print(f"  Ana's client sent them in {time.perf_counter() - started:.1f} s")
    await client.stop()
    store.close()
    return people


def catchup(args: argparse.Namespace) -> int:
    count = args.messages
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="messenger-perf-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"catch-up of {count:,} messages (data in {base})")
    server = Server(base / "server")
    try:
        people = asyncio.run(prepare(base, server.port, count))
        shutil.copytree(base / "ana", base / "ana-window")
        runs = [
            ("marina", "messages", False, "Marina: messages, headless (client core)"),
            ("bruno", "messages", True, "Bruno: messages, window open"),
            ("ana", "receipts", False, "Ana: receipts, headless (client core)"),
            ("ana-window", "receipts", True, "Ana: receipts, window open"),
        ]
        if args.runs:
            runs = [run for run in runs if run[0] in args.runs.split(",")]
        results = {}
        for profile, kind, window, title in runs:
            command = [sys.executable, "-m", "messenger_gui.devtools.perf", "catchup-run"]
            command += ["--profile", str(base / profile), "--kind", kind]
            # Ana's receipts: every message she sent to whoever caught up before.
            receivers = sum(1 for name in ("marina", "bruno") if name in results)
            expected = count if kind == "messages" else receivers * count
            command += ["--port", str(server.port), "--count", str(expected)]
            command += ["--peer", people["ana" if kind == "messages" else "marina"].client_id]
            if window:
                command.append("--window")
            print(f"- {title} ...", flush=True)
            try:
                out = subprocess.run(
                    command, capture_output=True, text=True, timeout=RUN_TIMEOUT + 60
                )
            except subprocess.TimeoutExpired:
                print("  did not finish")
                continue
            lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
            if out.returncode != 0 or not lines:
                print(f"  failed ({out.returncode}):\n{out.stderr[-3000:]}")
                continue
            result = json.loads(lines[-1])
            results[profile] = result
            print("  " + describe(result))
            if kind == "messages":
                identity = load_client_data(base / profile)
                assert identity is not None
                waiting = asyncio.run(pending_for(server.port, identity))
                print(f"  the server has {waiting} events waiting for it afterwards")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def describe(result: dict[str, Any]) -> str:
    parts = [f"{result['seconds']:.2f} s", f"{result['done']:,} of {result['count']:,}"]
    if "max_stall_ms" in result:
        parts.append(
            f"longest stall of the event loop {result['max_stall_ms']:.0f} ms "
            f"(stalls > 50 ms: {result['stalls_over_50ms']}; baseline, the idle window: "
            f"{result['idle_stall_ms']:.0f} ms)"
        )
    parts.append(
        f"RSS {result['rss_start_mib']:.0f} → max {result['rss_max_mib']:.0f} → "
        f"{result['rss_end_mib']:.0f} MiB"
    )
    if result.get("progress"):
        parts.append(f"progress shown: {result['progress']!r}")
    return "; ".join(parts)


# --- one measured catch-up, in a process of its own ------------------------------------------


class Progress:
    """Counts, from the client's events, how far a catch-up is."""

    def __init__(self, kind: str, count: int) -> None:
        self.kind = kind
        self.count = count
        self.done = 0
        self.ticked: set[int] = set()
        """Ana's messages that got their second tick (delivered, or read at once)."""
        self.synced = False
        self.finished = asyncio.Event()
        self.first_message = asyncio.Event()
        self.state: ConnectionState = ConnectionState.OFFLINE

    def __call__(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.state = event.state
        elif isinstance(event, MessagesReceived):
            self.done += len(event.messages)
            self.first_message.set()
        elif isinstance(event, MessageStatusChanged) and self.kind == "receipts":
            self.ticked.update(event.local_ids)  # delivered, or read straight away
            self.done = len(self.ticked)
        elif isinstance(event, BacklogProgress) and event.received >= event.total:
            self.synced = True
        if self.done >= self.count and (self.synced or self.kind == "receipts"):
            self.finished.set()


async def measured(
    client: MessengerClient, progress: Progress, started: float
) -> dict[str, Any]:
    await asyncio.wait_for(progress.finished.wait(), RUN_TIMEOUT)
    if progress.kind == "messages":
        await client.ping()  # the last ack has reached the server
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "done": progress.done, "count": progress.count}


def catchup_run(args: argparse.Namespace) -> int:
    profile = Path(args.profile)
    identity = load_client_data(profile)
    assert identity is not None
    if args.window:
        result = _run_with_window(args, profile)
    else:
        result = asyncio.run(_run_headless(args, profile, identity))
    print(json.dumps(result))
    return 0


async def _run_headless(
    args: argparse.Namespace, profile: Path, identity: ClientData
) -> dict[str, Any]:
    sampler = Sampler()
    store = ClientStore(profile)
    client = MessengerClient(store, identity)
    progress = Progress(args.kind, args.count)
    client.events.connect(progress)
    sampler.start()
    started = time.perf_counter()
    client.start()
    try:
        result = await measured(client, progress, started)
    finally:
        memory = sampler.stop()
        await client.stop()
        store.close()
    return {**result, **memory}


def _run_with_window(args: argparse.Namespace, profile: Path) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from messenger_gui.app import AppController
    from messenger_gui.ui.theme import Theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    Theme(app, Qt.ColorScheme.Light)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sampler = Sampler()
    stalls: list[float] = []
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setInterval(5)
    last_turn = [0]

    def turn() -> None:
        now = clock.nsecsElapsed()
        stalls.append((now - last_turn[0]) / 1e6)
        last_turn[0] = now

    tick.timeout.connect(turn)
    progress_texts: list[str] = []

    async def scenario() -> dict[str, Any]:
        clock.start()
        last_turn[0] = clock.nsecsElapsed()
        tick.start()
        sampler.start()
        started = time.perf_counter()
        controller = AppController(profile)
        controller.start()  # opens the window and starts connecting
        window = controller.window
        client = controller.client
        assert window is not None and client is not None
        progress = Progress(args.kind, args.count)
        client.events.connect(progress)
        if args.kind == "receipts":
            window.open_conversation(args.peer, False)

        async def open_when_it_arrives() -> None:
            await progress.first_message.wait()
            window.open_conversation(args.peer, False)

        async def watch_progress() -> None:
            while not progress.finished.is_set():
                text = window.connection_label.text()
                if "of" in text or "de" in text:
                    progress_texts.append(re.sub(r"<[^>]+>", "", text).strip())
                await asyncio.sleep(0.25)

        tasks = [asyncio.ensure_future(watch_progress())]
        if args.kind == "messages":
            tasks.append(asyncio.ensure_future(open_when_it_arrives()))
        try:
            result = await measured(client, progress, started)
            memory = sampler.stop()
            busy = list(stalls)
            # The baseline: the same loop with the same window, idle, for a second.
            stalls.clear()
            await asyncio.sleep(1.0)
            idle = max(stalls, default=0.0)
        finally:
            tick.stop()
            for task in tasks:
                task.cancel()
            stopped = asyncio.Event()
            controller.finished.connect(lambda _code: stopped.set())
            controller.quit(0)
            await asyncio.wait_for(stopped.wait(), 30)
        return {
            **result,
            **memory,
            "max_stall_ms": round(max(busy, default=0.0), 1),
            "stalls_over_50ms": sum(s > 50 for s in busy),
            "idle_stall_ms": round(idle, 1),
            "progress": progress_texts[len(progress_texts) // 2] if progress_texts else "",
        }

    with loop:
        result: dict[str, Any] = loop.run_until_complete(scenario())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messenger_gui.devtools.perf",
        description="Measurements for docs/benchmarks.md.",
    )
    commands = parser.add_subparsers(dest="command")
    chat_parser = commands.add_parser("chat", help="a 100,000-message chat in the window")
    chat_parser.add_argument("--messages", type=int, default=100_000)
    chat_parser.add_argument("--pages", type=int, default=20, help="older pages to scroll back")
    chat_parser.add_argument(
        "--unread", type=int, default=0, help="newest messages left unread (marker placement)"
    )
    catchup_parser = commands.add_parser("catchup", help="catching up with a large backlog")
    catchup_parser.add_argument("--messages", type=int, default=100_000)
    catchup_parser.add_argument("--keep", metavar="DIR", help="keep the data in DIR")
    catchup_parser.add_argument("--json", metavar="FILE", help="also write the results there")
    catchup_parser.add_argument(
        "--runs", metavar="NAMES", help="only these, e.g. marina,ana (marina,bruno,ana,ana-window)"
    )
    run_parser = commands.add_parser("catchup-run", help=argparse.SUPPRESS)
    run_parser.add_argument("--profile", required=True)
    run_parser.add_argument("--kind", choices=["messages", "receipts"], required=True)
    run_parser.add_argument("--port", type=int, required=True)
    run_parser.add_argument("--count", type=int, required=True)
    run_parser.add_argument("--peer", required=True)
    run_parser.add_argument("--window", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "catchup":
        return catchup(args)
    if args.command == "catchup-run":
        return catchup_run(args)
    if args.command is None:
        args = chat_parser.parse_args([])
    return chat(args)


if __name__ == "__main__":
    sys.exit(main())

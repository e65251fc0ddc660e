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
* Bruno, with the real app's window open on his chat with the sender (a contact whose chat
  is empty yet): the same, plus the longest stall of the event loop and the memory;
* Ana, the sender, after Marina and before Bruno, headless and then with her window open
  (her chat with Marina open): login → the ticks of her ``--messages`` messages to Marina
  delivered (the receipts catch-up).

A measurement, not a test: nothing is asserted; the figures are printed. With
``MESSENGER_PERF_PROFILE=PREFIX`` each catch-up also writes a cProfile of its process's
main thread to ``PREFIX.<profile>`` (the store's writer thread is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
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
from messenger_server.bench.target import SERVER_ENVIRONMENT
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
        quarter = self.samples[len(self.samples) // 4]
        return {
            "rss_start_mib": round(self.samples[0], 1),
            "rss_quarter_mib": round(quarter, 1),
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
    """Build the history in a child process (so that its memory is not counted), then
    open it here in the real window, on a qasync loop as in the app."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        started = time.perf_counter()
        command = [sys.executable, "-m", "messenger_gui.devtools.perf", "chat-fill"]
        command += [str(profile), str(args.messages), str(args.unread)]
        subprocess.run(command, check=True)
        fill_s = time.perf_counter() - started
        return _chat_in_window(args, profile, fill_s)


def chat_fill(args: argparse.Namespace) -> int:
    with ClientStore(Path(args.profile)) as store:
        fill(store, args.messages, unread=args.unread)
    return 0


def _chat_in_window(args: argparse.Namespace, profile: Path, fill_s: float) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from messenger_gui.ui.chat import MAX_ROWS
    from messenger_gui.ui.main_window import MainWindow
    from messenger_gui.ui.theme import Theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    Theme(app, Qt.ColorScheme.Light)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    store = ClientStore(profile)
    rss_before = rss_mib()
    window = MainWindow(store, OWN_ID, OWN_NAME)
    window.resize(1100, 720)
    window.show()
    view = window.chat_view
    model = window.message_model
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

    async def settle() -> None:
        await asyncio.sleep(0.05)

    async def timed(action: Callable[[], object]) -> float:
        """Milliseconds for ``action`` and the repaint it causes."""
        begun = time.perf_counter()
        action()
        view.viewport().repaint()
        took = (time.perf_counter() - begun) * 1000
        await settle()
        return took

    async def scenario() -> dict[str, Any]:
        await settle()
        baseline = min([await timed(lambda: None) for _ in range(10)])
        open_ms = await timed(lambda: window.open_conversation(ANA[0], False))
        rows_at_open = model.rowCount()
        last = model.message(model.rowCount() - 1)
        shown_last = last is not None and last.text.startswith(f"{args.messages}:")
        repaint_ms = min([await timed(lambda: None) for _ in range(10)])

        # Scroll back as a wheel does, half a screen every 30 ms, with the event loop
        # running in between; record the longest gap between two of its turns.
        prepended = 0

        def counted(added: int) -> None:
            nonlocal prepended
            prepended += 1

        model.older_loaded.connect(counted)
        sync_reads = model.pages_read
        bar = view.verticalScrollBar()
        clock.start()
        last_turn[0] = clock.nsecsElapsed()
        tick.start()
        scroll_started = time.perf_counter()
        steps = 0
        while prepended < args.pages and steps < 400:
            bar.setValue(max(0, bar.value() - max(1, view.viewport().height()) // 2))
            steps += 1
            await asyncio.sleep(0.03)
        tick.stop()
        scroll_s = time.perf_counter() - scroll_started
        sync_reads = model.pages_read - sync_reads
        page_ms = await timed(lambda: bar.setValue(0))
        loaded = model.rowCount()
        target = store.messages_slice(ANA[0], 10, 1)[0]
        jump_ms = await timed(lambda: window.show_message(target.local_id))
        return {
            "baseline": baseline,
            "open": open_ms,
            "rows_at_open": rows_at_open,
            "shown_last": shown_last,
            "repaint": repaint_ms,
            "steps": steps,
            "scroll_s": scroll_s,
            "prepended": prepended,
            "sync_reads": sync_reads,
            "max_stall": max(stalls, default=0.0),
            "over_50": sum(stall > 50 for stall in stalls),
            "page": page_ms,
            "loaded": loaded,
            "jump": jump_ms,
        }

    with loop:
        r = loop.run_until_complete(scenario())
    rss = rss_mib()
    print(f"messages in the conversation:        {args.messages:,}")
    print(f"building the store (not measured):   {fill_s:.1f} s")
    print(f"baseline: repaint the window:        {r['baseline']:.0f} ms (no chat open)")
    print(
        f"open + paint the last page:          {r['open']:.0f} ms "
        f"(rows loaded: {r['rows_at_open']}, last shown: {r['shown_last']}; "
        f"repainting it again: {r['repaint']:.0f} ms)"
    )
    print(
        f"scroll back, half a screen per 30 ms: {r['steps']} steps in {r['scroll_s']:.1f} s, "
        f"{r['prepended']} older pages prepended, {r['sync_reads']} of them read on the GUI "
        f"thread (the rest read ahead); longest stall of the event loop "
        f"{r['max_stall']:.0f} ms (a turn every 5 ms asked), stalls > 50 ms: {r['over_50']}"
    )
    print(
        f"scroll to the top of what is loaded:  {r['page']:.0f} ms "
        f"(rows loaded: {r['loaded']:,}, at most {MAX_ROWS})"
    )
    print(f"jump to message #11 (search hit):     {r['jump']:.0f} ms")
    print(
        f"RSS of the process:                  {rss:.0f} MiB (before the window: "
        f"{rss_before:.0f} MiB; peak {peak_rss_mib():.0f} MiB)"
    )
    window.close()
    store.close()
    return 0


# --- catchup: a server with a 100,000-message backlog ---------------------------------------


class Server:
    """``messenger-server`` as a child process on a temporary data directory, with the
    defences against abuse out of the way as for ``messenger-bench`` (filling it sends
    200,000 messages from one client, far more than a sender may leave waiting)."""

    def __init__(self, data: Path) -> None:
        env = {**os.environ, **SERVER_ENVIRONMENT, "MESSENGER_LOG_LEVEL": "INFO"}
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
    for name in ("marina", "bruno"):  # they know Ana: her chat is there, empty, to open
        with ClientStore(data / name) as theirs:
            theirs.add_contact(people["ana"].client_id, "Ana")
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
        # Ana's two runs come after Marina's and before Bruno's: each applies the receipts
        # of the messages one person stored, ``--messages`` of them, as in the issue.
        runs = [
            ("marina", "messages", False, "Marina: messages, headless (client core)"),
            ("ana", "receipts", False, "Ana: receipts, headless (client core)"),
            ("ana-window", "receipts", True, "Ana: receipts, window open"),
            ("bruno", "messages", True, "Bruno: messages, window open"),
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
        f"RSS {result['rss_start_mib']:.0f} at the start, {result['rss_quarter_mib']:.0f} a "
        f"quarter of the way, max {result['rss_max_mib']:.0f}, {result['rss_end_mib']:.0f} "
        "at the end (MiB)"
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
        self.synced = False
        self.finished = asyncio.Event()
        self.state: ConnectionState = ConnectionState.OFFLINE

    def __call__(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.state = event.state
        elif isinstance(event, MessagesReceived):
            self.done += len(event.messages)
        elif isinstance(event, MessageStatusChanged) and self.kind == "receipts":
            # Delivered, or read straight away: a login's markers move each message once.
            self.done += len(event.local_ids)
        elif isinstance(event, BacklogProgress) and event.received >= event.total:
            self.synced = True
        if self.done >= self.count and (self.synced or self.kind == "receipts"):
            self.finished.set()


async def measured(client: MessengerClient, progress: Progress, started: float) -> dict[str, Any]:
    await asyncio.wait_for(progress.finished.wait(), RUN_TIMEOUT)
    if progress.kind == "messages":
        await client.ping()  # the last ack has reached the server
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "done": progress.done, "count": progress.count}


def catchup_run(args: argparse.Namespace) -> int:
    profile = Path(args.profile)
    identity = load_client_data(profile)
    assert identity is not None
    profile_out = os.environ.get("MESSENGER_PERF_PROFILE")  # a cProfile of this run, if set
    profiler = cProfile.Profile() if profile_out else None
    if profiler is not None:
        profiler.enable()
    if args.window:
        result = _run_with_window(args, profile)
    else:
        result = asyncio.run(_run_headless(args, profile, identity))
    if profiler is not None and profile_out:
        profiler.disable()
        profiler.dump_stats(f"{profile_out}.{Path(args.profile).name}")
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
    from messenger_gui.ui import i18n
    from messenger_gui.ui.theme import Theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    Theme(app, Qt.ColorScheme.Light)
    i18n.install_translators(app, "en")  # as the app does: "Receiving 12,400 of 100,000…"
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
        # The window opens on the chat with the peer (the receiver's with Ana, empty yet,
        # or Ana's with Marina), as ``messenger --open-chat`` does, and starts connecting.
        controller = AppController(profile, open_chat=args.peer)
        controller.start()
        stalls.clear()  # from here on the window is open: the catch-up is measured
        last_turn[0] = clock.nsecsElapsed()
        window = controller.window
        client = controller.client
        assert window is not None and client is not None
        progress = Progress(args.kind, args.count)
        client.events.connect(progress)

        async def watch_progress() -> None:
            while not progress.finished.is_set():
                if window.backlog_label.isVisible():
                    progress_texts.append(window.backlog_label.text())
                await asyncio.sleep(0.25)

        tasks = [asyncio.ensure_future(watch_progress())]
        try:
            result = await measured(client, progress, started)
            busy = list(stalls)  # before stopping the sampler (joining it waits)
            memory = sampler.stop()
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
    fill_parser = commands.add_parser("chat-fill", help=argparse.SUPPRESS)
    fill_parser.add_argument("profile")
    fill_parser.add_argument("messages", type=int)
    fill_parser.add_argument("unread", type=int)
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
    if args.command == "chat-fill":
        return chat_fill(args)
    if args.command is None:
        args = chat_parser.parse_args([])
    return chat(args)


if __name__ == "__main__":
    sys.exit(main())

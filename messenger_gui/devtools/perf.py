"""Measure the chat with a 100,000-message conversation
(``python -m messenger_gui.devtools.perf``).

Builds a temporary profile through the real store API, opens the conversation in the real
:class:`~messenger_gui.ui.main_window.MainWindow` (offscreen unless a platform is set) and
prints how long opening, paging back and jumping to an old message take, and the process's
peak memory. A measurement for ``docs/benchmarks.md``, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from messenger_gui.devtools.demo import ANA, OWN_ID, OWN_NAME, long_conversation
from messenger_gui.storage import ClientStore


def peak_rss_mib() -> float | None:
    """Peak resident set size of this process in MiB (``None`` where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messenger_gui.devtools.perf", description=__doc__
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20, help="older pages to scroll back")
    parser.add_argument(
        "--unread", type=int, default=0, help="newest messages left unread (marker placement)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import Qt
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

        started = time.perf_counter()
        window.open_conversation(ANA[0], False)
        app.processEvents()
        window.chat_view.viewport().repaint()
        open_s = time.perf_counter() - started
        model = window.message_model
        rows_at_open = model.rowCount()
        last = model.message(model.rowCount() - 1)
        shown_last = last is not None and last.text.startswith(f"{args.messages}:")

        view = window.chat_view
        started = time.perf_counter()
        for _ in range(args.pages):
            view.verticalScrollBar().setValue(0)
            app.processEvents()
            view.viewport().repaint()
        loaded = model.rowCount()
        page_ms = (time.perf_counter() - started) * 1000 / max(1, args.pages)

        target = store.messages_slice(ANA[0], 10, 1)[0]
        started = time.perf_counter()
        window.show_message(target.local_id)
        app.processEvents()
        view.viewport().repaint()
        jump_s = time.perf_counter() - started

        rss = peak_rss_mib()
        print(f"messages in the conversation:        {args.messages:,}")
        print(f"building the store (not the app):    {fill_s:.1f} s")
        print(
            f"open + show the last page:           {open_s * 1000:.0f} ms "
            f"(rows loaded: {rows_at_open}, last shown: {shown_last})"
        )
        print(
            f"scroll back one page (avg of {args.pages}):    {page_ms:.0f} ms "
            f"(rows loaded after: {loaded:,})"
        )
        print(f"jump to message #11 (search hit):     {jump_s * 1000:.0f} ms")
        if rss is not None:
            before = "" if rss_before is None else f" (before the window: {rss_before:.0f} MiB)"
            print(f"peak RSS of the process:             {rss:.0f} MiB{before}")
        window.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``messenger`` command: the desktop app.

Creates the ``QApplication``, installs the translation, and runs :class:`AppController` on
a qasync event loop (Qt's loop driving asyncio, so the client core and the widgets share
one thread). ``--self-test`` builds the main window on a temporary profile and exits: the
packaged app's smoke test, which needs no server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from messenger_gui import config as app_config
from messenger_gui import storage
from messenger_server import __version__

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer, QTranslator
    from PySide6.QtWidgets import QApplication

    from messenger_gui.app import AppController

log = logging.getLogger("messenger_gui")


def parse_server(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, or ``[v6]:PORT``) for ``--server``."""
    from messenger_gui.ui.dialogs.welcome import parse_server_address

    address = parse_server_address(text, app_config.PORT)
    if address is None:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return address


def parse_geometry(text: str) -> tuple[int, int, int, int]:
    """``WxH+X+Y`` for ``--geometry``, as ``(x, y, width, height)``."""
    match = re.fullmatch(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT+X+Y, got {text!r}")
    width, height, x, y = (int(g) for g in match.groups())
    return x, y, width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="messenger",
        description="Messenger desktop app: chat one-to-one and in groups on your server.",
    )
    parser.add_argument(
        "--server",
        metavar="HOST:PORT",
        type=parse_server,
        help=(
            "the server to register with on the first run (default "
            f"{app_config.HOST}:{app_config.PORT}); later, connect there instead "
            "of the stored address"
        ),
    )
    parser.add_argument("--tls", action="store_true", help="first run: the server uses TLS")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--profile",
        metavar="NAME",
        help="use the profile NAME (its own identity and history; default: 'default')",
    )
    where.add_argument(
        "--data-dir",
        metavar="PATH",
        type=Path,
        help="use PATH as the profile directory (instead of the platform's data folder)",
    )
    parser.add_argument(
        "--lang",
        choices=["en", "pt_BR"],
        help="language of the interface (default: the system's)",
    )
    parser.add_argument(
        "--geometry",
        metavar="WxH+X+Y",
        type=parse_geometry,
        help="initial size and position of the window, e.g. 960x680+40+60",
    )
    parser.add_argument(
        "--open-chat",
        metavar="ID",
        help="open the chat with this contact or group ID at start",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("MESSENGER_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging to stderr (default INFO, or $MESSENGER_LOG_LEVEL)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="build the main window on a temporary profile, then exit 0 (no server needed)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from messenger_gui.ui.binding import check_binding

    try:
        check_binding()
    except RuntimeError as exc:
        print(f"messenger: {exc}", file=sys.stderr)
        return 1
    if args.self_test:
        return self_test(args.lang)
    try:
        profile = args.data_dir if args.data_dir is not None else storage.profile_dir(args.profile)
    except ValueError as exc:
        print(f"messenger: {exc}", file=sys.stderr)
        return 2
    return run_app(
        profile.resolve(), args.server, args.tls, args.lang, args.geometry, args.open_chat
    )


def _create_application(lang: str | None) -> tuple[QApplication, list[QTranslator]]:
    """The QApplication with its name, icon and translation (``lang`` or the system's)."""
    from PySide6.QtWidgets import QApplication

    from messenger_gui.ui import i18n
    from messenger_gui.ui.resources import app_icon
    from messenger_gui.ui.theme import Theme

    QApplication.setApplicationName("Messenger")
    QApplication.setOrganizationName("Messenger")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("messenger")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the controller decides (tray)
    language = i18n.choose_language(lang)
    translators = i18n.install_translators(app, language)
    log.info("language %s", language)
    Theme(app)  # parented to the app: lives as long as it, follows the system's scheme
    from messenger_gui.ui.fonts import warn_without_emoji_font

    warn_without_emoji_font()
    return app, translators


def run_app(
    profile: Path,
    server: tuple[str, int] | None,
    use_tls: bool,
    lang: str | None,
    geometry: tuple[int, int, int, int] | None = None,
    open_chat: str | None = None,
) -> int:
    """Create the Qt application and run the app on ``profile`` until it quits."""
    import qasync
    from PySide6.QtWidgets import QApplication, QMessageBox

    from messenger_gui.app import AppController
    from messenger_gui.ui.single_instance import ProfileLock

    app, _translators = _create_application(lang)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    log.info("profile %s", profile)

    def cannot_start(exc: BaseException) -> int:
        log.error("cannot open the profile %s: %s", profile, exc)
        QMessageBox.critical(
            None,
            QApplication.translate("main", "Messenger cannot start"),
            QApplication.translate("main", "The profile in %1 cannot be opened:\n%2")
            .replace("%1", str(profile))
            .replace("%2", str(exc)),
        )
        return 1

    try:
        lock = ProfileLock(profile)
    except OSError as exc:
        return cannot_start(exc)
    with loop:
        if not lock.acquire():
            if loop.run_until_complete(lock.ask_running_instance_to_show()):
                log.info("Messenger already runs with this profile: brought its window forward")
            else:
                print(f"messenger: already running with the profile {profile}", file=sys.stderr)
            return 0
        controller = AppController(
            profile, server=server, use_tls=use_tls, geometry=geometry, open_chat=open_chat
        )
        _signal_timer = _quit_on_signals(controller)
        try:
            loop.run_until_complete(lock.serve(controller.show_window))
            return int(loop.run_until_complete(controller.run()))
        except (ValueError, OSError, storage.SchemaTooNewError) as exc:
            return cannot_start(exc)
        finally:
            loop.run_until_complete(lock.release())


def _quit_on_signals(controller: AppController) -> QTimer:
    """Quit cleanly (client stopped, history closed) on SIGINT and SIGTERM.

    Python runs signal handlers only between bytecodes, and Qt's loop may idle in C++ for
    long: the returned timer (keep it) wakes the interpreter a few times a second.
    """
    from PySide6.QtCore import QTimer

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        controller.quit(0)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    timer = QTimer()
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def self_test(lang: str | None) -> int:
    """Build the main window offscreen-capable on a throw-away profile and exit 0.

    Checks what a broken bundle would get wrong: Qt plugins, icons, translations, SQLite
    with its search index, the qasync loop. Prints one line per check.
    """
    import qasync

    from messenger_gui.storage import ClientStore
    from messenger_gui.ui import i18n
    from messenger_gui.ui.main_window import MainWindow
    from messenger_gui.ui.resources import resource_path

    app, translators = _create_application(lang)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="messenger-self-test-") as tmp:
        store = ClientStore(Path(tmp) / "profile")
        if not store.has_full_text_index:
            log.warning("SQLite has no trigram tokenizer: search falls back to scanning")
        window = MainWindow(store, "SELF-TEST", "Self test")
        window.show()

        async def settle() -> None:
            await asyncio.sleep(0.3)

        with loop:
            loop.run_until_complete(settle())
        if not window.isVisible():
            problems.append("the main window is not visible")
        window.close()
        store.close()
    if not resource_path("icons", "messenger.svg").is_file():
        problems.append(f"icons missing in {resource_path('icons')}")
    qm = Path(i18n.translation_file("pt_BR"))
    if not qm.is_file():
        problems.append(f"translation missing: {qm}")
    from messenger_gui.ui.fonts import INSTALL_HINT, emoji_font_family

    emoji = emoji_font_family()
    print(
        f"messenger {__version__} self-test: platform {app.platformName()}, "
        f"{len(translators)} translator(s) installed"
    )
    # Not a failure (the app works), but emoji would be empty boxes: say what to install.
    print(f"emoji: {emoji}" if emoji else f"emoji: no font has them ({INSTALL_HINT})")
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

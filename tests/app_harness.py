"""Driving real app instances against a real server, all on one qasync loop.

The server is plain asyncio and the app runs on qasync, so a test creates one
``qasync.QEventLoop`` over pytest-qt's ``qapp`` and runs its whole scenario on it
(:meth:`Scenario.run`): the server, every app instance (each with its own profile in
``tmp_path``) and the widgets share the loop, exactly as in the real app. Tests are plain
(synchronous) functions, so pytest-asyncio does not create a loop of its own.

Waiting is always bounded: :func:`wait_until` polls a condition with ``asyncio.sleep``
(letting the loop run) and fails with a message after its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from messenger_gui.app import AppController
from messenger_gui.client import MessengerClient
from messenger_gui.events import ConnectionState
from messenger_gui.storage import ClientStore, MessageStatus, StoredMessage
from messenger_gui.ui.main_window import MainWindow
from tests.conftest import RunningServer

log = logging.getLogger(__name__)

T = TypeVar("T")

SCENARIO_TIMEOUT = 45.0
"""Upper bound of one scenario (below pytest-timeout's 60 s, so a hang fails cleanly)."""


async def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, what: str = "the condition"
) -> None:
    """Let the loop run until ``predicate()`` is true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class AppUnderTest:
    """One person's app: an :class:`AppController` on its own profile directory."""

    def __init__(
        self,
        qtbot: QtBot,
        profile: Path,
        server: tuple[str, int] | None,
        open_chat: str | None = None,
    ) -> None:
        self.qtbot = qtbot
        self.profile = profile
        self.server = server
        self.controller = AppController(profile, server=server, open_chat=open_chat)

    # --- access ---

    @property
    def window(self) -> MainWindow:
        assert self.controller.window is not None, "the main window is not open"
        return self.controller.window

    @property
    def client(self) -> MessengerClient:
        assert self.controller.client is not None
        return self.controller.client

    @property
    def store(self) -> ClientStore:
        assert self.controller.store is not None
        return self.controller.store

    @property
    def own_id(self) -> str:
        assert self.controller.identity is not None
        return self.controller.identity.client_id

    def start(self) -> None:
        self.controller.start()

    async def settle(self) -> None:
        """A deterministic "nothing more arrives": a ``ping`` round trip through this app's
        connection; what the server sent before the ``pong`` has been stored and shown."""
        await self.client.ping()

    async def quit(self) -> None:
        """Quit as the user does (Quit action) and wait until it has stopped."""
        if self.controller.stopped:
            return
        self.controller.quit(0)
        await wait_until(lambda: self.controller.stopped, 10, "the app to quit")

    # --- flows, driven through the widgets ---

    async def register(self, name: str) -> str:
        """First run: type the name in the welcome dialog, Register, Continue. Returns
        the new ID once the main window is up and online."""
        self.start()
        welcome = self.controller.welcome
        assert welcome is not None, "this profile already has an identity"
        welcome.name_edit.clear()
        self.qtbot.keyClicks(welcome.name_edit, name)
        self.qtbot.mouseClick(welcome.register_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: welcome.pages.currentIndex() == 1, 10, f"{name} registered")
        client_id = welcome.id_label.text()
        self.qtbot.mouseClick(welcome.continue_button, Qt.MouseButton.LeftButton)
        await self.wait_online()
        return client_id

    async def wait_online(self, timeout: float = 10.0) -> None:
        await wait_until(
            lambda: (
                self.controller.window is not None
                and self.controller.state == ConnectionState.ONLINE
            ),
            timeout,
            f"{self.profile.name} to be online",
        )

    async def add_contact(self, client_id: str, expected_name: str) -> None:
        """Add contact → type the ID → Look up → check the name → Add."""
        self.window.add_contact_requested.emit()
        dialog = self.controller.add_contact_dialog
        assert dialog is not None
        self.qtbot.keyClicks(dialog.id_edit, client_id.lower())
        self.qtbot.mouseClick(dialog.lookup_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.found_id is not None, 5, f"lookup of {client_id}")
        assert expected_name in dialog.result_text
        self.qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await wait_until(
            lambda: self.controller.add_contact_dialog is None, 5, "the contact to be added"
        )
        assert self.store.contact(client_id) is not None

    def open_chat(self, conversation: str, is_group: bool = False) -> None:
        self.window.open_conversation(conversation, is_group)

    def type_and_send(self, text: str) -> None:
        """Type ``text`` in the composer and press Enter."""
        composer = self.window.composer
        self.qtbot.keyClicks(composer.input, text)
        self.qtbot.keyClick(composer.input, Qt.Key.Key_Return)

    def activate(self) -> None:
        """Bring this app's window to the front (the user looks at it)."""
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def messages(self, conversation: str) -> list[StoredMessage]:
        return self.store.messages_slice(conversation, 0, 1000)

    def status_of(self, conversation: str, text: str) -> MessageStatus | None:
        for message in self.messages(conversation):
            if message.text == text and message.direction == "out":
                return message.status
        return None

    def shown_texts(self) -> list[str]:
        """The texts of the bubbles in the open chat, in display order."""
        model = self.window.message_model
        return [
            m.text for m in (model.message(row) for row in range(model.rowCount())) if m is not None
        ]


class Scenario:
    """A test's world: servers and apps on one qasync loop; everything is stopped at the
    end, even when the test fails."""

    def __init__(self, qapp: QApplication, qtbot: QtBot, tmp_path: Path) -> None:
        self.qapp = qapp
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self.servers: list[RunningServer] = []
        self.apps: list[AppUnderTest] = []

    async def start_server(self, **overrides: Any) -> RunningServer:
        server = RunningServer(self.tmp_path / f"server{len(self.servers)}", **overrides)
        await server.start()
        self.servers.append(server)
        return server

    def app(
        self, name: str, server: RunningServer | None = None, *, open_chat: str | None = None
    ) -> AppUnderTest:
        """A new app instance on the profile ``tmp_path/name`` (reused when the same name
        is asked for again: that is restarting the app); ``open_chat`` as
        ``messenger --open-chat``."""
        address = None if server is None else ("127.0.0.1", server.port)
        app = AppUnderTest(self.qtbot, self.tmp_path / name, address, open_chat)
        self.apps.append(app)
        return app

    async def _cleanup(self) -> None:
        for app in self.apps:
            with contextlib.suppress(Exception):
                await app.quit()
        for server in self.servers:
            await server.close_clients()
            await server.stop()
        # Destroy the widgets here, while the loop runs, rather than whenever the garbage
        # collector gets to them (possibly in the middle of the next test's events).
        for app in self.apps:
            for widget in (app.controller.window, app.controller.welcome):
                if widget is not None:
                    widget.deleteLater()
            app.controller.deleteLater()
        self.apps.clear()
        # Back to the (qasync = Qt) event loop a few times, so the deferred deletions run.
        # Never processEvents() inside a task: qasync runs asyncio callbacks as Qt timer
        # events, and a nested processEvents() would run other tasks' wake-ups inside this
        # task, where asyncio refuses and drops them for good.
        for _ in range(3):
            await asyncio.sleep(0.01)
        gc.collect()

    def run(self, scenario: Callable[[], Awaitable[T]], timeout: float = SCENARIO_TIMEOUT) -> T:
        """Run ``scenario()`` to completion on a fresh qasync loop, then stop every app and
        server it started."""
        self.qapp.setQuitOnLastWindowClosed(False)  # as the app does: the tray decides
        loop = qasync.QEventLoop(self.qapp)
        asyncio.set_event_loop(loop)

        async def guarded() -> T:
            try:
                return await asyncio.wait_for(scenario(), timeout)
            finally:
                await asyncio.wait_for(self._cleanup(), 15)

        try:
            return loop.run_until_complete(guarded())
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            asyncio.set_event_loop(None)
            kill_loop_timers(loop)


def kill_loop_timers(loop: Any) -> None:
    """Unregister the Qt timers a closed qasync loop still holds.

    ``QEventLoop.close()`` only marks its timer object stopped; each pending ``call_later``
    (keep-alive pings, timeouts) stays registered with Qt until it fires, possibly long
    after this test, when the loop and its timer object may be gone.
    """
    timer = getattr(loop, "_timer", None)
    callbacks = getattr(timer, "_SimpleTimer__callbacks", None)
    if timer is None or not isinstance(callbacks, dict):
        return
    for timer_id in list(callbacks):
        timer.killTimer(timer_id)
    callbacks.clear()


@pytest.fixture
def scenario(qapp: QApplication, qtbot: QtBot, tmp_path: Path) -> Iterator[Scenario]:
    yield Scenario(qapp, qtbot, tmp_path)


async def registered(scenario: Scenario, server: RunningServer, *names: str) -> list[AppUnderTest]:
    """Apps registered under ``names`` (profiles named after them in lower case), each of
    them having added every other one as a contact."""
    apps = [scenario.app(name.lower(), server) for name in names]
    for app, name in zip(apps, names, strict=True):
        await app.register(name)
    for app in apps:
        for other, name in zip(apps, names, strict=True):
            if other is not app:
                await app.add_contact(other.own_id, name)
    return apps

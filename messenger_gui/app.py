"""The controller: wires the client core to the main window, the dialogs and the tray.

:class:`AppController` is the one place where widgets meet :class:`MessengerClient`:
widgets emit Qt signals, the controller calls the core (starting coroutines with
:meth:`AppController.spawn`, the one helper that does so) and feeds the core's events back
to the widgets. Widgets never see the client, and the client never sees a widget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QObject,
    QRect,
    QSettings,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QSplitter,
    QWidget,
)

from messenger_gui import config as app_config
from messenger_gui import storage
from messenger_gui.client import MessengerClient, RequestError, register_client
from messenger_gui.events import (
    BacklogProgress,
    ConnectionState,
    ConversationsChanged,
    Event,
    MessageDeleted,
    MessageFailed,
    MessageRetried,
    MessageSent,
    MessagesReceived,
    MessageStatusChanged,
    StateChanged,
)
from messenger_gui.storage import ClientData, ClientStore, StoredMessage
from messenger_gui.ui.chat import failure_reason
from messenger_gui.ui.dialogs.add_contact import AddContactDialog
from messenger_gui.ui.dialogs.errors import describe_error
from messenger_gui.ui.dialogs.group_info import GroupInfoDialog
from messenger_gui.ui.dialogs.new_group import NewGroupDialog
from messenger_gui.ui.dialogs.search import SearchDialog
from messenger_gui.ui.dialogs.welcome import WelcomeDialog
from messenger_gui.ui.formatting import fill, isolate
from messenger_gui.ui.main_window import MainWindow
from messenger_gui.ui.tray import Tray

log = logging.getLogger(__name__)

T = TypeVar("T")

SETTINGS_FILE: Final = "settings.ini"
NOTIFICATION_PREVIEW_CHARS: Final = 140
GEOMETRY_KEY: Final = "window/geometry"
SPLITTER_KEY: Final = "window/splitter"


def fit_to_screen(wanted: QRect) -> QRect:
    """``wanted`` moved, and shrunk if need be, into the available area of the screen it
    starts on (or the primary screen), so that a window asked for off-screen (``--geometry``,
    ``make demo`` on a small display) still shows whole."""
    screen = QGuiApplication.screenAt(wanted.topLeft()) or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    width, height = min(wanted.width(), area.width()), min(wanted.height(), area.height())
    x = max(area.left(), min(wanted.x(), area.right() + 1 - width))
    y = max(area.top(), min(wanted.y(), area.bottom() + 1 - height))
    return QRect(x, y, width, height)


class AppController(QObject):
    """One running app: one profile, one identity, one main window.

    Args:
        profile: the profile directory (identity, history, settings).
        server: ``(host, port)`` given on the command line: the default of the welcome
            dialog on the first run, and where to connect instead of the stored address
            later; ``None`` for the stored address (or ``config.HOST``/``PORT``).
        use_tls: the welcome dialog's default for the TLS toggle.
        geometry: ``(x, y, width, height)`` of the main window, instead of where it was
            last time.
        open_chat: the ID of a chat to open at start (``make demo``: each window shows
            the other person's chat, ready for typing).

    Call :meth:`start`, then wait for :attr:`finished` (or ``await`` :meth:`run`). Tests
    drive the widgets it exposes (:attr:`welcome`, :attr:`window`, the dialogs).
    """

    finished = Signal(int)
    """The app ended (after Quit, or the first-run dialog closed); the exit status."""
    window_opened = Signal()

    def __init__(
        self,
        profile: Path,
        *,
        server: tuple[str, int] | None = None,
        use_tls: bool = False,
        geometry: tuple[int, int, int, int] | None = None,
        open_chat: str | None = None,
    ) -> None:
        super().__init__()
        self._geometry = geometry
        self._open_chat = open_chat
        self.profile = profile
        self._server_override = server
        self._default_tls = use_tls
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.stopped = False
        """True once :meth:`quit` has finished (the client is stopped, the store closed)."""
        self._exit_code: asyncio.Future[int] | None = None
        self.settings = QSettings(str(profile / SETTINGS_FILE), QSettings.Format.IniFormat)
        self.identity: ClientData | None = None
        self.store: ClientStore | None = None
        self.client: MessengerClient | None = None
        self.window: MainWindow | None = None
        self.tray: Tray | None = None
        self.welcome: WelcomeDialog | None = None
        self.add_contact_dialog: AddContactDialog | None = None
        self.new_group_dialog: NewGroupDialog | None = None
        self.group_info_dialog: GroupInfoDialog | None = None
        self.search_dialog: SearchDialog | None = None
        self.export_dialog: QFileDialog | None = None
        self.last_error_box: QMessageBox | None = None
        self.block_box: QMessageBox | None = None
        self.retry_button: QPushButton | None = None
        self.close_to_tray_action: QAction | None = None
        self.state: ConnectionState = ConnectionState.OFFLINE
        self._retry_deadline = 0.0
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(1000)
        self._retry_timer.timeout.connect(self._show_state)
        self._state_event: StateChanged | None = None
        self._pending_reads: dict[str, tuple[bool, int]] = {}
        self._last_notified: tuple[str, bool] | None = None

    # --- coroutines from slots ---

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` in the background on the current loop: the one way slots start async
        work. The task is kept referenced until it ends; an exception is logged (callers
        that want to show it to the user catch it inside ``coro``)."""
        task = asyncio.ensure_future(coro)
        if name is not None:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background task %s failed", task.get_name(), exc_info=error)

    async def idle(self) -> None:
        """Wait until every task started with :meth:`spawn` has finished (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- life cycle ---

    def start(self) -> None:
        """Open the profile: the main window when it has an identity, else the welcome
        dialog (the main window follows once registered).

        Raises:
            ValueError: the identity file is damaged (never silently replaced).
            storage.SchemaTooNewError: the history was written by a newer version.
        """
        identity = storage.load_client_data(self.profile)
        if identity is None:
            host, port = self._server_override or (app_config.HOST, app_config.PORT)
            self.welcome = WelcomeDialog(host, port, self._default_tls)
            self.welcome.register_requested.connect(self._register)
            self.welcome.accepted.connect(self._welcome_done)
            self.welcome.rejected.connect(lambda: self.quit(0))
            self.welcome.show()
            return
        if self._server_override is not None:
            host, port = self._server_override
            if (host, port) != (identity.server_host, identity.server_port):
                log.info("connecting to %s:%d as given on the command line", host, port)
                identity = dataclasses.replace(identity, server_host=host, server_port=port)
        self._open_main(identity)

    async def run(self) -> int:
        """:meth:`start`, then wait until the app ends; returns the exit status."""
        self._exit_code = asyncio.get_running_loop().create_future()
        self.start()
        return await self._exit_code

    def quit(self, code: int = 0) -> None:
        """Stop the client cleanly, close everything and end :meth:`run` with ``code``."""
        if not self._stopping:
            self._stopping = True
            self.spawn(self._shutdown(code), name="shutdown")

    async def _shutdown(self, code: int) -> None:
        """Every step runs even if an earlier one fails: quitting must always end."""
        self._retry_timer.stop()
        if self.window is not None:
            self.window.flush_draft()  # what was typed and not sent survives the restart
        drafts = [task for task in self._tasks if task.get_name() == "draft"]
        if drafts:
            await asyncio.wait(drafts, timeout=10)
        if self.client is not None:
            try:
                await self.client.stop()
            except Exception:
                log.exception("stopping the client failed")
        for dialog in (
            self.welcome,
            self.add_contact_dialog,
            self.new_group_dialog,
            self.group_info_dialog,
            self.search_dialog,
            self.export_dialog,
        ):
            if dialog is not None:
                dialog.close()
        if self.tray is not None:
            self.tray.allow_close()
            self.tray.hide()
        if self.window is not None:
            self._save_geometry(self.window)
            self.window.shut_down()
            self.window.close()
        if self.store is not None:
            try:
                self.store.close()
            except Exception:
                log.exception("closing the history failed")
            self.store = None
        self.settings.sync()
        self.stopped = True
        log.info("stopped")
        self.finished.emit(code)
        if self._exit_code is not None and not self._exit_code.done():
            self._exit_code.set_result(code)

    # --- first run ---

    def _register(self, host: str, port: int, use_tls: bool, name: str, invite: str) -> None:
        self.spawn(self._register_async(host, port, use_tls, name, invite), name="register")

    async def _register_async(
        self, host: str, port: int, use_tls: bool, name: str, invite: str = ""
    ) -> None:
        welcome = self.welcome
        assert welcome is not None
        try:
            identity = await register_client(
                host, port, name, use_tls=use_tls, invite=invite or None
            )
            storage.save_client_data(self.profile, identity)
        except (RequestError, OSError, ValueError) as exc:
            log.warning("registration at %s:%d failed: %s", host, port, exc)
            welcome.registration_failed(
                describe_error(exc, connecting=True), getattr(exc, "code", None)
            )
            return
        except Exception as exc:
            log.exception("registration at %s:%d failed", host, port)
            welcome.registration_failed(describe_error(exc))
            return
        log.info("registered as %s at %s:%d", identity.client_id, host, port)
        self.identity = identity
        welcome.registration_succeeded(
            identity.client_id, identity.display_name, identity.tls_fingerprint
        )

    def _welcome_done(self) -> None:
        welcome, self.welcome = self.welcome, None
        if welcome is not None:
            welcome.deleteLater()
        if self.identity is not None:
            self._open_main(self.identity)

    # --- the main window ---

    def _open_main(self, identity: ClientData) -> None:
        self.identity = identity
        self.store = ClientStore(self.profile)
        self.client = MessengerClient(self.store, identity)
        window = self.window = MainWindow(self.store, identity.client_id, identity.display_name)
        self.tray = Tray(window, self.settings)
        self.tray.show_requested.connect(self.show_window)
        self.tray.notification_clicked.connect(self._open_notified)
        self.tray.quit_requested.connect(lambda: self.quit(0))
        if self.tray.available:
            self._add_close_to_tray_option(window, self.tray)
        window.send_requested.connect(self._send)
        window.read_position_changed.connect(self._read_position_changed)
        window.add_contact_requested.connect(self.open_add_contact)
        window.new_group_requested.connect(self.open_new_group)
        window.search_requested.connect(self.open_search)
        window.group_info_requested.connect(self.open_group_info)
        window.export_requested.connect(self.open_export)
        window.copy_id_requested.connect(self.copy_id)
        window.unread_changed.connect(self._show_unread)
        window.chat_view.retry_requested.connect(self.retry_message)
        window.chat_view.delete_requested.connect(self.delete_message)
        window.quit_requested.connect(lambda: self.quit(0))
        window.draft_changed.connect(self._save_draft)
        window.add_to_contacts_requested.connect(self._add_stranger)
        window.block_requested.connect(self.confirm_block)

        retry = getattr(window, "retry_requested", None)
        if retry is not None:
            retry.connect(self.reconnect_now)
        window.installEventFilter(self)
        self.retry_button = QPushButton(self.tr("Retry now"))
        self.retry_button.setFlat(True)
        self.retry_button.hide()
        self.retry_button.clicked.connect(self.reconnect_now)
        # Not flush with the window's corner: as far from the edge as the state is.
        holder = QWidget(window)
        holder_layout = QHBoxLayout(holder)
        holder_layout.setContentsMargins(0, 2, 12, 2)
        holder_layout.addWidget(self.retry_button)
        window.statusBar().addPermanentWidget(holder)
        self._restore_geometry(window)
        if self._geometry is not None:
            window.setGeometry(fit_to_screen(QRect(*self._geometry)))
        self.client.events.connect(self._on_event)
        self._update_unread()
        window.show()
        window.raise_()
        window.activateWindow()
        if self._open_chat is not None:
            summary = window.conversation_model.summary(
                window.conversation_model.row_of(self._open_chat) or 0
            )
            if summary is not None and summary.conversation == self._open_chat:
                window.open_conversation(summary.conversation, summary.is_group)
        window.focus_typing()  # the open chat's field, else the filter (never ☰)
        self.client.start()
        self.window_opened.emit()

    def _add_close_to_tray_option(self, window: MainWindow, tray: Tray) -> None:
        """A checkable "Keep running in the tray" entry just before Quit in the menu."""
        action = QAction(self.tr("Keep running in the tray when closed"), window)
        action.setCheckable(True)
        action.setChecked(tray.close_to_tray)
        action.toggled.connect(tray.set_close_to_tray)
        window.main_menu.insertAction(window.action_quit, action)
        self.close_to_tray_action = action

    def _restore_geometry(self, window: MainWindow) -> None:
        geometry = self.settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        splitter = window.findChild(QSplitter, "mainSplitter")
        state = self.settings.value(SPLITTER_KEY)
        if splitter is not None and isinstance(state, QByteArray):
            splitter.restoreState(state)

    def _save_geometry(self, window: MainWindow) -> None:
        self.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        splitter = window.findChild(QSplitter, "mainSplitter")
        if splitter is not None:
            self.settings.setValue(SPLITTER_KEY, splitter.saveState())

    def show_window(self) -> None:
        """Bring the main window back (from the tray, a notification or a second start)."""
        if self.window is None and self.welcome is not None:
            self.welcome.show()
            self.welcome.raise_()
            self.welcome.activateWindow()
        if self.window is not None:
            self.window.show()
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()

    def reconnect_now(self) -> None:
        """Skip the remaining wait before the next connection attempt ("Retry now")."""
        if self.client is None:
            return
        if self.state in (ConnectionState.REFUSED, ConnectionState.REPLACED):
            self.client.start()
        else:
            self.client.reconnect_now()

    def copy_id(self) -> None:
        """Put this client's ID on the clipboard, and say so for a moment."""
        if self.identity is not None:
            QGuiApplication.clipboard().setText(self.identity.client_id)
            self._status_message(
                self.tr("Your ID %1 is copied: paste it to whoever wants to add you.").replace(
                    "%1", self.identity.client_id
                )
            )

    def _status_message(self, text: str, ms: int = 4000) -> None:
        if self.window is not None:
            self.window.statusBar().showMessage(text, ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """When the main window becomes active, confirm what the open chat shows."""
        if watched is self.window and event.type() == QEvent.Type.WindowActivate:
            QTimer.singleShot(0, self._flush_pending_reads)
        return super().eventFilter(watched, event)

    # --- sending and reading ---

    def retry_message(self, local_id: int) -> None:
        """Send a message the server refused again (the chat's "Retry")."""
        if self.client is not None:
            self.spawn(self._retry_message_async(local_id), name="retry")

    async def _retry_message_async(self, local_id: int) -> None:
        assert self.client is not None
        if not await self.client.retry_message(local_id):
            log.info("message %d was not failed any more: nothing to retry", local_id)

    def delete_message(self, local_id: int) -> None:
        """Delete a message that was not sent (the chat's "Delete")."""
        if self.client is not None:
            self.spawn(self._delete_message_async(local_id), name="delete")

    async def _delete_message_async(self, local_id: int) -> None:
        assert self.client is not None
        if not await self.client.delete_message(local_id):
            self._status_message(self.tr("This message is being sent and cannot be deleted."))

    def _send(self, conversation: str, is_group: bool, text: str) -> None:
        self.spawn(self._send_async(conversation, is_group, text), name="send")

    async def _send_async(self, conversation: str, is_group: bool, text: str) -> None:
        assert self.client is not None
        try:
            message = await self.client.send_message(conversation, is_group, text)
        except ValueError as exc:
            self._warn(self.tr("Message not sent"), str(exc))
            return
        if self.window is not None:
            self.window.messages_received([message])

    def _attentive(self) -> bool:
        """The user can see the open chat: the window is shown and has the focus."""
        window = self.window
        return (
            window is not None
            and window.isVisible()
            and not window.isMinimized()
            and window.isActiveWindow()
        )

    def _read_position_changed(self, conversation: str, is_group: bool, up_to_seq: int) -> None:
        if not self._attentive():
            _, previous = self._pending_reads.get(conversation, (is_group, -1))
            self._pending_reads[conversation] = (is_group, max(previous, up_to_seq))
            return
        self._pending_reads.pop(conversation, None)
        self._confirm_read(conversation, is_group, up_to_seq)

    def _flush_pending_reads(self) -> None:
        if self.window is None or not self._attentive():
            return
        current = self._current_id()
        pending, self._pending_reads = self._pending_reads, {}
        for conversation, (is_group, up_to_seq) in pending.items():
            if conversation == current:
                self._confirm_read(conversation, is_group, up_to_seq)

    def _current_id(self) -> str | None:
        current = self.window.current_conversation() if self.window is not None else None
        return None if current is None else current[0]

    def _confirm_read(self, conversation: str, is_group: bool, up_to_seq: int) -> None:
        if self.client is None or self.store is None:
            return
        marker = self.store.read_marker(conversation)
        if marker is not None and marker >= up_to_seq:
            return
        self.spawn(self._confirm_read_async(conversation, is_group, up_to_seq), name="read")

    async def _confirm_read_async(self, conversation: str, is_group: bool, up_to_seq: int) -> None:
        assert self.client is not None
        await self.client.confirm_read(conversation, is_group, up_to_seq)
        if self.window is not None:
            self.window.schedule_reload()  # the badge and the total follow

    def _update_unread(self) -> None:
        if self.window is not None:
            self._show_unread(self.window.unread_total)

    def _show_unread(self, total: int) -> None:
        """The unread total in the tray and the window title ("Messenger (3)"), which the
        taskbar shows even without a tray; the main window counts it at each refresh."""
        if self.tray is not None:
            self.tray.set_unread(total)
        if self.window is not None:
            title = self.tr("Messenger")
            self.window.setWindowTitle(f"{title} ({total})" if total else title)

    # --- events from the client core ---

    def _on_event(self, event: Event) -> None:
        window = self.window
        if window is None:
            return
        match event:
            case StateChanged():
                self._state_changed(event)
            case MessagesReceived(messages=messages, backlog=backlog):
                window.messages_received(messages)
                if not backlog:
                    self._notify(messages)
            case MessageStatusChanged(conversation=conversation, local_ids=ids, status=status):
                window.message_status_changed(conversation, ids, status)
            case MessageSent(message=message):
                window.message_sent(message)
            case MessageFailed(local_id=local_id, code=code):
                # The bubble shows the failure (and offers Retry/Delete); no modal box.
                window.message_model.refresh_messages([local_id])
                window.schedule_reload()
                self._status_message(
                    self.tr("Message not sent: %1").replace("%1", failure_reason(code)), 10_000
                )
            case MessageRetried(message=message):
                window.message_model.refresh_messages([message.local_id])
                window.schedule_reload()
            case MessageDeleted(conversation=conversation, local_id=local_id):
                window.message_model.remove_message(conversation, local_id)
                window.schedule_reload()
            case ConversationsChanged():
                window.schedule_reload()
                self._refresh_group_info()
            case BacklogProgress(received=received, total=total):
                window.set_backlog_progress(received, total)

    def _state_changed(self, event: StateChanged) -> None:
        self.state = event.state
        self._state_event = event
        if event.state == ConnectionState.WAITING and event.retry_in is not None:
            self._retry_deadline = time.monotonic() + event.retry_in
            self._retry_timer.start()
        else:
            self._retry_timer.stop()
        if self.tray is not None:
            self.tray.set_online(event.state == ConnectionState.ONLINE)
        self._show_state()

    def state_text(self) -> str:
        """The status line for the current connection state."""
        event = self._state_event
        state = self.state
        if state == ConnectionState.ONLINE:
            return self.tr("Online")
        if state == ConnectionState.CONNECTING:
            return self.tr("Connecting…")
        if state == ConnectionState.WAITING:
            seconds = max(0, round(self._retry_deadline - time.monotonic()))
            if seconds <= 0:
                return self.tr("Offline — retrying…")
            return self.tr("Offline — retrying in %n s", "", seconds)
        if state == ConnectionState.REFUSED:
            code = event.error_code if event is not None else None
            if code == "client_disabled":
                return self.tr("Account disabled by the server's administrator")
            if code == "unknown_client":
                return self.tr("The server does not know this identity (was it reset?)")
            if code in ("certificate_untrusted", "certificate_mismatch"):
                return self.tr("Server certificate not trusted")
            return self.tr("Credential refused")
        if state == ConnectionState.REPLACED:
            return self.tr("Signed in elsewhere")
        return self.tr("Offline")

    def _show_state(self) -> None:
        if self.retry_button is not None:
            if self.state == ConnectionState.REPLACED:
                self.retry_button.setText(self.tr("Use here"))
            elif self.state == ConnectionState.REFUSED:
                self.retry_button.setText(self.tr("Try again"))
            else:
                self.retry_button.setText(self.tr("Retry now"))
            self.retry_button.setVisible(
                self.state
                in (ConnectionState.WAITING, ConnectionState.REFUSED, ConnectionState.REPLACED)
            )
        if self.window is not None:
            self.window.set_connection_state(
                self.state_text(), online=self.state == ConnectionState.ONLINE
            )

    def _save_draft(self, conversation: str, text: str) -> None:
        if self.store is not None:
            self.spawn(self._save_draft_async(conversation, text), name="draft")

    async def _save_draft_async(self, conversation: str, text: str) -> None:
        assert self.store is not None
        if await self.store.run(self.store.save_draft, conversation, text) and self.window:
            self.window.schedule_reload()  # "Draft: ..." in the list

    def _add_stranger(self, client_id: str) -> None:
        """The chat's "Add to contacts": someone who wrote first becomes a contact."""
        self.spawn(self._add_stranger_async(client_id), name="add")

    async def _add_stranger_async(self, client_id: str) -> None:
        assert self.client is not None
        try:
            contact = await self.client.add_contact(client_id)
        except (RequestError, ValueError) as exc:
            log.info("adding %s failed: %s", client_id, exc)
            self._status_message(describe_error(exc), 8000)
            return
        self._status_message(fill(self.tr("%1 is now a contact."), isolate(contact.name)))

    def confirm_block(self, client_id: str) -> QMessageBox | None:
        """Ask before blocking ``client_id`` (the chat's "Block"); blocks on "Block"."""
        if self.window is None or self.store is None:
            return None
        name = isolate(self.store.conversation_title(client_id))
        box = QMessageBox(
            QMessageBox.Icon.Question,
            fill(self.tr("Block %1?"), name),
            fill(
                self.tr(
                    "%1 will not be in your chats and their messages will not notify you. "
                    "Adding them as a contact later unblocks them."
                ),
                name,
            ),
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the name is someone else's text
        block = box.addButton(self.tr("Block"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        block.clicked.connect(lambda: self.spawn(self._block(client_id), name="block"))
        box.setModal(True)
        self.block_box = box
        box.open()
        return box

    async def _block(self, client_id: str) -> None:
        assert self.client is not None and self.window is not None
        current = self.window.current_conversation()
        await self.client.block(client_id)
        if current is not None and current[0] == client_id:
            self.window.close_conversation()

    def _notify(self, messages: tuple[StoredMessage, ...]) -> None:
        """A notification per conversation with new messages the user is not looking at."""
        if self.tray is None or self.store is None or self.window is None:
            return
        current = self._current_id()
        by_conversation: dict[str, list[StoredMessage]] = {}
        for message in messages:
            if message.direction == "in":
                by_conversation.setdefault(message.conversation, []).append(message)
        for conversation, new in by_conversation.items():
            if self._attentive() and conversation == current:
                continue
            if self.store.is_blocked(conversation):
                continue
            last = new[-1]
            title = self.store.conversation_title(conversation)
            sender = last.sender_name or last.sender or ""
            if last.is_group:
                title = fill(self.tr("%1 in %2"), isolate(sender), isolate(title))
            text = " ".join(last.text.split())
            if len(text) > NOTIFICATION_PREVIEW_CHARS:
                text = text[: NOTIFICATION_PREVIEW_CHARS - 1] + "…"
            if len(new) > 1:
                text = self.tr("%n new message(s)", "", len(new)) + " — " + text
            self._last_notified = (conversation, last.is_group)
            self.tray.notify(title, text)

    def _open_notified(self) -> None:
        """A click on a notification opens the conversation it was about."""
        if self.window is not None and self._last_notified is not None:
            self.show_window()
            self.window.open_conversation(*self._last_notified)

    def _warn(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
        box.setTextFormat(Qt.TextFormat.PlainText)  # it may quote a name or a path
        if self.window is not None:
            box.setParent(self.window, box.windowFlags())
        box.setModal(False)
        self.last_error_box = box
        box.open()

    # --- dialogs ---

    @staticmethod
    def _show_dialog(dialog: QDialog) -> None:
        """Show a dialog in front, with the keyboard focus: what is typed next goes there
        (without a window manager, or with a strict one, a new window is not focused)."""
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _raise_existing(self, dialog: QDialog | None) -> bool:
        if dialog is not None and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return True
        return False

    def open_add_contact(self) -> AddContactDialog | None:
        """Show the add-contact dialog (or bring it forward)."""
        if self.store is None or self.identity is None or self.window is None:
            return None
        if self._raise_existing(self.add_contact_dialog):
            return self.add_contact_dialog
        existing = [c.client_id for c in self.store.contacts()]
        dialog = AddContactDialog(self.identity.client_id, existing, self.window)
        dialog.offer_clipboard(QGuiApplication.clipboard().text())
        self.add_contact_dialog = dialog
        dialog.lookup_requested.connect(
            lambda client_id: self._run(dialog, self._lookup(dialog, client_id), "lookup")
        )
        dialog.add_requested.connect(
            lambda client_id: self._run(dialog, self._add_contact(dialog, client_id), "add")
        )
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._show_dialog(dialog)
        return dialog

    async def _lookup(self, dialog: AddContactDialog, client_id: str) -> None:
        assert self.client is not None
        contact = await self.client.lookup(client_id)
        dialog.show_found(contact.client_id, contact.display_name)

    async def _add_contact(self, dialog: AddContactDialog, client_id: str) -> None:
        assert self.client is not None and self.window is not None
        contact = await self.client.add_contact(client_id)
        dialog.accept()
        self.window.open_conversation(contact.client_id, False)  # reads the list if need be

    def open_new_group(self) -> NewGroupDialog | None:
        """Show the new-group dialog (or bring it forward)."""
        if self.store is None or self.window is None:
            return None
        if self._raise_existing(self.new_group_dialog):
            return self.new_group_dialog
        dialog = NewGroupDialog(self.store.contacts(), self.window)
        self.new_group_dialog = dialog
        dialog.create_requested.connect(
            lambda name, members: self._run(
                dialog, self._create_group(dialog, name, list(members)), "create_group"
            )
        )
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._show_dialog(dialog)
        return dialog

    async def _create_group(self, dialog: NewGroupDialog, name: str, members: list[str]) -> None:
        assert self.client is not None and self.window is not None
        group = await self.client.create_group(name, members)
        dialog.accept()
        self.window.open_conversation(group.group_id, True)  # reads the list if need be

    def open_group_info(self, group_id: str) -> GroupInfoDialog | None:
        """Show the members of ``group_id``."""
        if self.store is None or self.identity is None or self.window is None:
            return None
        group = self.store.group(group_id)
        if group is None:
            log.warning("group info for unknown group %s", group_id)
            return None
        if self.group_info_dialog is not None:
            self.group_info_dialog.close()
        dialog = GroupInfoDialog(group, self.identity.client_id, self.store.contacts(), self.window)
        self.group_info_dialog = dialog
        dialog.add_member_requested.connect(
            lambda gid, cid: self._run(dialog, self._change_members(dialog, "add", gid, cid), "add")
        )
        dialog.remove_member_requested.connect(
            lambda gid, cid: self._run(
                dialog, self._change_members(dialog, "remove", gid, cid), "remove"
            )
        )
        dialog.leave_requested.connect(
            lambda gid: self._run(dialog, self._change_members(dialog, "leave", gid, ""), "leave")
        )
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._show_dialog(dialog)
        return dialog

    async def _change_members(
        self, dialog: GroupInfoDialog, action: str, group_id: str, client_id: str
    ) -> None:
        assert self.client is not None and self.window is not None
        if action == "add":
            await self.client.add_member(group_id, client_id)
        elif action == "remove":
            await self.client.remove_member(group_id, client_id)
        else:
            await self.client.leave_group(group_id)
        if action == "leave":
            dialog.accept()
        else:
            self._refresh_group_info()

    def _refresh_group_info(self) -> None:
        dialog = self.group_info_dialog
        if dialog is None or self.store is None:
            return
        group = self.store.group(dialog.group_id)
        if group is not None:
            dialog.set_group(group, self.store.contacts())

    def open_search(self) -> SearchDialog | None:
        """Show the history search (Ctrl+F)."""
        store = self.store
        if store is None or self.window is None:
            return None
        if self._raise_existing(self.search_dialog):
            assert self.search_dialog is not None
            self.search_dialog.query_edit.setFocus()
            self.search_dialog.query_edit.selectAll()
            return self.search_dialog
        dialog = SearchDialog(store.search, store.conversation_title, self.window)
        self.search_dialog = dialog
        dialog.result_activated.connect(self._jump_to)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._show_dialog(dialog)
        dialog.query_edit.setFocus()
        return dialog

    def _jump_to(self, local_id: int, conversation: str, is_group: bool) -> None:
        if self.window is None:
            return
        self.show_window()
        self.window.open_conversation(conversation, is_group)
        self.window.show_message(local_id)

    def open_export(self, conversation: str, fmt: str) -> QFileDialog | None:
        """Ask where to save ``conversation`` as ``fmt`` (``"html"`` or ``"json"``), then
        write it there."""
        if self.store is None or self.window is None or fmt not in ("html", "json"):
            return None
        title = self.store.conversation_title(conversation)
        safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title).strip()
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        dialog = QFileDialog(self.window, self.tr("Export chat"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setDirectory(folder)
        dialog.selectFile(f"{safe or 'chat'}.{fmt}")
        dialog.setDefaultSuffix(fmt)
        dialog.setNameFilter(
            self.tr("Web page (*.html)") if fmt == "html" else self.tr("JSON (*.json)")
        )
        dialog.fileSelected.connect(
            lambda path: self.spawn(self._export(conversation, fmt, path), name="export")
        )
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    async def _export(self, conversation: str, fmt: str, path: str) -> None:
        """Write the whole conversation to ``path``, on the history's reader thread (a
        long chat takes seconds)."""
        if self.store is None or self.identity is None:
            return
        own_name = self.identity.display_name
        kind: storage.ExportFormat = "html" if fmt == "html" else "json"

        def export(history: ClientStore) -> None:
            history.export_to_file(conversation, kind, path, own_name=own_name)

        try:
            await self.store.read(export)
        except OSError as exc:
            log.warning("export to %s failed: %s", path, exc)
            self._warn(self.tr("Export failed"), self.tr("Could not write %1.").replace("%1", path))
            return
        log.info("exported %s to %s", conversation, path)
        self._status_message(self.tr("Chat exported to %1").replace("%1", path), 6000)

    def _run(self, dialog: Any, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run a dialog's operation; a failure is shown in the dialog, never lost."""

        async def guarded() -> None:
            try:
                await coro
            except (RequestError, OSError, ValueError) as exc:
                log.info("%s failed: %s", name, exc)
                dialog.show_error(describe_error(exc))
            except Exception as exc:
                log.exception("%s failed", name)
                dialog.show_error(describe_error(exc))

        self.spawn(guarded(), name=name)

    def _forget(self, dialog: QWidget) -> None:
        for attribute in (
            "add_contact_dialog",
            "new_group_dialog",
            "group_info_dialog",
            "search_dialog",
            "export_dialog",
        ):
            if getattr(self, attribute) is dialog:
                setattr(self, attribute, None)
        dialog.deleteLater()
        if self.window is not None and self.window.isVisible():
            self.window.activateWindow()  # typing goes back to the chat

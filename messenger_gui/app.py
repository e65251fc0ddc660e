"""The controller: wires the client core to the main window, the dialogs and the tray.

:class:`AppController` is the one place where widgets meet :class:`MessengerClient`:
widgets emit Qt signals, the controller calls the core (starting coroutines with
:meth:`AppController.spawn`, the one helper that does so) and feeds the core's events back
to the widgets. Widgets never see the client, and the client never sees a widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
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
    QInputDialog,
    QMessageBox,
    QPushButton,
    QSplitter,
    QWidget,
)

from messenger_gui import config as app_config
from messenger_gui import storage
from messenger_gui.client import MessengerClient, RequestError, register_client
from messenger_gui.events import (
    ActionFailed,
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
    MessagesUpdated,
    PresenceChanged,
    StateChanged,
    SystemLinesAdded,
    TypingChanged,
)
from messenger_gui.files_controller import FilesController
from messenger_gui.storage import ClientData, ClientStore, StoredMessage
from messenger_gui.ui.chat import failure_reason
from messenger_gui.ui.dialogs.add_contact import AddContactDialog
from messenger_gui.ui.dialogs.errors import describe_code, describe_error
from messenger_gui.ui.dialogs.forward import ForwardDialog
from messenger_gui.ui.dialogs.group_info import GroupInfoDialog
from messenger_gui.ui.dialogs.new_group import NewGroupDialog
from messenger_gui.ui.dialogs.search import SearchDialog
from messenger_gui.ui.dialogs.settings import SettingsDialog
from messenger_gui.ui.dialogs.welcome import WelcomeDialog
from messenger_gui.ui.formatting import fill, isolate
from messenger_gui.ui.main_window import MUTE_FOREVER, MainWindow
from messenger_gui.ui.tray import Tray
from messenger_server import protocol

log = logging.getLogger(__name__)

T = TypeVar("T")

SETTINGS_FILE: Final = "settings.ini"
PRIVACY_KEY: Final = "privacy/presence"
"""Who sees our presence: "chats" or "nobody" (absent: never chosen)."""
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
        self.settings_dialog: SettingsDialog | None = None
        self.export_dialog: QFileDialog | None = None
        self.last_error_box: QMessageBox | None = None
        self.block_box: QMessageBox | None = None
        self.retry_button: QPushButton | None = None
        self.files: FilesController | None = None
        """issue 10: the chat's files wired to the client core."""
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
        window.reply_requested.connect(self._send_reply)
        window.edit_message_requested.connect(self.edit_message)
        window.delete_messages_requested.connect(self.confirm_delete)
        window.react_requested.connect(self.react)
        window.other_reaction_requested.connect(self.ask_reaction)
        window.forward_requested.connect(self.open_forward)
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
        window.typing_edited.connect(self.client.draft_edited)
        window.typing_stopped.connect(self.client.draft_stopped)
        window.settings_requested.connect(self.open_settings)
        window.send_with_mentions_requested.connect(self._send_with_mentions)
        window.mute_requested.connect(self._mute)
        window.pin_requested.connect(self._pin)
        window.archive_requested.connect(self._archive)
        self.client.privacy = self.privacy_setting()
        self.files = FilesController(  # issue 10
            window, self.client, self.spawn, self._warn, self.settings
        )

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

    def _send_reply(
        self, conversation: str, is_group: bool, text: str, reply_to: int, mentions: list[str]
    ) -> None:
        self.spawn(
            self._send_async(conversation, is_group, text, reply_to=reply_to, mentions=mentions),
            name="send",
        )

    def _send_with_mentions(
        self, conversation: str, is_group: bool, text: str, mentions: list[str]
    ) -> None:
        self.spawn(self._send_async(conversation, is_group, text, mentions=mentions), name="send")

    async def _send_async(
        self,
        conversation: str,
        is_group: bool,
        text: str,
        *,
        reply_to: int | None = None,
        forwarded_from: StoredMessage | None = None,
        mentions: Sequence[str] = (),
    ) -> None:
        assert self.client is not None
        try:
            message = await self.client.send_message(
                conversation,
                is_group,
                text,
                reply_to=reply_to,
                forwarded_from=forwarded_from,
                mentions=mentions,
            )
        except ValueError as exc:
            self._warn(self.tr("Message not sent"), str(exc))
            return
        if self.window is not None:
            self.window.messages_received([message])

    # --- message actions: edit, delete, react, forward ---

    def edit_message(self, local_id: int, text: str) -> None:
        """Save the user's edit of its message ``local_id``."""
        if self.client is not None:
            self.spawn(self._edit_async(local_id, text), name="edit")

    async def _edit_async(self, local_id: int, text: str) -> None:
        assert self.client is not None
        try:
            await self.client.edit_message(local_id, text)
        except ValueError as exc:
            self._warn(self.tr("Message not edited"), str(exc))

    def confirm_delete(self, local_ids: list[int]) -> QMessageBox | None:
        """Ask how to delete the messages ``local_ids``: "Delete for me" always, "Delete
        for everyone" when every one of them may be (ours, or as a group admin); Cancel
        is the default, as for every irreversible action."""
        if self.window is None or self.client is None or self.store is None:
            return None
        messages = [m for m in map(self.store.message, local_ids) if m is not None]
        if not messages:
            return None
        everyone = all(self.client.may_delete_for_everyone(m) for m in messages)
        count = len(messages)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete"),
            self.tr("Delete this message?")
            if count == 1
            else self.tr("Delete %n messages?", "", count),
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        box.setInformativeText(self.tr("This cannot be undone."))
        box.setObjectName("deleteMessagesBox")
        if everyone:
            for_all = box.addButton(
                self.tr("Delete for everyone"), QMessageBox.ButtonRole.DestructiveRole
            )
            for_all.setObjectName("deleteForEveryone")
            for_all.clicked.connect(
                lambda: self.spawn(self._delete_async(local_ids, everyone=True), name="delete")
            )
        for_me = box.addButton(self.tr("Delete for me"), QMessageBox.ButtonRole.DestructiveRole)
        for_me.setObjectName("deleteForMe")
        for_me.clicked.connect(
            lambda: self.spawn(self._delete_async(local_ids, everyone=False), name="delete")
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setModal(True)
        self.delete_box = box
        box.open()
        return box

    async def _delete_async(self, local_ids: list[int], *, everyone: bool) -> None:
        assert self.client is not None
        for local_id in local_ids:
            try:
                if everyone:
                    await self.client.delete_for_everyone(local_id)
                else:
                    await self.client.delete_for_me(local_id)
            except ValueError as exc:
                log.info("message %d not deleted: %s", local_id, exc)
        if self.window is not None:
            self.window.chat_view.stop_selecting()

    def react(self, local_id: int, emoji: str, on: bool) -> None:
        """Set (``on``) or take back our reaction ``emoji`` to message ``local_id``."""
        if self.client is not None:
            self.spawn(self._react_async(local_id, emoji, on), name="react")

    async def _react_async(self, local_id: int, emoji: str, on: bool) -> None:
        assert self.client is not None
        try:
            await self.client.react(local_id, emoji, on)
        except ValueError as exc:
            log.info("reaction %r to %d not sent: %s", emoji, local_id, exc)
            self._status_message(self.tr("That is not one emoji."), 6000)

    def ask_reaction(self, local_id: int) -> QInputDialog | None:
        """ "Other emoji…": ask for any one emoji (typed, pasted or from the system's emoji
        picker), then react with it."""
        if self.window is None:
            return None
        dialog = QInputDialog(self.window)
        dialog.setObjectName("reactionDialog")
        dialog.setWindowTitle(self.tr("React"))
        dialog.setLabelText(self.tr("Type or paste one emoji:"))
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.textValueSelected.connect(
            lambda text: self.react(local_id, text.strip(), True) if text.strip() else None
        )
        self.reaction_dialog = dialog
        dialog.open()
        return dialog

    def open_forward(self, local_ids: list[int]) -> ForwardDialog | None:
        """Ask which chat the messages ``local_ids`` go to, then forward them there, in
        order, and open that chat."""
        if self.window is None or self.store is None:
            return None
        model = self.window.conversation_model
        chats = [s for s in map(model.summary, range(model.rowCount())) if s is not None]
        dialog = ForwardDialog(chats, len(local_ids), self.window)
        dialog.chosen.connect(
            lambda conversation, is_group: self.spawn(
                self._forward_async(local_ids, conversation, is_group), name="forward"
            )
        )
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.forward_dialog = dialog
        dialog.open()
        return dialog

    async def _forward_async(self, local_ids: list[int], conversation: str, is_group: bool) -> None:
        assert self.client is not None and self.store is not None
        if self.window is not None:
            self.window.chat_view.stop_selecting()
            self.window.open_conversation(conversation, is_group)
        for local_id in local_ids:
            original = self.store.message(local_id)
            if original is None or original.deleted is not None:
                continue
            await self._send_async(conversation, is_group, original.text, forwarded_from=original)

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
            case MessagesReceived(messages=messages, backlog=backlog, mentioning_me=mentioning):
                window.messages_received(messages)
                if not backlog:
                    self._notify(messages, mentioning)
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
            case MessagesUpdated(conversation=conversation, local_ids=ids):
                window.messages_updated(conversation, ids)
            case ActionFailed(code=code, kind=kind):
                reason = describe_code(code) or code
                if kind == "edit":  # the user waits for it: a box, the old text is back
                    self._warn(self.tr("Message not edited"), reason)
                    return
                if kind == "delete":
                    text = self.tr("Message not deleted: %1")
                else:
                    text = self.tr("Reaction not sent: %1")
                self._status_message(text.replace("%1", reason), 10_000)
            case ConversationsChanged():
                window.schedule_reload()
                self._refresh_group_info()
            case BacklogProgress(received=received, total=total):
                window.set_backlog_progress(received, total)
            case PresenceChanged(client_ids=client_ids):
                assert self.client is not None
                for client_id in client_ids:
                    info = self.client.presence_of(client_id)
                    if info is None:
                        window.set_presence(client_id, None, None)
                    else:
                        window.set_presence(client_id, info.online, info.last_seen)
            case SystemLinesAdded(messages=messages):
                window.messages_received(messages)
            case TypingChanged(conversation=conversation, senders=senders):
                window.set_typing(conversation, [self._name_in(conversation, s) for s in senders])

    def _name_in(self, conversation: str, client_id: str) -> str:
        """The display name of ``client_id`` as ``conversation`` shows it: the member's
        in a group, else the contact's (or whatever the chat is called)."""
        assert self.store is not None
        if conversation.startswith("G-"):
            for member in self.store.group_members(conversation):
                if member.client_id == client_id:
                    return member.display_name
        return self.store.conversation_title(client_id)

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

    # --- mute, pin, archive (the user's own settings of a chat, stored locally) ---

    def _mute(self, conversation: str, seconds: int) -> None:
        if seconds == MUTE_FOREVER:
            until: int | None = storage.MUTED_FOREVER
        elif seconds > 0:
            until = storage.now_ms() + seconds * 1000
        else:
            until = None
        self._change_chat(self._store_or_fail().set_muted, conversation, until)

    def _pin(self, conversation: str, pinned: bool) -> None:
        self._change_chat(self._store_or_fail().set_pinned, conversation, pinned)

    def _archive(self, conversation: str, archived: bool) -> None:
        self._change_chat(self._store_or_fail().set_archived, conversation, archived)

    def _store_or_fail(self) -> ClientStore:
        assert self.store is not None
        return self.store

    def _change_chat(
        self, write: Callable[[str, Any], None], conversation: str, value: Any
    ) -> None:
        async def change() -> None:
            assert self.store is not None
            await self.store.run(write, conversation, value)
            if self.window is not None:
                self.window.schedule_reload()

        self.spawn(change(), name="chat_settings")

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

    def _notify(
        self, messages: tuple[StoredMessage, ...], mentioning_me: frozenset[int] = frozenset()
    ) -> None:
        """A notification per conversation with new messages the user is not looking at;
        none for a muted chat, unless one of them mentions the user."""
        if self.tray is None or self.store is None or self.window is None:
            return
        current = self._current_id()
        now = storage.now_ms()
        by_conversation: dict[str, list[StoredMessage]] = {}
        for message in messages:
            if message.direction == "in":
                by_conversation.setdefault(message.conversation, []).append(message)
        for conversation, new in by_conversation.items():
            if self._attentive() and conversation == current:
                continue
            if self.store.is_blocked(conversation):
                continue
            if self.store.chat_settings(conversation).muted(now):
                new = [m for m in new if m.local_id in mentioning_me]
                if not new:
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
        dialog.update_requested.connect(
            lambda gid, name, description: self._run(
                dialog, self._update_group(dialog, gid, name, description), "update_group"
            )
        )
        dialog.admin_requested.connect(
            lambda gid, cid, admin: self._run(
                dialog, self._set_admin(dialog, gid, cid, admin), "set_admin"
            )
        )
        dialog.delete_requested.connect(
            lambda gid: self._run(dialog, self._delete_group(dialog, gid), "delete_group")
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

    async def _update_group(
        self, dialog: GroupInfoDialog, group_id: str, name: str, description: str
    ) -> None:
        assert self.client is not None
        await self.client.update_group(group_id, name=name, description=description)
        await self._wait_for_group_update(dialog)

    async def _set_admin(
        self, dialog: GroupInfoDialog, group_id: str, client_id: str, admin: bool
    ) -> None:
        assert self.client is not None
        await self.client.set_admin(group_id, client_id, admin)
        await self._wait_for_group_update(dialog)

    async def _delete_group(self, dialog: GroupInfoDialog, group_id: str) -> None:
        assert self.client is not None
        await self.client.delete_group(group_id)
        dialog.accept()

    async def _wait_for_group_update(self, dialog: GroupInfoDialog) -> None:
        """The change is stored when its ``group_update`` arrives (it follows the reply,
        and adds the system line): a ``ping`` round trip waits for it; the dialog then
        shows the new state."""
        assert self.client is not None
        with contextlib.suppress(RequestError):
            await self.client.ping()
        if self.group_info_dialog is dialog:
            self._refresh_group_info()

    def _refresh_group_info(self) -> None:
        dialog = self.group_info_dialog
        if dialog is None or self.store is None:
            return
        group = self.store.group(dialog.group_id)
        if group is not None:
            dialog.set_group(group, self.store.contacts())

    def privacy_setting(self) -> protocol.Visibility | None:
        """Who sees our presence, as saved in the profile's settings (``None``: never
        chosen, the server's default "nobody")."""
        value = self.settings.value(PRIVACY_KEY)
        return value if value in ("chats", "nobody") else None

    def open_settings(self) -> SettingsDialog | None:
        """Show the settings dialog (or bring it forward)."""
        if self.window is None:
            return None
        if self._raise_existing(self.settings_dialog):
            return self.settings_dialog
        dialog = SettingsDialog(self.privacy_setting() or "nobody", self.window)
        self.settings_dialog = dialog
        dialog.privacy_chosen.connect(self._privacy_chosen)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._show_dialog(dialog)
        return dialog

    def _privacy_chosen(self, privacy: str) -> None:
        if privacy not in ("chats", "nobody"):
            return
        self.settings.setValue(PRIVACY_KEY, privacy)
        self.settings.sync()
        if self.client is not None:
            visibility: protocol.Visibility = "chats" if privacy == "chats" else "nobody"
            self.spawn(self._set_privacy(visibility), name="privacy")

    async def _set_privacy(self, privacy: protocol.Visibility) -> None:
        assert self.client is not None
        try:
            await self.client.set_privacy(privacy)
        except RequestError as exc:  # kept: sent again after the next login
            log.info("set_privacy failed: %s", exc)

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
        labels = storage.ExportLabels(edited=self.tr("edited"), deleted=self.tr("Message deleted"))

        def export(history: ClientStore) -> None:
            history.export_to_file(conversation, kind, path, own_name=own_name, labels=labels)

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
            "settings_dialog",
        ):
            if getattr(self, attribute) is dialog:
                setattr(self, attribute, None)
        dialog.deleteLater()
        if self.window is not None and self.window.isVisible():
            self.window.activateWindow()  # typing goes back to the chat

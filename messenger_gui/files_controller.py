"""The thin controller between the chat's files and the client core (issue 10).

It wires the main window's signals (files confirmed in the preview, a click on a file, the
context menu over one) to :class:`~messenger_gui.client.MessengerClient` and
:class:`~messenger_gui.ui.attachments.FileActions`, and the core's transfer events
(:mod:`messenger_gui.transfers`) back to the chat: progress and state changes repaint the
message concerned. The app creates one per main window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from messenger_gui.client import MessengerClient
from messenger_gui.storage.files import StoredFile
from messenger_gui.transfers import (
    AUTO_DOWNLOAD_BYTES,
    FileChanged,
    TransferEvent,
    TransferProgress,
)
from messenger_gui.ui.attachments import FileActions, make_thumbnail
from messenger_gui.ui.main_window import MainWindow

log = logging.getLogger(__name__)

AUTO_DOWNLOAD_KEY = "files/auto_download_images_mb"
"""The setting (in the profile's settings file): images up to this many MiB download by
themselves; 0 turns it off. The menu's "Download images automatically" switches between
0 and the default (5)."""
MIB = 1024 * 1024


class FilesController:
    """See the module docstring.

    Args:
        window: the main window.
        client: the client core.
        spawn: starts a coroutine from a slot (the app's ``spawn``).
        warn: shows an error to the user: ``warn(title, text)``.
        settings: the profile's settings (the automatic download's size); ``None``: the
            default, not stored.
    """

    def __init__(
        self,
        window: MainWindow,
        client: MessengerClient,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        warn: Callable[[str, str], None],
        settings: QSettings | None = None,
    ) -> None:
        self.window = window
        self.client = client
        self._spawn = spawn
        self._warn = warn
        self.actions = FileActions(
            window,
            download=lambda local_id, position: spawn(self._download(local_id, position)),
            cancel_download=lambda local_id, position: spawn(
                self._cancel_download(local_id, position)
            ),
            cancel_upload=lambda local_id: spawn(self._cancel_upload(local_id)),
            transferring=lambda item: item.key in window.message_model.file_progress,
        )
        window.send_files_requested.connect(self.send)
        window.chat_view.file_clicked.connect(self.actions.activate)
        window.chat_view.file_menu_requested.connect(self.add_menu_actions)
        client.transfers.events.connect(self.on_transfer_event)
        self._settings = settings
        self.auto_download_action = QAction(
            QCoreApplication.translate("FilesController", "Download images automatically"),
            window,
        )
        self.auto_download_action.setObjectName("autoDownloadImages")
        self.auto_download_action.setCheckable(True)
        self.auto_download_action.setChecked(self._auto_download_mb() > 0)
        client.transfers.auto_download_bytes = self._auto_download_mb() * MIB
        self.auto_download_action.toggled.connect(self.set_auto_download)
        window.main_menu.insertAction(window.action_quit, self.auto_download_action)

    def _auto_download_mb(self) -> int:
        default = AUTO_DOWNLOAD_BYTES // MIB
        if self._settings is None:
            return default
        try:
            value = int(str(self._settings.value(AUTO_DOWNLOAD_KEY, default)))
        except ValueError:
            return default
        return max(0, min(value, 1024))

    def set_auto_download(self, on: bool) -> None:
        """Images download by themselves (up to the default size) or only on a click."""
        mb = AUTO_DOWNLOAD_BYTES // MIB if on else 0
        self.client.transfers.auto_download_bytes = mb * MIB
        if self._settings is not None:
            self._settings.setValue(AUTO_DOWNLOAD_KEY, mb)

    # --- sending ---

    def send(self, conversation: str, is_group: bool, paths: Sequence[Path], caption: str) -> None:
        self._spawn(self._send(conversation, is_group, [Path(p) for p in paths], caption))

    async def _send(
        self, conversation: str, is_group: bool, paths: list[Path], caption: str
    ) -> None:
        thumbnails = [make_thumbnail(path) for path in paths]
        try:
            message = await self.client.send_files(
                conversation, is_group, paths, caption, thumbnails=thumbnails
            )
        except (ValueError, OSError) as exc:
            self._warn(QCoreApplication.translate("FilesController", "Files not sent"), str(exc))
            return
        self.window.messages_received([message])

    # --- transfers ---

    async def _download(self, local_id: int, position: int) -> None:
        await self.client.download_file(local_id, position)

    async def _cancel_download(self, local_id: int, position: int) -> None:
        await self.client.cancel_download(local_id, position)

    async def _cancel_upload(self, local_id: int) -> None:
        if not await self.client.delete_message(local_id):
            self.window.statusBar().showMessage(
                QCoreApplication.translate(
                    "FilesController", "This message is being sent and cannot be cancelled."
                ),
                5000,
            )

    def on_transfer_event(self, event: TransferEvent) -> None:
        model = self.window.message_model
        key = (event.local_id, event.position)
        if isinstance(event, TransferProgress):
            before = model.file_progress.get(key)
            if event.done >= event.total:
                model.file_progress.pop(key, None)
            else:
                model.file_progress[key] = (event.done, event.total)
            # Repaint when the shown percentage changes, not on every chunk.
            step = max(1, event.total // 100)
            if before is None or before[0] // step != event.done // step:
                model.refresh_messages([event.local_id])
        elif isinstance(event, FileChanged):
            if event.state not in ("download", "upload"):
                model.file_progress.pop(key, None)
            model.refresh_messages([event.local_id])

    # --- the context menu over a file ---

    def add_menu_actions(self, menu: QMenu, item: StoredFile) -> None:
        actions = self.actions
        if actions.local_path(item) is not None:
            opening = menu.addAction(QCoreApplication.translate("FilesController", "Open"))
            opening.setObjectName("openFile")
            opening.triggered.connect(lambda: actions.open(item))
            save = menu.addAction(QCoreApplication.translate("FilesController", "Save as…"))
            save.setObjectName("saveFile")
            save.triggered.connect(lambda: actions.save_as(item))
            folder = menu.addAction(QCoreApplication.translate("FilesController", "Show in folder"))
            folder.setObjectName("showFileInFolder")
            folder.triggered.connect(lambda: actions.show_in_folder(item))
        elif item.direction == "in" and item.state in ("remote", "failed"):
            download = menu.addAction(
                QCoreApplication.translate("FilesController", "Retry download")
                if item.state == "failed"
                else QCoreApplication.translate("FilesController", "Download")
            )
            download.setObjectName("downloadFile")
            download.triggered.connect(lambda: actions.activate(item))
        elif item.state in ("download", "upload"):
            cancel = menu.addAction(QCoreApplication.translate("FilesController", "Cancel"))
            cancel.setObjectName("cancelTransfer")
            cancel.triggered.connect(lambda: actions.activate(item))

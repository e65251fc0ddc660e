"""The preview before sending files (issue 10): what will go, with an optional caption.

Opened by the attach button, by files dropped on the chat and by Ctrl+V of an image (a
screenshot) or of copied files. It lists each file (a picture of an image, decoded with
limits; a type badge otherwise) with its name and size; Enter sends, Esc cancels. It emits
nothing and sends nothing: the caller reads :attr:`SendFilesDialog.paths` and
:meth:`SendFilesDialog.caption` after ``exec()`` (or ``accepted``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from PySide6.QtCore import QEvent, QMimeData, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.filenames import safe_file_name
from messenger_gui.ui.attachments import format_size, read_image

PREVIEW: Final = QSize(72, 72)
LARGE_PREVIEW: Final = QSize(360, 260)
MAX_FILES: Final = 10


class SendFilesDialog(QDialog):
    """Preview ``paths`` and ask for a caption.

    Args:
        paths: the files (at most ten are taken; :attr:`dropped` says how many were left).
        title: the conversation's name, for the window title.
        parent: Qt parent.
    """

    def __init__(self, paths: Sequence[Path], title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sendFilesDialog")
        self.paths = [Path(p) for p in paths][:MAX_FILES]
        self.dropped = max(0, len(paths) - MAX_FILES)
        self.setWindowTitle(self.tr("Send to %1").replace("%1", title))
        layout = QVBoxLayout(self)
        heading = QLabel(
            self.tr("Send %n file(s)", "", len(self.paths))
            if len(self.paths) != 1 or not self._single_image()
            else self.tr("Send an image")
        )
        heading.setObjectName("sendFilesHeading")
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        heading.setFont(font)
        layout.addWidget(heading)

        rows = QWidget()
        rows_layout = QVBoxLayout(rows)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        if len(self.paths) == 1 and self._single_image():
            picture = QLabel()
            picture.setObjectName("sendFilesPicture")
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image = read_image(self.paths[0], fit=LARGE_PREVIEW)
            if image is not None:
                picture.setPixmap(QPixmap.fromImage(image))
            rows_layout.addWidget(picture)
        for path in self.paths:
            rows_layout.addWidget(self._row(path))
        if self.dropped:
            note = QLabel(
                self.tr("Only the first %1 files are sent; %2 were left out.")
                .replace("%1", str(MAX_FILES))
                .replace("%2", str(self.dropped))
            )
            note.setWordWrap(True)
            rows_layout.addWidget(note)
        rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(rows)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumSize(QSize(400, min(420, 90 + 84 * len(self.paths))))
        layout.addWidget(scroll, 1)

        self.caption_edit = QLineEdit()
        self.caption_edit.setObjectName("sendFilesCaption")
        self.caption_edit.setPlaceholderText(self.tr("Add a caption…"))
        self.caption_edit.setAccessibleName(self.tr("Caption"))
        layout.addWidget(self.caption_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        send = buttons.button(QDialogButtonBox.StandardButton.Ok)
        send.setText(self.tr("Send"))
        send.setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.caption_edit.returnPressed.connect(self.accept)
        self.caption_edit.setFocus()

    def _single_image(self) -> bool:
        return read_image(self.paths[0], fit=PREVIEW) is not None if self.paths else False

    def _row(self, path: Path) -> QWidget:
        row = QWidget()
        row.setObjectName("sendFilesRow")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 4, 0, 4)
        badge = QLabel()
        badge.setFixedSize(PREVIEW)
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image = read_image(path, fit=PREVIEW)
        if image is not None:
            badge.setPixmap(QPixmap.fromImage(image))
        else:
            suffix = Path(safe_file_name(path.name)).suffix.lstrip(".").upper()[:4]
            badge.setText(suffix or self.tr("FILE"))
            badge.setObjectName("sendFilesBadge")
            badge.setStyleSheet(
                "background: #3390ec; color: white; border-radius: 36px; font-weight: bold;"
            )
        layout.addWidget(badge)
        text = QVBoxLayout()
        name = QLabel(path.name)
        name.setTextFormat(Qt.TextFormat.PlainText)
        try:
            size = format_size(path.stat().st_size)
        except OSError:
            size = self.tr("cannot be read")
        detail = QLabel(size)
        detail.setEnabled(False)
        text.addWidget(name)
        text.addWidget(detail)
        layout.addLayout(text, 1)
        return row

    def caption(self) -> str:
        return self.caption_edit.text().strip()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
            return
        super().keyPressEvent(event)


class FileSending(QObject):
    """Where files to send come from (issue 10): the attach button (:meth:`choose`), a drop
    on the chat (an event filter on the widgets it is installed on) and a paste
    (:meth:`from_mime`: a screenshot is saved as a PNG first). Each opens the preview; on
    "Send" :attr:`send_requested` carries the paths and the caption.

    Args:
        parent: the main window (parent of the dialogs).
        title: gives the open conversation's name, or ``None`` when no chat is open.
    """

    send_requested = Signal(list, str)
    """``(paths, caption)``: the user confirmed the preview."""

    def __init__(self, parent: QWidget, title: Callable[[], str | None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._title = title
        self._scratch = tempfile.TemporaryDirectory(prefix="messenger-paste-")
        self.dialog: SendFilesDialog | None = None

    def choose(self) -> None:
        if self._title() is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(self._parent, self.tr("Attach files"))
        if paths:
            self.preview([Path(p) for p in paths])

    def from_mime(self, mime: QMimeData) -> bool:
        """Preview what a paste or a drop brings; returns whether it had files."""
        if self._title() is None:
            return False
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        paths = [p for p in paths if p.is_file()]
        if not paths and mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                stamp = datetime.now().strftime("%Y-%m-%d %H.%M.%S")
                target = Path(self._scratch.name) / self.tr("Screenshot %1.png").replace(
                    "%1", stamp
                )
                if image.save(str(target)):
                    paths = [target]
        if not paths:
            return False
        self.preview(paths)
        return True

    def preview(self, paths: Sequence[Path]) -> None:
        """Show the preview (not modal: the chat stays usable); Send emits."""
        title = self._title()
        if title is None:
            return
        dialog = self.dialog = SendFilesDialog(paths, title, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.send_requested.emit(dialog.paths, dialog.caption()))
        dialog.open()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, (QDragEnterEvent, QDragMoveEvent)):
            mime = event.mimeData()
            if (
                self._title() is not None
                and mime.hasUrls()
                and any(url.isLocalFile() for url in mime.urls())
            ):
                event.acceptProposedAction()
                return True
        elif isinstance(event, QDropEvent) and self.from_mime(event.mimeData()):
            event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

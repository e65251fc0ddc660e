"""The message composer: a growing text field, a send button and a size counter."""

from __future__ import annotations

import logging
from typing import Final

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.ui.resources import icon
from messenger_server import protocol

log = logging.getLogger(__name__)

MAX_VISIBLE_LINES: Final = 6
"""The field grows with its text up to this many lines, then scrolls."""
COUNTER_THRESHOLD: Final = 0.9
"""The byte counter shows from this fraction of :data:`protocol.MAX_TEXT_BYTES` on."""


def _has_files(source: QMimeData) -> bool:
    """issue 10: whether pasted or dropped data is an image or local files."""
    if source.hasImage():
        return True
    return source.hasUrls() and any(url.isLocalFile() for url in source.urls())


class _MessageEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter (or Ctrl+Enter) inserts a new line."""

    submit = Signal()
    files_pasted = Signal(object)
    """issue 10: Ctrl+V (or a drop) of an image or of files: the ``QMimeData``."""

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(_has_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if _has_files(source):  # issue 10: a screenshot or copied files → the preview
            self.files_pasted.emit(source)
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            modifiers = event.modifiers()
            if not modifiers & (
                Qt.KeyboardModifier.ShiftModifier
                | Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier
            ):
                self.submit.emit()
                event.accept()
                return
            self.insertPlainText("\n")
            event.accept()
            return
        super().keyPressEvent(event)


class Composer(QFrame):
    """Where the user types. Emits :attr:`send_requested` with the text and clears itself;
    refuses blank text and text over ``protocol.MAX_TEXT_BYTES`` (a counter appears as the
    limit nears). :meth:`set_enabled` disables it with a reason shown instead of the field
    (e.g. "You left this group").

    Args:
        parent: Qt parent.
        max_bytes: the size limit (the protocol's by default).
    """

    send_requested = Signal(str)
    """The text to send (not stripped: the user's line breaks and spaces are kept)."""
    attach_requested = Signal()
    """issue 10: the attach button was clicked."""

    def __init__(
        self, parent: QWidget | None = None, *, max_bytes: int = protocol.MAX_TEXT_BYTES
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self._max_bytes = max_bytes
        self._stack = QStackedLayout(self)

        editing = QWidget(self)
        row = QHBoxLayout(editing)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(8)
        self.attach_button = QToolButton(editing)  # issue 10
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setIcon(icon("attach"))
        self.attach_button.setIconSize(QSize(22, 22))
        self.attach_button.setFixedSize(QSize(38, 38))
        self.attach_button.setAutoRaise(True)
        self.attach_button.setToolTip(self.tr("Attach files"))
        self.attach_button.setAccessibleName(self.tr("Attach files"))
        self.attach_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.attach_button.clicked.connect(self.attach_requested)
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        field = QFrame(editing)
        field.setObjectName("composerField")
        field_layout = QVBoxLayout(field)
        field_layout.setContentsMargins(14, 7, 14, 7)
        field_layout.setSpacing(0)
        self.input = _MessageEdit(field)
        self.input.setObjectName("composerInput")
        self.input.setPlaceholderText(self.tr("Write a message…"))
        self.input.setAccessibleName(self.tr("Message"))
        self.input.setTabChangesFocus(True)
        self.input.setFrameShape(QFrame.Shape.NoFrame)
        self.input.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.input.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.input.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.input.document().setDocumentMargin(2)
        field_layout.addWidget(self.input)
        self.counter = QLabel(field)
        self.counter.setObjectName("composerCounter")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.counter.hide()
        field_layout.addWidget(self.counter)
        row.addWidget(field, 1)

        self.send_button = QToolButton(editing)
        self.send_button.setObjectName("sendButton")
        self.send_button.setIcon(icon("send", "#ffffff"))
        self.send_button.setIconSize(QSize(20, 20))
        self.send_button.setFixedSize(QSize(38, 38))
        self.send_button.setToolTip(self.tr("Send (Enter)"))
        self.send_button.setAccessibleName(self.tr("Send"))
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self._stack.addWidget(editing)

        self.reason = QLabel(self)
        self.reason.setObjectName("composerReason")
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason.setWordWrap(True)
        self._stack.addWidget(self.reason)

        self.input.textChanged.connect(self._text_changed)
        self.input.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.input.submit.connect(self.submit)
        self.send_button.clicked.connect(self.submit)
        self._text_changed()

    # --- state ---

    def text(self) -> str:
        return self.input.toPlainText()

    def set_text(self, text: str) -> None:
        self.input.setPlainText(text)

    def byte_count(self) -> int:
        return len(self.text().encode("utf-8"))

    def can_send(self) -> bool:
        """Enabled, not blank and within the size limit."""
        return (
            self._stack.currentIndex() == 0
            and bool(self.text().strip())
            and self.byte_count() <= self._max_bytes
        )

    def set_enabled(self, enabled: bool, reason: str = "") -> None:
        """Allow typing, or show ``reason`` instead of the field (a left group, no
        conversation). The draft is kept while disabled."""
        self.reason.setText(reason)
        self._stack.setCurrentIndex(0 if enabled else 1)
        self._text_changed()

    def is_enabled(self) -> bool:
        return self._stack.currentIndex() == 0

    def focus_input(self) -> None:
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- behaviour ---

    def submit(self) -> None:
        """Send the text when allowed (emits :attr:`send_requested`, clears the field);
        otherwise do nothing (an over-long text stays so the user can shorten it)."""
        if not self.can_send():
            if self.byte_count() > self._max_bytes:
                log.debug(
                    "refusing to send %d bytes (limit %d)", self.byte_count(), self._max_bytes
                )
            return
        text = self.text()
        self.input.clear()
        self.send_requested.emit(text)

    def _text_changed(self) -> None:
        size = self.byte_count()
        over = size > self._max_bytes
        if size >= self._max_bytes * COUNTER_THRESHOLD:
            self.counter.setText(
                self.tr("%1 / %2 bytes")
                .replace("%1", f"{size:,}")
                .replace("%2", f"{self._max_bytes:,}")
            )
            self.counter.setProperty("over", over)
            self.counter.style().unpolish(self.counter)
            self.counter.style().polish(self.counter)
            self.counter.show()
        else:
            self.counter.hide()
        self.send_button.setEnabled(self.can_send())
        self.send_button.setToolTip(
            self.tr("The message is too long") if over else self.tr("Send (Enter)")
        )
        self._fit_height()

    def _fit_height(self, *_args: object) -> None:
        metrics = QFontMetrics(self.input.font())
        line = metrics.lineSpacing()
        document = self.input.document()
        lines = max(1, round(document.size().height()))  # plain text layout: lines
        visible = min(lines, MAX_VISIBLE_LINES)
        margin = int(document.documentMargin() * 2) + 2
        self.input.setFixedHeight(visible * line + margin)

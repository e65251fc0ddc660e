"""The message composer: a growing text field, a send button and a size counter."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QEvent, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
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


def _popup(completer: QCompleter) -> QAbstractItemView:
    popup = completer.popup()
    assert popup is not None  # a QCompleter always has one
    return popup


class _MessageEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter (or Ctrl+Enter) inserts a new line. While the mention
    popup is open, Enter and Tab pick the highlighted member and Esc closes it."""

    submit = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.completer: QCompleter | None = None
        self.pick_mention: Callable[[str], None] | None = None

    def _popup_open(self) -> bool:
        return self.completer is not None and _popup(self.completer).isVisible()

    def event(self, event: QEvent) -> bool:
        # Tab moves the focus before keyPressEvent sees it: not while the popup is open.
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Tab
            and self._popup_open()
        ):
            self.keyPressEvent(event)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        completer = self.completer
        if completer is not None and self._popup_open():
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                index = _popup(completer).currentIndex()
                if not index.isValid():
                    index = completer.completionModel().index(0, 0)
                if self.pick_mention is not None:
                    self.pick_mention(str(index.data()))
                _popup(completer).hide()
                event.accept()
                return
            if event.key() == Qt.Key.Key_Escape:
                _popup(completer).hide()
                event.accept()
                return
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
    edited = Signal(str)
    """The user changed the text (typing, pasting, deleting; not :meth:`set_text`): the
    text now. Drives the typing indicator the others see."""
    sent_mentions: list[str]
    """The client IDs the last text sent mentions (members picked after ``@`` whose
    ``@Name`` is still in it); read it in a slot of :attr:`send_requested`."""

    def __init__(
        self, parent: QWidget | None = None, *, max_bytes: int = protocol.MAX_TEXT_BYTES
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self._max_bytes = max_bytes
        self._stack = QStackedLayout(self)
        self._setting_text = False
        self.sent_mentions = []
        self._candidates: dict[str, str] = {}
        """Display name → client ID of the members a mention may name (groups only)."""
        self._picked: dict[str, str] = {}
        """Display name → client ID of the members picked in the current text."""
        self._names = QStringListModel(self)

        editing = QWidget(self)
        row = QHBoxLayout(editing)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(8)
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

        self.completer = QCompleter(self._names, self)
        self.completer.setWidget(self.input)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        activated = self.completer.activated[str]  # type: ignore[index]
        activated.connect(self._insert_mention)  # a click in the popup
        self.input.completer = self.completer
        self.input.pick_mention = self._insert_mention
        self.input.textChanged.connect(self._text_changed)
        self.input.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.input.submit.connect(self.submit)
        self.send_button.clicked.connect(self.submit)
        self._refresh()

    # --- state ---

    def text(self) -> str:
        return self.input.toPlainText()

    def set_mention_candidates(self, members: dict[str, str]) -> None:
        """The members ``@`` may complete (display name → client ID; empty outside
        groups: no popup)."""
        self._candidates = dict(members)
        self._picked = {}
        self._names.setStringList(sorted(members, key=str.casefold))
        _popup(self.completer).hide()

    def mention_prefix(self) -> str | None:
        """The word typed after an ``@`` right before the cursor, or ``None``."""
        cursor = self.input.textCursor()
        block = cursor.block().text()[: cursor.positionInBlock()]
        at = block.rfind("@")
        if at < 0 or (at > 0 and not block[at - 1].isspace()):
            return None
        typed = block[at + 1 :]
        if "\n" in typed or len(typed) > 64 or typed.startswith(" "):
            return None
        return typed

    def _complete_mention(self) -> None:
        if not self._candidates:
            return
        prefix = self.mention_prefix()
        popup = _popup(self.completer)
        if prefix is None:
            popup.hide()
            return
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
        rect = self.input.cursorRect()
        rect.setWidth(
            popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width() + 16
        )
        self.completer.complete(rect)

    def _insert_mention(self, name: str) -> None:
        """Replace ``@prefix`` before the cursor by ``@Name `` and remember the member."""
        client_id = self._candidates.get(name)
        prefix = self.mention_prefix()
        if client_id is None or prefix is None:
            return
        cursor = self.input.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix) + 1
        )
        cursor.insertText(f"@{name} ")
        self.input.setTextCursor(cursor)
        self._picked[name] = client_id
        _popup(self.completer).hide()

    def mentions(self) -> list[str]:
        """The client IDs the text mentions now (picked members whose ``@Name`` is still
        in it), in the order they appear."""
        text = self.text()
        found = [(text.find(f"@{name}"), cid) for name, cid in self._picked.items()]
        return list(dict.fromkeys(cid for at, cid in sorted(found) if at >= 0))

    def set_text(self, text: str) -> None:
        """Show ``text`` (a chat's saved draft); not an edit by the user (no :attr:`edited`)."""
        self._setting_text = True
        try:
            self.input.setPlainText(text)
        finally:
            self._setting_text = False

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
        self._refresh()

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
        self.sent_mentions = self.mentions()
        self._picked = {}
        self.input.clear()
        self.send_requested.emit(text)

    def _text_changed(self) -> None:
        self._refresh()
        if not self._setting_text:
            self.edited.emit(self.text())
            self._complete_mention()

    def _refresh(self) -> None:
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

"""The message composer: a growing text field, a send button and a size counter."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QEvent, QMimeData, QSize, QStringListModel, Qt, Signal
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


def _has_files(source: QMimeData) -> bool:
    """issue 10: whether pasted or dropped data is an image or local files."""
    if source.hasImage():
        return True
    return source.hasUrls() and any(url.isLocalFile() for url in source.urls())


def _popup(completer: QCompleter) -> QAbstractItemView:
    popup = completer.popup()
    assert popup is not None  # a QCompleter always has one
    return popup


class _MessageEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter (or Ctrl+Enter) inserts a new line; Esc cancels a reply or
    an edit; Up in an empty field edits the last message (as in Telegram). While the
    mention popup is open, Enter and Tab pick the highlighted member and Esc closes it."""

    submit = Signal()
    escape = Signal()
    up_in_empty = Signal()
    files_pasted = Signal(object)
    """issue 10: Ctrl+V (or a drop) of an image or of files: the ``QMimeData``."""

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

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(_has_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if _has_files(source):  # issue 10: a screenshot or copied files → the preview
            self.files_pasted.emit(source)
            return
        super().insertFromMimeData(source)

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
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Up and not event.modifiers() and not self.toPlainText():
            self.up_in_empty.emit()
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
    """The text to send (not stripped: the user's line breaks and spaces are kept). While
    it is emitted, :attr:`reply_target` is the message it answers (``None``: none)."""
    edit_submitted = Signal(int, str)
    """``(local_id, text)``: the new text of the message being edited."""
    edit_last_requested = Signal()
    """Up was pressed in the empty field: edit the last message (call :meth:`start_edit`)."""
    edited = Signal(str)
    """The user changed the text (typing, pasting, deleting; not :meth:`set_text`): the
    text now. Drives the typing indicator the others see."""
    sent_mentions: list[str]
    """The client IDs the last text sent mentions (members picked after ``@`` whose
    ``@Name`` is still in it); read it in a slot of :attr:`send_requested`."""
    attach_requested = Signal()
    """issue 10: the attach button was clicked."""

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

        self.reply_target: int | None = None
        """The message the next one answers (the bar above the field), or ``None``."""
        self.edit_target: int | None = None
        """The message being edited, or ``None``."""
        self._text_before_edit = ""

        editing = QWidget(self)
        column = QVBoxLayout(editing)
        column.setContentsMargins(12, 6, 12, 8)
        column.setSpacing(4)
        self.action_bar = QFrame(editing)
        self.action_bar.setObjectName("composerActionBar")
        bar = QHBoxLayout(self.action_bar)
        bar.setContentsMargins(10, 4, 4, 4)
        bar.setSpacing(8)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        self.action_title = QLabel(self.action_bar)
        self.action_title.setObjectName("composerActionTitle")
        self.action_title.setTextFormat(Qt.TextFormat.PlainText)
        self.action_preview = QLabel(self.action_bar)
        self.action_preview.setObjectName("composerActionPreview")
        self.action_preview.setTextFormat(Qt.TextFormat.PlainText)
        self.action_preview.setMinimumWidth(40)
        self.action_preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        texts.addWidget(self.action_title)
        texts.addWidget(self.action_preview)
        bar.addLayout(texts, 1)
        self.action_cancel = QToolButton(self.action_bar)
        self.action_cancel.setObjectName("composerActionCancel")
        self.action_cancel.setText("✕")
        self.action_cancel.setToolTip(self.tr("Cancel (Esc)"))
        self.action_cancel.setAccessibleName(self.tr("Cancel"))
        self.action_cancel.setCursor(Qt.CursorShape.PointingHandCursor)
        self.action_cancel.clicked.connect(self.cancel_action)
        bar.addWidget(self.action_cancel)
        self.action_bar.hide()
        column.addWidget(self.action_bar)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
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
        column.addLayout(row)
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
        self.input.escape.connect(self.cancel_action)
        self.input.up_in_empty.connect(self.edit_last_requested)
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

    def draft_text(self) -> str:
        """What the user typed and did not send: while editing a message, what was in the
        field before the edit began."""
        return self._text_before_edit if self.edit_target is not None else self.text()

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
        if self.edit_target is not None:
            target = self.edit_target
            self._end_action(restore=True)
            self.edit_submitted.emit(target, text)
            return
        self.sent_mentions = self.mentions()
        self._picked = {}
        self.input.clear()
        self.send_requested.emit(text)
        self._end_action(restore=False)

    # --- reply and edit ---

    def start_reply(self, local_id: int, sender: str, text: str) -> None:
        """Answer message ``local_id``: a bar above the field quotes ``sender`` and
        ``text``; the next message sent answers it (Esc or ✕ cancels)."""
        if self.edit_target is not None:
            self._end_action(restore=True)
        self.reply_target = local_id
        self.action_title.setText(self.tr("Reply to %1").replace("%1", sender))
        self.action_preview.setText(_one_line(text))
        self.action_bar.show()
        self.focus_input()

    def start_edit(self, local_id: int, text: str) -> None:
        """Edit our message ``local_id``: the field holds its text (what was typed is put
        back afterwards); Enter saves, Esc cancels."""
        if self.edit_target is None:
            self._text_before_edit = self.text()
        self.reply_target = None
        self.edit_target = local_id
        self.action_title.setText(self.tr("Edit message"))
        self.action_preview.setText(_one_line(text))
        self.action_bar.show()
        self.set_text(text)
        self.input.moveCursor(QTextCursor.MoveOperation.End)
        self.focus_input()

    def cancel_action(self) -> None:
        """Cancel the reply or edit under way (Esc); does nothing when there is none."""
        if self.reply_target is not None or self.edit_target is not None:
            self._end_action(restore=self.edit_target is not None)

    def _end_action(self, *, restore: bool) -> None:
        if restore and self.edit_target is not None:
            self.set_text(self._text_before_edit)
            self.input.moveCursor(QTextCursor.MoveOperation.End)
        self.reply_target = None
        self.edit_target = None
        self._text_before_edit = ""
        self.action_bar.hide()

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


def _one_line(text: str) -> str:
    """The first 200 characters of ``text`` on one line (for the bar's preview)."""
    return " ".join(text.split())[:200]

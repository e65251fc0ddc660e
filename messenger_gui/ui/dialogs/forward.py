"""Forward messages: pick the chat they go to."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import ConversationSummary
from messenger_gui.ui.avatars import avatar_pixmap

_CONVERSATION_ROLE = Qt.ItemDataRole.UserRole + 1
_IS_GROUP_ROLE = Qt.ItemDataRole.UserRole + 2


class ForwardDialog(QDialog):
    """Lists the chats (filtered as the user types); emits :attr:`chosen` with
    ``(conversation, is_group)`` on "Forward" or a double-click, then closes.

    Args:
        chats: the conversation list, in its order.
        count: how many messages are forwarded (for the title).
        parent: Qt parent.
    """

    chosen = Signal(str, bool)

    def __init__(
        self, chats: Sequence[ConversationSummary], count: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("forwardDialog")
        self.setWindowTitle(self.tr("Forward %n message(s)", "", count))
        self.setMinimumSize(380, 480)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("searchBox")
        self.filter_edit.setPlaceholderText(self.tr("Search chats"))
        self.filter_edit.setClearButtonEnabled(True)
        self.chat_list = QListWidget(self)
        self.chat_list.setObjectName("forwardChats")
        for chat in chats:
            item = QListWidgetItem(chat.title)
            item.setIcon(
                QIcon(avatar_pixmap(chat.conversation, chat.title, 32, is_group=chat.is_group))
            )
            item.setData(_CONVERSATION_ROLE, chat.conversation)
            item.setData(_IS_GROUP_ROLE, chat.is_group)
            self.chat_list.addItem(item)
        if self.chat_list.count():
            self.chat_list.setCurrentRow(0)
        self.empty_label = QLabel(self.tr("No chats to forward to."), self)
        self.empty_label.setObjectName("muted")
        self.empty_label.setVisible(not chats)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Cancel, Qt.Orientation.Horizontal, self
        )
        self.forward_button = self.buttons.addButton(
            self.tr("Forward"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.forward_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.chat_list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.buttons)
        self.filter_edit.textChanged.connect(self._filter)
        self.chat_list.itemDoubleClicked.connect(lambda _item: self._choose())
        self.buttons.accepted.connect(self._choose)
        self.buttons.rejected.connect(self.reject)
        self._update_button()
        self.chat_list.currentRowChanged.connect(lambda _row: self._update_button())
        self.filter_edit.setFocus()

    def select(self, conversation: str) -> bool:
        """Make ``conversation`` the current row (tests, keyboard users)."""
        for row in range(self.chat_list.count()):
            item = self.chat_list.item(row)
            if item.data(_CONVERSATION_ROLE) == conversation and not item.isHidden():
                self.chat_list.setCurrentRow(row)
                return True
        return False

    def _filter(self, text: str) -> None:
        needle = text.casefold().strip()
        first_visible = -1
        for row in range(self.chat_list.count()):
            item = self.chat_list.item(row)
            hidden = bool(needle) and needle not in item.text().casefold()
            item.setHidden(hidden)
            if not hidden and first_visible < 0:
                first_visible = row
        current = self.chat_list.currentItem()
        if current is None or current.isHidden():
            self.chat_list.setCurrentRow(first_visible)
        self._update_button()

    def _update_button(self) -> None:
        current = self.chat_list.currentItem()
        self.forward_button.setEnabled(current is not None and not current.isHidden())

    def _choose(self) -> None:
        current = self.chat_list.currentItem()
        if current is None or current.isHidden():
            return
        self.chosen.emit(str(current.data(_CONVERSATION_ROLE)), bool(current.data(_IS_GROUP_ROLE)))
        self.accept()

"""A group's members; admins add and remove members, anyone can leave."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import Contact, StoredGroup

_ID_ROLE = Qt.ItemDataRole.UserRole


class GroupInfoDialog(QDialog):
    """Shows ``group``; emits membership requests that the controller carries out, calling
    :meth:`set_group` with the new state (or :meth:`show_error`) afterwards.

    Leaving asks for confirmation first (a non-blocking message box, :attr:`confirm_box`).
    """

    add_member_requested = Signal(str, str)
    """(group_id, client_id)"""
    remove_member_requested = Signal(str, str)
    """(group_id, client_id)"""
    leave_requested = Signal(str)
    """(group_id), confirmed by the user."""

    def __init__(
        self,
        group: StoredGroup,
        own_id: str,
        contacts: Sequence[Contact],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._own_id = own_id
        self._group = group
        self._contacts: list[Contact] = []
        self._busy = False
        self.confirm_box: QMessageBox | None = None
        self.setMinimumSize(400, 460)

        self.title_label = QLabel()
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.id_label = QLabel()
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.count_label = QLabel()
        self.member_list = QListWidget()
        self.member_list.setStyleSheet("QListWidget::item { padding: 6px 4px; }")
        self.remove_button = QPushButton(self.tr("Remove from group"))
        self.remove_button.setAutoDefault(False)
        self.add_combo = QComboBox()
        self.add_combo.setMinimumContentsLength(16)
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setAutoDefault(False)
        add_row = QHBoxLayout()
        add_row.addWidget(QLabel(self.tr("Add a contact:")))
        add_row.addWidget(self.add_combo, 1)
        add_row.addWidget(self.add_button)
        self.admin_widgets = QWidget()
        admin_layout = QVBoxLayout(self.admin_widgets)
        admin_layout.setContentsMargins(0, 0, 0, 0)
        admin_layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        admin_layout.addLayout(add_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d1242f;")
        self.left_label = QLabel(self.tr("You are no longer a member of this group."))
        self.leave_button = QPushButton(self.tr("Leave group"))
        self.leave_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.leave_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.id_label)
        layout.addSpacing(6)
        layout.addWidget(self.count_label)
        layout.addWidget(self.member_list, 1)
        layout.addWidget(self.admin_widgets)
        layout.addWidget(self.left_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        self.member_list.currentItemChanged.connect(self._update_buttons)
        self.add_combo.currentIndexChanged.connect(self._update_buttons)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.leave_button.clicked.connect(self._confirm_leave)
        self.close_button.clicked.connect(self.accept)
        self.set_group(group, contacts)

    @property
    def group_id(self) -> str:
        return self._group.group_id

    @property
    def is_admin(self) -> bool:
        return any(m.client_id == self._own_id and m.admin for m in self._group.members)

    def member_ids(self) -> list[str]:
        """The IDs listed, in display order."""
        return [
            str(self.member_list.item(i).data(_ID_ROLE)) for i in range(self.member_list.count())
        ]

    def set_group(self, group: StoredGroup, contacts: Sequence[Contact]) -> None:
        """Show ``group`` as it is now (after a change here or from elsewhere)."""
        self._group = group
        self._contacts = list(contacts)
        self._set_busy(False)
        self.setWindowTitle(self.tr("Group info — %1").replace("%1", group.name))
        self.title_label.setText(group.name)
        self.id_label.setText(self.tr("Group ID: %1").replace("%1", group.group_id))
        self.count_label.setText(self.tr("%n member(s)", "", len(group.members)))
        current = self.member_list.currentItem()
        keep = current.data(_ID_ROLE) if current is not None else None
        self.member_list.clear()
        members = sorted(
            group.members,
            key=lambda m: (m.client_id != self._own_id, not m.admin, m.display_name.casefold()),
        )
        for member in members:
            name = self.tr("You") if member.client_id == self._own_id else member.display_name
            text = f"{name}  ·  {member.client_id}"
            if member.admin:
                text += "  ·  " + self.tr("admin")
            item = QListWidgetItem(text)
            item.setData(_ID_ROLE, member.client_id)
            if member.admin:
                bold = QFont(item.font())
                bold.setBold(True)
                item.setFont(bold)
            self.member_list.addItem(item)
            if member.client_id == keep:
                self.member_list.setCurrentItem(item)
        in_group = {m.client_id for m in group.members}
        self.add_combo.clear()
        for contact in sorted(self._contacts, key=lambda c: c.name.casefold()):
            if contact.client_id not in in_group:
                self.add_combo.addItem(f"{contact.name} ({contact.client_id})", contact.client_id)
        self.admin_widgets.setVisible(self.is_admin and not group.left)
        self.left_label.setVisible(group.left)
        self.leave_button.setVisible(not group.left)
        self._update_buttons()

    def _selected_member(self) -> str | None:
        item = self.member_list.currentItem()
        return None if item is None else str(item.data(_ID_ROLE))

    def _update_buttons(self) -> None:
        selected = self._selected_member()
        self.remove_button.setEnabled(
            not self._busy and selected is not None and selected != self._own_id
        )
        self.add_button.setEnabled(not self._busy and self.add_combo.currentIndex() >= 0)
        self.add_combo.setEnabled(not self._busy and self.add_combo.count() > 0)
        if self.add_combo.count() == 0:
            self.add_combo.setPlaceholderText(self.tr("All your contacts are members"))
        self.leave_button.setEnabled(not self._busy)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.error_label.clear()
        self._update_buttons()

    def select_member(self, client_id: str) -> None:
        """Make ``client_id`` the current row (what a click does)."""
        for i in range(self.member_list.count()):
            if self.member_list.item(i).data(_ID_ROLE) == client_id:
                self.member_list.setCurrentRow(i)

    def select_contact_to_add(self, client_id: str) -> None:
        index = self.add_combo.findData(client_id)
        if index >= 0:
            self.add_combo.setCurrentIndex(index)

    def _add(self) -> None:
        client_id = self.add_combo.currentData()
        if self._busy or not isinstance(client_id, str):
            return
        self._set_busy(True)
        self.add_member_requested.emit(self._group.group_id, client_id)

    def _remove(self) -> None:
        client_id = self._selected_member()
        if self._busy or client_id is None or client_id == self._own_id:
            return
        self._set_busy(True)
        self.remove_member_requested.emit(self._group.group_id, client_id)

    def _confirm_leave(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Leave group?"),
            self.tr(
                "Leave “%1”? You will stop receiving its messages; the history stays on "
                "this computer."
            ).replace("%1", self._group.name),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton(self.tr("Leave"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: (
                self._leave_confirmed()
                if box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
                else None
            )
        )
        self.confirm_box = box
        box.open()

    def _leave_confirmed(self) -> None:
        self.confirm_box = None
        self._set_busy(True)
        self.leave_requested.emit(self._group.group_id)

    @property
    def error_text(self) -> str:
        return self.error_label.text()

    def show_error(self, message: str) -> None:
        self._set_busy(False)
        self.error_label.setText(message)

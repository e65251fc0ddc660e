"""A group's settings and members: admins rename and describe it, add and remove
members, promote and demote admins and delete it; the others see it read-only and can
leave."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import Contact, StoredGroup
from messenger_gui.ui.avatars import avatar_pixmap
from messenger_gui.ui.dialogs.people import ID_ROLE as _ID_ROLE
from messenger_gui.ui.dialogs.people import PersonDelegate, person_item
from messenger_gui.ui.formatting import bidi_safe, fill, isolate
from messenger_gui.ui.theme import colours, set_variant
from messenger_server import protocol

_HEADER_AVATAR = 64


class _ComboBox(QComboBox):
    """A combo box with a painted chevron: the theme's rounded style sheet for a
    ``picker`` combo box takes away the style's own arrow."""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(colours(self.palette()).muted)
        if not self.isEnabled():
            colour.setAlpha(120)
        pen = QPen(colour, 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y = self.width() - 16.0, self.height() / 2
        painter.drawPolyline([QPointF(x - 4, y - 2), QPointF(x, y + 2), QPointF(x + 4, y - 2)])
        painter.end()


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
    update_requested = Signal(str, str, str)
    """(group_id, name, description): an admin saved the group's settings."""
    admin_requested = Signal(str, str, bool)
    """(group_id, client_id, admin): make the member an admin, or not."""
    delete_requested = Signal(str)
    """(group_id): an admin deletes the group for everyone, confirmed."""

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
        self.setMinimumSize(440, 660)

        self.avatar_label = QLabel()
        self.avatar_label.setFixedSize(_HEADER_AVATAR, _HEADER_AVATAR)
        self.title_label = QLabel()
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        self.id_label = QLabel()
        self.id_label.setObjectName("muted")
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header_text = QVBoxLayout()
        header_text.setSpacing(2)
        header_text.addStretch(1)
        header_text.addWidget(self.title_label)
        header_text.addWidget(self.id_label)
        header_text.addStretch(1)
        header = QFrame()
        header.setObjectName("dialogHeader")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(4, 4, 4, 14)
        header_layout.setSpacing(14)
        header_layout.addWidget(self.avatar_label)
        header_layout.addLayout(header_text, 1)

        # The group's settings: editable by admins, read-only for the others.
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(protocol.MAX_GROUP_NAME_CHARS)
        self.name_edit.setAccessibleName(self.tr("Group name"))
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("groupDescription")
        self.description_edit.setPlaceholderText(self.tr("Description (optional)"))
        self.description_edit.setAccessibleName(self.tr("Description"))
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMaximumHeight(70)
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setProperty("variant", "primary")
        self.save_button.setAutoDefault(False)
        self.settings_widgets = QWidget()
        settings_layout = QVBoxLayout(self.settings_widgets)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.setSpacing(6)
        settings_layout.addWidget(self.name_edit)
        settings_layout.addWidget(self.description_edit)
        settings_layout.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignRight)
        self.description_label = QLabel()
        self.description_label.setWordWrap(True)
        self.description_label.setTextFormat(Qt.TextFormat.PlainText)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.count_label = QLabel()
        self.count_label.setObjectName("sectionLabel")
        self.member_list = QListWidget()
        self.member_list.setObjectName("peopleList")
        self.member_list.setItemDelegate(PersonDelegate(self.member_list))
        self.member_list.setMouseTracking(True)
        self.member_list.setUniformItemSizes(True)
        self.remove_button = QPushButton(self.tr("Remove from group"))
        self.remove_button.setProperty("variant", "danger")
        self.remove_button.setAutoDefault(False)
        self.add_combo: QComboBox = _ComboBox()
        self.add_combo.setObjectName("picker")
        self.add_combo.setMinimumContentsLength(8)
        # Shown when no contact is left to add; set now, as setting it later does not
        # resize the row.
        self.add_combo.setPlaceholderText(self.tr("All your contacts are members"))
        # Long names must not push the Add button out of the row.
        self.add_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setProperty("variant", "primary")
        self.add_button.setAutoDefault(False)
        add_row = QHBoxLayout()
        add_row.setSpacing(8)
        add_row.addWidget(QLabel(self.tr("Add a contact:")))
        add_row.addWidget(self.add_combo, 1)
        add_row.addWidget(self.add_button)
        self.admin_widgets = QWidget()
        admin_layout = QVBoxLayout(self.admin_widgets)
        admin_layout.setContentsMargins(0, 4, 0, 0)
        admin_layout.setSpacing(10)
        self.admin_button = QPushButton(self.tr("Make admin"))
        self.admin_button.setAutoDefault(False)
        member_buttons = QHBoxLayout()
        member_buttons.setSpacing(8)
        member_buttons.addWidget(self.admin_button)
        member_buttons.addWidget(self.remove_button)
        member_buttons.addStretch(1)
        admin_layout.addLayout(member_buttons)
        admin_layout.addLayout(add_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(4)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.left_label = QLabel(self.tr("You are no longer a member of this group."))
        self.left_label.setObjectName("muted")
        self.leave_button = QPushButton(self.tr("Leave group"))
        self.leave_button.setProperty("variant", "danger")
        self.leave_button.setAutoDefault(False)
        self.delete_button = QPushButton(self.tr("Delete group"))
        self.delete_button.setProperty("variant", "danger")
        self.delete_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setProperty("variant", "primary")
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.leave_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 16)
        layout.setSpacing(8)
        layout.addWidget(header)
        layout.addWidget(self.description_label)
        layout.addWidget(self.settings_widgets)
        layout.addSpacing(4)
        layout.addWidget(self.count_label)
        layout.addWidget(self.member_list, 1)
        layout.addWidget(self.admin_widgets)
        layout.addWidget(self.left_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addSpacing(4)
        layout.addLayout(buttons)

        self.member_list.currentItemChanged.connect(self._update_buttons)
        self.add_combo.currentIndexChanged.connect(self._update_buttons)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.leave_button.clicked.connect(self._confirm_leave)
        self.save_button.clicked.connect(self._save_settings)
        self.name_edit.textChanged.connect(self._update_buttons)
        self.description_edit.textChanged.connect(self._update_buttons)
        self.admin_button.clicked.connect(self._toggle_admin)
        self.delete_button.clicked.connect(self._confirm_delete)
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
        self.setWindowTitle(fill(self.tr("Group info — %1"), isolate(group.name)))
        self.title_label.setText(bidi_safe(group.name))
        self.avatar_label.setPixmap(
            avatar_pixmap(
                group.group_id,
                group.name,
                _HEADER_AVATAR,
                self.devicePixelRatioF(),
                is_group=True,
            )
        )
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
            pill = self.tr("admin") if member.admin else ""
            text = f"{name}  ·  {member.client_id}"
            if pill:
                text += "  ·  " + pill
            item = person_item(member.client_id, name, text, pill, member.display_name)
            self.member_list.addItem(item)
            if member.client_id == keep:
                self.member_list.setCurrentItem(item)
        in_group = {m.client_id for m in group.members}
        self.add_combo.clear()
        for contact in sorted(self._contacts, key=lambda c: c.name.casefold()):
            if contact.client_id not in in_group:
                self.add_combo.addItem(
                    f"{isolate(contact.name)} ({contact.client_id})", contact.client_id
                )
        if self.add_combo.count():
            self.add_combo.setCurrentIndex(0)  # with a placeholder set, nothing is chosen
        admin = self.is_admin and not group.left
        self.admin_widgets.setVisible(admin)
        self.settings_widgets.setVisible(admin)
        self.delete_button.setVisible(admin)
        self.name_edit.setText(group.name)
        if self.description_edit.toPlainText() != group.description:
            self.description_edit.setPlainText(group.description)
        self.description_label.setText(group.description)
        self.description_label.setVisible(not admin and bool(group.description))
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
        self.leave_button.setEnabled(not self._busy)
        self.delete_button.setEnabled(not self._busy)
        member = next((m for m in self._group.members if m.client_id == selected), None)
        self.admin_button.setEnabled(not self._busy and member is not None)
        self.admin_button.setText(
            self.tr("Remove admin rights")
            if member is not None and member.admin
            else self.tr("Make admin")
        )
        name = self.name_edit.text().strip()
        changed = (name, self.description_edit.toPlainText().strip()) != (
            self._group.name,
            self._group.description,
        )
        self.save_button.setEnabled(not self._busy and bool(name) and changed)

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

    def _save_settings(self) -> None:
        name = self.name_edit.text().strip()
        if self._busy or not name:
            return
        self._set_busy(True)
        self.update_requested.emit(
            self._group.group_id, name, self.description_edit.toPlainText().strip()
        )

    def _toggle_admin(self) -> None:
        client_id = self._selected_member()
        member = next((m for m in self._group.members if m.client_id == client_id), None)
        if self._busy or member is None:
            return
        self._set_busy(True)
        self.admin_requested.emit(self._group.group_id, member.client_id, not member.admin)

    def _confirm_delete(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete group?"),
            self.tr(
                "Delete “%1” for everyone? Every member is removed and nobody can write to "
                "it any more; the history stays on each computer."
            ).replace("%1", self._group.name),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton(self.tr("Delete group"), QMessageBox.ButtonRole.DestructiveRole)
        set_variant(delete, "danger")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: (
                self._delete_confirmed()
                if box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
                else None
            )
        )
        self.confirm_box = box
        box.open()

    def _delete_confirmed(self) -> None:
        self.confirm_box = None
        self._set_busy(True)
        self.delete_requested.emit(self._group.group_id)

    def _confirm_leave(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Leave group?"),
            fill(
                self.tr(
                    "Leave “%1”? You will stop receiving its messages; the history stays on "
                    "this computer."
                ),
                isolate(self._group.name),
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the group's name is someone's text
        leave = box.addButton(self.tr("Leave"), QMessageBox.ButtonRole.DestructiveRole)
        set_variant(leave, "danger")
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

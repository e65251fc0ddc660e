"""Create a group: a name and members ticked from the contacts."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import Contact
from messenger_gui.ui.avatars import avatar_pixmap
from messenger_gui.ui.dialogs.people import ID_ROLE as _ID_ROLE
from messenger_gui.ui.dialogs.people import PersonDelegate, person_item
from messenger_server import protocol

_HEADER_AVATAR = 56


class NewGroupDialog(QDialog):
    """Emits :attr:`create_requested` (name, member IDs); the controller creates the group
    and accepts the dialog, or calls :meth:`show_error`."""

    create_requested = Signal(str, list)

    def __init__(self, contacts: Sequence[Contact], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.setWindowTitle(self.tr("New group"))
        self.setMinimumSize(420, 540)

        self.avatar_label = QLabel()
        self.avatar_label.setFixedSize(_HEADER_AVATAR, _HEADER_AVATAR)
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(protocol.MAX_GROUP_NAME_CHARS)
        self.name_edit.setPlaceholderText(self.tr("e.g. Family"))
        name_label = QLabel(self.tr("Group name:"))
        name_label.setObjectName("muted")
        name_column = QVBoxLayout()
        name_column.setSpacing(4)
        name_column.addWidget(name_label)
        name_column.addWidget(self.name_edit)
        form = QHBoxLayout()
        form.setSpacing(14)
        form.addWidget(self.avatar_label, 0, Qt.AlignmentFlag.AlignBottom)
        form.addLayout(name_column, 1)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("searchBox")
        self.filter_edit.setPlaceholderText(self.tr("Search contacts"))
        self.filter_edit.setClearButtonEnabled(True)
        self.member_list = QListWidget()
        self.member_list.setObjectName("peopleList")
        self.member_list.setItemDelegate(PersonDelegate(self.member_list))
        self.member_list.setMouseTracking(True)
        self.member_list.setUniformItemSizes(True)
        for contact in sorted(contacts, key=lambda c: c.name.casefold()):
            item = person_item(
                contact.client_id, contact.name, f"{contact.name}  ·  {contact.client_id}"
            )
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsSelectable
            )
            item.setCheckState(Qt.CheckState.Unchecked)
            self.member_list.addItem(item)
        self.empty_label = QLabel(
            self.tr("You have no contacts yet. Add a contact first, then create a group.")
        )
        self.empty_label.setObjectName("muted")
        self.empty_label.setWordWrap(True)
        self.empty_label.setVisible(not contacts)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(4)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.create_button = QPushButton(self.tr("Create"))
        self.create_button.setProperty("variant", "primary")
        self.create_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)

        members_label = QLabel(self.tr("Members:"))
        members_label.setObjectName("sectionLabel")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 16)
        layout.setSpacing(8)
        layout.addLayout(form)
        layout.addSpacing(10)
        layout.addWidget(members_label)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.member_list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addSpacing(4)
        layout.addLayout(buttons)

        self.name_edit.textChanged.connect(self._update)
        self.filter_edit.textChanged.connect(self._filter)
        self.member_list.itemChanged.connect(self._update)
        # A click or Space ticks a contact (PersonDelegate); Enter is the dialog's: Create.
        self.create_button.clicked.connect(self._create)
        self.cancel_button.clicked.connect(self.reject)
        self._update()

    def selected_ids(self) -> list[str]:
        """The IDs of the ticked contacts, in list order."""
        return [
            str(item.data(_ID_ROLE))
            for item in (self.member_list.item(i) for i in range(self.member_list.count()))
            if item.checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, client_id: str, checked: bool = True) -> None:
        """Tick or untick the contact ``client_id`` (keyboard users and tests)."""
        for i in range(self.member_list.count()):
            item = self.member_list.item(i)
            if item.data(_ID_ROLE) == client_id:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.member_list.count()):
            item = self.member_list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _update(self) -> None:
        name = self.name_edit.text().strip()
        self.avatar_label.setPixmap(
            avatar_pixmap(
                name or "?", name or "?", _HEADER_AVATAR, self.devicePixelRatioF(), is_group=True
            )
        )
        count = len(self.selected_ids())
        self.count_label.setText(
            self.tr("%n member(s) selected", "", count) if count else self.tr("No one selected")
        )
        self.create_button.setEnabled(
            not self._busy and bool(self.name_edit.text().strip()) and count > 0
        )

    def _create(self) -> None:
        name = self.name_edit.text().strip()
        members = self.selected_ids()
        if self._busy:
            return
        if not name:
            self.show_error(self.tr("Give the group a name."))
            return
        if not members:
            self.show_error(self.tr("Choose at least one member."))
            return
        self._set_busy(True)
        self.error_label.clear()
        self.create_requested.emit(name, members)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.name_edit.setReadOnly(busy)
        self.member_list.setEnabled(not busy)
        self._update()

    @property
    def error_text(self) -> str:
        return self.error_label.text()

    def show_error(self, message: str) -> None:
        """Show why creating failed; the user may change the choice and retry."""
        self._set_busy(False)
        self.error_label.setText(message)

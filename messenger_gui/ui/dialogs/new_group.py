"""Create a group: a name and members ticked from the contacts."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import Contact
from messenger_server import protocol

_ID_ROLE = Qt.ItemDataRole.UserRole


class NewGroupDialog(QDialog):
    """Emits :attr:`create_requested` (name, member IDs); the controller creates the group
    and accepts the dialog, or calls :meth:`show_error`."""

    create_requested = Signal(str, list)

    def __init__(self, contacts: Sequence[Contact], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.setWindowTitle(self.tr("New group"))
        self.setMinimumSize(400, 460)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(protocol.MAX_GROUP_NAME_CHARS)
        self.name_edit.setPlaceholderText(self.tr("e.g. Family"))
        form = QFormLayout()
        form.addRow(self.tr("Group name:"), self.name_edit)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Search contacts"))
        self.filter_edit.setClearButtonEnabled(True)
        self.member_list = QListWidget()
        self.member_list.setStyleSheet("QListWidget::item { padding: 6px 4px; }")
        for contact in sorted(contacts, key=lambda c: c.name.casefold()):
            item = QListWidgetItem(f"{contact.name}  ·  {contact.client_id}")
            item.setData(_ID_ROLE, contact.client_id)
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
        self.empty_label.setWordWrap(True)
        self.empty_label.setVisible(not contacts)
        self.count_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d1242f;")
        self.create_button = QPushButton(self.tr("Create"))
        self.create_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Members:")))
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.member_list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        self.name_edit.textChanged.connect(self._update)
        self.filter_edit.textChanged.connect(self._filter)
        self.member_list.itemChanged.connect(self._update)
        self.member_list.itemActivated.connect(self._toggle)
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

    def _toggle(self, item: QListWidgetItem) -> None:
        checked = item.checkState() == Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.member_list.count()):
            item = self.member_list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _update(self) -> None:
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

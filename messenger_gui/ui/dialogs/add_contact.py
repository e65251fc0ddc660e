"""Add a contact by ID: type or paste it, look it up, see the name, add."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui import client_ids
from messenger_gui.ui.avatars import avatar_pixmap
from messenger_gui.ui.formatting import fill, isolate

_AVATAR = 44


def normalize_client_id(text: str) -> str | None:
    """``text`` as a canonical client ID (``K7QM-4XPA``), or ``None`` if it cannot be one.

    Forgiving the way people read IDs aloud and paste them (see
    :func:`messenger_gui.client_ids.normalize_client_id`): case, spaces and dashes do not
    matter, and O, I and L stand for 0, 1 and 1.
    """
    try:
        return client_ids.normalize_client_id(text)
    except ValueError:
        return None


class AddContactDialog(QDialog):
    """Emits :attr:`lookup_requested` and then :attr:`add_requested`; the controller answers
    with :meth:`show_found` / :meth:`show_error`, and accepts the dialog once the contact
    is stored."""

    lookup_requested = Signal(str)
    add_requested = Signal(str)

    def __init__(
        self, own_id: str, existing_ids: Collection[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._own_id = own_id
        self._existing = set(existing_ids)
        self._found: str | None = None
        self._busy = False
        self.setWindowTitle(self.tr("Add contact"))
        self.setMinimumWidth(440)

        intro = QLabel(self.tr("Enter the ID of the person you want to add."))
        intro.setWordWrap(True)
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("idField")
        self.id_edit.setPlaceholderText(self.tr("e.g. K7QM-4XPA"))
        self.id_edit.setMaxLength(32)
        id_font = QFont("monospace")
        id_font.setStyleHint(QFont.StyleHint.Monospace)
        self.id_edit.setFont(id_font)
        self.lookup_button = QPushButton(self.tr("Look up"))
        self.lookup_button.setAutoDefault(False)
        id_row = QHBoxLayout()
        id_row.setSpacing(8)
        id_row.addWidget(self.id_edit, 1)
        id_row.addWidget(self.lookup_button)
        self.hint_label = QLabel(self.tr("An ID has 8 letters and digits, like K7QM-4XPA."))
        self.hint_label.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(4)
        self.progress.hide()

        # The answer: a line of text, or a card with the person's avatar once found.
        self.avatar_label = QLabel()
        self.avatar_label.setFixedSize(_AVATAR, _AVATAR)
        self.avatar_label.hide()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.found_id_label = QLabel()
        self.found_id_label.setObjectName("muted")
        self.found_id_label.hide()
        result_text = QVBoxLayout()
        result_text.setSpacing(2)
        result_text.addStretch(1)
        result_text.addWidget(self.result_label)
        result_text.addWidget(self.found_id_label)
        result_text.addStretch(1)
        self.result_card = QFrame()
        self.result_card.setObjectName("resultCard")
        card_layout = QHBoxLayout(self.result_card)
        card_layout.setContentsMargins(0, 0, 0, 0)
        card_layout.setSpacing(12)
        card_layout.addWidget(self.avatar_label)
        card_layout.addLayout(result_text, 1)

        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setProperty("variant", "primary")
        self.add_button.setEnabled(False)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.add_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 16)
        layout.setSpacing(8)
        layout.addWidget(intro)
        layout.addLayout(id_row)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.progress)
        layout.addSpacing(4)
        layout.addWidget(self.result_card)
        layout.addStretch(1)
        layout.addSpacing(8)
        layout.addLayout(buttons)

        self.id_edit.textChanged.connect(self._id_changed)
        self.id_edit.returnPressed.connect(self._enter_pressed)
        self.lookup_button.clicked.connect(self._lookup)
        self.add_button.clicked.connect(self._add)
        self.cancel_button.clicked.connect(self.reject)
        self._id_changed()

    def offer_clipboard(self, text: str) -> None:
        """Pre-fill the ID when the clipboard holds someone else's (pasted from a chat or
        an e-mail): the user only has to press Enter."""
        client_id = normalize_client_id(text) if len(text) <= 32 else None
        if client_id is not None and client_id != self._own_id and not self.id_edit.text():
            self.id_edit.setText(client_id)
            self.id_edit.selectAll()

    @property
    def found_id(self) -> str | None:
        """The ID looked up successfully, ready to add."""
        return self._found

    @property
    def result_text(self) -> str:
        return self.result_label.text()

    def _id_changed(self) -> None:
        self._found = None
        self.add_button.setEnabled(False)
        self.add_button.setDefault(False)
        self._show_result("")
        self.lookup_button.setEnabled(
            not self._busy and normalize_client_id(self.id_edit.text()) is not None
        )

    def _enter_pressed(self) -> None:
        if self._found is not None:
            self._add()
        else:
            self._lookup()

    def _lookup(self) -> None:
        if self._busy:
            return
        client_id = normalize_client_id(self.id_edit.text())
        if client_id is None:
            self.show_error(self.tr("This is not an ID. An ID looks like K7QM-4XPA."))
            return
        if self.id_edit.text() != client_id:
            self.id_edit.setText(client_id)
        if client_id == self._own_id:
            self.show_error(self.tr("That's your own ID."))
            return
        if client_id in self._existing:
            self.show_error(self.tr("%1 is already one of your contacts.").replace("%1", client_id))
            return
        self._set_busy(True)
        self._show_result(self.tr("Looking up %1…").replace("%1", client_id), "muted")
        self.lookup_requested.emit(client_id)

    def _add(self) -> None:
        if self._busy or self._found is None:
            return
        self._set_busy(True)
        self.add_requested.emit(self._found)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.id_edit.setReadOnly(busy)
        self.lookup_button.setEnabled(
            not busy and normalize_client_id(self.id_edit.text()) is not None
        )
        self.add_button.setEnabled(not busy and self._found is not None)

    def show_found(self, client_id: str, display_name: str) -> None:
        """The ID exists: show the name and offer Add."""
        self._set_busy(False)
        if normalize_client_id(self.id_edit.text()) != client_id:
            return  # the user changed the ID meanwhile
        self._found = client_id
        self._show_result(fill(self.tr("Found: %1"), isolate(display_name)), "found")
        self.avatar_label.setPixmap(
            avatar_pixmap(client_id, display_name, _AVATAR, self.devicePixelRatioF())
        )
        self.avatar_label.show()
        self.found_id_label.setText(client_id)
        self.found_id_label.show()
        self.result_card.setObjectName("card")
        card = self.result_card.layout()
        if card is not None:
            card.setContentsMargins(12, 10, 12, 10)
        self._repolish(self.result_card)
        self.add_button.setEnabled(True)
        self.add_button.setDefault(True)
        self.add_button.setFocus()

    def show_error(self, message: str) -> None:
        """Show why the lookup or adding failed; the user may edit the ID and retry."""
        self._set_busy(False)
        self._show_result(message, "error")

    def _show_result(self, text: str, kind: str = "") -> None:
        """Show ``text`` as a plain line: ``kind`` is ``"error"``, ``"muted"`` (in
        progress) or ``"found"`` (bold, in the card :meth:`show_found` fills in)."""
        self.result_label.setText(text)
        names = {"error": "errorLabel", "muted": "muted", "found": "headerTitle"}
        self.result_label.setObjectName(names.get(kind, ""))
        self._repolish(self.result_label)
        if kind != "found":
            self.avatar_label.hide()
            self.found_id_label.hide()
            self.result_card.setObjectName("resultCard")
            layout = self.result_card.layout()
            if layout is not None:
                layout.setContentsMargins(0, 0, 0, 0)
            self._repolish(self.result_card)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        """Re-apply the style sheet after an object name change."""
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        widget.update()

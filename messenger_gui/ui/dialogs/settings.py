"""Settings: for now, who sees when the user is online (presence privacy)."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

PRIVACY_CHOICES: Final = ("chats", "nobody")
"""The values of ``set_privacy`` (protocol 12.8), in the order the dialog lists them."""


class SettingsDialog(QDialog):
    """Emits :attr:`privacy_chosen` with ``"chats"`` or ``"nobody"`` when the user saves a
    different choice; the controller remembers it and tells the server.

    Args:
        privacy: the current choice (``"nobody"``, the default, until the user changes it).
        parent: Qt parent.
    """

    privacy_chosen = Signal(str)

    def __init__(self, privacy: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._initial = privacy if privacy in PRIVACY_CHOICES else "nobody"
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        title = QLabel(self.tr("Who can see when I am online"))
        title.setObjectName("headerTitle")
        layout.addWidget(title)
        self.everyone_button = QRadioButton(self.tr("Everyone I share a chat with"))
        self.nobody_button = QRadioButton(self.tr("Nobody"))
        self.choices = QButtonGroup(self)
        for button in (self.everyone_button, self.nobody_button):
            self.choices.addButton(button)
            layout.addWidget(button)
        hint = QLabel(
            self.tr(
                "Your contacts who added you back and the members of your groups. If you "
                "choose nobody, you do not see when others are online either."
            )
        )
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.set_privacy(self._initial)

    def privacy(self) -> str:
        """The choice shown now."""
        return "chats" if self.everyone_button.isChecked() else "nobody"

    def set_privacy(self, privacy: str) -> None:
        (self.everyone_button if privacy == "chats" else self.nobody_button).setChecked(True)

    def _save(self) -> None:
        if self.privacy() != self._initial:
            self.privacy_chosen.emit(self.privacy())
        self.accept()


__all__ = ["PRIVACY_CHOICES", "SettingsDialog"]

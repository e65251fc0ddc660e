"""First run: choose the server and a display name, register, and learn one's new ID."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.ui.avatars import avatar_pixmap
from messenger_gui.ui.formatting import fill, isolate
from messenger_gui.ui.resources import app_icon, icon
from messenger_gui.ui.theme import colours
from messenger_server import protocol

MAX_NAME_CHARS: Final = protocol.MAX_DISPLAY_NAME_CHARS
_DONE_AVATAR: Final = 72
_INVITE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32, the characters of an invite code."""
_INVITE_LOOKALIKES: Final = str.maketrans("OIL", "011")


def parse_server_address(text: str, default_port: int) -> tuple[str, int] | None:
    """``host``, ``host:port`` or ``[v6]:port`` as ``(host, port)``; ``None`` if malformed."""
    text = text.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
            if not port_text.isdigit():
                return None
            port = int(port_text)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    if not host or not 1 <= port <= 65535:
        return None
    return host, port


def format_server_address(host: str, port: int) -> str:
    """The inverse of :func:`parse_server_address`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalize_invite_code(text: str) -> str | None:
    """An invite code as typed (any case, with or without dashes or spaces, ``O`` for
    ``0`` and ``I``/``L`` for ``1``) as the server expects it, ``7KQM-4XPA-B8NZ``; ``None``
    when it cannot be one."""
    compact = "".join(text.split()).replace("-", "").upper().translate(_INVITE_LOOKALIKES)
    if len(compact) != 12 or any(ch not in _INVITE_ALPHABET for ch in compact):
        return None
    return f"{compact[:4]}-{compact[4:8]}-{compact[8:]}"


def validate_display_name(text: str) -> str | None:
    """The display name to register (trimmed), or ``None`` when blank or too long."""
    name = text.strip()
    if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
        return None
    return name


class WelcomeDialog(QDialog):
    """The first-run dialog. Emits :attr:`register_requested`; the controller registers and
    answers with :meth:`registration_succeeded` (the dialog then shows the new ID and a
    Continue button, which accepts it) or :meth:`registration_failed`.

    Rejecting the dialog (closing it before registering) means the user gave up: quit.
    """

    register_requested = Signal(str, int, bool, str, str)
    """(host, port, use_tls, display_name, invite_code), already validated; the invite
    code is ``""`` when none was given, else normalised (``7KQM-4XPA-B8NZ``)."""

    def __init__(
        self, host: str, port: int, use_tls: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._default_port = port
        self._client_id = ""
        self._busy = False
        self.setWindowTitle(self.tr("Welcome to Messenger"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(480)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form(host, port, use_tls))
        # Added once registered: until then the dialog is sized to the form alone.
        self._done_page = self._build_done()
        self._done_page.setParent(self)  # owned (and hidden) until it is shown
        self._done_page.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 22, 22, 18)
        layout.addWidget(self.pages)
        # Only now is the button inside the dialog: setDefault makes it the dialog's main
        # default, the one Enter presses again after the focus visited another button.
        self.register_button.setDefault(True)
        self._update_register_button()

    # --- page 1: the form ---

    def _build_form(self, host: str, port: int, use_tls: bool) -> QWidget:
        page = QWidget()
        title = QLabel(self.tr("Welcome to Messenger"))
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            self.tr(
                "Choose the name others will see. You get an ID that friends use "
                "to add you as a contact."
            )
        )
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(64, 64), self.devicePixelRatioF()))
        heading = QHBoxLayout()
        heading.setSpacing(16)
        heading.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        heading_text = QVBoxLayout()
        heading_text.setSpacing(6)
        heading_text.addWidget(title)
        heading_text.addWidget(intro)
        heading.addLayout(heading_text, 1)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(MAX_NAME_CHARS)
        self.name_edit.setPlaceholderText(self.tr("e.g. Maria Silva"))
        self.server_edit = QLineEdit(format_server_address(host, port))
        self.server_edit.setPlaceholderText(self.tr("host:port"))
        self.tls_check = QCheckBox(self.tr("Use a secure connection (TLS)"))
        self.tls_check.setChecked(use_tls)
        # Most servers need no invite: the field appears when the user says they have a
        # code, or when the server asks for one (invite_required).
        self.invite_edit = QLineEdit()
        self.invite_edit.setPlaceholderText(self.tr("e.g. 7KQM-4XPA-B8NZ"))
        self.invite_edit.setMaxLength(32)
        self.invite_label = QLabel(self.tr("Invite code:"))
        self.invite_label.setBuddy(self.invite_edit)
        self.invite_button = QPushButton(self.tr("I have an invite code"))
        self.invite_button.setAutoDefault(False)
        self.invite_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.invite_button.setStyleSheet(  # a link, not a second call to action
            "QPushButton { border: none; padding: 2px 0; font-weight: normal; }"
            "QPushButton:hover, QPushButton:focus { background: transparent;"
            " text-decoration: underline; }"
        )
        invite_link = QWidget()
        invite_row = QHBoxLayout(invite_link)
        invite_row.setContentsMargins(0, 0, 0, 0)
        invite_row.addWidget(self.invite_button)
        invite_row.addStretch(1)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.tr("Your name:"), self.name_edit)
        form.addRow(self.tr("Server:"), self.server_edit)
        form.addRow("", self.tls_check)
        form.addRow(self.invite_label, self.invite_edit)
        form.addRow("", invite_link)
        self._form = form
        self._show_invite_row(False)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(4)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.register_button = QPushButton(self.tr("Register"))
        self.register_button.setProperty("variant", "primary")
        self.quit_button = QPushButton(self.tr("Quit"))
        self.quit_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.register_button)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(heading)
        layout.addSpacing(14)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addSpacing(12)
        layout.addLayout(buttons)

        self.name_edit.textChanged.connect(self._update_register_button)
        self.server_edit.textChanged.connect(self._update_register_button)
        self.name_edit.returnPressed.connect(self._register)
        self.server_edit.returnPressed.connect(self._register)
        self.invite_edit.returnPressed.connect(self._register)
        self.invite_button.clicked.connect(self.show_invite_field)
        self.register_button.clicked.connect(self._register)
        self.quit_button.clicked.connect(self.reject)
        return page

    def _update_register_button(self) -> None:
        self.register_button.setEnabled(
            not self._busy
            and validate_display_name(self.name_edit.text()) is not None
            and parse_server_address(self.server_edit.text(), self._default_port) is not None
        )

    def _register(self) -> None:
        if self._busy:
            return
        name = validate_display_name(self.name_edit.text())
        address = parse_server_address(self.server_edit.text(), self._default_port)
        if name is None:
            self._show_error(
                self.tr("Enter a name of 1 to %1 characters.").replace("%1", str(MAX_NAME_CHARS))
            )
            return
        if address is None:
            self._show_error(self.tr("Enter the server as host:port, e.g. chat.example.org:7850."))
            return
        invite = ""
        if self.invite_shown and self.invite_edit.text().strip():
            normalized = normalize_invite_code(self.invite_edit.text())
            if normalized is None:
                self._show_error(
                    self.tr("An invite code has 12 letters and digits, e.g. 7KQM-4XPA-B8NZ.")
                )
                self.invite_edit.setFocus()
                self.invite_edit.selectAll()
                return
            invite = normalized
            self.invite_edit.setText(invite)
        self._set_busy(True)
        self.status_label.setText(self.tr("Registering with %1…").replace("%1", address[0]))
        self._set_status_kind("muted")
        self.register_requested.emit(
            address[0], address[1], self.tls_check.isChecked(), name, invite
        )

    @property
    def invite_shown(self) -> bool:
        """True when the invite code field is part of the form."""
        return self._form.isRowVisible(self.invite_edit)

    def show_invite_field(self) -> None:
        """Add the invite code field to the form and put the cursor in it."""
        self._show_invite_row(True)
        self.invite_edit.setFocus()
        self.invite_edit.selectAll()

    def _show_invite_row(self, shown: bool) -> None:
        self._form.setRowVisible(self.invite_edit, shown)
        button_row = self.invite_button.parentWidget()
        if button_row is not None:
            self._form.setRowVisible(button_row, not shown)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        for widget in (self.name_edit, self.server_edit, self.tls_check, self.invite_edit):
            widget.setEnabled(not busy)
        self._update_register_button()

    def _show_error(self, message: str) -> None:
        self.status_label.setText(message)
        self._set_status_kind("errorLabel")

    def _set_status_kind(self, name: str) -> None:
        """Colour the status line through the style sheet (``errorLabel``/``muted``)."""
        self.status_label.setObjectName(name)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)

    @property
    def busy(self) -> bool:
        """True while a registration is under way."""
        return self._busy

    @property
    def error_text(self) -> str:
        return self.status_label.text()

    def registration_failed(self, message: str, code: str | None = None) -> None:
        """Show why registering failed and let the user correct and try again. ``code``
        is the server's error code: ``invite_required`` or ``invalid_invite`` show the
        invite code field (with the cursor in it), so that Enter tries again with it."""
        self._set_busy(False)
        self._show_error(message)
        if code in (protocol.ErrorCode.INVITE_REQUIRED, protocol.ErrorCode.INVALID_INVITE):
            self.show_invite_field()

    # --- page 2: the new ID ---

    def _build_done(self) -> QWidget:
        page = QWidget()
        self.done_avatar = QLabel()
        self.done_avatar.setFixedSize(_DONE_AVATAR, _DONE_AVATAR)
        self.done_title = QLabel()
        self.done_title.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.done_title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.done_title.setFont(font)
        self.done_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.done_title.setWordWrap(True)
        explain = QLabel(
            self.tr("This is your ID. Share it with the people you want to chat with:")
        )
        explain.setObjectName("muted")
        explain.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain.setWordWrap(True)
        self.id_label = QLabel()
        id_font = QFont("monospace")
        id_font.setStyleHint(QFont.StyleHint.Monospace)
        id_font.setPointSizeF(self.font().pointSizeF() * 2.2)
        id_font.setBold(True)
        id_font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 2)
        self.id_label.setFont(id_font)
        self.id_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton(self.tr("Copy ID"))
        self.copy_button.setIcon(icon("copy", colours(self.palette()).accent))
        self.copy_button.setAutoDefault(False)
        self.copied_label = QLabel()
        self.copied_label.setObjectName("successLabel")
        # Room for "Copied" from the start, and as much on the other side: the button
        # stays where it is when the word appears.
        copied_width = self.copied_label.fontMetrics().horizontalAdvance(self.tr("Copied")) + 8
        self.copied_label.setFixedWidth(copied_width)
        card = QFrame()
        card.setObjectName("card")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(16, 14, 16, 14)
        card_layout.setSpacing(10)
        card_layout.addWidget(self.id_label)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addSpacing(copied_width + copy_row.spacing())
        copy_row.addWidget(self.copy_button)
        copy_row.addWidget(self.copied_label)
        copy_row.addStretch(1)
        card_layout.addLayout(copy_row)
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setObjectName("muted")
        self.fingerprint_label.setWordWrap(True)
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.hide()
        self.continue_button = QPushButton(self.tr("Continue"))
        self.continue_button.setProperty("variant", "primary")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.continue_button)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.done_avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(4)
        layout.addWidget(self.done_title)
        layout.addWidget(explain)
        layout.addSpacing(8)
        layout.addWidget(card)
        layout.addWidget(self.fingerprint_label)
        layout.addStretch(1)
        layout.addSpacing(12)
        layout.addLayout(buttons)

        self.copy_button.clicked.connect(self._copy_id)
        self.continue_button.clicked.connect(self.accept)
        return page

    def registration_succeeded(
        self, client_id: str, display_name: str, tls_fingerprint: str | None = None
    ) -> None:
        """Show the new ID; the user copies it and continues (the dialog is accepted).

        ``tls_fingerprint`` is the pinned certificate of a self-signed TLS server: shown so
        the user can compare it with the one the administrator published.
        """
        self._set_busy(False)
        if tls_fingerprint:
            self.fingerprint_label.setText(
                self.tr(
                    "The server's certificate was pinned. Its SHA-256 fingerprint, to compare "
                    "with your administrator's:\n%1"
                ).replace("%1", tls_fingerprint)
            )
            self.fingerprint_label.show()
        self._client_id = client_id
        self.done_title.setText(fill(self.tr("You're all set, %1!"), isolate(display_name)))
        self.done_avatar.setPixmap(
            avatar_pixmap(client_id, display_name, _DONE_AVATAR, self.devicePixelRatioF())
        )
        self.id_label.setText(client_id)
        if self.pages.indexOf(self._done_page) < 0:
            self.pages.addWidget(self._done_page)
        self.pages.setCurrentWidget(self._done_page)
        # Enter means Continue, also after "Copy ID" took the focus (see __init__).
        self.register_button.setDefault(False)
        self.continue_button.setDefault(True)
        self.adjustSize()  # to the new page (and the fingerprint, if shown)
        self.continue_button.setFocus()

    def _copy_id(self) -> None:
        QGuiApplication.clipboard().setText(self._client_id)
        self.copied_label.setText(self.tr("Copied"))

    def reject(self) -> None:
        """Closing while registering is ignored; once registered, closing means Continue."""
        if self.busy:
            return
        if self.pages.currentWidget() is self._done_page:
            self.accept()
            return
        super().reject()

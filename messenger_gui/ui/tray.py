"""The system tray icon: unread count, notifications, and keeping the app running when its
window is closed.

Not every desktop has a tray (some Linux sessions, the ``offscreen`` platform of tests).
:class:`Tray` copes: :attr:`Tray.available` is False, notifications fall back to asking the
window manager for attention (``QApplication.alert``), and closing the window quits.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QRectF, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QIcon, QPainter
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from messenger_gui.ui.formatting import bidi_safe, notification_text, notifications_use_markup
from messenger_gui.ui.resources import app_icon, icon

log = logging.getLogger(__name__)

CLOSE_TO_TRAY_KEY = "tray/close_to_tray"
"""Setting: closing the window keeps the app running in the tray (default True)."""
CLOSE_HINT_SHOWN_KEY = "tray/close_hint_shown"
NOTIFICATION_MS = 5000


class Tray(QObject):
    """The tray icon of one main window.

    Args:
        window: the main window; its close event is watched (see :meth:`eventFilter`).
        settings: where the close-to-tray preference lives (per profile).

    The controller connects :attr:`show_requested` (bring the window back) and
    :attr:`quit_requested` (stop the client, then quit), and calls :meth:`set_unread`,
    :meth:`set_online` and :meth:`notify`.
    """

    show_requested = Signal()
    quit_requested = Signal()
    notification_clicked = Signal()
    """The user clicked the last notification (the window is shown as well)."""
    notification_shown = Signal(str, str)
    """(title, text) of every notification, shown in the tray or as a window alert."""

    def __init__(self, window: QWidget, settings: QSettings) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._unread = 0
        self._online = False
        self._quitting = False
        self.icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(self._current_icon(), self)
            menu = QMenu(window)
            self.show_action = QAction(self.tr("Show Messenger"), menu)
            self.quit_action = QAction(icon("quit"), self.tr("Quit"), menu)
            menu.addAction(self.show_action)
            menu.addSeparator()
            menu.addAction(self.quit_action)
            self.show_action.triggered.connect(self.show_requested)
            self.quit_action.triggered.connect(self.quit_requested)
            self.icon.setContextMenu(menu)
            self.icon.activated.connect(self._activated)
            self.icon.messageClicked.connect(self.show_requested)
            self.icon.messageClicked.connect(self.notification_clicked)
            self.icon.show()
        else:
            log.info("no system tray: closing the window quits, notifications alert the window")
        self._update()
        window.installEventFilter(self)

    @property
    def available(self) -> bool:
        """True when a tray icon is shown."""
        return self.icon is not None

    @property
    def close_to_tray(self) -> bool:
        """Whether closing the window keeps the app running (needs a tray)."""
        return self.available and setting_flag(self._settings, CLOSE_TO_TRAY_KEY, True)

    @property
    def tooltip(self) -> str:
        if self._unread:
            return self.tr("Messenger — %n unread message(s)", "", self._unread)
        if not self._online:
            return self.tr("Messenger — offline")
        return self.tr("Messenger")

    def set_unread(self, count: int) -> None:
        """Show ``count`` unread messages in the tooltip and icon."""
        if count != self._unread:
            self._unread = count
            self._update()

    def set_online(self, online: bool) -> None:
        if online != self._online:
            self._online = online
            self._update()

    def _current_icon(self) -> QIcon:
        if self._unread:
            return badge_icon(icon("messenger-tray"), self._unread)
        return icon("messenger-tray" if self._online else "messenger-tray-offline")

    def set_close_to_tray(self, enabled: bool) -> None:
        """Remember whether closing the window keeps the app in the tray."""
        self._settings.setValue(CLOSE_TO_TRAY_KEY, enabled)

    def _update(self) -> None:
        if self.icon is not None:
            self.icon.setIcon(self._current_icon())
            self.icon.setToolTip(self.tooltip)

    def notify(self, title: str, text: str) -> None:
        """Tell the user about something while the window is in the background."""
        if self.icon is not None and QSystemTrayIcon.supportsMessages():
            # The title is never markup; the body is on Linux desktops (escaped there).
            body = notification_text(text, markup=notifications_use_markup())
            self.icon.showMessage(bidi_safe(title), body, app_icon(), NOTIFICATION_MS)
        else:
            QApplication.alert(self._window)
        self.notification_shown.emit(title, text)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            if self._window.isVisible() and self._window.isActiveWindow():
                self._window.hide()
            else:
                self.show_requested.emit()

    def allow_close(self) -> None:
        """The app is quitting: let the window close for real from now on."""
        self._quitting = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Closing the window hides it to the tray (saying so the first time) or quits."""
        if watched is self._window and event.type() == QEvent.Type.Close and not self._quitting:
            assert isinstance(event, QCloseEvent)
            event.ignore()
            if self.close_to_tray:
                self._window.hide()
                if not setting_flag(self._settings, CLOSE_HINT_SHOWN_KEY, False):
                    self._settings.setValue(CLOSE_HINT_SHOWN_KEY, True)
                    self.notify(
                        self.tr("Messenger is still running"),
                        self.tr(
                            "You will be notified of new messages. To quit, choose Quit "
                            "from the tray icon's menu."
                        ),
                    )
            else:
                self.quit_requested.emit()
            return True
        return super().eventFilter(watched, event)

    def hide(self) -> None:
        """Remove the icon (on quit)."""
        if self.icon is not None:
            self.icon.hide()


def badge_icon(base: QIcon, count: int, size: int = 64) -> QIcon:
    """``base`` with a red badge showing ``count`` (99+ above 99) in its top-right corner."""
    pixmap = base.pixmap(QSize(size, size))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    text = "99+" if count > 99 else str(count)
    diameter = size * (0.62 if len(text) < 3 else 0.72)
    rect = QRectF(size - diameter, 0, diameter, diameter * 0.86 if len(text) > 1 else diameter)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#e5484d"))
    painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(rect.height() * (0.62 if len(text) < 3 else 0.5)))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)


def setting_flag(settings: QSettings, key: str, default: bool) -> bool:
    """A boolean setting. (``QSettings.value(type=bool)`` is avoided: it mis-counts
    references to ``True``/``False`` in some PySide6 versions and crashes at exit.)"""
    value = settings.value(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)

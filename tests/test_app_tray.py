"""The tray: what it shows, and how the app behaves where there is no tray (offscreen)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from messenger_gui.ui.resources import icon
from messenger_gui.ui.tray import Tray, badge_icon, setting_flag


def make_tray(qtbot: QtBot, tmp_path: Path) -> tuple[QWidget, Tray, QSettings]:
    window = QWidget()
    qtbot.addWidget(window)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return window, Tray(window, settings), settings


def test_without_a_tray_closing_the_window_asks_to_quit(qtbot: QtBot, tmp_path: Path) -> None:
    window, tray, _ = make_tray(qtbot, tmp_path)
    assert not tray.available  # the offscreen platform has no system tray
    assert not tray.close_to_tray
    window.show()
    with qtbot.waitSignal(tray.quit_requested, timeout=1000):
        window.close()
    assert window.isVisible()  # the controller closes it once the client has stopped
    tray.allow_close()
    window.close()
    assert not window.isVisible()


def test_notifications_fall_back_to_alerting_the_window(qtbot: QtBot, tmp_path: Path) -> None:
    _, tray, _ = make_tray(qtbot, tmp_path)
    with qtbot.waitSignal(tray.notification_shown) as shown:
        tray.notify("Ana Souza", "Coffee tomorrow?")
    assert shown.args == ["Ana Souza", "Coffee tomorrow?"]


def test_tooltip_tells_unread_count_and_offline(qtbot: QtBot, tmp_path: Path) -> None:
    _, tray, _ = make_tray(qtbot, tmp_path)
    assert "offline" in tray.tooltip
    tray.set_online(True)
    assert tray.tooltip == "Messenger"
    tray.set_unread(3)
    assert "3 unread" in tray.tooltip


def test_unread_badge_is_painted_on_the_icon(qapp: object) -> None:
    plain = icon("messenger-tray").pixmap(64, 64).toImage()
    badged = badge_icon(icon("messenger-tray"), 7).pixmap(64, 64).toImage()
    corner = QColor(badged.pixel(56, 12))
    assert corner.red() > 200 and corner.green() < 120  # the red badge
    assert plain.pixel(56, 12) != badged.pixel(56, 12)


def test_boolean_settings_read_from_the_ini_file(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert setting_flag(settings, "a/b", True) is True
    settings.setValue("a/b", False)
    settings.sync()
    reread = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert setting_flag(reread, "a/b", True) is False

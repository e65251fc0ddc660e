"""The look: palettes for both schemes, stable avatar colours, initials, dates, icons."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QLocale, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton, QStyle, QStyleOptionButton
from pytestqt.qtbot import QtBot

from messenger_gui.ui import formatting
from messenger_gui.ui.avatars import initials
from messenger_gui.ui.resources import icon, resource_path
from messenger_gui.ui.theme import (
    DARK,
    LIGHT,
    Theme,
    avatar_index,
    build_palette,
    colours,
    set_variant,
)


def test_forcing_dark_and_light_changes_the_application_palette(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = Theme(app, Qt.ColorScheme.Dark)
    try:
        assert theme.dark
        assert colours() is DARK
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 64
        theme.force(Qt.ColorScheme.Light)
        assert colours() is LIGHT
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    finally:
        theme.force(Qt.ColorScheme.Light)


def test_palette_built_for_a_scheme_is_recognised_as_that_scheme() -> None:
    assert colours(build_palette(DARK)) is DARK
    assert colours(build_palette(LIGHT)) is LIGHT


def test_avatar_colour_is_stable_per_id_and_varied() -> None:
    ids = [f"ABCD-{n:04d}" for n in range(40)]
    assert avatar_index("A3F9-KD2M") == avatar_index("A3F9-KD2M")
    assert len({avatar_index(i) for i in ids}) >= 6


def test_initials_take_first_and_last_word() -> None:
    assert initials("Ana Maria Souza") == "AS"
    assert initials("bruno") == "B"
    assert initials("  ") == "?"
    assert initials("Équipe de design") == "ÉD"


def test_day_labels_say_today_and_yesterday() -> None:
    locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    today = date(2026, 3, 10)
    assert formatting.day_label(today, today, locale) == "Today"
    assert formatting.day_label(date(2026, 3, 9), today, locale) == "Yesterday"
    assert formatting.day_label(date(2026, 3, 2), today, locale) == "Monday, 2 March"
    assert formatting.day_label(date(2025, 3, 2), today, locale) == "2 March 2025"


def test_list_time_is_clock_today_weekday_this_week_date_before() -> None:
    locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    today = date(2026, 3, 10)

    def ms(*args: int) -> int:
        return int(datetime(*args).astimezone().timestamp() * 1000)

    clock = formatting.list_time(ms(2026, 3, 10, 14, 5), today, locale)
    assert clock.replace("\u202f", " ") == "2:05 PM"
    assert formatting.list_time(ms(2026, 3, 6, 9, 0), today, locale) == "Fri"
    assert formatting.list_time(ms(2026, 2, 1, 9, 0), today, locale) == "2/1/26"


def test_icons_exist_and_render_tinted(qtbot: QtBot) -> None:
    for name in ("messenger", "send", "add-contact", "new-group", "search", "menu", "info"):
        assert resource_path("icons", f"{name}.svg").is_file()
    image = icon("send", "#ff0000").pixmap(QSize(24, 24)).toImage()
    red = [
        image.pixelColor(x, y)
        for x in range(24)
        for y in range(24)
        if image.pixelColor(x, y).alpha() > 200
    ]
    assert red and all(c.red() > 200 and c.green() < 60 for c in red)
    assert QColor(red[0]) != QColor("#000000")


def _lightness_spread(image: QImage, rect: QRect, background: QColor) -> int:
    """How far the lightest or darkest pixel in ``rect`` is from ``background``."""
    return max(
        abs(image.pixelColor(x, y).lightness() - background.lightness())
        for x in range(rect.left(), rect.right() + 1)
        for y in range(rect.top(), rect.bottom() + 1)
    )


def test_unchecked_check_box_stands_out_on_the_dark_palette(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = Theme(app, Qt.ColorScheme.Dark)
    try:
        box = QCheckBox("Use a secure connection (TLS)")
        qtbot.addWidget(box)
        box.show()
        qtbot.waitExposed(box)
        option = QStyleOptionButton()
        box.initStyleOption(option)
        indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        image = box.grab().toImage()
        ratio = image.devicePixelRatio()
        scaled = QRect(
            round(indicator.x() * ratio),
            round(indicator.y() * ratio),
            round(indicator.width() * ratio),
            round(indicator.height() * ratio),
        )
        assert _lightness_spread(image, scaled, DARK.window) > 60
        box.setChecked(True)
        image = box.grab().toImage()
        accent = [
            image.pixelColor(x, y)
            for x in range(scaled.left(), scaled.right() + 1)
            for y in range(scaled.top(), scaled.bottom() + 1)
            if _close(image.pixelColor(x, y), DARK.accent)
        ]
        assert len(accent) > scaled.width() * scaled.height() // 4  # filled with the accent
    finally:
        theme.force(Qt.ColorScheme.Light)


def _close(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return (
        abs(a.red() - b.red()) <= tolerance
        and abs(a.green() - b.green()) <= tolerance
        and abs(a.blue() - b.blue()) <= tolerance
    )


def test_primary_buttons_are_filled_with_the_accent_and_others_are_flat(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = Theme(app, Qt.ColorScheme.Light)
    primary = QPushButton("Create")
    set_variant(primary, "primary")
    secondary = QPushButton("Cancel")
    danger = QPushButton("Leave group")
    set_variant(danger, "danger")
    for button in (primary, secondary, danger):
        qtbot.addWidget(button)
        button.resize(140, 34)
        button.show()
        qtbot.waitExposed(button)

    def centre_left(button: QPushButton) -> QColor:
        image = button.grab().toImage()
        return image.pixelColor(round(10 * image.devicePixelRatio()), image.height() // 2)

    assert _close(centre_left(primary), LIGHT.accent)
    for flat in (centre_left(secondary), centre_left(danger)):
        assert flat.alpha() == 0 or _close(flat, LIGHT.window)  # the window shows through
    assert theme.colours is LIGHT

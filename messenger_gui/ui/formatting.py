"""Locale-aware times and dates for the conversation list and the chat, and text from
other people made safe to show (bidi controls, HTML)."""

from __future__ import annotations

import functools
import html
import re
import sys
from datetime import date, datetime, timedelta
from typing import Final

from PySide6 import QtGui
from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QLocale, Qt, QTime
from PySide6.QtGui import QGuiApplication

from messenger_gui.storage import parse_system_line, system_line_text


def _local(ts_ms: int) -> datetime:
    """The local time of a timestamp, to the minute (what every label here shows):
    cached, since a chat asks for the same few minutes many times while it lays out."""
    return _local_minute(ts_ms // 60_000)


@functools.lru_cache(maxsize=16_384)
def _local_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60).astimezone()


def local_date(ts_ms: int) -> date:
    """The calendar day (local time zone) of a timestamp in milliseconds."""
    return _local(ts_ms).date()


def clock_time(ts_ms: int, locale: QLocale | None = None) -> str:
    """``14:05`` (or ``2:05 PM``), as the locale writes short times."""
    moment = _local(ts_ms)
    return (locale or QLocale()).toString(
        QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat
    )


def list_time(ts_ms: int, today: date | None = None, locale: QLocale | None = None) -> str:
    """The time in a conversation-list row: the clock time today, the weekday within the
    last week, else a short date."""
    locale = locale or QLocale()
    today = today or date.today()
    day = local_date(ts_ms)
    if day == today:
        return clock_time(ts_ms, locale)
    if today - timedelta(days=6) <= day < today:
        return locale.dayName(day.isoweekday(), QLocale.FormatType.ShortFormat)
    return locale.toString(QDate(day.year, day.month, day.day), QLocale.FormatType.ShortFormat)


def day_label(day: date, today: date | None = None, locale: QLocale | None = None) -> str:
    """The day-separator text: "Today", "Yesterday", "Monday, 3 March" or with the year
    for older years."""
    locale = locale or QLocale()
    today = today or date.today()
    if day == today:
        return QCoreApplication.translate("Formatting", "Today")
    if day == today - timedelta(days=1):
        return QCoreApplication.translate("Formatting", "Yesterday")
    qdate = QDate(day.year, day.month, day.day)
    if day.year == today.year:
        return locale.toString(qdate, QCoreApplication.translate("Formatting", "dddd, d MMMM"))
    return locale.toString(qdate, QCoreApplication.translate("Formatting", "d MMMM yyyy"))


def full_time(ts_ms: int, locale: QLocale | None = None) -> str:
    """Date and time for tooltips and copied text."""
    return (locale or QLocale()).toString(
        QDateTime.fromMSecsSinceEpoch(ts_ms), QLocale.FormatType.ShortFormat
    )


def typing_text(names: list[str]) -> str:
    """Who is typing, for a chat's header and its row in the list: "Ana is typing…",
    "Ana and Bea are typing…", "3 people are typing…"; ``""`` for nobody."""
    if not names:
        return ""
    names = [bidi_safe(name) for name in names]  # a control in a name stops at its end
    if len(names) == 1:
        return QCoreApplication.translate("Formatting", "%1 is typing…").replace("%1", names[0])
    if len(names) == 2:
        return (
            QCoreApplication.translate("Formatting", "%1 and %2 are typing…")
            .replace("%1", names[0])
            .replace("%2", names[1])
        )
    # Three or more: always a plural, in both languages (no %n form needed).
    return QCoreApplication.translate("Formatting", "%1 people are typing…").replace(
        "%1", str(len(names))
    )


def presence_text(online: bool, last_seen: int | None, today: date | None = None) -> str:
    """A direct chat's subtitle from the peer's presence: "online", "last seen today at
    14:02", "last seen yesterday at 14:02", "last seen 03/12/2026" (older), or "last seen
    a long time ago" (never seen, or no longer shown to us)."""
    if online:
        return QCoreApplication.translate("Formatting", "online")
    if last_seen is None:
        return QCoreApplication.translate("Formatting", "last seen a long time ago")
    today = today or date.today()
    day = local_date(last_seen)
    clock = clock_time(last_seen)
    if day == today:
        return QCoreApplication.translate("Formatting", "last seen today at %1").replace(
            "%1", clock
        )
    if day == today - timedelta(days=1):
        return QCoreApplication.translate("Formatting", "last seen yesterday at %1").replace(
            "%1", clock
        )
    shown = QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.ShortFormat)
    return QCoreApplication.translate("Formatting", "last seen %1").replace("%1", shown)


def system_text(text: str) -> str:
    """What a system line says, in the user's language (its stored ``text`` is a
    :func:`~messenger_gui.storage.system_line`; anything else is returned as it is)."""
    parts = parse_system_line(text)
    if parts is None:
        return text
    templates = {
        "renamed": QCoreApplication.translate("SystemLine", "%1 renamed the group to “%3”"),
        "described": QCoreApplication.translate("SystemLine", "%1 changed the group description"),
        "promoted": QCoreApplication.translate("SystemLine", "%1 made %2 an admin"),
        "demoted": QCoreApplication.translate("SystemLine", "%1 removed %2 as admin"),
        "deleted": QCoreApplication.translate("SystemLine", "%1 deleted the group"),
    }
    for part in ("actor", "subject", "value"):  # names: their controls stop at their end
        if part in parts:
            parts[part] = bidi_safe(parts[part])
    if parts.get("by_me"):
        parts["actor"] = QCoreApplication.translate("SystemLine", "You")
    if parts.get("to_me"):
        parts["subject"] = QCoreApplication.translate("SystemLine", "you")
    return system_line_text(parts, templates)
# --- text from other people ---------------------------------------------------------------

FIRST_STRONG_ISOLATE: Final = "\u2068"
POP_DIRECTIONAL_ISOLATE: Final = "\u2069"
WORD_JOINER: Final = "\u2060"
_ISOLATE_OPENERS: Final = frozenset("\u2066\u2067\u2068")
_AS_ISOLATE: Final = str.maketrans(
    {
        "\u202a": "\u2066",  # left-to-right embedding -> left-to-right isolate
        "\u202d": "\u2066",  # left-to-right override -> left-to-right isolate
        "\u202b": "\u2067",  # right-to-left embedding -> right-to-left isolate
        "\u202e": "\u2067",  # right-to-left override -> right-to-left isolate
        "\u202c": "\u2069",  # pop directional formatting -> pop directional isolate
    }
)
BIDI_CONTROLS: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
"""The invisible characters that steer the Unicode bidirectional algorithm."""


def bidi_safe(text: str) -> str:
    """``text`` with its bidi controls made harmless, for showing someone else's text.

    Embeddings and overrides (U+202A to U+202E) become isolates: an override reverses every
    character after it (``invoice\\u202egnp.exe`` reads as ``invoiceexe.png``), an isolate
    only sets a direction, so left-to-right letters still read left to right. Every isolate
    still open at the end is closed, so nothing leaks into what is shown after the text;
    a closing one without its opening one (it would close an isolate around the text)
    becomes an inert WORD JOINER. Characters keep their positions (one for one); closing
    isolates are only appended.
    """
    if not any(ch in BIDI_CONTROLS for ch in text):
        return text
    chars = list(text.translate(_AS_ISOLATE))
    depth = 0
    for i, ch in enumerate(chars):
        if ch in _ISOLATE_OPENERS:
            depth += 1
        elif ch == POP_DIRECTIONAL_ISOLATE:
            if depth:
                depth -= 1
            else:  # would close an isolate around the text: made inert
                chars[i] = WORD_JOINER
    return "".join(chars) + POP_DIRECTIONAL_ISOLATE * depth


def isolate(name: str) -> str:
    """A name (display name, group name) for showing among other text: made
    :func:`bidi_safe` and wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, so
    neither its direction nor any control in it reorders what is around it."""
    return FIRST_STRONG_ISOLATE + bidi_safe(name) + POP_DIRECTIONAL_ISOLATE


def fill(template: str, *values: str) -> str:
    """``template`` with ``%1``, ``%2``… replaced by ``values`` in one pass (as
    ``QString::arg``): a value that contains ``%2`` is not replaced again."""

    def value(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return values[number - 1] if 1 <= number <= len(values) else match.group(0)

    return re.sub(r"%([1-9])", value, template)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` exactly. Qt takes a tooltip for rich text when it
    looks like HTML (``<b>…``, ``<img …>``): this one is always rich text, with ``text``
    escaped and its line breaks kept."""
    if not text:
        return ""
    return QtGui.Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)


def notification_text(text: str, *, markup: bool) -> str:
    """A notification's body: :func:`bidi_safe`, and escaped when the desktop's
    notification server reads the body as markup (the freedesktop notifications of Linux
    desktops: ``<b>``, ``<a>`` and ``<img>`` work there), so a name or message shows as
    typed."""
    text = bidi_safe(text)
    return html.escape(text, quote=False) if markup else text


def notifications_use_markup() -> bool:
    """True where Qt shows tray messages through freedesktop notifications, whose body
    is markup (Linux and the BSDs on X11 or Wayland)."""
    return not sys.platform.startswith(("win", "darwin")) and QGuiApplication.platformName() in (
        "xcb",
        "wayland",
    )

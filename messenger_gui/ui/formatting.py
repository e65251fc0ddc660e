"""Locale-aware times and dates for the conversation list and the chat."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QLocale, QTime

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
    if parts.get("by_me"):
        parts["actor"] = QCoreApplication.translate("SystemLine", "You")
    if parts.get("to_me"):
        parts["subject"] = QCoreApplication.translate("SystemLine", "you")
    return system_line_text(parts, templates)

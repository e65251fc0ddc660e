"""Logging what strangers send, safely.

Two rules for every log line that can carry something a client chose: it is shown as a
truncated ``repr`` (:func:`shown`), so that a newline cannot forge a line and a megabyte
cannot fill the disk; and lines that repeat are rate-limited (:class:`Repeats`), so that a
client sending garbage in a loop costs a few lines, not 30 MB/s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

SHOWN_CHARACTERS: Final = 80


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``value`` as a log line may carry it: a ``repr`` (newlines and control characters
    escaped), cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Repeats(logging.Filter):
    """Lets through at most ``burst`` records of each message template (``record.msg``)
    every ``period`` seconds; the next one after a quiet spell says how many were dropped.

    Attach it to the loggers whose lines a client can trigger."""

    BURST: Final = 20
    PERIOD: Final = 10.0

    def __init__(
        self,
        burst: int = BURST,
        period: float = PERIOD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._burst = burst
        self._period = period
        self._clock = clock
        self._windows: dict[object, list[float]] = {}
        """template → [window start, records in it, records dropped]"""

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        window = self._windows.get(record.msg)
        if window is None or now - window[0] >= self._period:
            dropped = int(window[2]) if window is not None else 0
            self._windows[record.msg] = [now, 1, 0]
            if len(self._windows) > 1000:  # templates are few; never grow without bound
                self._windows = {record.msg: self._windows[record.msg]}
            if dropped:
                record.msg = f"{record.msg} (and {dropped} similar lines not shown)"
            return True
        window[1] += 1
        if window[1] <= self._burst:
            return True
        window[2] += 1
        return False


def limit_repeats(*loggers: logging.Logger) -> None:
    """Rate-limit repeated lines of these loggers (see :class:`Repeats`)."""
    for logger in loggers:
        if not any(isinstance(f, Repeats) for f in logger.filters):
            logger.addFilter(Repeats())

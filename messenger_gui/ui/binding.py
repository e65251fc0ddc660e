"""A check of the Qt binding for defects that would crash the app later, at random.

PySide6 6.12.0 on Python 3.11 returns ``None``, ``True`` and ``False`` without taking a
reference: every Qt method returning nothing, and every ``signal.emit()``, lowers one of
their reference counts, and after a few thousand calls CPython aborts ("Fatal Python
error: none_dealloc" or "bool_dealloc"). Python 3.12 made these objects immortal, which
hides the defect there. ``pyproject.toml`` excludes that release; this check catches an
environment that has it anyway, before the app starts, with a message saying what to do.
"""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QObject, QPointF, Signal

_CALLS = 64


class _Probe(QObject):
    fired = Signal()


def binding_defect() -> str | None:
    """What is wrong with the installed PySide6, measured by making the calls that leak,
    or ``None`` when nothing is."""
    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(_CALLS):
        point.setX(1.0)
    if sys.getrefcount(None) < before - _CALLS // 2:
        return "it drops a reference to None on every call of a method returning nothing"
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_CALLS):
        probe.fired.emit()
    if sys.getrefcount(True) < before - _CALLS // 2:
        return "it drops a reference to True on every signal emission"
    return None


def check_binding() -> None:
    """Raise when the installed PySide6 would crash the app.

    Raises:
        RuntimeError: with a message for the person starting the app.
    """
    defect = binding_defect()
    if defect is not None:
        raise RuntimeError(
            f"PySide6 {PySide6.__version__} cannot run this app on Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}: {defect}. Install another "
            "release, e.g. pip install 'PySide6-Essentials>=6.7,!=6.12.0'."
        )

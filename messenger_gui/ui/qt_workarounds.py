"""Work-arounds for bugs of the Qt binding, applied once at start-up by :func:`apply`.

PySide6 6.12.0 on Python 3.10/3.11: the binding returns ``None``, ``True`` and ``False``
without a new reference (its ``abi3`` wheels behave as if these objects were immortal, which
they only are from Python 3.12 on). Every ``label.setText(...)``, every ``signal.emit(...)``,
every ``index.data(role)`` that yields nothing takes one reference away from one of them;
after some thousand calls the object is deallocated and the interpreter aborts ("Fatal
Python error: none_dealloc" or "bool_dealloc"), at the latest when it exits.

:func:`apply` measures whether this binding has the bug and, only then, does what Python
3.12 does: it makes these singletons immortal by giving them a reference count no program
can use up (2**40). It changes nothing else and costs nothing afterwards.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Final

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

_IMMORTAL_REFERENCES: Final = 1 << 40
_SINGLETONS: Final = (None, True, False, NotImplemented, Ellipsis)
_state = {"applied": False}


class _Probe(QObject):
    fired = Signal()


def binding_drops_references() -> bool:
    """Whether this PySide6 returns ``None``/``True`` without a reference (the bug)."""
    if sys.version_info >= (3, 12):
        return False  # immortal objects: nothing to lose
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")  # returns None
        probe.fired.emit()  # returns True
    return sys.getrefcount(None) < none_before or sys.getrefcount(True) < true_before


def apply() -> None:
    """Protect ``None``, ``True`` and ``False`` if this binding needs it; call it once,
    as early as possible (the entry point and the controller's module do). Calling it
    again does nothing."""
    if _state["applied"]:
        return
    _state["applied"] = True
    if not binding_drops_references():
        return
    for singleton in _SINGLETONS:
        # ob_refcnt is the first field of every object in release builds of CPython.
        ctypes.c_ssize_t.from_address(id(singleton)).value += _IMMORTAL_REFERENCES
    log.debug("made None/True/False immortal: this PySide6 drops references to them")

"""Work-arounds for bugs of the Qt binding, applied once at start-up by :func:`apply`.

PySide6 6.12.0 on Python 3.10/3.11 returns ``None``, ``True`` and ``False`` without a new
reference (its ``abi3`` wheels behave as if these objects were immortal, which they only
are from Python 3.12 on). :mod:`messenger_gui.ui.compat` protects ``None`` when the
package is imported; this module protects the booleans, which every ``signal.emit(...)``
from Python loses one reference of (``emit`` returns ``True``): after a few hundred
emissions ``True`` is deallocated and the interpreter aborts ("Fatal Python error:
bool_dealloc"), at the latest when it exits.

:func:`apply` measures whether this binding has the bug and, only then, does what Python
3.12 does: it makes the singletons immortal by giving them a reference count no program
can use up. It changes nothing else and costs nothing afterwards.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Final

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

_IMMORTAL_REFERENCES: Final = 1 << 40
_BOOLEANS: Final = (True, False)
_state = {"applied": False}


class _Probe(QObject):
    fired = Signal()


def emit_drops_references() -> bool:
    """Whether ``SignalInstance.emit`` returns ``True`` without a reference (the bug)."""
    if sys.version_info >= (3, 12):
        return False  # immortal objects: nothing to lose
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.fired.emit()
    return sys.getrefcount(True) < before


def apply() -> None:
    """Protect ``True`` and ``False`` if this binding needs it; call it once, as early as
    possible (the entry point and the controller's module do). Calling it again does
    nothing."""
    if _state["applied"]:
        return
    _state["applied"] = True
    if not emit_drops_references():
        return
    for boolean in _BOOLEANS:
        # ob_refcnt is the first field of every object in release builds of CPython.
        ctypes.c_ssize_t.from_address(id(boolean)).value += _IMMORTAL_REFERENCES
    log.info("made True/False immortal: this PySide6's signal emit drops references to them")

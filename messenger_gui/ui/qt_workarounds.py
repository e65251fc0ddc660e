"""Work-arounds for bugs of the Qt binding, applied once at start-up by :func:`apply`.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without a new reference. Every
``signal.emit(...)`` from Python therefore takes one reference away from ``True``; on
Python 3.11, where ``True`` is an ordinary object, a few hundred emissions later it is
deallocated and the interpreter aborts ("Fatal Python error: bool_dealloc"), at the latest
when it exits. :func:`apply` detects the bug by measuring it, and only then wraps ``emit``
to give the missing reference back. Python 3.12+ makes ``True`` immortal, so nothing can
go wrong there, but the measurement is cheap and tells the truth either way.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

_applied = False


class _Probe(QObject):
    fired = Signal()


def emit_loses_references() -> bool:
    """Whether ``SignalInstance.emit`` drops a reference to its ``True`` result."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    return sys.getrefcount(True) < before


def apply() -> None:
    """Install the work-arounds this PySide6 needs; calling it again does nothing.

    Call it before any signal is emitted: the app's entry point and the controller's
    module do.
    """
    global _applied
    if _applied:
        return
    _applied = True
    if not emit_loses_references():
        return
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self: SignalInstance, *args: Any) -> Any:
        result: Any = original(self, *args)
        if result is True or result is False:
            incref(result)  # the reference the binding forgot to give us
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    # The probe's own emissions above took references too: give them back.
    for _ in range(8):
        incref(True)
    log.debug("applied the SignalInstance.emit reference-count work-around")

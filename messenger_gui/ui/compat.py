"""Work-arounds for defects of particular PySide6 releases, applied once on import.

PySide6 6.12.0 on Python 3.11 returns ``None`` from every method that returns nothing
without taking a reference to it, so each such call (``QPainter.save()``,
``QPointF.setX()``...) lowers ``None``'s reference count by one. A GUI makes tens of
thousands of those calls a second while painting; after roughly 8,000 the count reaches
zero and CPython aborts with ``Fatal Python error: none_dealloc``. Python 3.12 made
``None`` immortal (PEP 683), which hides the defect there; 6.11 does not have it.

The work-around gives ``None`` the same protection by hand: a reference count so large
that the leak can never bring it to zero within a process's lifetime (at 10 million leaked
references a second, 2**60 lasts over 3,000 years). It is applied only for the affected
combination and logged; the real fix is installing another PySide6 release.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Final

import PySide6

log = logging.getLogger(__name__)

_PROTECTED_REFCOUNT: Final = 2**60


def none_refcount_is_leaky() -> bool:
    """Whether this PySide6 release drops a reference to ``None`` per void call
    (checked by making such a call, not by version alone)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(100):
        point.setX(1.0)
    return sys.getrefcount(None) < before - 50


def protect_none_refcount() -> bool:
    """Apply the work-around when needed; returns whether it was applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not none_refcount_is_leaky():
        return False
    # ob_refcnt is the first field of every CPython object (Py_ssize_t).
    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < _PROTECTED_REFCOUNT:
        refcount.value += _PROTECTED_REFCOUNT
    log.warning(
        "PySide6 %s leaks references to None on Python %d.%d; protected None's "
        "reference count (install another PySide6 release to remove this work-around)",
        PySide6.__version__,
        *sys.version_info[:2],
    )
    return True

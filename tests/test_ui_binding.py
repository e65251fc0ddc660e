"""The installed Qt binding survives the calls a GUI makes all the time. PySide6 6.12.0 on
Python 3.11 does not: it aborts the process after a few thousand of them."""

from __future__ import annotations

import subprocess
import sys

from messenger_gui.ui.binding import binding_defect

MANY_CALLS = """
from PySide6.QtCore import QObject, QPointF, Signal

class Probe(QObject):
    fired = Signal()

point, probe = QPointF(), Probe()
for _ in range(100_000):
    point.setX(1.0)
    probe.fired.emit()
print("alive")
"""


def test_the_installed_binding_has_no_known_defect() -> None:
    assert binding_defect() is None


def test_many_void_calls_and_emissions_do_not_abort_the_process() -> None:
    result = subprocess.run(
        [sys.executable, "-c", MANY_CALLS], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "alive"

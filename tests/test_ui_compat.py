"""The app survives PySide6 releases that leak references to ``None`` (6.12.0 on Python
3.11 aborts after ~8,000 calls of methods returning nothing)."""

from __future__ import annotations

import subprocess
import sys

SURVIVE = """
import messenger_gui.ui
from PySide6.QtCore import QPointF
point = QPointF()
for _ in range(200_000):
    point.setX(1.0)
print("alive")
"""


def test_many_void_qt_calls_do_not_abort_the_process() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SURVIVE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "alive"

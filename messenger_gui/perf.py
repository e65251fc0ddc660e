"""``python -m messenger_gui.perf``: open a 100,000-message conversation in the real main
window and print timings and peak memory. The Qt part lives in :mod:`messenger_gui.ui.perf`
(only ``messenger_gui.ui`` imports Qt)."""

from __future__ import annotations

import sys

from messenger_gui.ui.perf import main

if __name__ == "__main__":
    sys.exit(main())

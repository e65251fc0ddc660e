"""``python -m messenger_gui.screenshots``: render the README's screenshots.

The work is done in :mod:`messenger_gui.ui.screenshots` (Qt code stays under ``ui/``).
"""

from __future__ import annotations

import sys


def main() -> int:
    from messenger_gui.ui import screenshots

    return screenshots.main()


if __name__ == "__main__":
    sys.exit(main())

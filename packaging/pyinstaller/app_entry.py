"""Entry script of the frozen desktop app: PyInstaller needs a file, not a script name."""

import sys

from messenger_gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

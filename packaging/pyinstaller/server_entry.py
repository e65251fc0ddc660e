"""Entry script of the frozen server: PyInstaller needs a file, not a console-script name."""

import sys

from messenger_server.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

"""The desktop app's own defaults (no Qt, no I/O): where it looks for a server when the
user has not said otherwise.

The app never imports the server's modules (``tests/test_layers.py``): these values match the
server's defaults (``messenger_server.config``: it listens on 127.0.0.1:7850, the port
``docs/protocol.md`` names), and ``tests/test_layers.py`` checks that they stay equal.
"""

from __future__ import annotations

from typing import Final

HOST: Final = "127.0.0.1"
"""The server host proposed on the first run (``--server`` and the welcome dialog change it)."""
PORT: Final = 7850
"""The server port proposed on the first run, and the one assumed when an address has none."""

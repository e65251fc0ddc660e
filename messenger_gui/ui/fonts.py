"""Whether emoji can be shown: a colour emoji font must be installed.

The app does not ship one (Noto Color Emoji is 10 MB, a sixth of the bundle): the Debian
package recommends ``fonts-noto-color-emoji``, ``docs/install.md`` names the package of other
distributions, and without one the app says so once at start (in its log) and in
``--self-test``, instead of leaving people to wonder about empty boxes. Qt falls back to such
a font by itself when one is installed.
"""

from __future__ import annotations

import logging
from typing import Final

from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics

log = logging.getLogger(__name__)

PROBE: Final = 0x1F44B
"""👋, in the greeting of ``make demo``."""
INSTALL_HINT: Final = (
    "install a colour emoji font: fonts-noto-color-emoji (Debian, Ubuntu), "
    "google-noto-color-emoji-fonts (Fedora), noto-fonts-emoji (Arch)"
)


def emoji_font_family() -> str | None:
    """The family of an installed font that has emoji (a colour one preferred), or
    ``None`` when emoji would show as empty boxes. Needs a ``QGuiApplication``."""
    families = QFontDatabase.families()
    ordered = sorted(
        families, key=lambda f: ("emoji" not in f.casefold(), "color" not in f.casefold())
    )
    for family in ordered:
        if QFontMetrics(QFont(family)).inFontUcs4(PROBE):
            return family
    return None


def warn_without_emoji_font() -> str | None:
    """Log a warning, with what to install, when no font has emoji; returns the family
    found (``None`` when there is none)."""
    family = emoji_font_family()
    if family is None:
        log.warning("no font with emoji: they show as empty boxes; %s", INSTALL_HINT)
    else:
        log.debug("emoji from the font %s", family)
    return family

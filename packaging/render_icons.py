"""Render the app icon (an SVG) into the PNG, ICO and ICNS files the installers need.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py \
        resources/icons/messenger.svg build/icons

writes ``build/icons/hicolor/<N>x<N>/apps/messenger.png`` for the freedesktop sizes,
``hicolor/scalable/apps/messenger.svg`` (a copy), ``messenger.ico`` (Windows installer and
executable) and ``messenger.icns`` (macOS bundle). Qt itself renders them (QSvgRenderer), so
the build needs no other tool; the output is the same for the same SVG and Qt version.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

log = logging.getLogger("render_icons")

HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 96, 128, 256, 512)
ICO_SIZE = 256
ICNS_SIZE = 512


def render(svg: Path, out: Path, name: str = "messenger") -> list[Path]:
    """Render ``svg`` into ``out``; returns the files written. Raises ValueError on a bad SVG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")

    def image(size: int) -> QImage:
        picture = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        picture.fill(Qt.GlobalColor.transparent)
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        return picture

    written: list[Path] = []

    def save(picture: QImage, path: Path, fmt: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not picture.save(str(path), fmt):  # type: ignore[call-overload]  # stubs want bytes
            raise ValueError(f"Qt cannot write {path} ({fmt}); is its image plugin missing?")
        written.append(path)

    for size in HICOLOR_SIZES:
        save(image(size), out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png", "PNG")
    scalable = out / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    written.append(scalable)
    save(image(ICO_SIZE), out / f"{name}.ico", "ICO")
    save(image(ICNS_SIZE), out / f"{name}.icns", "ICNS")
    del app
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("svg", type=Path, help="the app icon (SVG)")
    parser.add_argument("out", type=Path, help="folder to write the icons into")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    files = render(args.svg, args.out)
    log.info("%d icon files in %s", len(files), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

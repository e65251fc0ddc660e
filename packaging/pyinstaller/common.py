"""Shared settings of the two PyInstaller spec files (imported by them, not by the app).

The spec files run inside PyInstaller with ``SPECPATH`` set to this folder; they put it on
``sys.path`` and import this module for the repository root, the version and the list of
modules no bundle needs.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def project_version() -> str:
    """The version in pyproject.toml: the one source of the bundles' and installers' version."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


# Standard-library and third-party modules neither bundle imports; PyInstaller would otherwise
# follow optional imports into them.
COMMON_EXCLUDES = [
    "tkinter",
    "_tkinter",
    "turtle",
    "turtledemo",
    "idlelib",
    "pydoc_data",
    "lib2to3",
    "unittest",
    "test",
    "distutils",
    "setuptools",
    "pip",
    "pytest",
    "_pytest",
    "hypothesis",
    "mypy",
    "IPython",
    "numpy",
]

# Strip debug symbols from the bundled libraries on Linux (the Python build here carries
# ~15 MB of them in libpython); on macOS stripping would break code signatures, and Windows
# binaries carry no symbols.
STRIP = sys.platform.startswith("linux")

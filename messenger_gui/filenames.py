"""File names from elsewhere made safe to use on this disk, and the questions the app asks
about a name before opening a file. No Qt, no I/O but :func:`unique_path`'s ``exists``.

A received file's name is the sender's claim (``docs/protocol.md`` 11.6.6): it may hold
``/``, ``\\``, ``..``, a drive letter, control or bidirectional-text characters, or a name
Windows reserves (``CON``, ``NUL``, ``COM1``...). :func:`safe_file_name` turns any of them
into a plain last path component; nothing else in the app builds a path from a name.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from pathlib import Path
from typing import Final

MAX_NAME_BYTES: Final = 200
"""Longest sanitized name, in UTF-8 bytes (most file systems allow 255; room is left for a
`` (12)`` that :func:`unique_path` may add)."""
FALLBACK_NAME: Final = "file"
"""The name of a file whose name had nothing usable left."""
_MEDIA_PART: Final = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE: Final = f"{_MEDIA_PART}/{_MEDIA_PART}"

_REPLACED: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 and C1 control characters
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional-text controls
    "\u2028\u2029\ufeff"
    '/\\\\:*?"<>|]'  # path separators and what Windows refuses in a name
)
_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in "123456789¹²³"}
    | {f"LPT{n}" for n in "123456789¹²³"}
)
EXECUTABLE_SUFFIXES: Final = frozenset(
    {
        # Windows
        ".exe", ".com", ".bat", ".cmd", ".msi", ".msp", ".scr", ".pif", ".cpl", ".vbs",
        ".vbe", ".js", ".jse", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".lnk", ".reg",
        ".jar", ".appref-ms", ".msc", ".gadget", ".application", ".dll", ".sys",
        # macOS
        ".app", ".command", ".pkg", ".dmg", ".tool", ".workflow", ".scpt",
        # Linux and other Unix
        ".sh", ".bash", ".zsh", ".csh", ".ksh", ".run", ".bin", ".desktop", ".appimage",
        ".deb", ".rpm", ".snap", ".flatpak", ".py", ".pyw", ".pl", ".rb", ".elf", ".out",
    }
)  # fmt: skip
"""Suffixes of files that run code when opened: the app asks before opening one."""


def safe_file_name(name: str) -> str:
    """A name safe to use as one component of a path on any supported system.

    Keeps the last path component (after ``/`` or ``\\``), replaces control,
    bidirectional-text and Windows-forbidden characters with ``_``, drops leading dots and
    spaces and trailing dots and spaces, prefixes a Windows-reserved base name (``CON.txt``
    becomes ``_CON.txt``) and shortens it to :data:`MAX_NAME_BYTES`, keeping the suffix.
    Never returns an empty name, ``.`` or ``..``.
    """
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _REPLACED.sub("_", name)
    name = name.strip(" .")
    if not name:
        return FALLBACK_NAME
    stem = name.partition(".")[0]
    if stem.rstrip(" ").upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return _shorten(name)


def _shorten(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    path = Path(name)
    suffix = path.suffix if len(path.suffix.encode("utf-8")) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return (stem or FALLBACK_NAME) + suffix


def unique_path(directory: Path, name: str) -> Path:
    """``directory / safe_file_name(name)``, or with `` (1)``, `` (2)``... before the suffix
    when a file of that name exists already (as a browser saves downloads)."""
    safe = safe_file_name(name)
    candidate = directory / safe
    stem, suffix = Path(safe).stem, Path(safe).suffix
    number = 1
    while candidate.exists():
        candidate = directory / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def is_executable_name(name: str) -> bool:
    """Whether opening a file of this name could run code (by its suffix, case ignored).
    The media type a sender claims is not asked: it proves nothing."""
    suffix = Path(safe_file_name(name)).suffix.lower()
    return suffix in EXECUTABLE_SUFFIXES


def guess_media_type(name: str) -> str:
    """A media type for a file we send, by its suffix (``application/octet-stream`` when
    unknown); recipients treat it as a claim."""
    kind, _ = mimetypes.guess_type(safe_file_name(name), strict=False)
    if kind is None or not re.fullmatch(_MEDIA_TYPE, kind):
        return "application/octet-stream"
    return kind

"""The profile directory and the identity file (``identity.json``): who this client is and
which server it talks to. The file is readable by the user only and replaced atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import platformdirs

log = logging.getLogger(__name__)

APP_NAME: Final = "messenger"
IDENTITY_FILE: Final = "identity.json"
PROFILE_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- profile directory and identity -------------------------------------------------------


def profile_dir(profile: str | None) -> Path:
    """The data directory of ``profile`` (``"default"`` when ``None``); not created here.

    Raises:
        ValueError: the name is not 1 to 64 letters, digits, ``-`` or ``_``.
    """
    name = "default" if profile is None else profile
    if not PROFILE_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid profile name {name!r}: use 1 to 64 letters, digits, '-' or '_'")
    return Path(platformdirs.user_data_dir(APP_NAME)) / "profiles" / name


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600, durably on disk."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            os.chmod(tmp_name, 0o600)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class ClientData:
    """Who this client is and which server it talks to (``identity.json``)."""

    server_host: str
    server_port: int
    use_tls: bool
    client_id: str
    credential: str = dataclasses.field(repr=False)
    display_name: str
    tls_fingerprint: str | None = None
    """The pinned SHA-256 fingerprint of a self-signed server certificate, if any."""


_IDENTITY_FIELDS: Final[dict[str, tuple[type, ...]]] = {
    "server_host": (str,),
    "server_port": (int,),
    "use_tls": (bool,),
    "client_id": (str,),
    "credential": (str,),
    "display_name": (str,),
}


def load_client_data(directory: Path) -> ClientData | None:
    """The identity stored in ``directory``, or ``None`` when there is none yet.

    Raises:
        ValueError: the file exists but is damaged. Do not register anew silently: that
            would lose the identity (the credential is never shown again).
        OSError: the file could not be read.
    """
    path = directory / IDENTITY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    values: dict[str, Any] = {}
    for name, types in _IDENTITY_FIELDS.items():
        value = obj.get(name)
        if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
            raise ValueError(f"{path}: field {name!r} is missing or invalid")
        values[name] = value
    fingerprint = obj.get("tls_fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise ValueError(f"{path}: field 'tls_fingerprint' is invalid")
    return ClientData(**values, tls_fingerprint=fingerprint)


def save_client_data(directory: Path, data: ClientData) -> None:
    """Store ``data`` as ``directory/identity.json`` (created 0700/0600 if needed).

    The file is replaced atomically and fsynced: after a crash it holds either the old or
    the new identity, never a mix.
    """
    _make_private_dir(directory)
    payload = json.dumps(dataclasses.asdict(data), indent=2, ensure_ascii=False) + "\n"
    _write_private_file(directory / IDENTITY_FILE, payload.encode("utf-8"))


def save_client_id(
    directory: Path, client_id: str, credential: str, display_name: str | None = None
) -> ClientData:
    """Record a newly registered identity in the existing ``identity.json``.

    Save the server settings with :func:`save_client_data` first; this only replaces the
    ID, the credential and (when given) the display name, and returns the result.

    Raises:
        FileNotFoundError: there is no identity file to update.
    """
    current = load_client_data(directory)
    if current is None:
        raise FileNotFoundError(directory / IDENTITY_FILE)
    updated = dataclasses.replace(
        current,
        client_id=client_id,
        credential=credential,
        display_name=current.display_name if display_name is None else display_name,
    )
    save_client_data(directory, updated)
    return updated

"""Server configuration: the one source of truth for settings and their defaults.

Settings come from, in increasing order of precedence: the defaults below, a TOML file
(``--config`` or ``MESSENGER_CONFIG``; top-level keys named like the settings), the
environment (``MESSENGER_<NAME>``, e.g. ``MESSENGER_PORT``), and command-line flags.

=====================  ==============================  =====================================
setting                environment                     default
=====================  ==============================  =====================================
host                   MESSENGER_HOST                  127.0.0.1 (:data:`HOST`)
port                   MESSENGER_PORT                  7850 (:data:`PORT`); 0 = any free port
data_dir               MESSENGER_DATA_DIR              platformdirs user data dir
tls_cert, tls_key      MESSENGER_TLS_CERT, ..._KEY     none (both enable TLS)
log_level              MESSENGER_LOG_LEVEL             INFO
registration           MESSENGER_REGISTRATION          open (or closed)
max_frame_bytes        MESSENGER_MAX_FRAME_BYTES       1 MiB
max_text_bytes         MESSENGER_MAX_TEXT_BYTES        64 KiB
max_group_members      MESSENGER_MAX_GROUP_MEMBERS     256
rate_limit             MESSENGER_RATE_LIMIT            1000 requests/s per connection
rate_burst             MESSENGER_RATE_BURST            2000
handshake_timeout      MESSENGER_HANDSHAKE_TIMEOUT     10 s
idle_timeout           MESSENGER_IDLE_TIMEOUT          300 s
max_write_buffer       MESSENGER_MAX_WRITE_BUFFER      8 MiB
dedupe_days            MESSENGER_DEDUPE_DAYS           30
max_connections        MESSENGER_MAX_CONNECTIONS       10000
=====================  ==============================  =====================================
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import msgspec
import platformdirs

from messenger_server import protocol

HOST: Final = "127.0.0.1"
PORT: Final = 7850
ENV_PREFIX: Final = "MESSENGER_"


class ConfigError(Exception):
    """A setting is missing, malformed or out of range; the message names it."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("messenger-server", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = HOST
    port: int = PORT
    data_dir: Path = field(default_factory=default_data_dir)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    registration: Literal["open", "closed"] = "open"
    max_frame_bytes: int = protocol.MAX_FRAME_BYTES
    max_text_bytes: int = protocol.MAX_TEXT_BYTES
    max_group_members: int = protocol.MAX_GROUP_MEMBERS
    rate_limit: float = 1000.0
    rate_burst: int = 2000
    handshake_timeout: float = 10.0
    idle_timeout: float = 300.0
    max_write_buffer: int = 8 * 1024 * 1024
    dedupe_days: int = 30
    max_connections: int = 10_000

    @property
    def database_path(self) -> Path:
        return self.data_dir / "messenger.db"


_FIELDS: Final = {f.name for f in dataclasses.fields(Settings)}
_TYPES: dict[str, Any] = {}


def _setting_type(name: str) -> Any:
    if not _TYPES:
        _TYPES.update(typing.get_type_hints(Settings))
    return _TYPES[name]


def _convert(name: str, value: object, source: str) -> object:
    """``value`` as the type of setting ``name``. Strings (environment, flags) are parsed;
    TOML values must already have the right type."""
    kind = _setting_type(name)
    if kind in (Path, Path | None):
        kind = str | None
        wrap = True
    else:
        wrap = False
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str) and name == "log_level":
        value = value.strip().upper()
    elif isinstance(value, str) and name == "registration":
        value = value.strip().lower()
    try:
        converted = msgspec.convert(value, kind, strict=not isinstance(value, str))
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: invalid {name} {value!r}: {exc}") from None
    if wrap and converted is not None:
        return Path(str(converted)).expanduser()
    return converted


def _validate(s: Settings) -> None:
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ConfigError(message)

    need(0 <= s.port <= 65535, f"port must be between 0 and 65535, not {s.port}")
    need(bool(s.host.strip()), "host must not be empty")
    need((s.tls_cert is None) == (s.tls_key is None), "tls_cert and tls_key must be given together")
    for name in ("tls_cert", "tls_key"):
        path = getattr(s, name)
        need(path is None or Path(path).is_file(), f"{name}: no such file: {path}")
    need(
        4096 <= s.max_frame_bytes <= 16 * 1024 * 1024,
        f"max_frame_bytes must be between 4096 and 16 MiB, not {s.max_frame_bytes}",
    )
    need(
        1 <= s.max_text_bytes <= protocol.MAX_TEXT_BYTES,
        f"max_text_bytes must be between 1 and {protocol.MAX_TEXT_BYTES}, not {s.max_text_bytes}",
    )
    need(
        s.max_text_bytes < s.max_frame_bytes - 1024,
        "max_text_bytes must leave 1 KiB of max_frame_bytes for the rest of a frame",
    )
    need(
        2 <= s.max_group_members <= protocol.MAX_GROUP_MEMBERS,
        f"max_group_members must be between 2 and {protocol.MAX_GROUP_MEMBERS}",
    )
    need(s.rate_limit > 0, "rate_limit must be positive")
    need(s.rate_burst >= 1, "rate_burst must be at least 1")
    need(s.handshake_timeout > 0, "handshake_timeout must be positive")
    need(s.idle_timeout > 0, "idle_timeout must be positive")
    need(
        s.max_write_buffer >= 2 * s.max_frame_bytes,
        "max_write_buffer must be at least twice max_frame_bytes",
    )
    need(s.dedupe_days >= 1, "dedupe_days must be at least 1")
    need(s.max_connections >= 1, "max_connections must be at least 1")


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}")
    return data


def load_settings(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Merge defaults, the TOML file, the environment and ``overrides`` (flags).

    ``None`` values in ``overrides`` mean "not given". Raises :class:`ConfigError`.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    config_path = config_file
    if config_path is None and environ.get(f"{ENV_PREFIX}CONFIG"):
        config_path = Path(environ[f"{ENV_PREFIX}CONFIG"])
    if config_path is not None:
        for name, value in _read_toml(config_path).items():
            values[name] = _convert(name, value, str(config_path))
    for name in _FIELDS:
        env_name = f"{ENV_PREFIX}{name.upper()}"
        if env_name in environ:
            values[name] = _convert(name, environ[env_name], env_name)
    for name, value in (overrides or {}).items():
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = _convert(name, value, f"--{name.replace('_', '-')}")
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings

"""Server configuration: the one source of truth for settings, their defaults and limits.

Settings come from, in increasing order of precedence: the defaults below, a TOML file
(``--config FILE`` or ``MESSENGER_CONFIG``; top-level keys named like the settings), the
environment (``MESSENGER_<NAME>``, e.g. ``MESSENGER_PORT``; empty variables are ignored) and
command-line flags. Relative paths in the TOML file are relative to the file's folder.

=========================  ==================  =============================
setting                    default             allowed
=========================  ==================  =============================
host                       127.0.0.1 (HOST)    address to listen on
port                       7850 (PORT)         0..65535; 0 = any free port
data_dir                   user data dir [1]_  folder holding messenger.db
storage                    sqlite              sqlite, postgresql [2]_
database_url               none                postgresql://user:pw@host/db
tls_cert                   none                PEM file; needs tls_key
tls_key                    none                PEM file; needs tls_cert
log_level                  INFO                DEBUG, INFO, WARNING, ERROR
registration               open                open, invite, closed
max_frame_bytes            1048576 (1 MiB)     4096..16 MiB
max_text_bytes             65536 (64 KiB)      1..64 KiB, < frame - 1024
max_group_members          256                 2..256
max_groups_per_client      500                 >= 1 groups a client is in
rate_limit                 1000.0              > 0 requests/s per connection
rate_burst                 2000                >= 1 requests
handshake_timeout          10.0                > 0 seconds
idle_timeout               300.0               > 0 seconds
max_write_buffer           8388608 (8 MiB)     >= 2 * max_frame_bytes
dedupe_days                30                  >= 1 days of idempotency keys
message_ttl_days           30                  >= 1 days a message may wait
max_connections            10000               >= 1
max_connections_per_ip     64                  >= 1
registrations_per_ip_hour  20                  >= 1 (open registration)
max_pending_per_client     100000              >= 1 direct messages waiting
max_pending_per_sender     10000               >= 1 a sender's, waiting
min_free_disk_mb           512                 >= 0 MiB (0: no check)
edit_window_hours          48                  >= 1 hours a message may be edited
bus                        none                none, redis [3]_
bus_url                    redis://localhost/  redis://, rediss://, unix://
=========================  ==================  =============================

Every setting's environment variable is ``MESSENGER_`` and its name in capitals.

.. [1] ``platformdirs.user_data_dir("messenger-server")``, see :func:`default_data_dir`.
.. [2] ``sqlite``: one file in ``data_dir``, one server process. ``postgresql``: the
   database named by ``database_url`` (required then, and only then), which several server
   processes may share; ``messenger-server migrate`` creates or updates its schema.
.. [3] ``redis``: this server is one node of several, sharing one PostgreSQL database;
   they tell each other through the Redis server at ``bus_url`` what their clients must
   hear live (docs/admin.md, "Several nodes").

Call :func:`load_settings` to get a validated, immutable :class:`Settings`; every problem
raises :class:`ConfigError` naming the setting and where its value came from.
"""

from __future__ import annotations

import contextlib
import math
import os
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import platformdirs

from messenger_server import protocol

HOST: Final = "127.0.0.1"
PORT: Final = 7850
ENV_PREFIX: Final = "MESSENGER_"
CONFIG_ENV: Final = "MESSENGER_CONFIG"

MAX_FRAME_BYTES_LIMIT: Final = 16 * 1024 * 1024
FRAME_OVERHEAD_BYTES: Final = 1024

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Registration = Literal["open", "invite", "closed"]
Storage = Literal["sqlite", "postgresql"]
DATABASE_URL_SCHEMES: Final = ("postgresql://", "postgres://")
BusKind = Literal["none", "redis"]
BUS_URL_SCHEMES: Final = ("redis://", "rediss://", "unix://")


class ConfigError(Exception):
    """A setting is malformed, unknown or out of range; the message names it and its source."""


def default_data_dir() -> Path:
    """The per-user data folder. Only computes the path: nothing is created here."""
    return Path(platformdirs.user_data_dir("messenger-server", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated server settings; build them with :func:`load_settings`."""

    host: str = HOST
    port: int = PORT
    data_dir: Path = field(default_factory=default_data_dir)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: LogLevel = "INFO"
    registration: Registration = "open"
    storage: Storage = "sqlite"
    database_url: str | None = None
    max_frame_bytes: int = protocol.MAX_FRAME_BYTES
    max_text_bytes: int = protocol.MAX_TEXT_BYTES
    max_group_members: int = protocol.MAX_GROUP_MEMBERS
    max_groups_per_client: int = 500
    rate_limit: float = 1000.0
    rate_burst: int = 2000
    handshake_timeout: float = 10.0
    idle_timeout: float = 300.0
    max_write_buffer: int = 8 * 1024 * 1024
    dedupe_days: int = 30
    message_ttl_days: int = 30
    max_connections: int = 10_000
    max_connections_per_ip: int = 64
    registrations_per_ip_hour: int = 20
    max_pending_per_client: int = 100_000
    max_pending_per_sender: int = 10_000
    min_free_disk_mb: int = 512
    edit_window_hours: int = 48
    bus: BusKind = "none"
    bus_url: str = "redis://localhost/"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "messenger.db"


def env_name(setting: str) -> str:
    """The environment variable of ``setting``, e.g. ``MESSENGER_PORT`` for ``port``."""
    return ENV_PREFIX + setting.upper()


# Parsers turn a raw value (a string from the environment or a flag, or a TOML value) into
# the setting's type. On failure they raise ValueError("<what was expected>").


def _to_int(value: object) -> int:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("an integer")


def _to_float(value: object) -> float:
    number = math.nan
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    if not math.isfinite(number):
        raise ValueError("a number")
    return number


def _to_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a string")
    return value


def _to_path(value: object) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise ValueError("a path")
    return Path(value).expanduser()


def _choice_parser(options: tuple[str, ...]) -> Callable[[object], str]:
    def to_choice(value: object) -> str:
        for option in options:
            if isinstance(value, str) and value.strip().lower() == option.lower():
                return option
        raise ValueError("one of " + ", ".join(map(repr, options)))

    return to_choice


def _parser_for(hint: object) -> Callable[[object], object]:
    if hint is int:
        return _to_int
    if hint is float:
        return _to_float
    if hint in (str, str | None):
        return _to_str
    if hint in (Path, Path | None):
        return _to_path
    if typing.get_origin(hint) is Literal:
        return _choice_parser(typing.get_args(hint))
    raise TypeError(f"no parser for settings of type {hint}")


_PARSERS: Final = {
    name: _parser_for(hint) for name, hint in typing.get_type_hints(Settings).items()
}


def _convert(name: str, value: object, source: str) -> object:
    try:
        return _PARSERS[name](value)
    except ValueError as exc:
        raise ConfigError(f"{source}: expected {exc}, got {value!r}") from None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for name in data:
        if name not in _PARSERS:
            raise ConfigError(f"{path}: unknown setting {name!r}")
    return data


def _validate(s: Settings, source: Mapping[str, str]) -> None:
    """Check ranges and relations; ``source`` maps a setting to where its value came from."""

    def need(ok: bool, name: str, problem: str) -> None:
        if not ok:
            where = source.get(name, name)
            raise ConfigError(f"{where}: {problem}, got {getattr(s, name)!r}")

    need(bool(s.host.strip()), "host", "must not be empty")
    need(0 <= s.port <= 65535, "port", "must be between 0 and 65535")
    if (s.tls_cert is None) != (s.tls_key is None):
        given = "tls_cert" if s.tls_cert is not None else "tls_key"
        raise ConfigError(
            f"tls_cert and tls_key must be given together; only {given} is set"
            f" (by {source.get(given, given)})"
        )
    for name in ("tls_cert", "tls_key"):
        path = getattr(s, name)
        need(path is None or path.is_file(), name, "no such file")
    need(
        4096 <= s.max_frame_bytes <= MAX_FRAME_BYTES_LIMIT,
        "max_frame_bytes",
        f"must be between 4096 and {MAX_FRAME_BYTES_LIMIT}",
    )
    need(
        1 <= s.max_text_bytes <= protocol.MAX_TEXT_BYTES,
        "max_text_bytes",
        f"must be between 1 and {protocol.MAX_TEXT_BYTES} (the protocol's limit)",
    )
    need(
        s.max_text_bytes < s.max_frame_bytes - FRAME_OVERHEAD_BYTES,
        "max_text_bytes",
        f"must be less than max_frame_bytes - {FRAME_OVERHEAD_BYTES}"
        f" = {s.max_frame_bytes - FRAME_OVERHEAD_BYTES}",
    )
    need(
        2 <= s.max_group_members <= protocol.MAX_GROUP_MEMBERS,
        "max_group_members",
        f"must be between 2 and {protocol.MAX_GROUP_MEMBERS}",
    )
    need(s.rate_limit > 0, "rate_limit", "must be positive")
    need(s.rate_burst >= 1, "rate_burst", "must be at least 1")
    need(s.handshake_timeout > 0, "handshake_timeout", "must be positive")
    need(s.idle_timeout > 0, "idle_timeout", "must be positive")
    need(
        s.max_write_buffer >= 2 * s.max_frame_bytes,
        "max_write_buffer",
        f"must be at least 2 * max_frame_bytes = {2 * s.max_frame_bytes}",
    )
    need(s.dedupe_days >= 1, "dedupe_days", "must be at least 1")
    need(s.message_ttl_days >= 1, "message_ttl_days", "must be at least 1")
    for name in (
        "max_connections",
        "max_connections_per_ip",
        "registrations_per_ip_hour",
        "max_groups_per_client",
        "max_pending_per_client",
        "max_pending_per_sender",
        "edit_window_hours",
    ):
        need(getattr(s, name) >= 1, name, "must be at least 1")
    need(s.min_free_disk_mb >= 0, "min_free_disk_mb", "must not be negative")
    _validate_storage(s, source)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: fit for messages and logs."""
    scheme, separator, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{location}"


def _validate_storage(s: Settings, source: Mapping[str, str]) -> None:
    """``database_url`` goes with ``storage = "postgresql"``, and only with it: a node
    meant to share a database must never fall back to a file of its own."""
    where = source.get("database_url", "database_url")
    if s.storage == "postgresql":
        if s.database_url is None:
            raise ConfigError(
                f"{source.get('storage', 'storage')}: storage is 'postgresql' but database_url"
                f" is not set (e.g. {env_name('database_url')}=postgresql://user:password@host/db)"
            )
        if not s.database_url.startswith(DATABASE_URL_SCHEMES):
            raise ConfigError(
                f"{where}: expected a postgresql:// URL, got {redact_url(s.database_url)!r}"
            )
    elif s.database_url is not None:
        raise ConfigError(
            f"{where}: database_url is set but storage is {s.storage!r}"
            f" (set storage = 'postgresql' to use it, or remove it)"
        )
    if not s.bus_url.startswith(BUS_URL_SCHEMES):
        raise ConfigError(
            f"{source.get('bus_url', 'bus_url')}: expected a redis://, rediss:// or unix://"
            f" URL, got {redact_url(s.bus_url)!r}"
        )
    if s.bus != "none" and s.storage != "postgresql":
        raise ConfigError(
            f"{source.get('bus', 'bus')}: bus is {s.bus!r} but storage is {s.storage!r}:"
            " several nodes share one PostgreSQL database (storage = 'postgresql')"
        )


def load_settings(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Merge the defaults, the TOML file, the environment and ``overrides``, then validate.

    Args:
        config_file: TOML file to read; if None, ``MESSENGER_CONFIG`` names it, if set.
        environ: the environment; defaults to :data:`os.environ`.
        overrides: the command-line flags, keyed by setting name; None means "not given".

    Raises:
        ConfigError: a value is malformed, unknown or out of range.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    source: dict[str, str] = {}

    def put(name: str, value: object, where: str) -> None:
        values[name] = _convert(name, value, where)
        source[name] = where

    if config_file is None and environ.get(CONFIG_ENV):
        config_file = Path(environ[CONFIG_ENV])
    if config_file is not None:
        for name, value in _read_toml(config_file).items():
            put(name, value, f"{config_file}: {name}")
            if isinstance(values[name], Path):  # relative to the file; absolute stays as is
                values[name] = config_file.parent / values[name]
    for name in _PARSERS:
        if environ.get(env_name(name)):
            put(name, environ[env_name(name)], env_name(name))
    for name, value in (overrides or {}).items():
        if name not in _PARSERS:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            put(name, value, "--" + name.replace("_", "-"))
    settings = Settings(**values)
    _validate(settings, source)
    return settings

"""Server settings: defaults, TOML file < environment < flags, and clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from messenger_server import config, protocol
from messenger_server.config import ConfigError, Settings, load_settings


def write_toml(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_tls_files(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    return cert, key


def test_defaults_follow_the_protocol_limits(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"data_dir": tmp_path})
    assert settings == Settings(data_dir=tmp_path)
    assert (settings.host, settings.port) == (config.HOST, config.PORT) == ("127.0.0.1", 7850)
    assert settings.tls_cert is None and settings.tls_key is None
    assert settings.log_level == "INFO"
    assert settings.registration == "open"
    assert settings.max_frame_bytes == protocol.MAX_FRAME_BYTES
    assert settings.max_text_bytes == protocol.MAX_TEXT_BYTES
    assert settings.max_group_members == protocol.MAX_GROUP_MEMBERS
    assert (settings.rate_limit, settings.rate_burst) == (1000.0, 2000)
    assert (settings.handshake_timeout, settings.idle_timeout) == (10.0, 300.0)
    assert settings.max_write_buffer == 8 * 1024 * 1024
    assert (settings.dedupe_days, settings.max_connections) == (30, 10_000)


def test_default_data_dir_is_the_user_data_dir_and_is_not_created() -> None:
    settings = load_settings(environ={})
    assert settings.data_dir == config.default_data_dir()
    assert "messenger-server" in settings.data_dir.parts


def test_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).database_path == tmp_path / "messenger.db"


def test_settings_are_immutable(tmp_path: Path) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings(data_dir=tmp_path).port = 1  # type: ignore[misc]


def test_toml_file_sets_values(tmp_path: Path) -> None:
    cert, key = make_tls_files(tmp_path)
    path = write_toml(
        tmp_path,
        f"""
        host = "0.0.0.0"
        port = 9000
        data_dir = '{tmp_path / "data"}'
        tls_cert = '{cert}'
        tls_key = '{key}'
        log_level = "debug"
        registration = "closed"
        rate_limit = 50
        idle_timeout = 12.5
        """,
    )
    settings = load_settings(config_file=path, environ={})
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.data_dir == tmp_path / "data"
    assert (settings.tls_cert, settings.tls_key) == (cert, key)
    assert settings.log_level == "DEBUG"
    assert settings.registration == "closed"
    assert settings.rate_limit == 50.0 and isinstance(settings.rate_limit, float)
    assert settings.idle_timeout == 12.5


def test_relative_paths_in_toml_are_relative_to_the_file(tmp_path: Path) -> None:
    make_tls_files(tmp_path)
    path = write_toml(tmp_path, 'data_dir = "data"\ntls_cert = "cert.pem"\ntls_key = "key.pem"\n')
    settings = load_settings(config_file=path, environ={})
    assert settings.data_dir == tmp_path / "data"
    assert settings.tls_cert == tmp_path / "cert.pem"


def test_environment_overrides_toml(tmp_path: Path) -> None:
    path = write_toml(tmp_path, f"port = 9000\nhost = '0.0.0.0'\ndata_dir = '{tmp_path}'\n")
    settings = load_settings(
        config_file=path,
        environ={"MESSENGER_PORT": "9001", "MESSENGER_DATA_DIR": str(tmp_path / "env")},
    )
    assert settings.port == 9001
    assert settings.host == "0.0.0.0"
    assert settings.data_dir == tmp_path / "env"


def test_environment_strings_are_converted_by_type(tmp_path: Path) -> None:
    cert, key = make_tls_files(tmp_path)
    settings = load_settings(
        environ={
            "MESSENGER_DATA_DIR": str(tmp_path),
            "MESSENGER_TLS_CERT": str(cert),
            "MESSENGER_TLS_KEY": str(key),
            "MESSENGER_LOG_LEVEL": "warning",
            "MESSENGER_REGISTRATION": "Closed",
            "MESSENGER_RATE_LIMIT": "2.5",
            "MESSENGER_RATE_BURST": "7",
            "MESSENGER_DEDUPE_DAYS": " 3 ",
        }
    )
    assert settings.tls_cert == cert and settings.tls_key == key
    assert settings.log_level == "WARNING"
    assert settings.registration == "closed"
    assert (settings.rate_limit, settings.rate_burst, settings.dedupe_days) == (2.5, 7, 3)


def test_empty_environment_variables_are_ignored(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"MESSENGER_PORT": "", "MESSENGER_TLS_CERT": ""}, overrides={"data_dir": tmp_path}
    )
    assert settings.port == config.PORT and settings.tls_cert is None


def test_flags_override_environment(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 9000\n")
    settings = load_settings(
        config_file=path,
        environ={"MESSENGER_PORT": "9001", "MESSENGER_REGISTRATION": "closed"},
        overrides={"port": 9002, "data_dir": tmp_path, "registration": "open"},
    )
    assert settings.port == 9002
    assert settings.registration == "open"


def test_none_flags_are_ignored(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"MESSENGER_PORT": "9001", "MESSENGER_DATA_DIR": str(tmp_path)},
        overrides={"port": None, "host": None, "data_dir": None, "tls_cert": None},
    )
    assert settings.port == 9001
    assert settings.host == config.HOST
    assert settings.data_dir == tmp_path


def test_messenger_config_picks_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, f"port = 9100\ndata_dir = '{tmp_path}'\n")
    settings = load_settings(environ={"MESSENGER_CONFIG": str(path)})
    assert settings.port == 9100


def test_config_file_argument_wins_over_messenger_config(tmp_path: Path) -> None:
    chosen = write_toml(tmp_path, f"port = 9200\ndata_dir = '{tmp_path}'\n")
    other = tmp_path / "other.toml"
    other.write_text("port = 1\n")
    settings = load_settings(config_file=chosen, environ={"MESSENGER_CONFIG": str(other)})
    assert settings.port == 9200


def test_environ_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESSENGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESSENGER_PORT", "0")
    monkeypatch.delenv("MESSENGER_CONFIG", raising=False)
    settings = load_settings()
    assert settings.port == 0 and settings.data_dir == tmp_path


def test_tls_pair_with_existing_files_is_accepted(tmp_path: Path) -> None:
    cert, key = make_tls_files(tmp_path)
    settings = load_settings(
        environ={}, overrides={"data_dir": tmp_path, "tls_cert": cert, "tls_key": key}
    )
    assert (settings.tls_cert, settings.tls_key) == (cert, key)


def test_text_limit_may_shrink_with_the_frame_limit(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"MESSENGER_MAX_FRAME_BYTES": "8192", "MESSENGER_MAX_TEXT_BYTES": "7000"},
        overrides={"data_dir": tmp_path},
    )
    assert (settings.max_frame_bytes, settings.max_text_bytes) == (8192, 7000)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"MESSENGER_PORT": "abc"}, "MESSENGER_PORT: expected an integer, got 'abc'"),
        ({"MESSENGER_PORT": "70000"}, "MESSENGER_PORT: must be between 0 and 65535, got 70000"),
        ({"MESSENGER_PORT": "-1"}, "MESSENGER_PORT: must be between 0 and 65535"),
        ({"MESSENGER_RATE_LIMIT": "fast"}, "MESSENGER_RATE_LIMIT: expected a number"),
        ({"MESSENGER_RATE_LIMIT": "nan"}, "MESSENGER_RATE_LIMIT: expected a number"),
        ({"MESSENGER_RATE_LIMIT": "0"}, "MESSENGER_RATE_LIMIT: must be positive"),
        ({"MESSENGER_RATE_BURST": "0"}, "MESSENGER_RATE_BURST: must be at least 1"),
        ({"MESSENGER_HANDSHAKE_TIMEOUT": "-1"}, "MESSENGER_HANDSHAKE_TIMEOUT: must be positive"),
        ({"MESSENGER_IDLE_TIMEOUT": "0"}, "MESSENGER_IDLE_TIMEOUT: must be positive"),
        ({"MESSENGER_DEDUPE_DAYS": "0"}, "MESSENGER_DEDUPE_DAYS: must be at least 1"),
        ({"MESSENGER_MAX_CONNECTIONS": "0"}, "MESSENGER_MAX_CONNECTIONS: must be at least 1"),
        ({"MESSENGER_HOST": " "}, "MESSENGER_HOST: must not be empty"),
        (
            {"MESSENGER_REGISTRATION": "maybe"},
            "MESSENGER_REGISTRATION: expected one of 'open', 'invite', 'closed', got 'maybe'",
        ),
        (
            {"MESSENGER_LOG_LEVEL": "verbose"},
            "MESSENGER_LOG_LEVEL: expected one of 'DEBUG', 'INFO', 'WARNING', 'ERROR'",
        ),
        ({"MESSENGER_MAX_FRAME_BYTES": "1000"}, "MESSENGER_MAX_FRAME_BYTES: must be between"),
        (
            {"MESSENGER_MAX_FRAME_BYTES": str(32 * 1024 * 1024)},
            "MESSENGER_MAX_FRAME_BYTES: must be between",
        ),
        ({"MESSENGER_MAX_TEXT_BYTES": "0"}, "MESSENGER_MAX_TEXT_BYTES: must be between 1"),
        (
            {"MESSENGER_MAX_TEXT_BYTES": str(protocol.MAX_TEXT_BYTES + 1)},
            "MESSENGER_MAX_TEXT_BYTES: must be between 1 and 65536 (the protocol's limit)",
        ),
        (
            {"MESSENGER_MAX_FRAME_BYTES": "8192", "MESSENGER_MAX_TEXT_BYTES": "7168"},
            "MESSENGER_MAX_TEXT_BYTES: must be less than max_frame_bytes - 1024 = 7168",
        ),
        (
            # The default text limit no longer fits: blame max_text_bytes, by name.
            {"MESSENGER_MAX_FRAME_BYTES": "4096"},
            "max_text_bytes: must be less than max_frame_bytes - 1024 = 3072, got 65536",
        ),
        (
            {"MESSENGER_MAX_GROUP_MEMBERS": "1"},
            "MESSENGER_MAX_GROUP_MEMBERS: must be between 2 and 256",
        ),
        (
            {"MESSENGER_MAX_GROUP_MEMBERS": "257"},
            "MESSENGER_MAX_GROUP_MEMBERS: must be between 2 and 256",
        ),
        (
            {"MESSENGER_MAX_WRITE_BUFFER": "100000"},
            "MESSENGER_MAX_WRITE_BUFFER: must be at least 2 * max_frame_bytes = 2097152",
        ),
    ],
)
def test_bad_environment_values_name_the_variable(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, overrides={"data_dir": tmp_path})
    assert expected in str(raised.value)


def test_bad_flag_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--port: must be between 0 and 65535, got 70000$"):
        load_settings(environ={}, overrides={"data_dir": tmp_path, "port": 70000})


def test_unknown_flag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(environ={}, overrides={"data_dir": tmp_path, "prot": 1})


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "prot = 7850\n")
    with pytest.raises(ConfigError, match=r"config\.toml: unknown setting 'prot'"):
        load_settings(config_file=path, environ={})


def test_toml_tables_are_not_settings(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nport = 7850\n")
    with pytest.raises(ConfigError, match="unknown setting 'server'"):
        load_settings(config_file=path, environ={})


def test_malformed_toml_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = \n")
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load_settings(config_file=path, environ={})


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read the config file"):
        load_settings(environ={"MESSENGER_CONFIG": str(missing)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('port = "abc"', "config.toml: port: expected an integer, got 'abc'"),
        ("port = true", "config.toml: port: expected an integer, got True"),
        ("port = 7850.5", "config.toml: port: expected an integer, got 7850.5"),
        ("port = 70000", "config.toml: port: must be between 0 and 65535, got 70000"),
        ("host = 1", "config.toml: host: expected a string, got 1"),
        ("data_dir = 5", "config.toml: data_dir: expected a path, got 5"),
        ('rate_limit = "x"', "config.toml: rate_limit: expected a number, got 'x'"),
    ],
)
def test_bad_toml_values_name_the_file_and_setting(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write_toml(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file=path, environ={}, overrides={"data_dir": tmp_path})
    assert expected in str(raised.value)


@pytest.mark.parametrize("given", ["tls_cert", "tls_key"])
def test_tls_cert_and_key_must_come_together(tmp_path: Path, given: str) -> None:
    cert, _ = make_tls_files(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={}, overrides={"data_dir": tmp_path, given: cert})
    message = str(raised.value)
    assert "tls_cert and tls_key must be given together" in message
    assert f"only {given} is set" in message
    assert "--" + given.replace("_", "-") in message


def test_missing_tls_file_is_refused(tmp_path: Path) -> None:
    cert, _ = make_tls_files(tmp_path)
    with pytest.raises(ConfigError, match="MESSENGER_TLS_KEY: no such file"):
        load_settings(
            environ={
                "MESSENGER_TLS_CERT": str(cert),
                "MESSENGER_TLS_KEY": str(tmp_path / "absent.pem"),
            },
            overrides={"data_dir": tmp_path},
        )


def test_storage_is_sqlite_unless_postgresql_is_chosen_with_its_url(tmp_path: Path) -> None:
    default = load_settings(environ={}, overrides={"data_dir": tmp_path})
    assert (default.storage, default.database_url) == ("sqlite", None)
    url = "postgresql://messenger:secret@db.example.org:5432/messenger"
    from_env = load_settings(
        environ={"MESSENGER_STORAGE": "PostgreSQL", "MESSENGER_DATABASE_URL": url},
        overrides={"data_dir": tmp_path},
    )
    assert (from_env.storage, from_env.database_url) == ("postgresql", url)
    path = write_toml(tmp_path, 'storage = "postgresql"\ndatabase_url = "postgres://h/db"\n')
    from_file = load_settings(config_file=path, environ={})
    assert (from_file.storage, from_file.database_url) == ("postgresql", "postgres://h/db")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"MESSENGER_STORAGE": "postgresql"},
            "MESSENGER_STORAGE: storage is 'postgresql' but database_url is not set",
        ),
        (
            {"MESSENGER_STORAGE": "postgresql", "MESSENGER_DATABASE_URL": "mysql://u:pw@h/db"},
            "MESSENGER_DATABASE_URL: expected a postgresql:// URL, got 'mysql://u:***@h/db'",
        ),
        (
            {"MESSENGER_DATABASE_URL": "postgresql://h/db"},
            "MESSENGER_DATABASE_URL: database_url is set but storage is 'sqlite'",
        ),
        (
            {"MESSENGER_STORAGE": "redis"},
            "MESSENGER_STORAGE: expected one of 'sqlite', 'postgresql', got 'redis'",
        ),
    ],
)
def test_a_database_url_goes_with_postgresql_and_only_with_it(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, overrides={"data_dir": tmp_path})
    assert expected in str(raised.value)
    assert "pw@" not in str(raised.value)


def test_database_passwords_are_not_shown() -> None:
    assert config.redact_url("postgresql://bob:s3cret@db/x") == "postgresql://bob:***@db/x"
    assert config.redact_url("postgresql://bob:a@b@db/x") == "postgresql://bob:***@db/x"
    assert config.redact_url("postgresql://bob@db/x") == "postgresql://bob@db/x"
    assert config.redact_url("postgresql:///x?host=/run") == "postgresql:///x?host=/run"


def test_docstring_documents_every_setting() -> None:
    doc = config.__doc__ or ""
    assert "environment variable is ``MESSENGER_`` and its name in capitals" in doc
    for item in dataclasses.fields(Settings):
        assert item.name in doc
        assert config.env_name(item.name) == "MESSENGER_" + item.name.upper()


def test_several_nodes_take_a_redis_bus_and_a_shared_database(tmp_path: Path) -> None:
    default = load_settings(environ={}, overrides={"data_dir": tmp_path})
    assert default.bus == "none"
    node = load_settings(
        environ={
            "MESSENGER_STORAGE": "postgresql",
            "MESSENGER_DATABASE_URL": "postgresql://h/db",
            "MESSENGER_BUS": "redis",
            "MESSENGER_BUS_URL": "redis://:secret@cache.example.org:6379/2",
            "MESSENGER_BLOB_DIR": "/srv/messenger/blobs",
        },
        overrides={"data_dir": tmp_path},
    )
    assert (node.bus, node.bus_url) == ("redis", "redis://:secret@cache.example.org:6379/2")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"MESSENGER_BUS": "redis"},
            "MESSENGER_BUS: bus is 'redis' but storage is 'sqlite': several nodes share one"
            " PostgreSQL database",
        ),
        (
            {"MESSENGER_BUS_URL": "http://u:pw@h/"},
            "MESSENGER_BUS_URL: expected a redis://, rediss:// or unix:// URL,"
            " got 'http://u:***@h/'",
        ),
        ({"MESSENGER_BUS": "nats"}, "MESSENGER_BUS: expected one of 'none', 'redis'"),
        (
            {
                "MESSENGER_BUS": "redis",
                "MESSENGER_STORAGE": "postgresql",
                "MESSENGER_DATABASE_URL": "postgresql://u:pw@h/db",
            },
            "MESSENGER_BUS: bus is 'redis' but blob_dir is not set: several nodes keep the"
            " files' bytes in one folder they all share",
        ),
    ],
)
def test_a_bus_needs_a_shared_database_and_a_redis_url(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, overrides={"data_dir": tmp_path})
    assert expected in str(raised.value)
    assert "pw@" not in str(raised.value)

"""REVQ_STORE's forms, old and new, and the one line an unknown one gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.store import MemoryStore, SQLiteStore, open_store


@pytest.mark.parametrize(
    ("value", "store", "db_path"),
    [
        ("", "sqlite", "./revq.db"),
        ("sqlite", "sqlite", "./revq.db"),
        ("SQLite", "sqlite", "./revq.db"),
        ("memory", "memory", "./revq.db"),
        ("memory://", "memory", "./revq.db"),
        ("sqlite:///data/revq.db", "sqlite", "data/revq.db"),
        ("sqlite:////var/lib/revq/revq.db", "sqlite", "/var/lib/revq/revq.db"),
        ("redis://localhost:6379/0", "redis://localhost:6379/0", "./revq.db"),
        ("rediss://:pw@cache.example.org:6380/2", "rediss://:pw@cache.example.org:6380/2", "./revq.db"),
        ("REDIS://Cache:6379/0", "redis://Cache:6379/0", "./revq.db"),  # the scheme in any case
    ],
)
def test_store_forms(value: str, store: str, db_path: str) -> None:
    settings = Settings.from_env({"REVQ_STORE": value})
    assert (settings.store, settings.db_path) == (store, db_path)


def test_revq_db_still_names_the_sqlite_file() -> None:
    assert Settings.from_env({"REVQ_DB": "/tmp/x.db"}).db_path == "/tmp/x.db"
    assert Settings.from_env({"REVQ_STORE": "sqlite", "REVQ_DB": "/tmp/x.db"}).db_path == "/tmp/x.db"


@pytest.mark.parametrize(
    "value", ["postgres://db/revq", "mysql", "redis://", "redis://host:notaport/0", "file:x", "sqlite:///", "sqlite:////"]
)
def test_an_unknown_store_fails_with_one_line_naming_the_forms(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"REVQ_STORE": value})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("REVQ_STORE must be one of memory://, sqlite:///PATH, redis://")
    assert "rediss://" in message


def test_the_password_never_shows() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"REVQ_STORE": "redix://:hunter2@host:6379/0"})
    assert "hunter2" not in str(raised.value)
    settings = Settings.from_env({"REVQ_STORE": "redis://user:hunter2@cache:6379/0"})
    assert "hunter2" not in repr(settings)
    assert settings.store_shown == "Redis at redis://user:***@cache:6379/0"
    in_query = Settings.from_env({"REVQ_STORE": "redis://cache:6379/0?password=hunter2"})
    assert "hunter2" not in in_query.store_shown and "cache:6379" in in_query.store_shown


def test_redis_prefix() -> None:
    assert Settings.from_env({}).redis_prefix == "revq:"
    assert Settings.from_env({"REVQ_REDIS_PREFIX": "team-a:"}).redis_prefix == "team-a:"
    with pytest.raises(ConfigError, match="REVQ_REDIS_PREFIX"):
        Settings.from_env({"REVQ_REDIS_PREFIX": "bad prefix*"})


async def test_open_store_follows_the_setting(tmp_path: Path) -> None:
    memory = await open_store(Settings.from_env({"REVQ_STORE": "memory://"}).store, "unused")
    assert isinstance(memory, MemoryStore)
    path = f"{tmp_path}/via-url.db"
    settings = Settings.from_env({"REVQ_STORE": f"sqlite:///{path}"})
    sqlite = await open_store(settings.store, settings.db_path)
    try:
        assert isinstance(sqlite, SQLiteStore) and sqlite.path == path
    finally:
        await sqlite.close()

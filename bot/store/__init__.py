"""Session storage: one async interface, several backends (see base.SessionStore)."""

import asyncio
import logging
import time
from collections.abc import Callable

from bot import config
from bot.store.base import ConversationKey, SessionStore, StoppedWaiting, StoredSession, VersionConflict
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

PURGE_EVERY = 3600.0  # seconds: expired data is gone within the hour, not only when someone returns


async def open_store(
    kind: str, db_path: str, redis_prefix: str = config.DEFAULT_REDIS_PREFIX, *, until: asyncio.Event | None = None
) -> SessionStore:
    """The store named by REVQ_STORE (as Settings.store holds it), ready to use. Servers pass
    `until`, their stop event: they wait for Redis as long as it takes, unless told to stop."""
    if kind in ("memory", "memory://"):
        return MemoryStore()
    if kind.startswith(("redis://", "rediss://")):
        from bot.store.redis import RedisStore  # redis-py loads only when asked for

        return await RedisStore.open(kind, redis_prefix, until=until)
    return await SQLiteStore.open(db_path)


async def purge_periodically(
    store: SessionStore, every: float = PURGE_EVERY, clock: Callable[[], float] = time.time
) -> None:
    """For long-running front ends: delete expired sessions and event claims now and then, until cancelled."""
    while True:
        try:
            removed = await store.purge_expired(clock())
            if removed:
                log.info("purged %d expired sessions", removed)
        except Exception as exc:  # a busy or briefly unavailable store: try again next time
            log.warning("purging expired sessions failed: %s", type(exc).__name__)
        await asyncio.sleep(every)


__all__ = [
    "ConversationKey",
    "MemoryStore",
    "SQLiteStore",
    "SessionStore",
    "StoppedWaiting",
    "StoredSession",
    "VersionConflict",
    "open_store",
    "purge_periodically",
]

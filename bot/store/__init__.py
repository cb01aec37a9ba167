"""Session storage: one async interface, several backends (see base.SessionStore)."""

from bot.store.base import ConversationKey, SessionStore, StoredSession, VersionConflict
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore


async def open_store(kind: str, db_path: str) -> SessionStore:
    """The store named by REVQ_STORE, ready to use."""
    if kind == "memory":
        return MemoryStore()
    return await SQLiteStore.open(db_path)


__all__ = [
    "ConversationKey",
    "MemoryStore",
    "SQLiteStore",
    "SessionStore",
    "StoredSession",
    "VersionConflict",
    "open_store",
]

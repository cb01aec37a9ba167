"""The embedded default store: one SQLite file in WAL mode, schema kept by numbered migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from bot.prompts.schedule import Schedule, schedule_from_json, schedule_to_json
from bot.store.base import EVENT_CLAIM_TTL, ConversationKey, StoredSession, VersionConflict

log = logging.getLogger(__name__)
# aiosqlite's debug lines quote every statement's parameters: what people wrote, and Slack tokens.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

# Each entry moves the schema one version forward. Never edit a shipped entry: add a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        user_id TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (platform, workspace, user_id)
    );
    CREATE INDEX sessions_expiry ON sessions (expires_at);
    CREATE TABLE event_claims (
        event_id TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    CREATE INDEX event_claims_expiry ON event_claims (expires_at);
    """,
    """
    CREATE TABLE schedules (
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (platform, channel)
    );
    CREATE TABLE occurrence_claims (
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        occurrence TEXT NOT NULL,
        claimed_at REAL NOT NULL,
        question_id TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (platform, channel, occurrence)
    );
    """,
    """
    CREATE TABLE slack_installations (
        team TEXT NOT NULL,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (team, name)
    );
    """,
)


async def _switch_to_wal(db: aiosqlite.Connection, attempts: int = 100) -> None:
    """SQLite may refuse the switch with "locked" at once, without waiting, while another process
    is setting up the same new file; wait a little and try again (bounded, about 2 s in all)."""
    for attempt in range(attempts):
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.02)


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (they hold no semicolons inside strings)."""
    return [part.strip() for part in script.split(";") if part.strip()]


class SQLiteStore:
    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._db = connection
        self.path = path
        self._write_lock = asyncio.Lock()  # one connection: keep each write transaction whole

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Answers are personal: only this user may read the file (SQLite gives its -wal and
            # -shm files the same mode).
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA busy_timeout=5000")
            await _switch_to_wal(db)
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA secure_delete=ON")  # forget leaves nothing behind in free pages
            await cls._migrate(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
        """Bring the schema up to date. The version is read inside the write transaction, so two
        processes opening a new file at once migrate it once."""
        while True:
            await db.execute("BEGIN IMMEDIATE")
            try:
                async with db.execute("PRAGMA user_version") as cursor:
                    row = await cursor.fetchone()
                current = int(row[0]) if row else 0
                if current > len(MIGRATIONS):
                    raise RuntimeError(
                        f"the database schema is version {current}, newer than this revq knows ({len(MIGRATIONS)})"
                    )
                if current == len(MIGRATIONS):
                    await db.execute("COMMIT")
                    return
                for statement in _statements(MIGRATIONS[current]):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {current + 1}")
                await db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    await db.execute("ROLLBACK")
                raise
            log.info("sqlite store migrated to schema version %d", current + 1)

    async def journal_mode(self) -> str:
        async with self._db.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else ""

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get(self, key: ConversationKey, now: float) -> StoredSession | None:
        ident = (key.platform, key.workspace, key.user)
        async with self._db.execute(
            "SELECT data, version, expires_at FROM sessions WHERE platform=? AND workspace=? AND user_id=?",
            ident,
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        if row[2] <= now:
            # Expired: delete now, so the next write starts a new conversation from version 0.
            async with self._write_lock:
                await self._db.execute(
                    "DELETE FROM sessions WHERE platform=? AND workspace=? AND user_id=? AND expires_at <= ?",
                    (*ident, now),
                )
            return None
        return StoredSession(str(row[0]), int(row[1]))

    async def put(self, key: ConversationKey, data: str, *, expected_version: int, expires_at: float) -> int:
        ident = (key.platform, key.workspace, key.user)
        async with self._write_lock:
            if expected_version == 0:
                cursor = await self._db.execute(
                    "INSERT INTO sessions (platform, workspace, user_id, data, version, expires_at) "
                    "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING",
                    (*ident, data, expires_at),
                )
            else:
                cursor = await self._db.execute(
                    "UPDATE sessions SET data=?, version=version + 1, expires_at=? "
                    "WHERE platform=? AND workspace=? AND user_id=? AND version=?",
                    (data, expires_at, *ident, expected_version),
                )
            if cursor.rowcount != 1:
                raise VersionConflict(str(key))
        return expected_version + 1

    async def delete_user(self, key: ConversationKey) -> int:
        async with self._write_lock:
            cursor = await self._db.execute(
                "DELETE FROM sessions WHERE platform=? AND workspace=? AND user_id=?",
                (key.platform, key.workspace, key.user),
            )
            removed = max(cursor.rowcount, 0)
            # The schedules stay; only who added them is forgotten, in place, in one statement, so
            # an admin's edit made meanwhile (by any process) is kept.
            cursor = await self._db.execute(
                "UPDATE schedules SET data=json_set(data, '$.created_by', '') "
                "WHERE platform=? AND json_extract(data, '$.created_by')=?",
                (key.platform, key.user),
            )
            removed += max(cursor.rowcount, 0)
        return removed

    async def delete_workspace(self, platform: str, workspace: str) -> int:
        schedules = [s for s in await self.list_schedules(platform) if s.workspace == workspace]
        async with self._write_lock:
            cursor = await self._db.execute(
                "DELETE FROM sessions WHERE platform=? AND workspace=?", (platform, workspace)
            )
            removed = max(cursor.rowcount, 0)
            for schedule in schedules:
                removed += await self._delete_schedule(platform, schedule.channel)
        return removed

    async def claim_event(self, event_id: str, now: float, ttl: float = EVENT_CLAIM_TTL) -> bool:
        async with self._write_lock:
            cursor = await self._db.execute(
                "INSERT INTO event_claims (event_id, expires_at) VALUES (?, ?) "
                "ON CONFLICT (event_id) DO UPDATE SET expires_at=excluded.expires_at "
                "WHERE event_claims.expires_at <= ?",
                (event_id, now + ttl, now),
            )
        return cursor.rowcount == 1

    async def release_event(self, event_id: str) -> None:
        async with self._write_lock:
            await self._db.execute("DELETE FROM event_claims WHERE event_id=?", (event_id,))

    async def purge_expired(self, now: float) -> int:
        async with self._write_lock:
            cursor = await self._db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            await self._db.execute("DELETE FROM event_claims WHERE expires_at <= ?", (now,))
        return max(cursor.rowcount, 0)

    async def save_schedule(self, schedule: Schedule) -> Schedule | None:
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                before = await self.get_schedule(schedule.platform, schedule.channel)
                await self._db.execute(
                    "INSERT INTO schedules (platform, channel, data) VALUES (?, ?, ?) "
                    "ON CONFLICT (platform, channel) DO UPDATE SET data=excluded.data",
                    (schedule.platform, schedule.channel, schedule_to_json(schedule)),
                )
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        return before

    async def get_schedule(self, platform: str, channel: str) -> Schedule | None:
        async with self._db.execute(
            "SELECT data FROM schedules WHERE platform=? AND channel=?", (platform, channel)
        ) as cursor:
            row = await cursor.fetchone()
        return schedule_from_json(str(row[0])) if row else None

    async def list_schedules(self, platform: str | None = None) -> list[Schedule]:
        query = "SELECT data FROM schedules" + (" WHERE platform=?" if platform else "") + " ORDER BY platform, channel"
        async with self._db.execute(query, (platform,) if platform else ()) as cursor:
            rows = await cursor.fetchall()
        return [schedule_from_json(str(row[0])) for row in rows]

    async def delete_schedule(self, platform: str, channel: str) -> bool:
        async with self._write_lock:
            return await self._delete_schedule(platform, channel) == 1

    async def _delete_schedule(self, platform: str, channel: str) -> int:
        """With the write lock held: the schedule, then its posts (their message ids); in that order,
        so another process's check never finds the schedule without its claims and posts again."""
        cursor = await self._db.execute("DELETE FROM schedules WHERE platform=? AND channel=?", (platform, channel))
        await self._db.execute("DELETE FROM occurrence_claims WHERE platform=? AND channel=?", (platform, channel))
        return max(cursor.rowcount, 0)

    async def claim_occurrence(self, platform: str, channel: str, occurrence: str, now: float) -> bool:
        async with self._write_lock:
            cursor = await self._db.execute(
                "INSERT INTO occurrence_claims (platform, channel, occurrence, claimed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (platform, channel, occurrence, now),
            )
        return cursor.rowcount == 1

    async def release_occurrence(self, platform: str, channel: str, occurrence: str) -> None:
        async with self._write_lock:
            await self._db.execute(
                "DELETE FROM occurrence_claims WHERE platform=? AND channel=? AND occurrence=?",
                (platform, channel, occurrence),
            )

    async def record_post(
        self, platform: str, channel: str, occurrence: str, question_id: str, message_id: str
    ) -> None:
        async with self._write_lock:
            await self._db.execute(
                "UPDATE occurrence_claims SET question_id=?, message_id=? "
                "WHERE platform=? AND channel=? AND occurrence=?",
                (question_id, message_id, platform, channel, occurrence),
            )

    async def posted_questions(self, platform: str, channel: str) -> list[str]:
        async with self._db.execute(
            "SELECT question_id FROM occurrence_claims WHERE platform=? AND channel=? AND question_id != '' "
            "ORDER BY claimed_at, rowid",
            (platform, channel),
        ) as cursor:
            rows = await cursor.fetchall()
        return [str(row[0]) for row in rows]

    async def save_installation(self, team: str, name: str, data: str) -> None:
        async with self._write_lock:
            await self._db.execute(
                "INSERT INTO slack_installations (team, name, data) VALUES (?, ?, ?) "
                "ON CONFLICT (team, name) DO UPDATE SET data=excluded.data",
                (team, name, data),
            )

    async def get_installation(self, team: str, name: str) -> str | None:
        async with self._db.execute(
            "SELECT data FROM slack_installations WHERE team=? AND name=?", (team, name)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def installation_names(self, team: str) -> list[str]:
        async with self._db.execute(
            "SELECT name FROM slack_installations WHERE team=? ORDER BY name", (team,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [str(row[0]) for row in rows]

    async def delete_installation(self, team: str, names: Sequence[str]) -> int:
        removed = 0
        async with self._write_lock:
            for name in set(names):
                cursor = await self._db.execute("DELETE FROM slack_installations WHERE team=? AND name=?", (team, name))
                removed += max(cursor.rowcount, 0)
        return removed

    async def close(self) -> None:
        await self._db.close()

"""One contract every SessionStore must meet, run against each implementation."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.prompts.schedule import Schedule, When
from bot.store import ConversationKey, MemoryStore, SessionStore, SQLiteStore, VersionConflict
from bot.store.redis import RedisStore
from bot.store.sqlite import MIGRATIONS
from tests.redis_server import RedisServer, needs_redis

ALICE = ConversationKey("slack", "T1", "U-alice")
BOB = ConversationKey("slack", "T1", "U-bob")
ALICE_ELSEWHERE = ConversationKey("discord", "G9", "U-alice")
NOW = 1_700_000_000.0
LATER = NOW + 3600


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=needs_redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    made: SessionStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = await SQLiteStore.open(tmp_path / "revq.db")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        # The contract's times are fixed; Redis TTLs are counted from the same clock.
        made = await RedisStore.open(server.url, "revq-test:", clock=lambda: NOW)
        await made._redis.flushdb()  # a clean Redis for every test
    yield made
    await made.close()


async def test_get_missing_is_none(store: SessionStore) -> None:
    assert await store.get(ALICE, NOW) is None


async def test_put_then_get_round_trips_and_versions_grow(store: SessionStore) -> None:
    v1 = await store.put(ALICE, '{"a": 1}', expected_version=0, expires_at=LATER)
    got = await store.get(ALICE, NOW)
    assert got is not None and got.data == '{"a": 1}' and got.version == v1 == 1
    v2 = await store.put(ALICE, '{"a": 2}', expected_version=v1, expires_at=LATER)
    got = await store.get(ALICE, NOW)
    assert got is not None and got.data == '{"a": 2}' and got.version == v2 == 2


async def test_compare_and_set_rejects_stale_versions(store: SessionStore) -> None:
    await store.put(ALICE, "one", expected_version=0, expires_at=LATER)
    with pytest.raises(VersionConflict):
        await store.put(ALICE, "again-new", expected_version=0, expires_at=LATER)
    await store.put(ALICE, "two", expected_version=1, expires_at=LATER)
    with pytest.raises(VersionConflict):
        await store.put(ALICE, "stale", expected_version=1, expires_at=LATER)
    with pytest.raises(VersionConflict):
        await store.put(BOB, "never-written", expected_version=3, expires_at=LATER)
    got = await store.get(ALICE, NOW)
    assert got is not None and got.data == "two"


async def test_keys_are_separate_per_platform_workspace_and_user(store: SessionStore) -> None:
    await store.put(ALICE, "alice", expected_version=0, expires_at=LATER)
    await store.put(BOB, "bob", expected_version=0, expires_at=LATER)
    await store.put(ALICE_ELSEWHERE, "alice-discord", expected_version=0, expires_at=LATER)
    assert [(await store.get(k, NOW)).data for k in (ALICE, BOB, ALICE_ELSEWHERE)] == [  # type: ignore[union-attr]
        "alice",
        "bob",
        "alice-discord",
    ]


async def test_delete_user_removes_only_that_person(store: SessionStore) -> None:
    await store.put(ALICE, "alice", expected_version=0, expires_at=LATER)
    await store.put(BOB, "bob", expected_version=0, expires_at=LATER)
    assert await store.delete_user(ALICE) == 1
    assert await store.get(ALICE, NOW) is None
    assert await store.get(BOB, NOW) is not None
    assert await store.delete_user(ALICE) == 0
    # after forgetting, a new conversation starts from version 0 again
    assert await store.put(ALICE, "fresh", expected_version=0, expires_at=LATER) == 1


async def test_claim_event_is_true_exactly_once(store: SessionStore) -> None:
    assert await store.claim_event("Ev1", NOW) is True
    assert await store.claim_event("Ev1", NOW + 1) is False
    assert await store.claim_event("Ev2", NOW + 1) is True
    # once a claim has expired the id may be claimed again, once
    assert await store.claim_event("Ev3", NOW, ttl=5) is True
    assert await store.claim_event("Ev3", NOW + 4) is False
    assert await store.claim_event("Ev3", NOW + 10) is True
    assert await store.claim_event("Ev3", NOW + 11) is False


async def test_a_released_claim_can_be_claimed_again(store: SessionStore) -> None:
    assert await store.claim_event("Ev1", NOW) is True
    await store.release_event("Ev1")
    assert await store.claim_event("Ev1", NOW) is True
    assert await store.claim_event("Ev1", NOW) is False
    await store.release_event("never-claimed")


async def test_expired_sessions_are_gone(store: SessionStore) -> None:
    await store.put(ALICE, "old", expected_version=0, expires_at=NOW + 10)
    await store.put(BOB, "fresh", expected_version=0, expires_at=NOW + 10_000)
    assert await store.get(ALICE, NOW + 11) is None
    # an expired conversation is replaced by a new one
    assert await store.put(ALICE, "new", expected_version=0, expires_at=NOW + 10_000) == 1
    await store.put(ConversationKey("slack", "T1", "U-carol"), "x", expected_version=0, expires_at=NOW + 5)
    assert await store.purge_expired(NOW + 20) == 1
    assert await store.get(BOB, NOW + 20) is not None


async def test_unicode_and_large_payloads_round_trip(store: SessionStore) -> None:
    payload = '{"company": "Café Müller-Øst 🌱 {__class__}"}' + " " * 200_000
    await store.put(ALICE, payload, expected_version=0, expires_at=LATER)
    got = await store.get(ALICE, NOW)
    assert got is not None and got.data == payload


# --- SQLite specifics ----------------------------------------------------------------------


async def test_sqlite_uses_wal_and_current_schema(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "revq.db")
    try:
        assert await store.journal_mode() == "wal"
        assert await store.schema_version() == len(MIGRATIONS)
    finally:
        await store.close()


async def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "revq.db"
    store = await SQLiteStore.open(path)
    await store.put(ALICE, "kept", expected_version=0, expires_at=LATER)
    await store.claim_event("Ev1", NOW)
    await store.close()
    store = await SQLiteStore.open(path)
    try:
        got = await store.get(ALICE, NOW)
        assert got is not None and got.data == "kept" and got.version == 1
        assert await store.claim_event("Ev1", NOW) is False
    finally:
        await store.close()


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "revq.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this revq knows"):
        await SQLiteStore.open(path)


async def test_sqlite_two_connections_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "revq.db"
    a, b = await SQLiteStore.open(path), await SQLiteStore.open(path)
    try:
        await a.put(ALICE, "from-a", expected_version=0, expires_at=LATER)
        with pytest.raises(VersionConflict):
            await b.put(ALICE, "from-b", expected_version=0, expires_at=LATER)
        assert await b.claim_event("Ev", NOW) is True
        assert await a.claim_event("Ev", NOW) is False
    finally:
        await a.close()
        await b.close()


async def test_sqlite_many_processes_opening_a_new_file_at_once(tmp_path: Path) -> None:
    import asyncio

    for attempt in range(3):
        path = tmp_path / f"race{attempt}.db"
        stores = await asyncio.gather(*(SQLiteStore.open(path) for _ in range(6)))
        try:
            assert [await s.schema_version() for s in stores] == [len(MIGRATIONS)] * 6
        finally:
            for s in stores:
                await s.close()


async def test_sqlite_file_is_private_and_deletes_securely(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "revq.db"
    store = await SQLiteStore.open(path)
    try:
        await store.put(ALICE, "private", expected_version=0, expires_at=LATER)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        async with store._db.execute("PRAGMA secure_delete") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == 1
    finally:
        await store.close()


WEEKLY = When("weekly", 0, 9, 0, "Europe/Berlin")


async def test_schedules_are_one_per_channel_and_survive_listing(store: SessionStore) -> None:
    first = Schedule("slack", "T1", "C1", WEEKLY, created_by="U-admin", not_before=NOW)
    assert await store.save_schedule(first) is None
    replacement = replace(first, when=When("daily", 0, 8, 30, "UTC"), topic="compensation")
    assert await store.save_schedule(replacement) == first  # the one it replaced
    await store.save_schedule(Schedule("discord", "G1", "C1", WEEKLY))  # same id, other platform
    assert await store.get_schedule("slack", "C1") == replacement
    assert [s.platform for s in await store.list_schedules()] == ["discord", "slack"]
    assert await store.list_schedules("slack") == [replacement]
    assert await store.delete_schedule("slack", "C1") is True
    assert await store.delete_schedule("slack", "C1") is False
    assert await store.get_schedule("slack", "C1") is None


async def test_an_occurrence_is_claimed_once_and_its_question_remembered(store: SessionStore) -> None:
    assert await store.claim_occurrence("slack", "C1", "2026-W48", NOW) is True
    assert await store.claim_occurrence("slack", "C1", "2026-W48", NOW + 1) is False
    assert await store.claim_occurrence("slack", "C2", "2026-W48", NOW) is True  # another channel
    await store.record_post("slack", "C1", "2026-W48", "role-day", "1700000000.1")
    assert await store.claim_occurrence("slack", "C1", "2026-W49", LATER) is True
    await store.record_post("slack", "C1", "2026-W49", "team-size", "1700003600.1")
    assert await store.posted_questions("slack", "C1") == ["role-day", "team-size"]
    assert await store.posted_questions("slack", "C2") == []  # claimed, nothing posted yet
    await store.release_occurrence("slack", "C2", "2026-W48")
    assert await store.claim_occurrence("slack", "C2", "2026-W48", LATER) is True  # a failed post is retried


async def test_sqlite_schedules_and_claims_are_shared_between_processes(tmp_path: Path) -> None:
    one, two = await SQLiteStore.open(tmp_path / "shared.db"), await SQLiteStore.open(tmp_path / "shared.db")
    try:
        await one.save_schedule(Schedule("slack", "T1", "C1", WEEKLY))
        assert await two.get_schedule("slack", "C1") is not None
        claims = [await store.claim_occurrence("slack", "C1", "2026-W48", NOW) for store in (one, two, one)]
        assert claims == [True, False, False]
    finally:
        await one.close()
        await two.close()


async def test_delete_workspace_removes_its_sessions_and_schedules_only(store: SessionStore) -> None:
    other_workspace = ConversationKey("slack", "T2", "U-alice")
    for key in (ALICE, BOB, other_workspace, ALICE_ELSEWHERE):
        await store.put(key, "{}", expected_version=0, expires_at=LATER)
    await store.save_schedule(Schedule("slack", "T1", "C1", WEEKLY))
    await store.save_schedule(Schedule("slack", "T2", "C2", WEEKLY))
    await store.save_schedule(Schedule("discord", "T1", "C3", WEEKLY))  # same id, other platform
    assert await store.delete_workspace("slack", "T1") == 3
    assert await store.get(ALICE, NOW) is None and await store.get(BOB, NOW) is None
    assert await store.get(other_workspace, NOW) is not None
    assert await store.get(ALICE_ELSEWHERE, NOW) is not None
    assert [s.channel for s in await store.list_schedules()] == ["C3", "C2"]
    assert await store.delete_workspace("slack", "T1") == 0


async def test_installation_records_are_kept_per_team_and_deleted_by_name(store: SessionStore) -> None:
    await store.save_installation("none-T1", "bot", '{"bot_token": "xoxb-1"}')
    await store.save_installation("none-T1", "installer:U1", '{"user_id": "U1"}')
    await store.save_installation("none-T2", "bot", '{"bot_token": "xoxb-2"}')
    await store.save_installation("none-T1", "bot", '{"bot_token": "xoxb-1b"}')  # a reinstall replaces
    assert await store.get_installation("none-T1", "bot") == '{"bot_token": "xoxb-1b"}'
    assert await store.get_installation("none-T1", "installer") is None
    assert await store.installation_names("none-T1") == ["bot", "installer:U1"]
    assert await store.delete_installation("none-T1", ["installer:U1", "installer:U9"]) == 1
    assert await store.installation_names("none-T1") == ["bot"]
    assert await store.delete_installation("none-T1", []) == 0
    assert await store.delete_installation("none-T1", ["bot"]) == 1
    assert await store.installation_names("none-T1") == []
    assert await store.get_installation("none-T2", "bot") == '{"bot_token": "xoxb-2"}'  # another team untouched


async def test_forget_keeps_a_persons_schedules_but_not_their_user_id(store: SessionStore) -> None:
    await store.put(ALICE, "{}", expected_version=0, expires_at=LATER)
    await store.save_schedule(Schedule("slack", "T1", "C1", WEEKLY, created_by=ALICE.user))
    await store.save_schedule(Schedule("slack", "T1", "C2", WEEKLY, created_by=BOB.user))
    await store.save_schedule(Schedule("discord", "G9", "C3", WEEKLY, created_by=ALICE.user))  # another platform
    assert await store.delete_user(ALICE) == 2
    assert await store.get(ALICE, NOW) is None
    creators = {s.channel: s.created_by for s in await store.list_schedules()}
    assert creators == {"C1": "", "C2": BOB.user, "C3": ALICE.user}


async def test_deleting_a_schedule_or_its_workspace_deletes_what_it_posted(store: SessionStore) -> None:
    for channel in ("C1", "C2"):
        await store.save_schedule(Schedule("slack", "T1", channel, WEEKLY))
        assert await store.claim_occurrence("slack", channel, "2026-W01", NOW)
        await store.record_post("slack", channel, "2026-W01", "q-1", "1700000000.000100")
    assert await store.delete_schedule("slack", "C1")
    assert await store.posted_questions("slack", "C1") == []
    assert await store.claim_occurrence("slack", "C1", "2026-W01", NOW)  # no claim left behind either
    assert await store.posted_questions("slack", "C2") == ["q-1"]
    assert await store.delete_workspace("slack", "T1") == 1
    assert await store.posted_questions("slack", "C2") == []

"""What only the Redis store has to show: namespacing, real TTLs, races between clients, and
Redis going away and coming back. Every test runs against a real redis-server."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.engine.dialogue import EngineContext
from bot.engine.events import Text
from bot.engine.replies import Reply
from bot.prompts.schedule import Schedule, When
from bot.runner import SORRY_BROKEN, ConversationRunner
from bot.store import ConversationKey, VersionConflict
from bot.store.base import StoppedWaiting
from bot.store.redis import MAX_CONNECTIONS, RedisStore, StoreUnavailable
from tests.fakes.slack_api import FakeSlack
from tests.redis_server import RedisServer, free_port, needs_redis
from tests.slack_harness import USER, ready_slack

pytestmark = needs_redis

ALICE = ConversationKey("slack", "T1", "U-alice")
BOB = ConversationKey("slack", "T1", "U-bob")
WEEKLY = When("weekly", 0, 9, 0, "Europe/Berlin")


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the shared server, flushed: to look at the keyspace directly."""
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def two(redis_server: RedisServer, raw: aioredis.Redis) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores with their own connection pools, as two revq processes would have."""
    one, other = await RedisStore.open(redis_server.url), await RedisStore.open(redis_server.url)
    yield one, other
    await one.close()
    await other.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of the test's own, which it may stop and start; append-only, so data survives."""
    server = RedisServer(tmp_path / "redis", appendonly=True)
    server.start()
    yield server
    server.stop()


async def test_two_prefixes_on_one_redis_do_not_see_each_other(redis_server: RedisServer, raw: aioredis.Redis) -> None:
    a = await RedisStore.open(redis_server.url, "teamA:")
    b = await RedisStore.open(redis_server.url, "teamB:")
    try:
        now = time.time()
        await a.put(ALICE, "from-a", expected_version=0, expires_at=now + 60)
        assert await b.get(ALICE, now) is None
        assert await b.put(ALICE, "from-b", expected_version=0, expires_at=now + 60) == 1  # not a conflict
        assert await a.claim_event("Ev1", now) is True
        assert await b.claim_event("Ev1", now) is True
        await a.save_schedule(Schedule("slack", "T1", "C1", WEEKLY))
        assert await b.list_schedules() == []
        assert await a.claim_occurrence("slack", "C1", "2026-W48", now) is True
        assert await b.claim_occurrence("slack", "C1", "2026-W48", now) is True
        assert await b.delete_user(ALICE) == 1
        got = await a.get(ALICE, now)
        assert got is not None and got.data == "from-a"
        keys = [key async for key in raw.scan_iter()]
        assert keys and all(key.startswith(("teamA:", "teamB:")) for key in keys)
    finally:
        await a.close()
        await b.close()


async def test_a_session_is_deleted_by_its_redis_ttl(redis_server: RedisServer, raw: aioredis.Redis) -> None:
    store = await RedisStore.open(redis_server.url)
    try:
        await store.put(ALICE, "brief", expected_version=0, expires_at=time.time() + 1)
        await store.put(BOB, "kept", expected_version=0, expires_at=time.time() + 3600)
        assert await raw.exists("revq:session:slack:T1:U-alice") == 1
        await asyncio.sleep(1.3)
        # Gone from Redis itself, without a get or a purge having run
        assert await raw.exists("revq:session:slack:T1:U-alice") == 0
        assert await store.get(ALICE, time.time()) is None
        assert await store.get(BOB, time.time()) is not None
        assert 3500 < await raw.ttl("revq:session:slack:T1:U-bob") <= 3600
    finally:
        await store.close()


async def test_concurrent_puts_with_one_expected_version_have_one_winner(
    two: tuple[RedisStore, RedisStore],
) -> None:
    one, other = two
    later = time.time() + 60
    await one.put(ALICE, "start", expected_version=0, expires_at=later)

    async def attempt(store: RedisStore, n: int) -> int | None:
        try:
            return await store.put(ALICE, f"writer-{n}", expected_version=1, expires_at=later)
        except VersionConflict:
            return None

    results = await asyncio.gather(*(attempt(two[n % 2], n) for n in range(40)))
    winners = [n for n, version in enumerate(results) if version is not None]
    assert len(winners) == 1 and results[winners[0]] == 2
    got = await other.get(ALICE, time.time())
    assert got is not None and got.version == 2 and got.data == f"writer-{winners[0]}"


async def test_claims_are_single_across_two_clients(two: tuple[RedisStore, RedisStore]) -> None:
    one, other = two
    now = time.time()
    events = await asyncio.gather(*(two[n % 2].claim_event("Ev-shared", now) for n in range(20)))
    assert events.count(True) == 1
    posts = await asyncio.gather(*(two[n % 2].claim_occurrence("slack", "C1", "2026-W48", now) for n in range(20)))
    assert posts.count(True) == 1
    await one.release_event("Ev-shared")
    assert await other.claim_event("Ev-shared", now) is True


async def test_forget_removes_every_key_of_the_person(two: tuple[RedisStore, RedisStore], raw: aioredis.Redis) -> None:
    store, _ = two
    now = time.time()
    await store.put(ALICE, '{"company": "Acme"}', expected_version=0, expires_at=now + 60)
    await store.put(BOB, '{"company": "Initech"}', expected_version=0, expires_at=now + 60)
    await store.claim_event("Ev-alice", now)
    assert [key async for key in raw.scan_iter(match="*U-alice*")]  # the scan below can see her
    assert await store.delete_user(ALICE) == 1
    assert [key async for key in raw.scan_iter(match="*U-alice*")] == []
    everything = [await raw.hget(key, "d") for key in [k async for k in raw.scan_iter(match="revq:session:*")]]
    assert everything == ['{"company": "Initech"}']


class Inbox:
    def __init__(self) -> None:
        self.batches: list[list[Reply]] = []

    async def __call__(self, replies: Sequence[Reply]) -> None:
        self.batches.append(list(replies))


async def test_redis_lost_and_back_mid_conversation(own_server: RedisServer, ctx: EngineContext) -> None:
    store = await RedisStore.open(own_server.url, command_timeout=1.0)
    runner = ConversationRunner(store, ctx)
    inbox = Inbox()
    try:
        first = await runner.handle(ALICE, Text("hi", time.time()), inbox, event_id="Ev1")
        assert first.replies and SORRY_BROKEN not in first.replies
        saved = await store.get(ALICE, time.time())
        assert saved is not None

        own_server.stop()
        with pytest.raises(RedisError):
            await store.get(ALICE, time.time())
        # The person hears "try again in a moment"; nothing is raised to the front end.
        lost = await runner.handle(ALICE, Text("Acme", time.time()), inbox, event_id="Ev2")
        assert lost.replies == (SORRY_BROKEN,)
        assert inbox.batches[-1] == [SORRY_BROKEN]

        own_server.start()
        assert await store.get(ALICE, time.time()) == saved  # the same store object, nothing lost
        again = await runner.handle(ALICE, Text("Acme", time.time()), inbox, event_id="Ev2")
        assert again.replies and SORRY_BROKEN not in again.replies
        after = await store.get(ALICE, time.time())
        assert after is not None and after.version == saved.version + 1
    finally:
        await store.close()


async def test_open_waits_for_a_redis_that_starts_a_moment_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path / "late", password="s3cret-pw")
    caplog.set_level(logging.WARNING, logger="bot.store.redis")
    opening = asyncio.create_task(RedisStore.open(server.url, wait=15, first_delay=0.1))
    await asyncio.sleep(0.8)
    assert not opening.done()
    await asyncio.to_thread(server.start)
    try:
        store = await asyncio.wait_for(opening, 10)
        try:
            assert await store.claim_event("Ev1", time.time()) is True
        finally:
            await store.close()
    finally:
        server.stop()
    assert "not answering (attempt 1" in caplog.text
    assert "s3cret-pw" not in caplog.text and ":***@" in caplog.text


async def test_open_gives_up_with_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"did not answer after \d+ attempts") as raised:
        await RedisStore.open(url, wait=0.6, first_delay=0.1)
    assert time.monotonic() - started < 5
    assert "hunter2" not in str(raised.value) and "hunter2" not in caplog.text


async def test_a_wrong_password_fails_at_once(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password="right")
    server.start()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="refused the credentials") as raised:
            await RedisStore.open(server.url.replace(":right@", ":Xyzzy-pw@"), wait=10)
        assert time.monotonic() - started < 3  # no point waiting for a password to become right
        assert "Xyzzy-pw" not in str(raised.value)
    finally:
        server.stop()


async def test_a_server_waits_past_the_usual_limit_and_stops_at_once_when_told() -> None:
    until = asyncio.Event()
    opening = asyncio.create_task(RedisStore.open(f"redis://127.0.0.1:{free_port()}/0", wait=0.2, until=until,
                                                  first_delay=0.05))  # fmt: skip
    await asyncio.sleep(0.6)  # three times `wait`: a server keeps waiting
    assert not opening.done()
    until.set()
    started = time.monotonic()
    with pytest.raises(StoppedWaiting):
        await asyncio.wait_for(opening, 5)
    assert time.monotonic() - started < 1


async def test_a_hung_redis_answers_with_an_error_within_the_command_timeout(own_server: RedisServer) -> None:
    store = await RedisStore.open(own_server.url, command_timeout=0.5)
    assert own_server.process is not None
    try:
        await store.put(ALICE, "kept", expected_version=0, expires_at=time.time() + 60)
        own_server.process.send_signal(signal.SIGSTOP)  # alive but silent: no connection is refused
        started = time.monotonic()
        with pytest.raises(RedisError):
            await store.get(ALICE, time.time())
        assert time.monotonic() - started < 2  # the per-command timeout, not a hang
    finally:
        own_server.process.send_signal(signal.SIGCONT)
    found = await store.get(ALICE, time.time())  # and the pool works again afterwards
    assert found is not None and found.data == "kept"
    await store.close()


async def test_a_burst_past_the_pool_size_waits_for_connections_instead_of_failing(
    redis_server: RedisServer, raw: aioredis.Redis
) -> None:
    store = await RedisStore.open(redis_server.url)
    keys = [ConversationKey("slack", "T1", f"U{n}") for n in range(6 * MAX_CONNECTIONS)]

    async def one_turn(key: ConversationKey) -> int:
        await store.get(key, time.time())
        return await store.put(key, "x", expected_version=0, expires_at=time.time() + 60)

    assert await asyncio.gather(*(one_turn(key) for key in keys)) == [1] * len(keys)
    await store.close()


async def test_claims_expire_by_their_redis_ttl(two: tuple[RedisStore, RedisStore], raw: aioredis.Redis) -> None:
    store, _ = two
    now = time.time()
    assert await store.claim_event("Ev1", now, ttl=60)
    assert await store.claim_occurrence("slack", "C1", "2026-W01", now)
    assert 0 < await raw.pttl(f"{store.prefix}event:Ev1") <= 60_000
    assert 0 < await raw.pttl(f"{store.prefix}occurrence:slack:C1:2026-W01") <= 35 * 86_400_000


async def test_a_slack_user_hears_try_again_while_redis_is_down_and_goes_on_after(
    own_server: RedisServer, ctx: EngineContext, tmp_path: Path
) -> None:
    async with FakeSlack() as fake, ready_slack(fake, ctx, tmp_path / "unused.db", store=own_server.url) as slack:
        await slack.dm("hi")
        own_server.stop()
        [sorry] = await slack.dm("Acme Health")
        text = json.dumps(sorry.args)
        assert "try that again in a moment" in text and "Traceback" not in text and "Error" not in text
        own_server.start()
        [*answer] = await slack.dm("Acme Health")  # the same words again: now they are kept
        assert "try that again" not in json.dumps([call.args for call in answer])
        stored = await slack.service.store.get(ConversationKey("slack", FakeSlack.TEAM_ID, USER), time.time())
        assert stored is not None and "Acme Health" in stored.data


async def test_forgetting_a_creator_never_brings_back_a_schedule_removed_meanwhile(
    two: tuple[RedisStore, RedisStore],
) -> None:
    mine, other_replica = two
    await mine.save_schedule(Schedule("slack", "T1", "C1", WEEKLY, created_by=ALICE.user))
    assert await other_replica.delete_schedule("slack", "C1")  # an admin removes it between read and write
    assert await mine._forget_creator("slack:C1", ALICE.user) == 0
    assert await mine.list_schedules() == []
    await mine.save_schedule(Schedule("slack", "T1", "C2", WEEKLY, created_by=ALICE.user, paused=True))
    assert await mine._forget_creator("slack:C2", ALICE.user) == 1
    [kept] = await other_replica.list_schedules()
    assert kept.created_by == "" and kept.paused  # the rest of the schedule as it was

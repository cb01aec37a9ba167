"""Health and metrics: /healthz, /readyz and /metrics on the Slack HTTP app and on REVQ_HEALTH_PORT.

Counters live for the whole test process, so every check compares a value before and after.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import metrics
from bot.adapters.discord import server as discord_server
from bot.adapters.health import Readiness, health_app, health_server
from bot.adapters.slack.server import SlackDoor
from bot.adapters.slack.server import serve as slack_serve
from bot.config import ConfigError, Settings
from bot.engine.dialogue import EngineContext
from bot.engine.events import Text
from bot.prompts.schedule import Schedule, parse_when
from bot.prompts.scheduler import Scheduler
from bot.runner import ConversationRunner
from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.store.base import ConversationKey
from bot.store.redis import RedisStore
from tests.discord_harness import settings_for
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, event_body, signed_headers
from tests.redis_server import RedisServer, free_port, needs_redis
from tests.slack_harness import USER, SlackHarness, ready_slack, slack_settings
from tests.test_prompts import Clock, RecordingPoster, at

SECRET = "Zqxj-Secret-Employer-7731"  # typed by the person: must never reach the metrics


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
async def slack(fake: FakeSlack, ctx: EngineContext, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with ready_slack(fake, ctx, tmp_path / "revq.db") as harness:
        yield harness


async def get(http: TestClient[Any, Any] | aiohttp.ClientSession, path: str) -> tuple[int, str, str]:
    async with http.get(path) as response:
        return response.status, response.headers["Content-Type"], await response.text()


# --- the Slack HTTP app ----------------------------------------------------------------------------


async def test_metrics_count_a_slack_turn_and_its_store_calls_and_hold_no_words_or_ids(slack: SlackHarness) -> None:
    turns, replies = sample("revq_turns_total", platform="slack"), sample("revq_replies_total", platform="slack")
    gets = sample("revq_store_seconds_count", operation="get")
    puts = sample("revq_store_seconds_count", operation="put")
    await slack.dm("hi")
    await slack.dm(SECRET)  # the answer to "Which company": saved with the person's words in it

    status, content_type, text = await get(slack.http, "/metrics")
    assert status == 200 and content_type == metrics.CONTENT_TYPE
    assert sample("revq_turns_total", platform="slack") == turns + 2
    assert sample("revq_replies_total", platform="slack") >= replies + 2
    assert sample("revq_store_seconds_count", operation="get") >= gets + 2
    assert sample("revq_store_seconds_count", operation="put") >= puts + 2
    assert 'revq_turns_total{platform="slack"}' in text
    assert 'revq_store_seconds_bucket{le="0.001",operation="get"}' in text
    for private in (SECRET, SECRET.lower(), USER, FakeSlack.TEAM_ID, FakeSlack.BOT_TOKEN):
        assert private not in text


async def test_healthz_is_liveness_and_readyz_follows_the_store(slack: SlackHarness) -> None:
    status, _, body = await get(slack.http, "/healthz")
    assert status == 200 and '"ok"' in body
    status, _, body = await get(slack.http, "/readyz")
    assert status == 200 and '"ready"' in body
    await slack.service.store.close()  # the SQLite connection is gone: revq cannot keep anything
    status, _, body = await get(slack.http, "/readyz")
    assert status == 503 and "store unavailable" in body
    status, _, _ = await get(slack.http, "/healthz")
    assert status == 200  # still alive: a restart would not bring the store back


@needs_redis
async def test_readyz_is_503_while_redis_is_down_and_200_once_it_is_back(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    store = await RedisStore.open(redis.url)
    try:
        async with TestClient(TestServer(health_app(Readiness(store)))) as http:
            assert (await get(http, "/readyz"))[0] == 200
            redis.stop()
            started = asyncio.get_running_loop().time()
            assert (await get(http, "/readyz"))[0] == 503
            assert asyncio.get_running_loop().time() - started < 3  # the 1 s timeout, not a hang
            redis.start()  # the same port again
            assert (await get(http, "/readyz"))[0] == 200
    finally:
        redis.stop()
        await store.close()


@needs_redis
async def test_slack_http_serves_starting_until_redis_answers_then_answers_people(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis = RedisServer(tmp_path / "redis")  # not started yet: revq comes up first
    port = free_port()
    settings = slack_settings(fake, tmp_path / "unused.db", store=redis.url)
    stop = asyncio.Event()
    running = asyncio.create_task(slack_serve(settings, ctx, http=True, port=port, host="127.0.0.1", stop=stop))
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            status, body = 0, ""
            for _ in range(100):  # the port opens before the store does
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    status, _, body = await get(http, "/healthz")
                    break
                await asyncio.sleep(0.05)
            assert status == 503 and "starting" in body
            assert (await get(http, "/readyz"))[0] == 503
            async with http.post("/slack/events", data="{}") as early:
                assert early.status == 503 and early.headers["Retry-After"]
            assert fake.calls_to("auth.test") == []  # nothing else starts before the store
            for _ in range(100):  # revq says in the log that it is waiting
                if "not answering" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            assert "retrying" in caplog.text

            redis.start()
            for _ in range(200):
                if (await get(http, "/readyz"))[0] == 200:
                    break
                await asyncio.sleep(0.05)
            assert (await get(http, "/readyz"))[0] == 200 and (await get(http, "/healthz"))[0] == 200
            assert "answered after" in caplog.text

            event = {"type": "message", "channel_type": "im", "channel": "D" + USER, "user": USER, "text": "hi",
                     "ts": "1700000000.000100"}  # fmt: skip
            body_text = event_body(event, event_id="Ev-late-1")
            headers = signed_headers(body_text, content_type="application/json")
            async with http.post("/slack/events", data=body_text, headers=headers) as answer:
                assert answer.status == 200
            posted = await fake.wait_for("chat.postMessage")
            assert posted[0].args["channel"] == "D" + USER
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        redis.stop()


async def test_a_server_told_to_stop_while_waiting_for_redis_stops_at_once(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    settings = slack_settings(fake, tmp_path / "unused.db", store=f"redis://127.0.0.1:{free_port()}/0")
    stop = asyncio.Event()
    running = asyncio.create_task(slack_serve(settings, ctx, http=True, port=free_port(), host="127.0.0.1", stop=stop))
    await asyncio.sleep(0.5)
    assert not running.done()  # still waiting for a Redis that never comes
    stop.set()
    await asyncio.wait_for(running, 2)  # returns, without an error


# --- REVQ_HEALTH_PORT: the separate server for Socket Mode and Discord -------------------------------


async def test_the_health_server_serves_all_three_on_its_port(tmp_path: Path) -> None:
    store = await SQLiteStore.open(str(tmp_path / "revq.db"))
    port = free_port()
    serving = health_server(Readiness(store), port, "127.0.0.1")
    async with serving, aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        assert (await get(http, "/healthz"))[0] == 200
        assert (await get(http, "/readyz"))[0] == 200
        status, content_type, text = await get(http, "/metrics")
        assert status == 200 and content_type == metrics.CONTENT_TYPE and "revq_turns_total" in text
        await store.close()
        assert (await get(http, "/readyz"))[0] == 503
        assert (await get(http, "/healthz"))[0] == 200
    with pytest.raises(aiohttp.ClientConnectionError):  # closed with the block
        async with aiohttp.ClientSession() as http:
            await get(http, f"http://127.0.0.1:{port}/healthz")


async def test_port_zero_serves_nothing() -> None:
    port = free_port()
    async with health_server(Readiness(MemoryStore()), 0):
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as http:
                await get(http, f"http://127.0.0.1:{port}/healthz")


async def test_slack_socket_mode_serves_health_on_revq_health_port(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    port = free_port()
    settings = slack_settings(fake, tmp_path / "revq.db", slack_app_token=FakeSlack.APP_TOKEN, slack_signing_secret="",
                              health_port=port)  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(slack_serve(settings, ctx, http=False, port=0, host="127.0.0.1", stop=stop))
    try:
        await fake.socket_connected()
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            assert (await get(http, "/healthz"))[0] == 200
            assert (await get(http, "/readyz"))[0] == 200
            assert "revq_store_seconds" in (await get(http, "/metrics"))[2]
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_discord_serves_health_on_revq_health_port(ctx: EngineContext) -> None:
    port = free_port()
    stop = asyncio.Event()
    async with FakeDiscord() as fake:
        with fake.point_discord_here():
            settings = settings_for(fake, health_port=port)
            running = asyncio.create_task(discord_server.serve(settings, ctx, stop=stop))
            try:
                await fake.wait_ready()
                async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                    assert (await get(http, "/healthz"))[0] == 200
                    assert (await get(http, "/readyz"))[0] == 200
                    assert "revq_prompt_posts_total" in (await get(http, "/metrics"))[2]
            finally:
                stop.set()
                await asyncio.wait_for(running, 10)


def test_revq_health_port_is_read_and_checked() -> None:
    assert Settings.from_env({}).health_port == 0
    assert Settings.from_env({"REVQ_HEALTH_PORT": "9100"}).health_port == 9100
    with pytest.raises(ConfigError, match="REVQ_HEALTH_PORT"):
        Settings.from_env({"REVQ_HEALTH_PORT": "70000"})


# --- the runner and the scheduler ------------------------------------------------------------------


class FailingStore(MemoryStore):
    """A store whose reads fail with a message quoting the person, as a careless driver might."""

    async def get(self, key: ConversationKey, now: float) -> Any:
        raise ConnectionError(f"lost while reading {SECRET} for {key.user}")


async def test_a_failed_turn_is_counted_by_kind_without_its_message(ctx: EngineContext) -> None:
    key = ConversationKey("console", "-", "person-4242")
    errors = sample("revq_errors_total", stage="turn", kind="ConnectionError")
    replies = sample("revq_replies_total", platform="console")
    delivered: list[Any] = []

    async def deliver(batch: Any) -> None:
        delivered.extend(batch)

    await ConversationRunner(FailingStore(), ctx).handle(key, Text(SECRET, 0.0), deliver)
    assert sample("revq_errors_total", stage="turn", kind="ConnectionError") == errors + 1
    assert sample("revq_replies_total", platform="console") == replies + len(delivered) == replies + 1
    text = metrics.exposition().decode()
    assert SECRET not in text and "person-4242" not in text


async def test_two_schedulers_over_one_store_count_one_post_and_one_claim_lost(ctx: EngineContext) -> None:
    store: SessionStore = MemoryStore()
    await store.save_schedule(Schedule("slack", "T1", "C1", parse_when("daily 09:00 UTC".split())))
    poster, clock = RecordingPoster(), Clock(at(2026, 11, 28, 9, 1, ZoneInfo("UTC")))
    first, second = (Scheduler(store, ctx.bank, {"slack": poster}, clock=clock) for _ in range(2))
    posts = sample("revq_prompt_posts_total", platform="slack")
    lost = sample("revq_prompt_claims_lost_total", platform="slack")
    await first.check()
    await second.check()
    for _ in range(3):  # later checks of the same occurrence are no new losses
        clock.now += 60
        await first.check()
        await second.check()
    assert len(poster.posts) == 1
    assert sample("revq_prompt_posts_total", platform="slack") == posts + 1
    assert sample("revq_prompt_claims_lost_total", platform="slack") == lost + 1


async def test_failed_deliveries_and_prompt_posts_are_counted_by_stage(ctx: EngineContext) -> None:
    delivery = sample("revq_errors_total", stage="delivery", kind="ConnectionResetError")
    prompt = sample("revq_errors_total", stage="prompt_post", kind="ConnectionError")

    async def unreachable(batch: Any) -> None:
        raise ConnectionResetError("the platform hung up")

    with pytest.raises(ConnectionResetError):  # the front end still hears of it
        await ConversationRunner(MemoryStore(), ctx).handle(ConversationKey("console", "-", "p"), Text("hi", 0.0),
                                                            unreachable)  # fmt: skip
    assert sample("revq_errors_total", stage="delivery", kind="ConnectionResetError") == delivery + 1

    store = MemoryStore()
    await store.save_schedule(Schedule("slack", "T1", "C1", parse_when("daily 09:00 UTC".split())))
    poster = RecordingPoster(flaky=1)
    await Scheduler(store, ctx.bank, {"slack": poster}, clock=Clock(at(2026, 11, 28, 9, 1, ZoneInfo("UTC")))).check()
    assert sample("revq_errors_total", stage="prompt_post", kind="ConnectionError") == prompt + 1


async def test_once_stopping_slack_hears_503_so_it_retries_elsewhere(slack: SlackHarness) -> None:
    door = SlackDoor()
    door.open(slack.service)
    async with TestClient(TestServer(door.web_app())) as http:
        assert (await get(http, "/readyz"))[0] == 200
        door.close()  # what serve does before the store closes
        body = event_body({"type": "message", "channel_type": "im", "channel": "D1", "user": USER, "text": "hi",
                           "ts": "1700000000.000200"}, event_id="Ev-stopping")  # fmt: skip
        headers = signed_headers(body, content_type="application/json")
        async with http.post("/slack/events", data=body, headers=headers) as refused:
            assert refused.status == 503
        status, _, text = await get(http, "/healthz")
        assert status == 503 and "stopping" in text
    await slack.settle()
    assert slack.fake.calls_to("chat.postMessage") == []

"""Several replicas: two `revq slack --http` processes sharing one real redis-server.

A conversation may hop between the processes turn by turn, an event delivered to both is answered
once, and two schedulers over the same Redis post each channel prompt once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio

from bot.engine.dialogue import EngineContext
from bot.prompts.schedule import Schedule, parse_when
from bot.prompts.scheduler import Scheduler
from bot.store.redis import RedisStore
from tests.fakes.slack_api import SIGNING_SECRET, Call, FakeSlack, event_body, signed_headers
from tests.redis_server import RedisServer, free_port, needs_redis
from tests.slack_harness import shown_text, strings
from tests.test_prompts import Clock, RecordingPoster, at

REPO = Path(__file__).resolve().parent.parent

pytestmark = [needs_redis, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("replicas-redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass
class Replicas:
    fake: FakeSlack
    a: Replica
    b: Replica
    http: aiohttp.ClientSession
    events: int = 0

    async def event(self, replica: Replica, event: dict[str, Any], event_id: str) -> int:
        body = event_body(event, event_id=event_id)
        headers = signed_headers(body, content_type="application/json")
        async with self.http.post(f"{replica.url}/slack/events", data=body.encode(), headers=headers) as response:
            await response.read()
            return response.status

    async def settle(self, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Wait until the fake has seen no new call for `quiet` seconds (the apps work after acking)."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline and seen != len(self.fake.calls):
            seen = len(self.fake.calls)
            await asyncio.sleep(quiet)

    async def dm(self, replica: Replica, text: str, user: str) -> list[Call]:
        """A DM from `user`, delivered to `replica`; the messages revq posted in answer."""
        self.events += 1
        before = len(self.fake.calls_to("chat.postMessage"))
        status = await self.event(replica, dm_event(user, text), f"EvR{self.events}")
        assert status == 200, replica.log_tail()
        await self.fake.wait_for("chat.postMessage", before + 1)
        await self.settle()
        return self.fake.calls_to("chat.postMessage")[before:]


def dm_event(user: str, text: str) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": "D" + user, "user": user, "text": text,
            "ts": f"{time.time():.6f}"}  # fmt: skip


def spawn(name: str, port: int, api_url: str, store_url: str, folder: Path) -> Replica:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": FakeSlack.BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "REVQ_STORE": store_url,
        "REVQ_LOG_LEVEL": "WARNING",
    }
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "slack", "--http", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Replica(name, port, process, log)


async def wait_ready(http: aiohttp.ClientSession, replica: Replica, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"replica {replica.name} exited at start-up:\n{replica.log_tail()}")
        try:
            async with http.get(f"{replica.url}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"replica {replica.name} not ready in {timeout} s:\n{replica.log_tail()}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def replicas(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Replicas]:
    folder = tmp_path_factory.mktemp("replicas")
    started: list[Replica] = []
    async with FakeSlack() as fake, aiohttp.ClientSession() as http:
        try:
            for name in ("a", "b"):
                started.append(spawn(name, free_port(), fake.api_url, redis.url, folder))
            for replica in started:
                await wait_ready(http, replica)
            yield Replicas(fake, started[0], started[1], http)
        finally:
            for replica in started:
                replica.stop()


def listed_text(calls: list[Call]) -> str:
    return "\n".join(shown_text(call) for call in calls)


async def test_a_conversation_alternating_between_two_replicas_completes(replicas: Replicas) -> None:
    user = "U-hop"
    # Each reply can only be right if the replica that sends it read the previous turn's answer,
    # which the other replica wrote to Redis.
    turns = [
        ("hi", "Which company or organization"),
        ("Acme", "Step 2 of 6"),
        ("Nurse", "Step 3 of 6"),
        ("back", "Before, you said: Nurse"),
        ("Ward Nurse", "Step 3 of 6"),
        ("skip", "Step 4 of 6"),
        ("skip", "What matters most to you"),
        ("remote work and training", "I'll focus on: Remote work and commute, Training and education"),
    ]
    for number, (text, expected) in enumerate(turns):
        replica = replicas.a if number % 2 == 0 else replicas.b
        posted = await replicas.dm(replica, text, user)
        assert all(call.args["channel"] == "D" + user for call in posted)
        assert expected in listed_text(posted), f"turn {number} ({text!r}) on replica {replica.name}"
    final = await replicas.dm(replicas.a, "skip", user)  # turn 8: back on replica A
    assert all(call.args["channel"] == "D" + user for call in final)
    with_blocks = [call for call in final if call.args.get("blocks")]
    assert with_blocks, "the question list was posted without blocks"
    block_text = "\n".join(s for call in with_blocks for s in strings(call.args["blocks"]))
    assert "Questions to ask Acme (Ward Nurse)" in block_text
    text = "\n".join(str(call.args.get("text") or "") for call in final)
    assert "Questions to ask Acme (Ward Nurse)" in text and "\n1. " in text and "\n2. " in text


async def test_one_event_delivered_to_both_replicas_is_answered_once(replicas: Replicas) -> None:
    user = "U-twice"
    before = len(replicas.fake.calls_to("chat.postMessage"))
    event = dm_event(user, "hi")
    statuses = await asyncio.gather(
        replicas.event(replicas.a, event, "Ev-shared"), replicas.event(replicas.b, event, "Ev-shared")
    )
    assert list(statuses) == [200, 200]
    await replicas.fake.wait_for("chat.postMessage", before + 1)
    await replicas.settle()
    assert await replicas.event(replicas.b, event, "Ev-shared") == 200  # a late redelivery, too
    assert await replicas.event(replicas.a, event, "Ev-shared") == 200
    await replicas.settle()
    replies = [c for c in replicas.fake.calls_to("chat.postMessage")[before:] if c.args["channel"] == "D" + user]
    assert len(replies) == 1, [shown_text(c)[:80] for c in replies]
    assert "Which company or organization" in shown_text(replies[0])


async def test_two_schedulers_over_one_redis_post_each_prompt_once(redis: RedisServer, ctx: EngineContext) -> None:
    clock = Clock(at(2026, 11, 28, 8, 58, ZoneInfo("UTC")))
    prefix = f"revq-replicas-{os.getpid()}-{time.time_ns()}:"  # not the replicas' keys: their schedulers stay out
    stores: list[RedisStore] = []
    try:
        for _ in range(2):
            stores.append(await RedisStore.open(redis.url, prefix, clock=clock))
        for channel in ("C1", "C2", "C3"):
            await stores[0].save_schedule(Schedule("slack", "T1", channel, parse_when("daily 09:00 UTC".split())))
        poster = RecordingPoster()
        schedulers = [Scheduler(store, ctx.bank, {"slack": poster}, clock=clock) for store in stores]
        made = 0
        for _ in range(12):  # both check every 30 s, at the same moments, from 08:58 to 09:03:30
            results = await asyncio.gather(*(scheduler.check() for scheduler in schedulers))
            made += sum(len(posted) for posted in results)
            clock.now += 30
        assert sorted(channel for channel, _ in poster.posts) == ["C1", "C2", "C3"]
        assert made == 3
        for channel, prompt in poster.posts:  # recorded once, readable through the other client
            assert await stores[1].posted_questions("slack", channel) == [prompt.question_id]
    finally:
        for store in stores:
            await store.close()

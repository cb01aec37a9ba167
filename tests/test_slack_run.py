"""`revq slack` as it runs: Socket Mode against a local websocket, the HTTP process, start-up checks."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.adapters.slack.server import StartupError, serve
from bot.engine.dialogue import EngineContext
from bot.store import MemoryStore, purge_periodically
from bot.store.base import ConversationKey
from tests.fakes.slack_api import FakeSlack, signed_headers, slash_command_body
from tests.slack_harness import shown_text, slack_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


def dm_event(text: str, event_id: str) -> dict[str, object]:
    """An events_api envelope's payload, as Slack sends it over the socket."""
    return {
        "type": "event_callback",
        "team_id": FakeSlack.TEAM_ID,
        "api_app_id": "A0TEST",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1", "text": text,
                  "ts": f"{time.time():.6f}"},
        "authorizations": [{"team_id": FakeSlack.TEAM_ID, "user_id": FakeSlack.BOT_USER_ID, "is_bot": True}],
    }  # fmt: skip


async def test_socket_mode_first_delivery_and_redelivery(fake: FakeSlack, ctx: EngineContext, tmp_path: Path) -> None:
    stop = asyncio.Event()
    settings = slack_settings(fake, tmp_path / "revq.db", slack_app_token=FakeSlack.APP_TOKEN, slack_signing_secret="")
    running = asyncio.create_task(serve(settings, ctx, http=False, port=0, stop=stop))
    try:
        await fake.socket_connected()
        assert fake.calls_to("apps.connections.open")[0].token == FakeSlack.APP_TOKEN
        # slack-bolt marks every first delivery with retry number 0: it must be handled.
        first = await fake.send_envelope("events_api", dm_event("hi", "EvSock1"), retry_attempt=0)
        await fake.wait_ack(first)
        greeting = await fake.wait_for("chat.postMessage")
        assert "Which company" in shown_text(greeting[-1])
        again = await fake.send_envelope(
            "events_api", dm_event("hi", "EvSock1"), retry_attempt=1, retry_reason="timeout"
        )
        await fake.wait_ack(again)
        command = slash_command_body("", response_url=fake.response_url())
        payload = dict(parse_qsl(command))
        opened = await fake.send_envelope("slash_commands", {**payload, "response_url": fake.response_url()},
                                          accepts_response_payload=True)  # fmt: skip
        await fake.wait_ack(opened)
        await fake.wait_for("views.open")
        await asyncio.sleep(0.5)  # time enough for a second reply, were one coming
        assert len(fake.calls_to("chat.postMessage")) == 1  # the redelivery produced nothing
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_socket_mode_with_a_rejected_app_token_stops_with_one_line(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    settings = slack_settings(fake, tmp_path / "revq.db", slack_app_token="xapp-wrong", slack_signing_secret="")
    with pytest.raises(StartupError, match="SLACK_APP_TOKEN") as raised:
        await asyncio.wait_for(serve(settings, ctx, http=False, port=0, stop=asyncio.Event()), 10)
    assert raised.value.exit_code == 2 and "\n" not in str(raised.value)


async def test_expired_sessions_and_event_claims_are_purged_on_every_cycle() -> None:
    store = MemoryStore()
    now = [50.0]
    purging = asyncio.create_task(purge_periodically(store, every=0.02, clock=lambda: now[0]))
    try:
        await asyncio.sleep(0.05)  # the first cycles ran with nothing to purge
        first, second = ConversationKey("slack", "T", "U1"), ConversationKey("slack", "T", "U2")
        await store.put(first, "{}", expected_version=0, expires_at=100.0)
        await store.put(second, "{}", expected_version=0, expires_at=300.0)
        assert await store.claim_event("Ev1", now=50.0, ttl=50.0)
        now[0] = 150.0
        await asyncio.sleep(0.1)
        # Deleted, not just hidden: a reader whose clock says 0 would otherwise still see them.
        assert await store.get(first, 0.0) is None and await store.get(second, 0.0) is not None
        assert await store.claim_event("Ev1", now=0.0)  # the expired claim is gone too
        now[0] = 350.0
        await asyncio.sleep(0.1)
        assert await store.get(second, 0.0) is None
    finally:
        purging.cancel()


# --- the real process -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_revq(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=REPO, env={**os.environ, "REVQ_LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def slack_env(fake: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "REVQ_DB": str(tmp_path / "revq.db"),
        "SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": FakeSlack.BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        **extra,
    }


async def test_revq_slack_http_is_ready_within_seconds_and_answers(fake: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    process = await run_revq("slack", "--http", "--port", str(port), env=slack_env(fake, tmp_path))
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert process.returncode is None, (await process.communicate())[1].decode()
                assert time.monotonic() - started < 15, "not ready in 15 s"
                await asyncio.sleep(0.05)
            ready = time.monotonic() - started
            body = slash_command_body("help", channel_id="C1", response_url=fake.response_url())
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=signed_headers(body)) as r:
                assert r.status == 200
        replies = await fake.wait_for("response_url")
        assert all(reply.args["response_type"] == "ephemeral" for reply in replies)
        assert "What you can say" in shown_text(replies[0])
        assert fake.calls_to("auth.test")[0].token == FakeSlack.BOT_TOKEN
        print(f"ready in {ready:.2f} s")
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode() and FakeSlack.BOT_TOKEN not in stderr.decode()


@pytest.mark.parametrize(
    ("args", "env_changes", "needle"),
    [
        (["--http"], {"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
        (["--http"], {"SLACK_BOT_TOKEN": "xoxb-wrong"}, "Slack rejected SLACK_BOT_TOKEN (invalid_auth)"),
        (["--http"], {"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        ([], {}, "SLACK_APP_TOKEN is not set"),
        (["--http", "--port", "99999"], {}, "--port must be a whole number from 1 to 65535"),
        (
            ["--http"],
            {"SLACK_API_URL": "slack.com/api"},
            "SLACK_API_URL must be a URL starting with http:// or https://",
        ),
    ],
)
async def test_revq_slack_refuses_to_start_with_one_line_and_exit_2(
    fake: FakeSlack, tmp_path: Path, args: list[str], env_changes: dict[str, str], needle: str
) -> None:
    process = await run_revq("slack", *args, env={**slack_env(fake, tmp_path), **env_changes})
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2, stderr.decode()
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert "xoxb-wrong" not in lines[0] and stdout == b""


async def test_revq_slack_help_names_the_settings() -> None:
    process = await run_revq("slack", "--help", env={})
    stdout, _ = await process.communicate()
    text = stdout.decode()
    for word in ("--http", "--port", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "/healthz"):
        assert word in text


def test_settings_never_show_secrets_in_their_repr() -> None:
    from bot.config import Settings

    secrets = {"SLACK_BOT_TOKEN": "xoxb-bot-1", "SLACK_SIGNING_SECRET": "signing-2", "SLACK_APP_TOKEN": "xapp-app-3"}
    settings = Settings.from_env(secrets)
    assert settings.slack_bot_token == "xoxb-bot-1"
    for secret in secrets.values():
        assert secret not in repr(settings)


def test_one_person_is_one_conversation_on_enterprise_grid() -> None:
    from slack_bolt.context.async_context import AsyncBoltContext

    from bot.adapters.slack.app import conversation_key

    event = AsyncBoltContext({"enterprise_id": "E1", "team_id": None, "user_id": "W1"})  # an org-wide event
    command = AsyncBoltContext({"enterprise_id": "E1", "team_id": "T1", "user_id": "W1"})
    plain = AsyncBoltContext({"enterprise_id": None, "team_id": "T1", "user_id": "U1"})
    assert conversation_key(event) == conversation_key(command) != conversation_key(plain)
    assert conversation_key(plain).workspace == "T1"

"""The Slack fake, exercised through the real slack_sdk clients (nothing mocked)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import (
    SIGNING_SECRET,
    FakeSlack,
    event_body,
    interaction_body,
    limit_error,
    signed_headers,
    slash_command_body,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as f:
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=FakeSlack.BOT_TOKEN, base_url=fake.api_url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(blocks: list[dict[str, Any]], title: str = "Questions") -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks}


# -- Web API --


async def test_auth_test(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["user_id"] == FakeSlack.BOT_USER_ID
    assert resp["team_id"] == FakeSlack.TEAM_ID
    assert resp["bot_id"] == FakeSlack.BOT_ID
    [call] = fake.calls_to("auth.test")
    assert call.token == FakeSlack.BOT_TOKEN
    assert call.path == "/api/auth.test"


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
async def test_bad_or_missing_token(fake: FakeSlack, token: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        await AsyncWebClient(token=token, base_url=fake.api_url).auth_test()
    assert exc.value.response["error"] == error
    assert len(fake.calls_to("auth.test")) == 1  # recorded anyway


async def test_connections_open_needs_the_app_token(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await client.apps_connections_open(app_token=FakeSlack.BOT_TOKEN)
    resp = await client.apps_connections_open(app_token=FakeSlack.APP_TOKEN)
    assert resp["url"] == f"ws://127.0.0.1:{fake.port}/socket"


async def test_post_message_records_decoded_blocks(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [section("hello"), {"type": "divider"}]
    first = await client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    call = fake.calls_to("chat.postMessage")[0]
    assert call.args == {"channel": "C1", "text": "fallback", "blocks": blocks}


async def test_form_encoded_json_args_are_decoded(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [section("form")]
    await client.api_call("chat.postMessage", data={"channel": "C2", "blocks": json.dumps(blocks)})
    [call] = fake.calls_to("chat.postMessage")
    assert call.args == {"channel": "C2", "blocks": blocks}
    assert call.token == FakeSlack.BOT_TOKEN


async def test_too_many_blocks(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C1", text="x", blocks=[section(str(i)) for i in range(51)])
    assert exc.value.response["error"] == "invalid_blocks"
    assert len(fake.calls_to("chat.postMessage")) == 1
    await client.chat_postMessage(channel="C1", text="x", blocks=[section(str(i)) for i in range(50)])


async def test_views_open_limit(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.views_open(trigger_id="t1", view=modal([section(str(i)) for i in range(101)]))
    assert exc.value.response["error"] == "invalid_arguments"
    resp = await client.views_open(trigger_id="t1", view=modal([section("ok")]))
    assert resp["view"]["id"].startswith("V")
    assert resp["view"]["blocks"] == [section("ok")]
    assert fake.calls_to("views.open")[1].args["view"]["title"]["text"] == "Questions"


@pytest.mark.parametrize(
    ("method", "args", "error"),
    [
        ("chat.postMessage", {"channel": "C1"}, "no_text"),
        ("chat.postMessage", {"text": "x" * 40_001}, "msg_too_long"),
        ("chat.postMessage", {"blocks": [{"type": "header", "text": {"text": "h" * 151}}]}, "invalid_blocks"),
        ("chat.update", {"blocks": [section("s" * 3001)]}, "invalid_blocks"),
        ("chat.postEphemeral", {"blocks": [{"type": "context", "elements": [{}] * 11}]}, "invalid_blocks"),
        ("response_url", {"blocks": [section("s" * 2900)] * 5}, "msg_blocks_too_long"),
        ("views.publish", {"view": modal([], title="t" * 25)}, "invalid_arguments"),
        ("views.update", {"view": {**modal([]), "private_metadata": "m" * 3001}}, "invalid_arguments"),
        ("views.push", {"view": modal([section("s" * 3001)])}, "invalid_arguments"),
    ],
)
def test_limit_errors(method: str, args: dict[str, Any], error: str) -> None:
    assert limit_error(method, args) == error


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("chat.postMessage", {"text": "x" * 40_000, "blocks": [section("s" * 3000)] * 4}),
        ("response_url", {"delete_original": True}),
        ("views.open", {"view": {**modal([section("s")] * 100, title="t" * 24), "private_metadata": "m" * 3000}}),
        ("users.info", {}),
    ],
)
def test_within_limits(method: str, args: dict[str, Any]) -> None:
    assert limit_error(method, args) is None


async def test_conversations_open_users_info_and_unknown(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.admins.add("UADMIN")
    assert (await client.conversations_open(users="U1"))["channel"]["id"] == "DU1"
    assert (await client.conversations_open(users=["U1"]))["channel"]["id"] == "DU1"
    assert (await client.users_info(user="UADMIN"))["user"]["is_admin"] is True
    assert (await client.users_info(user="U2"))["user"]["is_admin"] is False
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("nope.nothing")
    assert [c.method for c in fake.calls] == [
        "conversations.open",
        "conversations.open",
        "users.info",
        "users.info",
        "nope.nothing",
    ]
    fake.reset()
    assert fake.calls == []
    assert fake.admins == {"UADMIN"}


async def test_rate_limited_then_retried(fake: FakeSlack, client: AsyncWebClient) -> None:
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    fake.fail("chat.postMessage", times=1)
    resp = await client.chat_postMessage(channel="C1", text="hi")
    assert resp["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_injected_failure_without_retry(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail("auth.test", status=500, error="fatal_error", retry_after=None, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            await client.auth_test()
        assert exc.value.response.status_code == 500
        assert exc.value.response["error"] == "fatal_error"
        assert "Retry-After" not in exc.value.response.headers
    assert (await client.auth_test())["ok"] is True


async def test_wait_for(fake: FakeSlack, client: AsyncWebClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="one")
        await client.chat_postMessage(channel="C1", text="two")

    task = asyncio.create_task(later())
    calls = await fake.wait_for("chat.postMessage", count=2, timeout=2)
    assert [c.args["text"] for c in calls] == ["one", "two"]
    await task
    with pytest.raises(AssertionError, match=r"views\.open.*chat\.postMessage"):
        await fake.wait_for("views.open", timeout=0.1)


# -- response URLs --


async def test_response_url(fake: FakeSlack) -> None:
    resp = await AsyncWebhookClient(fake.response_url("x")).send(text="only you", response_type="ephemeral")
    assert resp.status_code == 200
    [call] = fake.calls_to("response_url")
    assert call.path == "/respond/x"
    assert call.args == {"text": "only you", "response_type": "ephemeral"}


async def test_response_url_limits(fake: FakeSlack) -> None:
    webhook = AsyncWebhookClient(fake.response_url())
    resp = await webhook.send(text="x", blocks=[section(str(i)) for i in range(51)])
    assert resp.status_code == 400
    assert json.loads(resp.body)["error"] == "invalid_blocks"
    assert fake.calls_to("response_url")[0].path == "/respond/r1"


# -- Socket Mode --


async def test_socket_mode_round_trip(fake: FakeSlack) -> None:
    received: list[SocketModeRequest] = []

    async def listener(sm: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        received.append(req)
        await sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    sm = SocketModeClient(app_token=FakeSlack.APP_TOKEN, web_client=AsyncWebClient(base_url=fake.api_url))
    sm.socket_mode_request_listeners.append(listener)
    try:
        await sm.connect()
        await fake.socket_connected()
        assert fake.calls_to("apps.connections.open")[0].token == FakeSlack.APP_TOKEN
        event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C1"}
        payload = json.loads(event_body(event))  # Socket Mode wraps the same callback body
        first = await fake.send_envelope("events_api", payload)
        second = await fake.send_envelope(
            "events_api", payload, retry_attempt=1, retry_reason="timeout", envelope_id="env-2"
        )
        assert second == "env-2"
        assert (await fake.wait_ack(first)) == {"envelope_id": first}
        assert (await fake.wait_ack(second)) == {"envelope_id": second}
        assert [(r.envelope_id, r.retry_attempt, r.retry_reason) for r in received] == [
            (first, 0, ""),
            (second, 1, "timeout"),
        ]
        assert received[0].payload["event"] == event
        with pytest.raises(AssertionError, match="no ack"):
            await fake.wait_ack("never-sent", timeout=0.1)
    finally:
        await sm.close()
    started = time.monotonic()
    await fake.stop()
    assert time.monotonic() - started < 3


async def test_stop_while_client_connected(fake: FakeSlack) -> None:
    sm = SocketModeClient(app_token=FakeSlack.APP_TOKEN, web_client=AsyncWebClient(base_url=fake.api_url))
    try:
        await sm.connect()
        await fake.socket_connected()
        started = time.monotonic()
        await fake.stop()  # the client will try to reconnect: that must not hold up stop()
        assert time.monotonic() - started < 3
        with pytest.raises(AssertionError, match="no Socket Mode client"):
            await fake.send_envelope("events_api", {})
    finally:
        await sm.close()


async def test_socket_connected_times_out(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match="no Socket Mode client connected"):
        await fake.socket_connected(timeout=0.1)


# -- signed requests --


def test_signed_headers_verify() -> None:
    body = slash_command_body("start", user_id="U9")
    headers = signed_headers(body)
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + "&x=1", headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    stale = signed_headers(body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_request_bodies() -> None:
    form = parse_qs(slash_command_body("start now", user_id="U9", response_url="http://x/respond/r1"))
    assert form["text"] == ["start now"]
    assert form["user_id"] == ["U9"]
    assert form["command"] == ["/revq"]
    assert form["team_id"] == [FakeSlack.TEAM_ID]
    assert form["response_url"] == ["http://x/respond/r1"]
    assert form["trigger_id"] == ["T-trigger-1"]

    event = json.loads(event_body({"type": "message", "text": "hi"}, event_id="Ev9"))
    assert event["type"] == "event_callback"
    assert event["event_id"] == "Ev9"
    assert event["event"] == {"type": "message", "text": "hi"}
    assert event["authorizations"][0]["user_id"] == FakeSlack.BOT_USER_ID

    payload = {"type": "block_actions", "actions": [{"action_id": "a", "value": "v & w"}]}
    assert json.loads(parse_qs(interaction_body(payload))["payload"][0]) == payload

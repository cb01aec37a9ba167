"""Drives the real Bolt app over HTTP, signed like Slack, against the local fake Web API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.server import SlackService, slack_service, web_app
from bot.config import Settings
from bot.engine.dialogue import EngineContext
from tests.fakes.slack_api import (
    SIGNING_SECRET,
    Call,
    FakeSlack,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
)

USER = "U1"
CHANNEL = "C1"


def slack_settings(fake: FakeSlack, db: Path, **changes: Any) -> Settings:
    base = Settings(
        store="sqlite",
        db_path=str(db),
        slack_bot_token=FakeSlack.BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
    )
    return replace(base, **changes)


def strings(node: Any) -> list[str]:
    """Every string anywhere in a JSON structure."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def shown_text(call: Call) -> str:
    """All the text of a posted message or view, to search in."""
    return "\n".join(strings({k: v for k, v in call.args.items() if k in ("text", "blocks", "view")}))


@dataclass
class SlackHarness:
    fake: FakeSlack
    service: SlackService
    http: TestClient[Any, Any]
    events: int = 0

    async def post(self, body: str, content_type: str, **header_changes: str) -> tuple[int, str]:
        headers = {**signed_headers(body, content_type=content_type), **header_changes}
        response = await self.http.post("/slack/events", data=body.encode(), headers=headers)
        return response.status, await response.text()

    async def command(self, text: str = "", *, channel: str = CHANNEL, user: str = USER) -> tuple[int, str]:
        body = slash_command_body(text, user_id=user, channel_id=channel, response_url=self.fake.response_url("cmd"))
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(interaction_body(payload), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> int:
        if event_id is None:
            self.events += 1
            event_id = f"Ev{self.events}"
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        status, _ = await self.post(event_body(event, event_id=event_id), "application/json", **extra)
        return status

    async def dm(self, text: str, *, user: str = USER) -> list[Call]:
        """Say something in the DM and wait for revq's answer; returns the new messages."""
        before = len(self.fake.calls_to("chat.postMessage"))
        status = await self.event(
            {"type": "message", "channel_type": "im", "channel": "D" + user, "user": user, "text": text,
             "ts": f"{time.time():.6f}"}
        )  # fmt: skip
        assert status == 200
        await self.fake.wait_for("chat.postMessage", before + 1)
        await self.settle()
        return self.fake.calls_to("chat.postMessage")[before:]

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:
        """Wait until the fake has seen no new call for `quiet` seconds (the app works after acking)."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline and seen != len(self.fake.calls):
            seen = len(self.fake.calls)
            await asyncio.sleep(quiet)

    def block_actions(self, action: dict[str, Any], *, user: str = USER, ephemeral: bool = False,
                      state: dict[str, Any] | None = None, home: bool = False,
                      message: dict[str, Any] | None = None, channel: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Slack's payload for a click; `message` is the clicked message, which Slack sends along
        for messages that are not ephemeral. `channel`: where the message is (default: the DM)."""
        channel = channel or "D" + user
        container: dict[str, Any] = (
            {"type": "view", "view_id": "V1"} if home
            else {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral, "message_ts": "1.0"}
        )  # fmt: skip
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "team_id": FakeSlack.TEAM_ID},
            "team": {"id": FakeSlack.TEAM_ID, "domain": "test"},
            "api_app_id": "A0TEST",
            "trigger_id": "T-trigger-2",
            "container": container,
            "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}],
        }
        if not home:
            payload["channel"] = {"id": channel}
            payload["response_url"] = self.fake.response_url("click")
        if state is not None:
            payload["state"] = state
        if message is not None:
            payload["message"] = message
        return payload


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str = USER) -> dict[str, Any]:
    """Slack's payload when the person submits `view` (as it was opened) with these input values."""
    return {
        "type": "view_submission",
        "user": {"id": user, "team_id": FakeSlack.TEAM_ID},
        "team": {"id": FakeSlack.TEAM_ID, "domain": "test"},
        "api_app_id": "A0TEST",
        "trigger_id": "T-trigger-3",
        "view": {**view, "id": "V1", "state": {"values": values}},
    }


def form_values(
    *, company: str = "Acme", role: str | None = None, stage: str | None = None, company_type: str | None = None,
    topics: tuple[str, ...] = (), priorities: str | None = None, notes: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The modal's state as Slack sends it: plain inputs hold "value", selects "selected_option(s)"."""

    def plain(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    def single(value: str | None) -> dict[str, Any]:
        option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
        return {"value": {"type": "static_select", "selected_option": option}}

    return {
        "company": plain(company),
        "role": plain(role),
        "stage": single(stage),
        "company_type": single(company_type),
        "priorities_picked": {"value": {"type": "multi_static_select", "selected_options": [
            {"text": {"type": "plain_text", "text": t}, "value": t} for t in topics]}},
        "priorities_typed": plain(priorities),
        "notes": plain(notes),
    }  # fmt: skip


@asynccontextmanager
async def running_slack(fake: FakeSlack, ctx: EngineContext, db: Path, **changes: Any) -> AsyncIterator[SlackHarness]:
    async with slack_service(slack_settings(fake, db, **changes), ctx) as service:
        server = TestServer(web_app(service))
        async with TestClient(server) as http:
            yield SlackHarness(fake, service, http)


@asynccontextmanager
async def ready_slack(fake: FakeSlack, ctx: EngineContext, db: Path, **changes: Any) -> AsyncIterator[SlackHarness]:
    """`running_slack` once its token was checked with Slack, with the fake's record cleared."""
    async with running_slack(fake, ctx, db, **changes) as harness:
        await fake.wait_for("auth.test")  # the token is checked before anything is served
        fake.reset()
        yield harness


def json_body(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text) if text.strip() else {}
    return data

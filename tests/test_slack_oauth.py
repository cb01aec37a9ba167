"""Slack in many workspaces: Bolt's OAuth flow against the local fake Web API, then an event from the
new workspace answered with its own token, then its uninstall deleting everything it had."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore

from bot.adapters.slack.server import BOT_SCOPES, check_settings
from bot.adapters.startup import StartupError
from bot.config import Settings
from bot.engine.dialogue import EngineContext
from bot.prompts.schedule import Schedule, When
from bot.store.base import ConversationKey
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, event_body
from tests.slack_harness import SlackHarness, ready_slack, running_slack

REPO = Path(__file__).resolve().parent.parent
STATE_SECRET = "state-secret-value"
T2 = FakeSlack.T2_TEAM_ID
KEY = ConversationKey("slack", T2, "U2")
OAUTH = {
    "slack_bot_token": "",
    "slack_client_id": FakeSlack.CLIENT_ID,
    "slack_client_secret": FakeSlack.CLIENT_SECRET,
    "slack_state_secret": STATE_SECRET,
}



@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
async def slack(fake: FakeSlack, ctx: EngineContext, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with running_slack(fake, ctx, tmp_path / "revq.db", **OAUTH) as harness:
        yield harness



async def install(slack: SlackHarness, finish_on: SlackHarness | None = None) -> None:
    """Open /slack/install on one replica; the browser comes back to `finish_on` (the same by default)."""
    page = await slack.http.get("/slack/install", allow_redirects=False)
    assert page.status in (200, 302)
    text = page.headers.get("Location", "") + await page.text()
    assert "slack.com/oauth/v2/authorize" in text and f"client_id={FakeSlack.CLIENT_ID}" in text
    assert "chat%3Awrite" in text or "chat:write" in text
    found = re.search(r"state=([A-Za-z0-9_.-]+)", text)
    assert found is not None
    # Bolt's state cookie is Secure (Slack requires https); the browser sends it back to the callback.
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    params = {"code": FakeSlack.OAUTH_CODE, "state": found[1]}
    done = await (finish_on or slack).http.get("/slack/oauth_redirect", params=params, headers={"Cookie": cookie})
    assert done.status == 200, await done.text()


def dm_event(text: str) -> str:
    event = {"type": "message", "channel_type": "im", "channel": "DU2", "user": "U2", "text": text,
             "ts": f"{time.time():.6f}"}  # fmt: skip
    return event_body(event, event_id="EvT2-1", team_id=T2)


async def test_install_then_an_event_is_answered_with_the_workspaces_own_token_then_uninstall_deletes_it(
    slack: SlackHarness, fake: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = slack.service.store
    assert fake.calls_to("auth.test") == []  # no fixed token to check at start-up

    await install(slack)
    exchange = fake.calls_to("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].args["code"] == FakeSlack.OAUTH_CODE
    assert await store.installation_names(f"none-{T2}") == ["bot", "installer", "installer:U2"]
    installations = slack.service.installations
    assert installations is not None
    bot = await installations.async_find_bot(enterprise_id=None, team_id=T2)
    assert bot is not None and bot.bot_token == FakeSlack.T2_TOKEN

    status, _ = await slack.post(dm_event("help"), "application/json")
    assert status == 200
    posted = await fake.wait_for("chat.postMessage")
    await slack.settle()
    assert {call.token for call in fake.calls_to("chat.postMessage")} == {FakeSlack.T2_TOKEN}
    assert all(call.token == FakeSlack.T2_TOKEN for call in fake.calls if call.method != "oauth.v2.access")
    assert posted[0].args["channel"] == "DU2"
    assert await store.get(KEY, time.time()) is not None
    await store.save_schedule(Schedule("slack", T2, "C2", When("weekly", 0, 9, 0, "UTC")))
    await store.save_schedule(Schedule("slack", FakeSlack.TEAM_ID, "C1", When("weekly", 0, 9, 0, "UTC")))

    body = event_body({"type": "app_uninstalled"}, event_id="EvT2-2", team_id=T2)
    status, _ = await slack.post(body, "application/json")
    assert status == 200
    await slack.settle()
    assert await installations.async_find_bot(enterprise_id=None, team_id=T2) is None
    assert await store.installation_names(f"none-{T2}") == []
    assert await store.get(KEY, time.time()) is None
    assert [s.channel for s in await store.list_schedules()] == ["C1"]  # the other workspace keeps its own

    logged = caplog.text
    for secret in (FakeSlack.T2_TOKEN, FakeSlack.CLIENT_SECRET, STATE_SECRET, SIGNING_SECRET):
        assert secret not in logged


async def test_tokens_revoked_deletes_the_installation_too(slack: SlackHarness) -> None:
    await install(slack)
    event = {"type": "tokens_revoked", "tokens": {"bot": [FakeSlack.T2_BOT_USER_ID]}}
    status, _ = await slack.post(event_body(event, event_id="EvT2-3", team_id=T2), "application/json")
    assert status == 200
    await slack.settle()
    assert slack.service.installations is not None
    assert await slack.service.installations.async_find_bot(enterprise_id=None, team_id=T2) is None


async def test_a_revoked_user_token_leaves_the_install_and_the_conversations(slack: SlackHarness) -> None:
    await install(slack)
    store = slack.service.store
    await store.put(KEY, "{}", expected_version=0, expires_at=time.time() + 3600)
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U2"]}}  # a person's token, not revq's bot
    status, _ = await slack.post(event_body(event, event_id="EvT2-4", team_id=T2), "application/json")
    assert status == 200
    await slack.settle()
    assert slack.service.installations is not None
    assert await slack.service.installations.async_find_bot(enterprise_id=None, team_id=T2) is not None
    assert await store.get(KEY, time.time()) is not None


async def test_a_bad_state_installs_nothing(slack: SlackHarness, fake: FakeSlack) -> None:
    done = await slack.http.get("/slack/oauth_redirect", params={"code": FakeSlack.OAUTH_CODE, "state": "forged"})
    assert done.status >= 400
    assert fake.calls_to("oauth.v2.access") == []


def test_scopes_are_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load((REPO / "deploy" / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_settings_keep_oauth_secrets_out_of_repr_and_need_all_three() -> None:
    env = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "cs-123", "SLACK_STATE_SECRET": "ss-456",
           "SLACK_SIGNING_SECRET": "sig"}  # fmt: skip
    settings = Settings.from_env(env)
    assert settings.slack_oauth
    assert "cs-123" not in repr(settings) and "ss-456" not in repr(settings)
    check_settings(settings, http=True)  # no SLACK_BOT_TOKEN needed
    with pytest.raises(StartupError, match="HTTP mode"):
        check_settings(settings, http=False)
    with pytest.raises(StartupError, match="SLACK_STATE_SECRET"):
        check_settings(Settings.from_env({**env, "SLACK_STATE_SECRET": ""}), http=True)


async def test_an_install_begun_on_one_replica_finishes_on_the_other_and_both_use_its_token(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"  # the store both replicas share (Redis in production)
    async with running_slack(fake, ctx, db, **OAUTH) as first, running_slack(fake, ctx, db, **OAUTH) as second:
        await install(first, finish_on=second)
        assert len(fake.calls_to("oauth.v2.access")) == 1
        status, _ = await first.post(dm_event("help"), "application/json")  # the replica that did not finish it
        assert status == 200
        await fake.wait_for("chat.postMessage")
        await first.settle()
        assert {call.token for call in fake.calls_to("chat.postMessage")} == {FakeSlack.T2_TOKEN}


async def test_a_state_signed_with_another_secret_or_expired_installs_nothing(
    slack: SlackHarness, fake: FakeSlack
) -> None:
    forged = StatelessOAuthStateStore(expiration_seconds=600, signing_secret="not-our-secret").issue()
    stale = StatelessOAuthStateStore(expiration_seconds=-1, signing_secret=STATE_SECRET).issue()
    for state in (forged, stale):
        cookie = f"slack-app-oauth-state={state}"
        done = await slack.http.get(
            "/slack/oauth_redirect", params={"code": FakeSlack.OAUTH_CODE, "state": state}, headers={"Cookie": cookie}
        )
        assert done.status >= 400
    assert fake.calls_to("oauth.v2.access") == []


async def test_without_oauth_an_uninstall_still_deletes_the_workspaces_data(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    async with ready_slack(fake, ctx, tmp_path / "revq.db") as single:
        store = single.service.store
        mine = ConversationKey("slack", FakeSlack.TEAM_ID, "U1")
        await store.put(mine, "{}", expected_version=0, expires_at=time.time() + 3600)
        await store.save_schedule(Schedule("slack", FakeSlack.TEAM_ID, "C1", When("weekly", 0, 9, 0, "UTC")))
        body = event_body({"type": "app_uninstalled"}, event_id="EvT1-9", team_id=FakeSlack.TEAM_ID)
        status, _ = await single.post(body, "application/json")
        assert status == 200
        await single.settle()
        assert await store.get(mine, time.time()) is None
        assert await store.list_schedules() == []

"""revq's slack_sdk installation store behaves as slack_sdk's own stores do, over every revq store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.adapters.slack.installations import StoreInstallations, find_workspace_bot, prompt_workspace
from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.store.redis import RedisStore
from tests.redis_server import RedisServer, needs_redis


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=needs_redis)])
async def installations(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreInstallations]:
    store: SessionStore
    if request.param == "memory":
        store = MemoryStore()
    elif request.param == "sqlite":
        store = await SQLiteStore.open(tmp_path / "revq.db")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        store = await RedisStore.open(server.url, "revq-installs-test:")
        await store._redis.flushdb()
    yield StoreInstallations(store)
    await store.close()


def workspace_install(user: str = "U1", token: str = "xoxb-1") -> Installation:
    return Installation(
        app_id="A1", enterprise_id="E1", team_id="T1", user_id=user, bot_id="B1", bot_token=token,
        bot_scopes=["chat:write", "commands"], bot_user_id="UB1", installed_at=1_700_000_000.5,
    )  # fmt: skip


async def test_a_workspace_install_is_found_by_its_org_and_team_only(installations: StoreInstallations) -> None:
    await installations.async_save(workspace_install())
    bot = await installations.async_find_bot(enterprise_id="E1", team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-1" and bot.bot_scopes == ["chat:write", "commands"]
    assert await installations.async_find_bot(enterprise_id="E1", team_id="T2") is None
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None

    found = await installations.async_find_installation(enterprise_id="E1", team_id="T1")
    assert found is not None and found.user_id == "U1" and found.installed_at == 1_700_000_000.5
    mine = await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U1")
    assert mine is not None and mine.bot_token == "xoxb-1"
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U2") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None


async def test_a_persons_record_carries_the_latest_bot_token(installations: StoreInstallations) -> None:
    await installations.async_save(workspace_install("U1", "xoxb-old"))
    await installations.async_save(workspace_install("U2", "xoxb-new"))  # someone else reinstalled
    first = await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U1")
    assert first is not None and first.user_id == "U1" and first.bot_token == "xoxb-new"
    latest = await installations.async_find_installation(enterprise_id="E1", team_id="T1")
    assert latest is not None and latest.user_id == "U2"


async def test_deleting_one_person_then_all_installers_then_everything(installations: StoreInstallations) -> None:
    await installations.async_save(workspace_install("U1"))
    await installations.async_save(workspace_install("U2"))
    await installations.async_delete_installation(enterprise_id="E1", team_id="T1", user_id="U1")
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U1") is None
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U2") is not None

    await installations.async_delete_installation(enterprise_id="E1", team_id="T1")
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U2") is None
    assert await installations.async_find_bot(enterprise_id="E1", team_id="T1") is not None  # the bot stays

    await installations.async_save(workspace_install("U1"))
    await installations.async_delete_all(enterprise_id="E1", team_id="T1")
    assert await installations.async_find_bot(enterprise_id="E1", team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1", user_id="U1") is None


async def test_an_org_wide_install_serves_every_workspace_of_the_org(installations: StoreInstallations) -> None:
    org = Installation(
        app_id="A1", enterprise_id="EO1", user_id="UO1", bot_id="BO1", bot_token="xoxb-org", bot_user_id="UBO",
        bot_scopes=["chat:write"], is_enterprise_install=True,
    )  # fmt: skip
    await installations.async_save(org)
    assert await installations.async_find_bot(enterprise_id="EO1", team_id=None) is not None
    some_workspace = await installations.async_find_bot(enterprise_id="EO1", team_id="T5", is_enterprise_install=True)
    assert some_workspace is not None and some_workspace.bot_token == "xoxb-org"
    assert await installations.async_find_bot(enterprise_id="EO1", team_id="T5") is None
    found = await installations.async_find_installation(enterprise_id="EO1", team_id="T5", is_enterprise_install=True)
    assert found is not None and found.user_id == "UO1"

    await installations.async_delete_all(enterprise_id="EO1", team_id=None)
    assert await installations.async_find_bot(enterprise_id="EO1", team_id=None) is None
    assert await installations.async_find_installation(enterprise_id="EO1", team_id=None, user_id="UO1") is None


async def test_a_user_token_only_install_keeps_no_bot(installations: StoreInstallations) -> None:
    await installations.async_save(Installation(app_id="A1", team_id="T9", user_id="U9", user_token="xoxp-9"))
    assert await installations.async_find_bot(enterprise_id=None, team_id="T9") is None
    found = await installations.async_find_installation(enterprise_id=None, team_id="T9", user_id="U9")
    assert found is not None and found.user_token == "xoxp-9" and found.bot_token is None


async def test_a_channel_prompt_finds_its_workspaces_token_on_enterprise_grid_too(
    installations: StoreInstallations,
) -> None:
    plain = Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-plain", bot_id="B1")
    grid_workspace = Installation(app_id="A1", enterprise_id="E2", team_id="T2", user_id="U2", bot_token="xoxb-grid",
                                  bot_id="B2")  # fmt: skip
    whole_org = Installation(app_id="A1", enterprise_id="E3", user_id="U3", bot_token="xoxb-org", bot_id="B3",
                             is_enterprise_install=True)  # fmt: skip
    for install in (plain, grid_workspace, whole_org):
        await installations.async_save(install)
    named = {
        prompt_workspace(None, "T1", False): "xoxb-plain",
        prompt_workspace("E2", "T2", False): "xoxb-grid",
        prompt_workspace("E3", "T9", True): "xoxb-org",  # any workspace of the organization
    }
    assert prompt_workspace(None, "T1", False) == "T1"  # outside Grid, the plain team id, as schedules always had
    for workspace, token in named.items():
        bot = await find_workspace_bot(installations, workspace)
        assert bot is not None and bot.bot_token == token, workspace
    assert await find_workspace_bot(installations, prompt_workspace("E2", "T7", False)) is None


async def test_every_field_survives_the_round_trip(installations: StoreInstallations) -> None:
    rotating = Installation(
        app_id="A1", team_id="T4", team_name="Careers Circle", user_id="U4", bot_id="B4", bot_token="xoxe.xoxb-4",
        bot_scopes="chat:write,commands", bot_user_id="UB4", bot_refresh_token="xoxe-1-r", bot_token_expires_in=43200,
        installed_at=1_700_000_123.25, custom_values={"community": "nurses"},
    )  # fmt: skip
    await installations.async_save(rotating)
    found = await installations.async_find_installation(enterprise_id=None, team_id="T4", user_id="U4")
    assert found is not None and found.to_dict() == rotating.to_dict()
    bot = await installations.async_find_bot(enterprise_id=None, team_id="T4")
    assert bot is not None and bot.to_dict() == rotating.to_bot().to_dict()

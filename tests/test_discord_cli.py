"""`revq discord` as people run it: a real process, against the local Discord fake where it needs Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_api import APP_ID, GUILD_ID, FakeDiscord
from tests.test_cli import REPO, revq

REVQ = [sys.executable, "-m", "bot.cli"]


async def run_revq(*args: str, env: dict[str, str], stop_when: asyncio.Future[None] | None = None) -> tuple[int, str]:
    """Run `revq` as a subprocess without blocking the fake's event loop; SIGTERM it once `stop_when` is done."""
    process = await asyncio.create_subprocess_exec(
        *REVQ, *args, cwd=REPO, env={**os.environ, "REVQ_LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    if stop_when is not None:
        await asyncio.wait_for(stop_when, 30)
        process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "x", "DISCORD_SHARD_IDS": "0"}, "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT"),
        ({"DISCORD_TOKEN": "x", "DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,2"}, "shard numbers from 0 to 1"),
        ({"DISCORD_TOKEN": "x", "DISCORD_GATEWAY_URL": "gateway.example"}, "DISCORD_GATEWAY_URL must be a URL"),
    ],
)
def test_discord_refuses_to_start_with_one_line_and_exit_2(env: dict[str, str], needle: str, tmp_path: Path) -> None:
    done = revq("discord", env={"REVQ_DB": str(tmp_path / "revq.db"), **env})
    assert done.returncode == 2 and needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_invite_prints_both_install_links_with_the_scopes_revq_needs() -> None:
    done = revq("discord", "invite", "--app-id", "123456789012345678", env={"DISCORD_TOKEN": ""})
    assert done.returncode == 0
    server, user = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("https://")]
    assert "client_id=123456789012345678" in server and "scope=bot+applications.commands" in server
    # View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads, Send Messages in Threads
    wanted = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)
    assert f"permissions={wanted}&" in server and "integration_type=0" in server
    assert "scope=applications.commands&" in user and "integration_type=1" in user and "permissions" not in user


def test_discord_help_names_every_action_and_setting() -> None:
    done = revq("discord", "--help")
    assert done.returncode == 0
    for word in ("run", "sync", "invite", "DISCORD_TOKEN", "DISCORD_SHARD_COUNT", "DISCORD_API_URL"):
        assert word in done.stdout
    assert "DISCORD_GATEWAY_URL" in revq("--help").stdout


async def test_a_rejected_token_stops_revq_discord_with_one_line(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = {**fake.env(), "DISCORD_TOKEN": "not-the-token", "REVQ_DB": str(tmp_path / "revq.db")}
        code, output = await run_revq("discord", env=env)
    assert code == 2 and "Discord rejected DISCORD_TOKEN" in output
    assert len(output.strip().splitlines()) == 1 and "not-the-token" not in output


async def test_sync_invite_and_run_against_the_fake(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = {**fake.env(), "DISCORD_TOKEN": FakeDiscord.TOKEN, "REVQ_DB": str(tmp_path / "revq.db")}
        code, output = await run_revq("discord", "sync", "--guild", str(GUILD_ID), env=env)
        assert code == 0 and f"registered /revq, /revq-prompts in server {GUILD_ID}" in output
        assert fake.calls("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")

        code, output = await run_revq("discord", "invite", env=env)
        assert code == 0 and f"client_id={APP_ID}" in output

        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def use_it() -> None:
            await fake.wait_connected(timeout=20)
            await asyncio.sleep(0.2)
            data = fake.slash_command("revq", "help", {}, guild_id=GUILD_ID)
            await fake.dispatch("INTERACTION_CREATE", data)
            await fake.wait_for_call("POST", r"/webhooks/\d+/[^/]+", timeout=20)
            answered.set_result(None)

        helper = asyncio.create_task(use_it())
        code, output = await run_revq("discord", env=env, stop_when=answered)
        await helper
    assert code == 0, output
    assert FakeDiscord.TOKEN not in output

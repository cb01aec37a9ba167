"""revq's Discord bot against the local Discord fake: start it, send it events, read what it sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from bot.adapters.discord.server import DiscordService, connect_until, discord_service
from bot.config import Settings
from bot.engine.dialogue import EngineContext
from bot.store import SessionStore
from tests.fakes.discord_api import FakeDiscord

READY_TIMEOUT = 5.0
CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = r"/webhooks/\d+/[^/]+"
EPHEMERAL = 64


def settings_for(fake: FakeDiscord, **changes: Any) -> Settings:
    base = Settings(
        store="memory",
        discord_token=FakeDiscord.TOKEN,
        discord_api_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
    )
    return replace(base, **changes)


@dataclass
class RunningBot:
    fake: FakeDiscord
    service: DiscordService

    async def send(self, event: str, data: dict[str, Any], calls: tuple[str, str], count: int = 1) -> list[Any]:
        """Dispatch an event and wait until the fake has seen `count` more calls matching `calls`."""
        before = len(self.fake.calls(*calls))
        await self.fake.dispatch(event, data)
        return (await self.fake.wait_for_call(*calls, count=before + count))[before:]

    async def interact(self, data: dict[str, Any], followups: int = 0) -> dict[str, Any]:
        """An interaction, its callback, and `followups` follow-up messages; returns the callback body."""
        before = len(self.fake.calls("POST", FOLLOWUP))
        (callback,) = await self.send("INTERACTION_CREATE", data, ("POST", CALLBACK))
        if followups:
            await self.fake.wait_for_call("POST", FOLLOWUP, count=before + followups)
        assert isinstance(callback.json, dict)
        return callback.json

    def followups(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The follow-up messages sent for one interaction, in order."""
        token = data["token"]
        return [r.json for r in self.fake.calls("POST", FOLLOWUP) if token in r.path and isinstance(r.json, dict)]


@asynccontextmanager
async def running_revq(
    fake: FakeDiscord, ctx: EngineContext, store: SessionStore, **changes: Any
) -> AsyncIterator[RunningBot]:
    """revq's bot, logged in and connected to the fake, until the block ends."""
    settings = settings_for(fake, **changes)
    with fake.point_discord_here():
        async with discord_service(settings, ctx, store=store, guild_ready_timeout=0.05) as service:
            stop = asyncio.Event()
            connection = asyncio.create_task(connect_until(service, stop))
            ready = asyncio.create_task(service.client.wait_until_ready())
            try:
                done, _ = await asyncio.wait(
                    {connection, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                if connection in done:
                    connection.result()
                assert ready in done, f"revq was not ready within {READY_TIMEOUT} s"
                yield RunningBot(fake, service)
            finally:
                ready.cancel()
                stop.set()
                await asyncio.wait_for(asyncio.gather(connection, ready, return_exceptions=True), 5)

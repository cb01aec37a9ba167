"""`revq discord`: check the token, connect to the gateway, and serve; also `sync` and `invite`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import discord
import yarl

from bot.adapters.discord.app import PLATFORM, DiscordFrontEnd, DiscordPoster, RevqClient, make_client
from bot.adapters.health import Readiness, health_server
from bot.adapters.startup import StartupError, stop_on_signals
from bot.config import Settings
from bot.engine.dialogue import EngineContext
from bot.prompts.scheduler import Scheduler
from bot.runner import ConversationRunner
from bot.store import MemoryStore, SessionStore, StoppedWaiting, open_store, purge_periodically

log = logging.getLogger(__name__)

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SERVER_INSTALL = 0  # Discord's integration types
USER_INSTALL = 1
SERVER_SCOPES = "bot applications.commands"
# Answers to commands, buttons and DMs need no permission. Channel prompts need the first three in
# their channels; an answer to a mention of revq goes in a thread on that message (the last two),
# or, where no thread may be made, in a reply (which needs Read Message History).
SERVER_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
).value
USER_SCOPES = "applications.commands"
SWITCH_INTERVAL = 0.0005  # seconds


def check_settings(settings: Settings) -> None:
    if not settings.discord_token:
        raise StartupError(
            "DISCORD_TOKEN is not set: copy the token from the Bot page of your application "
            "at https://discord.com/developers/applications"
        )


def point_discord_at(settings: Settings) -> None:
    """DISCORD_API_URL and DISCORD_GATEWAY_URL: for local tests and proxies. discord.py reads both
    from class attributes, so they hold for every client in this process."""
    discord.http.Route.BASE = settings.discord_api_url
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def log_in(client: discord.Client, settings: Settings) -> None:
    """The token checked at start-up: a wrong one stops revq now, in one line."""
    try:
        await client.login(settings.discord_token)
    except discord.LoginFailure:
        raise StartupError(
            "Discord rejected DISCORD_TOKEN: reset the token on the Bot page of your application and copy it again"
        ) from None
    except discord.HTTPException as exc:
        raise StartupError(f"Discord answered the login with HTTP {exc.status}", exit_code=1) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Discord at {settings.discord_api_url} ({type(exc).__name__}); check DISCORD_API_URL", 1
        ) from None


@dataclass
class DiscordService:
    """The running pieces, for `serve` and for tests that drive them directly."""

    client: discord.Client
    front: DiscordFrontEnd
    store: SessionStore


@contextlib.asynccontextmanager
async def discord_service(
    settings: Settings,
    ctx: EngineContext,
    store: SessionStore | None = None,
    until: asyncio.Event | None = None,
    **client_options: Any,
) -> AsyncIterator[DiscordService]:
    """Open the store, log in, purge expired data now and then, and post channel prompts when they
    are due; close everything on the way out. The gateway is not connected yet: `serve` does that.
    `client_options` go to discord.py's client (tests shorten `guild_ready_timeout`).

    The prompt scheduler starts here, once per process, and never on `ready`, which comes again
    on every reconnect. Every process of a sharded bot runs one: the store's claims keep each
    post single, and posts go through REST, which reaches any server from any shard."""
    check_settings(settings)
    point_discord_at(settings)
    opened = store is None
    store = store or await open_store(settings.store, settings.db_path, settings.redis_prefix, until=until)
    try:
        front = DiscordFrontEnd(ConversationRunner(store, ctx))
        client = make_client(
            front, shard_count=settings.discord_shard_count, shard_ids=settings.discord_shard_ids, **client_options
        )
        async with client:
            await log_in(client, settings)
            if client.application_id is not None:
                front.invite_link = invite_links(client.application_id)[0]
            scheduler = Scheduler(
                store, ctx.bank, {PLATFORM: DiscordPoster(client)}, grace_hours=settings.prompt_grace_hours
            )
            background = [
                asyncio.create_task(purge_periodically(store)),
                asyncio.create_task(scheduler.run(settings.prompt_check_seconds)),
            ]
            try:
                yield DiscordService(client, front, store)
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
    finally:
        if opened:
            await store.close()


async def connect_until(service: DiscordService, stop: asyncio.Event) -> None:
    """Stay connected (discord.py reconnects by itself) until `stop` is set."""
    connection = asyncio.create_task(service.client.connect())
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connection in done:
            try:
                connection.result()
            except discord.PrivilegedIntentsRequired:
                raise StartupError("Discord refused the intents revq asked for", exit_code=1) from None
            except discord.ConnectionClosed as exc:
                if exc.code == 4004:  # authentication failed on the gateway
                    raise StartupError("Discord rejected DISCORD_TOKEN on the gateway") from None
                raise StartupError(f"the Discord gateway closed the connection (code {exc.code})", 1) from None
    finally:
        stopping.cancel()
        await service.front.finish_erasing()  # while the client can still reach Discord
        await service.client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connection


async def serve(settings: Settings, ctx: EngineContext, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set, or SIGINT or SIGTERM. Raises StartupError for a setting that stops it."""
    check_settings(settings)
    stop = stop or stop_on_signals()
    readiness = Readiness()
    # Health first: an orchestrator hears "starting" while the store (Redis) is being waited for.
    async with health_server(readiness, settings.health_port):
        with contextlib.suppress(StoppedWaiting):  # told to stop before Redis ever answered
            await _serve_when_open(settings, ctx, readiness, stop)


async def _serve_when_open(settings: Settings, ctx: EngineContext, readiness: Readiness, stop: asyncio.Event) -> None:
    async with discord_service(settings, ctx, until=stop) as service:
        readiness.store = service.store
        # The bank, the engine and the libraries are loaded for good: keep them out of every
        # later garbage collection, which would otherwise walk them all and stall replies.
        gc.freeze()
        # Turns run in a worker thread (see the runner); a short switch interval hands the
        # interpreter back to the event loop within half a millisecond, so a new interaction is
        # answered at once even while another person's list is being worked out.
        sys.setswitchinterval(SWITCH_INTERVAL)
        log.warning("revq is connecting to Discord")
        try:
            await connect_until(service, stop)
        finally:  # probes hear "stopping" from here on, not a store that is closing
            readiness.store, readiness.stopping = None, True


async def sync_commands(settings: Settings, ctx: EngineContext, guild_id: int | None = None) -> list[str]:
    """Register /revq and /revq-prompts with Discord, everywhere or (at once, for trying it out) in one server.
    Run it after installing or upgrading revq, not on every start: Discord limits how often."""
    check_settings(settings)
    point_discord_at(settings)
    client = RevqClient(DiscordFrontEnd(ConversationRunner(MemoryStore(), ctx)))
    async with client:
        await log_in(client, settings)
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            client.tree.copy_global_to(guild=guild)
        synced = await client.tree.sync(guild=guild)
    return [command.name for command in synced]


async def application_id(settings: Settings) -> int:
    """The application's id, asked of Discord with the token."""
    check_settings(settings)
    point_discord_at(settings)
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await log_in(client, settings)
        if client.application_id is None:
            raise StartupError("Discord did not say which application DISCORD_TOKEN belongs to", exit_code=1)
        return client.application_id


def invite_links(app_id: int) -> tuple[str, str]:
    """(add to a server, add to your own account): exactly the scopes and permissions revq needs."""
    server = urlencode(
        {
            "client_id": app_id,
            "scope": SERVER_SCOPES,
            "permissions": SERVER_PERMISSIONS,
            "integration_type": SERVER_INSTALL,
        }
    )
    user = urlencode({"client_id": app_id, "scope": USER_SCOPES, "integration_type": USER_INSTALL})
    return f"{AUTHORIZE_URL}?{server}", f"{AUTHORIZE_URL}?{user}"

"""`revq slack`: check the settings and the token, then serve over Socket Mode or HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.health import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    Readiness,
    add_health_routes,
    health_server,
)
from bot.adapters.slack.app import PLATFORM, SlackFrontEnd, SlackPoster, TokenLookup, build_app, make_client
from bot.adapters.slack.installations import StoreInstallations, find_workspace_bot
from bot.adapters.startup import StartupError, stop_on_signals
from bot.config import Settings
from bot.engine.dialogue import EngineContext
from bot.prompts.scheduler import Scheduler
from bot.runner import ConversationRunner
from bot.store import SessionStore, StoppedWaiting, open_store, purge_periodically

log = logging.getLogger(__name__)

__all__ = ["StartupError", "check_settings", "check_token", "serve", "slack_service", "web_app"]

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of deploy/slack/manifest.yml (a test keeps them equal), asked for at install.
BOT_SCOPES = (
    "app_mentions:read", "channels:read", "chat:write", "commands", "groups:read", "im:history", "im:write",
    "users:read",
)  # fmt: skip
OAUTH_STATE_SECONDS = 600
OAUTH_SETTINGS = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")
_REJECTED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}


def check_settings(settings: Settings, http: bool) -> None:
    given = [settings.slack_client_id, settings.slack_client_secret, settings.slack_state_secret]
    if any(given) and not all(given):
        missing = ", ".join(name for name, value in zip(OAUTH_SETTINGS, given, strict=True) if not value)
        raise StartupError(f"{missing} not set: OAuth needs all of {', '.join(OAUTH_SETTINGS)}")
    if settings.slack_oauth and not http:
        raise StartupError("OAuth (SLACK_CLIENT_ID and the rest) works in HTTP mode only: run revq slack --http")
    if not settings.slack_bot_token and not settings.slack_oauth:  # OAuth: each workspace's own token
        raise StartupError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app")
    if http and not settings.slack_signing_secret:
        raise StartupError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to check that requests come from Slack")
    if not http and not settings.slack_app_token:
        raise StartupError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...); "
            "set it, or run revq slack --http"
        )


async def check_token(client: AsyncWebClient, api_url: str) -> str:
    """auth.test at start-up: a wrong token stops revq now, not at the first message. Returns the team id."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
        if code in _REJECTED:
            raise StartupError(f"Slack rejected SLACK_BOT_TOKEN ({code}): check the token in your Slack app") from None
        raise StartupError(f"Slack answered auth.test with an error ({code})", exit_code=1) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise StartupError(f"cannot reach Slack at {api_url} ({type(exc).__name__}); check SLACK_API_URL", 1) from None
    return str(response.get("team_id") or "")


@dataclass
class SlackService:
    """The running pieces, for `serve` and for tests that drive them directly."""

    app: AsyncApp
    front: SlackFrontEnd
    store: SessionStore
    http_session: aiohttp.ClientSession
    installations: AsyncInstallationStore | None = None  # OAuth: each workspace's installation


def oauth_settings(settings: Settings, store: SessionStore) -> AsyncOAuthSettings:
    """Bolt's OAuth flow. Every replica must finish an install another one began and find every
    workspace's token: installations live in revq's store, and the OAuth state is signed with
    SLACK_STATE_SECRET rather than kept anywhere."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=StoreInstallations(store),
        state_store=StatelessOAuthStateStore(
            expiration_seconds=OAUTH_STATE_SECONDS, signing_secret=settings.slack_state_secret
        ),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )


def bot_tokens(installations: AsyncInstallationStore) -> TokenLookup:
    async def lookup(workspace: str) -> str | None:
        bot = await find_workspace_bot(installations, workspace)
        return bot.bot_token if bot is not None else None

    return lookup


@contextlib.asynccontextmanager
async def slack_service(
    settings: Settings, ctx: EngineContext, until: asyncio.Event | None = None
) -> AsyncIterator[SlackService]:
    """Open the store (waiting for it until `until` is set, when given), confirm the token, build
    the app; close everything on the way out."""
    store = await open_store(settings.store, settings.db_path, settings.redis_prefix, until=until)
    try:
        async with aiohttp.ClientSession() as http_session:
            oauth = oauth_settings(settings, store) if settings.slack_oauth else None
            # With OAuth no fixed token: Bolt authorizes each request with its workspace's token.
            client = make_client("" if oauth else settings.slack_bot_token, settings.slack_api_url, http_session)
            if oauth is None:
                await check_token(client, settings.slack_api_url)
            front = SlackFrontEnd(
                ConversationRunner(store, ctx),
                client,
                settings.session_ttl_days,
                http_session=http_session,
                admins=settings.admins,
            )
            app = build_app(front, settings.slack_signing_secret, oauth)
            installations = oauth.installation_store if oauth else None
            purging = asyncio.create_task(purge_periodically(store))
            try:
                yield SlackService(app, front, store, http_session, installations)
            finally:
                purging.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purging
    finally:
        await store.close()


class SlackDoor:
    """The HTTP app, served from the start so probes hear "starting" while the store is being
    opened; Slack's own requests get 503 until then (Slack retries events) and Bolt's after."""

    def __init__(self) -> None:
        self.readiness = Readiness()
        self._bolt: AsyncSlackAppServer | None = None

    def open(self, service: SlackService) -> None:
        self._bolt = service.app.server(path=EVENTS_PATH)
        self.readiness.store = service.store

    def close(self) -> None:
        """Before the store closes: from now on Slack hears 503 and retries (another replica, or
        this one after a restart), rather than 200 for an event that could not be kept."""
        self._bolt = None
        self.readiness.store = None
        self.readiness.stopping = True

    async def _slack_request(self, request: web.Request) -> web.StreamResponse:
        if self._bolt is None:
            return web.json_response(self.readiness.not_serving(), status=503, headers={"Retry-After": "5"})
        if request.method == "POST":
            return await self._bolt.handle_post_requests(request)
        return await self._bolt.handle_get_requests(request)  # the OAuth install pages

    def web_app(self) -> web.Application:
        """Slack posts commands, clicks and events to one URL; probes and Prometheus ask the health endpoints."""
        application = web.Application()
        application.router.add_post(EVENTS_PATH, self._slack_request)
        application.router.add_get(INSTALL_PATH, self._slack_request)
        application.router.add_get(REDIRECT_PATH, self._slack_request)
        add_health_routes(application, self.readiness)
        return application


def web_app(service: SlackService) -> web.Application:
    """The HTTP app of a service that is already running."""
    door = SlackDoor()
    door.open(service)
    return door.web_app()


async def serve(
    settings: Settings,
    ctx: EngineContext,
    *,
    http: bool,
    port: int,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
) -> None:
    """Run until `stop` is set, or SIGINT or SIGTERM. Raises StartupError for a setting that stops it."""
    check_settings(settings, http)
    stop = stop or stop_on_signals()
    door = SlackDoor()
    # HTTP mode serves everything on `port`; Socket Mode has only the health server, when asked.
    listening = _listen(door, host, port) if http else health_server(door.readiness, settings.health_port, host)
    async with listening:
        with contextlib.suppress(StoppedWaiting):  # told to stop before Redis ever answered
            await _serve_when_open(settings, ctx, door, port if http else 0, stop)


async def _serve_when_open(
    settings: Settings, ctx: EngineContext, door: SlackDoor, http_port: int, stop: asyncio.Event
) -> None:
    """Everything but the HTTP port, which is open already; `http_port` 0 is Socket Mode."""
    async with slack_service(settings, ctx, until=stop) as service:
        door.open(service)
        try:
            await _run(settings, ctx, service, http_port, stop)
        finally:
            door.close()


async def _run(
    settings: Settings, ctx: EngineContext, service: SlackService, http_port: int, stop: asyncio.Event
) -> None:
    # The bank, the engine and the libraries are loaded for good: keep them out of every
    # later garbage collection, which would otherwise walk them all and stall replies.
    gc.freeze()
    # The due-check for channel prompts: one per process, here and nowhere else, so a
    # reconnect never starts a second one. Several processes share the store's claims.
    tokens = bot_tokens(service.installations) if service.installations else None
    posters = {PLATFORM: SlackPoster(service.front.client, tokens=tokens)}
    scheduler = Scheduler(service.store, ctx.bank, posters, grace_hours=settings.prompt_grace_hours)
    checking = asyncio.create_task(scheduler.run(settings.prompt_check_seconds))
    try:
        if http_port:
            # Said once the token is checked, so a refusal to start stays a single line.
            log.warning("revq is listening for Slack on port %d (POST %s; GET %s, %s, %s)", http_port,
                        EVENTS_PATH, HEALTH_PATH, READY_PATH, METRICS_PATH)  # fmt: skip
            await stop.wait()
        else:
            await _serve_socket_mode(service, settings.slack_app_token, stop)
    finally:
        checking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checking


@contextlib.asynccontextmanager
async def _listen(door: SlackDoor, host: str, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(door.web_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()


async def _serve_socket_mode(service: SlackService, app_token: str, stop: asyncio.Event) -> None:
    try:  # the socket client would retry a rejected token forever: check it once, here
        await service.front.client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown")
        raise StartupError(
            f"Slack rejected SLACK_APP_TOKEN ({code}): it must be an app-level token (xapp-...) "
            "with the connections:write scope"
        ) from None
    handler = AsyncSocketModeHandler(service.app, app_token, web_client=service.front.client)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped upstream
    log.warning("revq is connected to Slack over Socket Mode")
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # untyped upstream

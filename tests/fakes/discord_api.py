"""A small local fake of Discord's REST API (v10) and gateway, for end-to-end tests with a real discord.py client.

Point discord.py at it instead of mocking it::

    async with FakeDiscord() as fake:
        with fake.point_discord_here():  # or set DISCORD_API_URL / DISCORD_GATEWAY_URL from fake.env()
            client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
            ...  # start the client with FakeDiscord.TOKEN, wait_until_ready()
            await fake.dispatch("INTERACTION_CREATE", fake.slash_command("revq", "start", guild_id=GUILD_ID))
            [callback] = await fake.wait_for_call("POST", r"/interactions/\\d+/[^/]+/callback")

What discord.py 2.7 relies on, and so the fake does:
- All REST goes to ``discord.http.Route.BASE``, interaction callbacks and webhooks included (they build the same
  ``Route``). A Client connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` directly; an AutoShardedClient without
  ``shard_count`` asks GET /gateway/bot for the URL.
- It asks for ``compress=zlib-stream`` (``zstd-stream`` if zstandard is installed) and only decompresses binary
  frames, so the fake answers zlib-stream with one zlib stream flushed with Z_SYNC_FLUSH, and anything else as text.
- A 429 is waited out only with a ``Via`` header and a JSON body with ``retry_after``; otherwise it raises.
- Interaction callbacks are posted with ``?with_response=1``; the answer must be JSON
  ``{"interaction": {...}, "resource": {...}}`` (an empty 204 breaks ``InteractionCallbackResponse``).
- The client dispatches ``ready`` only ``guild_ready_timeout`` (default 2 s) after the last GUILD_CREATE, and
  every IDENTIFY after a client's first waits 5 s in ``before_identify_hook``: tests shorten both.

Like Discord, the fake rejects what Discord would reject (unknown channels, double acknowledgements, followups
before the callback, empty or over-long messages, posts and threads in a channel where the bot lacks the
permission) with Discord's JSON errors, and echoes every non-ephemeral message the bot creates back as
MESSAGE_CREATE. The bot's permissions in a channel are @everyone's, changed by the channel's overwrites for
@everyone and for the bot (`set_permissions`); it has no other role.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import itertools
import json
import math
import re
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yarl
from aiohttp import WSCloseCode, WSMsgType, web
from discord.gateway import DiscordWebSocket
from discord.http import Route

APP_ID = 1100000000000000001
BOT_USER_ID = 1100000000000000002  # distinct from APP_ID on purpose, so code mixing them up fails
GUILD_ID = 1100000000000000100
CHANNEL_ID = 1100000000000000101
USER_ID = 1100000000000000200

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL, LOADING, COMPONENTS_V2 = 1 << 6, 1 << 7, 1 << 15
GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
ALL_PERMISSIONS = str((1 << 53) - 1)
EVERYONE_PERMISSIONS = 1071698660929  # what a new server's @everyone may do: view, send, embed, threads, ...
ADMINISTRATOR, MANAGE_GUILD, VIEW_CHANNEL, SEND_MESSAGES = 1 << 3, 1 << 5, 1 << 10, 1 << 11
EMBED_LINKS, READ_MESSAGE_HISTORY, CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS = 1 << 14, 1 << 16, 1 << 35, 1 << 38
THREAD_TYPES = (10, 11, 12)
# Which callback types each interaction type accepts (ping, command, component, autocomplete, modal submit).
CALLBACKS_ALLOWED = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass
class Request:
    """One HTTP request the fake received."""

    method: str
    path: str  # below /api/v10, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any  # the JSON body, or a multipart body's payload_json; None without a body
    files: dict[str, bytes]  # filename -> content, for multipart uploads
    headers: dict[str, str]  # without Authorization
    authorized: bool  # whether an Authorization header was sent
    at: float  # time.monotonic() on arrival
    status: int = 0  # what the fake answered


@dataclass
class FakeGuild:
    id: int = GUILD_ID
    name: str = "Fake Guild"
    channels: dict[int, str] = field(default_factory=lambda: {CHANNEL_ID: "general"})  # text channel id -> name
    member_ids: tuple[int, ...] = (USER_ID,)
    everyone_permissions: int = EVERYONE_PERMISSIONS


@dataclass
class GatewaySession:
    """One gateway connection, from HELLO to close."""

    ws: web.WebSocketResponse = field(repr=False)
    zlib_stream: bool
    # The IDENTIFY payload (token removed) this session started with, or the one it resumed.
    identify: dict[str, Any] | None = field(default=None, repr=False)
    session_id: str | None = None
    seq: int = 0
    ready: bool = False  # READY (or RESUMED) was sent
    closed: bool = False
    _compressor: Any = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def shard(self) -> tuple[int, int]:
        shard = (self.identify or {}).get("shard") or [0, 1]
        return int(shard[0]), int(shard[1])

    @property
    def intents(self) -> int:
        return int((self.identify or {}).get("intents") or 0)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        async with self._lock:  # frames must leave in the order they were compressed and numbered
            seq = None
            if op == 0:
                self.seq += 1
                seq = self.seq
            text = json.dumps({"op": op, "d": data, "s": seq, "t": event})
            if not self.zlib_stream:
                await self.ws.send_str(text)
                return
            if self._compressor is None:
                self._compressor = zlib.compressobj()
            frame = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(frame)


@dataclass
class _Interaction:
    payload: dict[str, Any]
    callback_type: int | None = None
    original_id: int | None = None  # the @original message


@dataclass
class _RateLimit:
    method: str
    pattern: str
    retry_after: float
    global_: bool
    remaining: int


class _Override:
    """Route.BASE and DEFAULT_GATEWAY pointed at the fake; restore() (or leaving the with block) undoes it."""

    def __init__(self, api_url: str, gateway_url: str) -> None:
        self._saved: tuple[str, yarl.URL] | None = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = api_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore(self) -> None:
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    def __enter__(self) -> _Override:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py decodes a body only if Content-Type is exactly "application/json" (no charset), as Discord sends it.
    data = json.dumps(body).encode()
    return web.Response(body=data, status=status, headers=headers, content_type="application/json")


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _invalid_form(problem: str) -> web.Response:
    errors = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": problem}]}
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, status=400)


def _walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a tree (action rows, labels, containers, sections and their accessories)."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        children += [component[key] for key in ("component", "accessory") if isinstance(component.get(key), dict)]
        yield from _walk(children)


def _number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy with an `id` on every component, numbered in order as Discord does when none was given."""
    numbered = copy.deepcopy(components)
    taken = {c["id"] for c in _walk(numbered) if "id" in c}
    free = (n for n in itertools.count(1) if n not in taken)
    for component in _walk(numbered):
        component.setdefault("id", next(free))
    return numbered


def _message_problem(body: Mapping[str, Any], *, edit: bool = False) -> str | None:
    """Why Discord would refuse this message body, or None. Edits may leave every field out."""
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    components = body.get("components") or []
    flags = int(body.get("flags") or 0)
    if len(content) > 2000:
        return "content: Must be 2000 or fewer in length."
    if len(embeds) > 10:
        return "embeds: Must be 10 or fewer in length."
    if flags & COMPONENTS_V2 and (content or embeds):
        return "content/embeds: Cannot be used with the IS_COMPONENTS_V2 flag."
    if not flags & COMPONENTS_V2 and len(components) > 5:
        return "components: Must be 5 or fewer in length."
    for component in _walk(components):
        if len(str(component.get("custom_id") or "")) > 100:
            return "custom_id: Must be 100 or fewer in length."
        if len(str(component.get("label") or "")) > 80:
            return "label: Must be 80 or fewer in length."
        if len(component.get("options") or []) > 25:
            return "options: Must be 25 or fewer in length."
    if not edit and not (content or embeds or components or body.get("attachments") or body.get("poll")):
        return "Cannot send an empty message"
    return None


def _modal_problem(modal: Mapping[str, Any]) -> str | None:
    title, components = str(modal.get("title") or ""), modal.get("components") or []
    if not 1 <= len(title) <= 45:
        return "title: Must be between 1 and 45 in length."
    if not 1 <= len(components) <= 5:
        return "components: Must be between 1 and 5 in length."
    if not 1 <= len(str(modal.get("custom_id") or "")) <= 100:
        return "custom_id: Must be between 1 and 100 in length."
    if any(len(str(c.get("label") or "")) > 45 for c in components if c.get("type") == 18):
        return "label: Must be 45 or fewer in length."
    return None


def _option(name: str, value: Any) -> dict[str, Any]:
    """A command option; a dict with a "type" is taken as given (e.g. a user option with "resolved" elsewhere)."""
    if isinstance(value, dict) and "type" in value:
        return {"name": name, **value}
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
    return {"name": name, "type": kind, "value": value}


class FakeDiscord:
    """Discord's REST API (/api/v10/...) and gateway (/gateway) on 127.0.0.1, for one bot application."""

    TOKEN = "fake-token"

    def __init__(
        self,
        *,
        app_id: int = APP_ID,
        bot_user_id: int = BOT_USER_ID,
        bot_name: str = "revq",
        token: str = TOKEN,
        guilds: list[FakeGuild] | None = None,
        recommended_shards: int = 1,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        self.app_id, self.bot_user_id, self.bot_name, self.token = app_id, bot_user_id, bot_name, token
        self.guilds = [FakeGuild()] if guilds is None else guilds
        self.recommended_shards = recommended_shards
        self.allowed_privileged_intents = allowed_privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms

        self.requests: list[Request] = []
        self.sessions: list[GatewaySession] = []
        self.gateway_received: list[dict[str, Any]] = []  # every payload clients sent on the gateway, tokens removed
        self.messages: dict[int, dict[str, Any]] = {}  # every message the fake knows, by id
        self.modals: list[dict[str, Any]] = []  # modals the bot opened (callback type 9), components numbered
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # registered commands, by guild id (None: global)
        self.channels: dict[int, dict[str, Any]] = {}  # guild text channels and DM channels, by id
        self.interactions: dict[str, _Interaction] = {}  # dispatched interactions, by token
        self._sent: list[tuple[str, dict[str, Any]]] = []  # (kind, payload) of every message-creating request
        self._dm_by_user: dict[int, int] = {}
        self._command_ids: dict[str, int] = {}
        self._rate_limits: list[_RateLimit] = []
        self._override: _Override | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._last_snowflake = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        for guild in self.guilds:
            for channel_id, name in guild.channels.items():
                self.channels[channel_id] = self._text_channel(channel_id, guild.id, name)
        self._routes: list[tuple[str, re.Pattern[str], Callable[[Request, re.Match[str]], web.Response], bool]] = []
        for method, pattern, handler, needs_bot_auth in [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(\d+)", self._get_user, True),
            ("POST", r"/users/@me/channels", self._open_dm, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway, True),
            ("GET", r"/(?:oauth2/)?applications/@me", self._get_application, True),
            ("GET|PUT", r"/applications/(\d+)(?:/guilds/(\d+))?/commands", self._commands, True),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback, False),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup, False),
            ("GET|PATCH|DELETE", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", self._webhook_message, False),
            ("GET", r"/channels/(\d+)", self._get_channel, True),
            ("POST", r"/channels/(\d+)/typing", self._typing, True),
            ("POST", r"/channels/(\d+)/messages", self._post_message, True),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._start_thread, True),
            ("GET", r"/channels/(\d+)/messages", self._history, True),
            ("GET|PATCH|DELETE", r"/channels/(\d+)/messages/(\d+)", self._channel_message, True),
        ]:
            self._routes.append((method, re.compile(pattern), handler, needs_bot_auth))

    # -- lifecycle and wiring --

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_route("*", "/{path:.*}", self._rest)
        app.on_shutdown.append(self._close_sockets)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._override is not None:
            self._override.restore()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        return {"DISCORD_API_URL": self.api_url, "DISCORD_GATEWAY_URL": self.gateway_url}

    def point_discord_here(self) -> _Override:
        """Set Route.BASE and DEFAULT_GATEWAY now; use as a context manager or call .restore() (stop() also does)."""
        self._override = _Override(self.api_url, self.gateway_url)
        return self._override

    # -- configuration and inspection --

    def rate_limit_next(
        self, method: str, path_pattern: str, retry_after: float = 0.2, global_: bool = False, count: int = 1
    ) -> None:
        """Answer the next `count` requests matching (method, fullmatch of path_pattern) with a 429."""
        self._rate_limits.append(_RateLimit(method.upper(), path_pattern, retry_after, global_, count))

    async def set_permissions(self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0) -> None:
        """Set a channel's permission overwrite for a member (the bot, say) or, given the guild id, @everyone;
        a connected client is told with CHANNEL_UPDATE, as Discord does."""
        channel = self.channels[channel_id]
        kind = 0 if str(target_id) == channel.get("guild_id") else 1
        kept = [o for o in channel["permission_overwrites"] if o["id"] != str(target_id)]
        overwrite = {"id": str(target_id), "type": kind, "allow": str(allow), "deny": str(deny)}
        channel["permission_overwrites"] = [*kept, overwrite]
        if self.live_sessions():
            await self.dispatch("CHANNEL_UPDATE", copy.deepcopy(channel))

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel, as a server admin would: REST answers 404 for it from now on."""
        channel = self.channels.pop(channel_id)
        if self.live_sessions():
            await self.dispatch("CHANNEL_DELETE", channel)

    def bot_permissions(self, channel_id: int) -> int:
        """The bot's permissions in a channel as Discord computes them: @everyone's, then the channel's
        overwrite for @everyone, then its overwrite for the bot. Threads take their parent's; DMs allow all."""
        channel = self.channels[channel_id]
        if channel.get("type") in THREAD_TYPES:
            channel = self.channels[int(channel["parent_id"])]
        guild = next((g for g in self.guilds if str(g.id) == channel.get("guild_id")), None)
        if guild is None:
            return int(ALL_PERMISSIONS)
        allowed = guild.everyone_permissions
        if allowed & ADMINISTRATOR:
            return int(ALL_PERMISSIONS)
        for overwrite in sorted(channel["permission_overwrites"], key=lambda o: int(o["type"])):
            if overwrite["id"] in (str(guild.id), str(self.bot_user_id)):
                allowed = (allowed & ~int(overwrite["deny"])) | int(overwrite["allow"])
        return allowed

    def calls(self, method: str, path_regex: str) -> list[Request]:
        """Recorded requests with this method whose path (below /api/v10) fully matches path_regex."""
        return [r for r in self.requests if r.method == method.upper() and re.fullmatch(path_regex, r.path)]

    async def wait_for_call(self, method: str, path_regex: str, count: int = 1, timeout: float = 5.0) -> list[Request]:
        await self._wait(
            lambda: len(self.calls(method, path_regex)) >= count, timeout, f"{count} {method} {path_regex}"
        )
        return self.calls(method, path_regex)

    async def wait_connected(self, n: int = 1, timeout: float = 5.0) -> list[GatewaySession]:
        """Wait until `n` open gateway sessions were sent READY (or RESUMED); return the open ones."""
        await self._wait(lambda: len(self.live_sessions()) >= n, timeout, f"{n} ready gateway session(s)")
        return self.live_sessions()

    async def wait_ready(self, n: int = 1, timeout: float = 5.0) -> list[GatewaySession]:
        """Same as wait_connected: the fake cannot see the client's own ready event (see guild_ready_timeout)."""
        return await self.wait_connected(n, timeout)

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if s.ready and not s.closed]

    @property
    def identifies(self) -> list[dict[str, Any]]:
        return [m["d"] for m in self.gateway_received if m.get("op") == 2]

    def messages_sent(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every message payload the bot sent: kinds "channel", "callback" (type 4/7 data), "followup", "edit"."""
        return [payload for k, payload in self._sent if kind in (None, k)]

    def message(self, message_id: int | str) -> dict[str, Any]:
        return copy.deepcopy(self.messages[int(message_id)])

    def message_with_component(self, custom_id: str) -> dict[str, Any]:
        """The newest message holding a component with this custom_id (to carry into a click)."""
        for message in reversed(self.messages.values()):
            if any(c.get("custom_id") == custom_id for c in _walk(message.get("components") or [])):
                return copy.deepcopy(message)
        raise AssertionError(f"no message has a component with custom_id {custom_id!r}")

    def original_response(self, interaction: Mapping[str, Any]) -> dict[str, Any] | None:
        original = self.interactions[interaction["token"]].original_id
        return None if original is None else self.message(original)

    def last_modal(self) -> dict[str, Any]:
        if not self.modals:
            raise AssertionError("the bot has not opened a modal")
        return copy.deepcopy(self.modals[-1])

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages everyone can see in a channel (not ephemeral ones), oldest first."""
        return [
            copy.deepcopy(m)
            for _, m in sorted(self.messages.items())
            if m["channel_id"] == str(channel_id) and not m["flags"] & EPHEMERAL
        ]

    def dm_channel_id(self, user_id: int) -> int:
        """The id of the DM channel between the bot and this user (stable, created on first use)."""
        if user_id not in self._dm_by_user:
            channel_id = self._snowflake()
            self._dm_by_user[user_id] = channel_id
            self.channels[channel_id] = {
                **{"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0},
                "recipients": [self._user(user_id)],
            }
        return self._dm_by_user[user_id]

    # -- payload builders --

    def slash_command(
        self,
        name: str,
        subcommand: str | None = None,
        options: Mapping[str, Any] | None = None,
        user_id: int = USER_ID,
        guild_id: int | None = None,
        channel_id: int | None = None,
        *,
        context: int | None = None,
        command_guild_id: int | None = None,
        focused: str | None = None,
        member_permissions: int | None = None,
        user_install: bool = False,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for /name [subcommand] options; in a DM (context 1) without guild_id.

        context=2 is a user-installed command in someone else's private channel; command_guild_id is set for
        commands registered to a guild; focused makes it an autocomplete (type 4) focused on that option.
        member_permissions are the invoking member's (default: all); user_install makes it a command of revq
        added to the person's own account, used in a server (any guild_id, known to the fake or not).
        Channel options (`channel_option`) are resolved in the payload, as Discord does.
        """
        opts = [_option(key, value) for key, value in (options or {}).items()]
        for opt in opts:
            if opt["name"] == focused:
                opt["focused"] = True
        permissions = ALL_PERMISSIONS if member_permissions is None else str(member_permissions)
        channels = {o["value"]: self._resolved_channel(int(o["value"]), permissions) for o in opts if o["type"] == 7}
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        command_id = self._command_id(name, command_guild_id)
        data: dict[str, Any] = {"id": str(command_id), "name": name, "type": 1, "options": opts}
        if channels:
            data["resolved"] = {"channels": channels}
        if command_guild_id is not None:
            data["guild_id"] = str(command_guild_id)
        kind = 2 if focused is None else 4
        return self._interaction(
            kind, data, user_id, guild_id, channel_id, context, permissions=permissions, user_install=user_install
        )

    @staticmethod
    def channel_option(channel_id: int) -> dict[str, Any]:
        """A channel option's value, for slash_command's options."""
        return {"type": 7, "value": str(channel_id)}

    def _resolved_channel(self, channel_id: int, permissions: str) -> dict[str, Any]:
        channel = self.channels.get(channel_id) or {"id": str(channel_id), "type": 0, "name": "elsewhere"}
        keys = ("id", "type", "name", "parent_id", "thread_metadata")
        resolved = {key: channel[key] for key in keys if key in channel}
        return resolved | {"permissions": permissions}

    def autocomplete(
        self, name: str, subcommand: str | None, options: Mapping[str, Any], focused: str, **kwargs: Any
    ) -> dict[str, Any]:
        return self.slash_command(name, subcommand, options, focused=focused, **kwargs)

    def button_click(
        self, custom_id: str, message: Mapping[str, Any] | int, user_id: int = USER_ID, guild_id: int | None = None
    ) -> dict[str, Any]:
        """A button press on `message` (a message payload or the id of one the fake knows), where that message is."""
        return self._component(custom_id, {"component_type": 2}, message, user_id, guild_id)

    def select_submit(
        self,
        custom_id: str,
        values: list[str],
        message: Mapping[str, Any] | int,
        user_id: int = USER_ID,
        guild_id: int | None = None,
        component_type: int = 3,
    ) -> dict[str, Any]:
        return self._component(
            custom_id, {"component_type": component_type, "values": values}, message, user_id, guild_id
        )

    def modal_submit(
        self,
        custom_id: str,
        components: list[dict[str, Any]],
        user_id: int = USER_ID,
        guild_id: int | None = None,
        channel_id: int | None = None,
        *,
        message: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = self._interaction(
            5, {"custom_id": custom_id, "components": components}, user_id, guild_id, channel_id
        )
        if message is not None:
            payload["message"] = dict(message)
        return payload

    def modal_values(
        self, values: Mapping[str, str | list[str] | bool], modal: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The submitted `components` for a modal (default: the last one opened) filled in with values by custom_id."""
        modal = modal or self.last_modal()
        unknown = set(values) - {c.get("custom_id") for c in _walk(modal["components"])}
        if unknown:
            raise KeyError(f"the modal has no components with custom_id {sorted(unknown)}")

        def answer(c: dict[str, Any]) -> dict[str, Any]:
            kind, custom_id = c["type"], c.get("custom_id")
            value = values.get(custom_id) if custom_id else None
            base = {"type": kind, "id": c["id"], "custom_id": custom_id}
            if kind == 4:
                return base | {"value": value or ""}
            if kind == 23:
                return base | {"value": bool(value)}
            if kind == 21:
                return base | {"value": value}
            return base | {"values": [value] if isinstance(value, str) else value if isinstance(value, list) else []}

        submitted: list[dict[str, Any]] = []
        for top in modal["components"]:
            if top["type"] == 18:
                submitted.append({"type": 18, "id": top["id"], "component": answer(top["component"])})
            elif top["type"] == 1:  # legacy: a text input in an action row
                submitted.append({"type": 1, "id": top["id"], "components": [answer(c) for c in top["components"]]})
        return submitted

    def message_create(
        self,
        content: str,
        author_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
        bot: bool = False,
        *,
        mentions: tuple[int, ...] = (),
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload from a user; in their DM with the bot unless guild_id is given."""
        if guild_id is None:
            channel_id = channel_id or self.dm_channel_id(author_id)
        else:
            channel_id = channel_id or self._first_channel(guild_id)
        author = self._user(author_id) | {"bot": bot}
        message = self._message(channel_id, {"content": content}, author=author)
        message["mentions"] = [self._user(m) for m in mentions]
        if guild_id is not None:
            message["member"] = {k: v for k, v in self._member(author_id).items() if k != "user"}
        self.messages[int(message["id"])] = message
        return copy.deepcopy(message)

    # -- gateway --

    async def dispatch(self, event: str, data: dict[str, Any], shard: int | None = None) -> list[int]:
        """Send a dispatch to the open session of its shard; return the shard ids it was delivered to.

        The shard is (guild_id >> 22) % shard_count for guild events and 0 otherwise. As Discord does, a
        MESSAGE_CREATE is dropped for a session without the GUILD_MESSAGES/DIRECT_MESSAGES intent, and a guild
        message's content is blanked without MESSAGE_CONTENT (unless the bot wrote it or is mentioned).
        """
        if event == "INTERACTION_CREATE":
            self.interactions[data["token"]] = _Interaction(copy.deepcopy(data))
        sessions = self._sessions_for(data, shard)
        if not sessions:
            raise AssertionError(f"no ready gateway session to send {event} to (sessions: {len(self.sessions)})")
        delivered = []
        for session in sessions:
            payload = self._as_seen_by(session, event, data)
            if payload is not None:
                await session.send(0, payload, event)
                delivered.append(session.shard[0])
        return delivered

    async def disconnect(self, code: int = 4000, shard: int | None = None) -> None:
        """Close open sessions as a gateway restart does; discord.py then RESUMEs (4000 is a resumable code)."""
        for session in self.live_sessions():
            if shard in (None, session.shard[0]):
                session.closed = True  # before the close handshake, so a quick RESUME finds it closed
                await session.ws.close(code=code, message=b"fake disconnect")

    def _sessions_for(self, data: Mapping[str, Any], shard: int | None) -> list[GatewaySession]:
        newest: dict[int, GatewaySession] = {}  # per shard id, the newest session (an old client may linger)
        for session in self.live_sessions():
            shard_id, count = session.shard
            wanted = shard
            if wanted is None:
                wanted = (int(data["guild_id"]) >> 22) % count if data.get("guild_id") else 0
            if shard_id == wanted:
                newest[shard_id] = session
        return list(newest.values())

    def _as_seen_by(self, session: GatewaySession, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if event != "MESSAGE_CREATE":
            return data
        in_guild = bool(data.get("guild_id"))
        if not session.intents & (GUILD_MESSAGES if in_guild else DIRECT_MESSAGES):
            return None
        author_is_bot = int(data["author"]["id"]) == self.bot_user_id
        mentioned = any(int(u["id"]) == self.bot_user_id for u in data.get("mentions", []))
        if in_guild and not session.intents & MESSAGE_CONTENT and not (author_is_bot or mentioned):
            return data | {"content": "", "embeds": [], "attachments": [], "components": []}
        return data

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(timeout=1.0, max_msg_size=0)  # timeout bounds the close handshake
        await ws.prepare(request)
        session = GatewaySession(ws=ws, zlib_stream=request.query.get("compress") == "zlib-stream")
        self.sessions.append(session)
        await session.send(10, {"heartbeat_interval": self.heartbeat_interval_ms})
        try:
            async for msg in ws:  # discord.py sends JSON text frames
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_message(session, json.loads(msg.data))
        finally:
            session.closed = True
            await self._notify()
        return ws

    async def _on_gateway_message(self, session: GatewaySession, message: dict[str, Any]) -> None:
        op, d = message.get("op"), message.get("d")
        data: dict[str, Any] = d if isinstance(d, dict) else {}
        token = data.pop("token", None)
        self.gateway_received.append(message)
        if op == 1:
            await session.send(11, None)
        elif op == 2:
            await self._identify(session, data, token)
        elif op == 6:
            await self._resume(session, data, token)
        elif op == 8:
            await self._send_member_chunk(session, data)
        await self._notify()

    async def _identify(self, session: GatewaySession, data: dict[str, Any], token: str | None) -> None:
        if token != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        if int(data.get("intents") or 0) & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session.identify, session.session_id = data, uuid.uuid4().hex
        shard_id, count = session.shard
        guilds = [g for g in self.guilds if (g.id >> 22) % count == shard_id]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._user(self.bot_user_id) | {"bot": True, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": self._application_flags()},
            "private_channels": [],
            "presences": [],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, count]
        await session.send(0, ready, "READY")
        for guild in guilds:
            await session.send(0, self._guild_create(guild), "GUILD_CREATE")
        session.ready = True

    async def _resume(self, session: GatewaySession, data: dict[str, Any], token: str | None) -> None:
        old = next((s for s in self.sessions if s.session_id == data.get("session_id") and s.closed), None)
        if old is None or token != self.token:
            await session.send(9, False)  # INVALID_SESSION, not resumable: the client identifies again
            return
        session.identify, session.session_id, session.seq = old.identify, old.session_id, old.seq
        old.session_id = None
        await session.send(0, {}, "RESUMED")
        session.ready = True

    async def _send_member_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = next((g for g in self.guilds if g.id == int(data["guild_id"])), None)
        if guild is not None:
            members = [self._member(u) for u in (self.bot_user_id, *guild.member_ids)]
            chunk = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
            await session.send(0, chunk | {"not_found": [], "nonce": data.get("nonce")}, "GUILD_MEMBERS_CHUNK")

    async def _close_sockets(self, app: web.Application) -> None:
        for session in self.sessions:
            if not session.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(session.ws.close(code=WSCloseCode.GOING_AWAY, message=b"stopping"), 2.0)

    # -- REST --

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        body, files = None, {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[value.filename] = value.file.read()
                elif name == "payload_json":  # aiohttp hands over an application/json part as bytes
                    body = json.loads(value if isinstance(value, str) else bytes(value).decode())
        elif request.can_read_body:
            raw = await request.text()
            body = json.loads(raw) if raw.strip() else None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        path = request.path.removeprefix("/api/v10")
        authorized = "Authorization" in request.headers
        rec = Request(request.method, path, query, body, files, headers, authorized, time.monotonic())
        self.requests.append(rec)
        response = self._answer(request, rec)
        rec.status = response.status
        await self._notify()
        return response

    def _answer(self, request: web.Request, rec: Request) -> web.Response:
        limited = self._rate_limited(rec)
        if limited is not None:
            return limited
        if not request.path.startswith("/api/v10/"):
            return _error(404, 0, "404: Not Found")
        for methods, pattern, handler, needs_bot_auth in self._routes:
            match = pattern.fullmatch(rec.path)
            if match is None or rec.method not in methods.split("|"):
                continue
            if needs_bot_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return _error(401, 0, "401: Unauthorized")
            return handler(rec, match)
        return _error(404, 0, "404: Not Found")

    def _rate_limited(self, rec: Request) -> web.Response | None:
        for limit in self._rate_limits:
            if limit.method == rec.method and re.fullmatch(limit.pattern, rec.path):
                limit.remaining -= 1
                if limit.remaining <= 0:
                    self._rate_limits.remove(limit)
                # discord.py retries a 429 only with a Via header (else it assumes a Cloudflare ban).
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(math.ceil(limit.retry_after)),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + limit.retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
                    "X-RateLimit-Bucket": f"fake-{limit.pattern}",
                    "X-RateLimit-Scope": "global" if limit.global_ else "user",
                }
                if limit.global_:
                    headers["X-RateLimit-Global"] = "true"
                body = {"message": "You are being rate limited.", "retry_after": limit.retry_after}
                return _json(body | {"global": limit.global_}, status=429, headers=headers)
        return None

    def _get_me(self, rec: Request, m: re.Match[str]) -> web.Response:
        return _json(self._user(self.bot_user_id) | {"bot": True, "verified": True, "mfa_enabled": False})

    def _get_user(self, rec: Request, m: re.Match[str]) -> web.Response:
        return _json(self._user(int(m[1])))

    def _get_gateway(self, rec: Request, m: re.Match[str]) -> web.Response:
        if rec.path == "/gateway":
            return _json({"url": self.gateway_url})
        limit = {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit})

    def _get_application(self, rec: Request, m: re.Match[str]) -> web.Response:
        return _json(
            {
                **{"id": str(self.app_id), "name": self.bot_name, "icon": None, "description": "", "summary": ""},
                **{"bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "team": None},
                **{"owner": self._user(USER_ID), "bot": self._user(self.bot_user_id) | {"bot": True}},
                **{"flags": self._application_flags(), "interactions_endpoint_url": None},
                "integration_types_config": {"0": {}, "1": {}},
            }
        )

    def _commands(self, rec: Request, m: re.Match[str]) -> web.Response:
        if int(m[1]) != self.app_id:
            return _error(403, 50001, "Missing Access")
        guild_id = int(m[2]) if m[2] else None
        if rec.method == "PUT":
            registered = []
            for command in rec.json or []:
                command_id = self._command_id(command["name"], guild_id)
                entry: dict[str, Any] = {
                    "id": str(command_id),
                    "application_id": str(self.app_id),
                    "version": str(command_id),
                }
                if command.get("default_member_permissions") is not None:  # Discord keeps a bit set as a string
                    entry["default_member_permissions"] = str(command["default_member_permissions"])
                registered.append({"type": 1, "default_member_permissions": None, **command, **entry})
                if guild_id is not None:
                    registered[-1]["guild_id"] = str(guild_id)
            self.commands[guild_id] = registered
        return _json(self.commands.get(guild_id, []))

    def _callback(self, rec: Request, m: re.Match[str]) -> web.Response:
        interaction = self.interactions.get(m[2])
        if interaction is None or interaction.payload["id"] != m[1]:
            return _error(404, 10062, "Unknown interaction")
        if interaction.callback_type is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json or {}
        kind, data = body.get("type"), body.get("data") or {}
        clicked = interaction.payload.get("message")
        allowed = CALLBACKS_ALLOWED.get(interaction.payload["type"], set())
        if kind not in allowed or (kind in (6, 7) and clicked is None):
            return _invalid_form(f"type: callback type {kind} is not valid for this interaction")
        problem = _message_problem(data) if kind == 4 else _modal_problem(data) if kind == 9 else None
        problem = problem or (_message_problem(data, edit=True) if kind == 7 else None)
        if problem is not None:
            return _error(400, 50006, problem) if problem.startswith("Cannot") else _invalid_form(problem)
        message: dict[str, Any] | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            content = data if kind == 4 else {}
            message = self._store(self._message(self._channel_of(interaction), content | {"flags": flags}, interaction))
        elif kind in (6, 7) and clicked is not None:
            message = self.messages.setdefault(int(clicked["id"]), copy.deepcopy(clicked))
            if kind == 7:
                self._apply_edit(message, data)
        elif kind == 9:
            self.modals.append({**data, "components": _number_components(data.get("components") or [])})
        if kind in (4, 7):
            self._sent.append(("callback", data))
        interaction.callback_type = kind
        response: dict[str, Any] = {"interaction": {"id": m[1], "type": interaction.payload["type"]}}
        if message is not None:
            interaction.original_id = int(message["id"])
            response["interaction"] |= {
                "response_message_id": message["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message["flags"] & EPHEMERAL),
            }
            response["resource"] = {"type": kind, "message": message}
        return _json(response)

    def _followup(self, rec: Request, m: re.Match[str]) -> web.Response:
        interaction = self._acknowledged(m[1], m[2])
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        body = rec.json or {}
        problem = _message_problem(body | {"attachments": body.get("attachments") or list(rec.files)})
        if problem is not None:
            return _error(400, 50006, problem) if problem.startswith("Cannot") else _invalid_form(problem)
        self._sent.append(("followup", body))
        original = self.messages.get(interaction.original_id or 0)
        if original is not None and original["flags"] & LOADING:
            # The first followup after a defer fills the "thinking" message; its ephemerality was set by the defer.
            self._apply_edit(original, body | {"flags": original["flags"] & ~LOADING})
            return _json(original)
        return _json(self._store(self._message(self._channel_of(interaction), body, interaction, rec)))

    def _webhook_message(self, rec: Request, m: re.Match[str]) -> web.Response:
        interaction = self._acknowledged(m[1], m[2])
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        message_id = interaction.original_id if m[3] == "@original" else int(m[3])
        message = self.messages.get(message_id or 0)
        if message is None or (m[3] != "@original" and message.get("webhook_id") != str(self.app_id)):
            return _error(404, 10008, "Unknown Message")
        return self._message_action(rec, message)

    def _open_dm(self, rec: Request, m: re.Match[str]) -> web.Response:
        return _json(self.channels[self.dm_channel_id(int((rec.json or {})["recipient_id"]))])

    def _get_channel(self, rec: Request, m: re.Match[str]) -> web.Response:
        channel = self.channels.get(int(m[1]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return self._missing_permission(int(m[1])) or _json(channel)

    def _missing_permission(self, channel_id: int, *needed: int) -> web.Response | None:
        """Discord's answer when the bot may not see the channel (50001) or lacks one of `needed` (50013)."""
        granted = self.bot_permissions(channel_id)
        if not granted & VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if any(not granted & permission for permission in needed):
            return _error(403, 50013, "Missing Permissions")
        return None

    def _typing(self, rec: Request, m: re.Match[str]) -> web.Response:
        return web.Response(status=204) if int(m[1]) in self.channels else _error(404, 10003, "Unknown Channel")

    def _post_message(self, rec: Request, m: re.Match[str]) -> web.Response:
        if int(m[1]) not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        body = rec.json or {}
        in_thread = self.channels[int(m[1])].get("type") in THREAD_TYPES
        needed = [SEND_MESSAGES_IN_THREADS if in_thread else SEND_MESSAGES]
        if body.get("message_reference"):  # a reply
            needed.append(READ_MESSAGE_HISTORY)
        refused = self._missing_permission(int(m[1]), *needed)
        if refused is not None:
            return refused
        problem = _message_problem(body | {"attachments": body.get("attachments") or list(rec.files)})
        if problem is not None:
            return _error(400, 50006, problem) if problem.startswith("Cannot") else _invalid_form(problem)
        self._sent.append(("channel", body))
        return _json(self._store(self._message(int(m[1]), body, None, rec)))

    def _start_thread(self, rec: Request, m: re.Match[str]) -> web.Response:
        """A public thread on a message; like Discord, the thread's id is the message's."""
        channel_id, message_id = int(m[1]), int(m[2])
        channel = self.channels.get(channel_id)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != m[1]:
            return _error(404, 10008, "Unknown Message")
        if channel.get("type") not in (0, 5):
            return _error(400, 50024, "Cannot execute action on this channel type")
        refused = self._missing_permission(channel_id, CREATE_PUBLIC_THREADS)
        if refused is not None:
            return refused
        if message_id in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        body = rec.json or {}
        if not 1 <= len(str(body.get("name") or "")) <= 100:
            return _invalid_form("name: Must be between 1 and 100 in length.")
        metadata: dict[str, Any] = {
            "archived": False,
            "auto_archive_duration": body.get("auto_archive_duration") or 1440,
        }
        metadata |= {"archive_timestamp": _now_iso(), "locked": False, "create_timestamp": _now_iso()}
        thread = {
            **{"id": str(message_id), "type": 10 if channel["type"] == 5 else 11, "guild_id": channel["guild_id"]},
            **{"parent_id": str(channel_id), "owner_id": str(self.bot_user_id), "name": body["name"], "flags": 0},
            **{"message_count": 0, "member_count": 1, "rate_limit_per_user": 0, "last_message_id": None},
            "thread_metadata": metadata,
        }
        self.channels[message_id] = thread
        message["thread"] = thread
        return _json(thread)

    def _history(self, rec: Request, m: re.Match[str]) -> web.Response:
        """A channel's messages, newest first, as GET /channels/{id}/messages pages them (before, limit)."""
        if int(m[1]) not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        before = int(rec.query.get("before") or 2**63)
        limit = min(int(rec.query.get("limit") or 50), 100)
        found = [
            copy.deepcopy(message)
            for message_id, message in sorted(self.messages.items(), reverse=True)
            if message["channel_id"] == m[1] and message_id < before and not message["flags"] & EPHEMERAL
        ]
        return _json(found[:limit])

    def _channel_message(self, rec: Request, m: re.Match[str]) -> web.Response:
        message = self.messages.get(int(m[2]))
        if message is None or message["channel_id"] != m[1] or message["flags"] & EPHEMERAL:
            return _error(404, 10008, "Unknown Message")
        if rec.method == "PATCH" and int(message["author"]["id"]) != self.bot_user_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        return self._message_action(rec, message)

    def _message_action(self, rec: Request, message: dict[str, Any]) -> web.Response:
        """GET, PATCH or DELETE of a stored message."""
        if rec.method == "DELETE":
            del self.messages[int(message["id"])]
            return web.Response(status=204)
        if rec.method == "PATCH":
            body = rec.json or {}
            problem = _message_problem(body, edit=True)
            if problem is not None:
                return _invalid_form(problem)
            self._sent.append(("edit", body))
            self._apply_edit(message, body | {"flags": (int(body.get("flags") or 0) | message["flags"]) & ~LOADING})
        return _json(message)

    # -- model helpers --

    def _snowflake(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(now, self._last_snowflake + 1)
        return self._last_snowflake

    def _command_id(self, name: str, guild_id: int | None) -> int:
        return self._command_ids.setdefault(f"{guild_id}:{name}", self._snowflake())

    def _application_flags(self) -> int:
        # GATEWAY_PRESENCE, GATEWAY_GUILD_MEMBERS and GATEWAY_MESSAGE_CONTENT for the privileged intents enabled
        flags = 0
        for intent, flag in ((1 << 8, 1 << 12), (1 << 1, 1 << 14), (1 << 15, 1 << 18)):
            if self.allowed_privileged_intents & intent:
                flags |= flag
        return flags

    def _user(self, user_id: int) -> dict[str, Any]:
        name = self.bot_name if user_id == self.bot_user_id else f"user{user_id % 10000}"
        user = {"id": str(user_id), "username": name, "global_name": None, "discriminator": "0", "avatar": None}
        return user | {"bot": user_id == self.bot_user_id, "public_flags": 0}

    def _member(self, user_id: int, permissions: str = ALL_PERMISSIONS) -> dict[str, Any]:
        return {
            **{"user": self._user(user_id), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "nick": None},
            **{"avatar": None, "deaf": False, "mute": False, "flags": 0, "pending": False, "premium_since": None},
            **{"permissions": permissions, "communication_disabled_until": None},
        }

    def _guild_create(self, guild: FakeGuild) -> dict[str, Any]:
        everyone: dict[str, Any] = {"id": str(guild.id), "name": "@everyone", "position": 0}
        everyone |= {"permissions": str(guild.everyone_permissions)}
        everyone |= {"color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        members = [self._member(u) for u in (self.bot_user_id, *guild.member_ids)]
        return {
            **{"id": str(guild.id), "name": guild.name, "icon": None, "owner_id": str(guild.member_ids[0])},
            **{"roles": [everyone], "members": members, "member_count": len(members), "large": False},
            **{"channels": [c for c in self.channels.values() if c.get("guild_id") == str(guild.id)]},
            **{"threads": [], "presences": [], "voice_states": [], "emojis": [], "stickers": [], "features": []},
            **{"stage_instances": [], "guild_scheduled_events": [], "unavailable": False},
            **{"joined_at": "2024-01-01T00:00:00+00:00", "preferred_locale": "en-US", "verification_level": 0},
            **{"mfa_level": 0, "nsfw_level": 0, "premium_tier": 0, "system_channel_id": None, "afk_timeout": 300},
        }

    @staticmethod
    def _text_channel(channel_id: int, guild_id: int, name: str) -> dict[str, Any]:
        return {
            **{"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name, "position": 0},
            **{"permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None},
            **{"last_message_id": None, "rate_limit_per_user": 0, "flags": 0},
        }

    def _first_channel(self, guild_id: int) -> int:
        return next(int(c["id"]) for c in self.channels.values() if c.get("guild_id") == str(guild_id))

    def _channel_of(self, interaction: _Interaction) -> int:
        return int(interaction.payload["channel_id"])

    def _acknowledged(self, app_id: str, token: str) -> _Interaction | None:
        """The interaction behind a webhook token, once it has been acknowledged (else Discord has no webhook)."""
        interaction = self.interactions.get(token)
        if int(app_id) != self.app_id or interaction is None or interaction.callback_type is None:
            return None
        return interaction

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        context: int | None = None,
        *,
        permissions: str = ALL_PERMISSIONS,
        user_install: bool = False,
    ) -> dict[str, Any]:
        interaction_id = self._snowflake()
        payload: dict[str, Any] = {
            **{"id": str(interaction_id), "application_id": str(self.app_id), "type": kind, "data": data},
            **{"token": f"fake-interaction-token-{interaction_id}", "version": 1, "locale": "en-US"},
            **{"app_permissions": ALL_PERMISSIONS, "entitlements": [], "attachment_size_limit": 10 * 1024 * 1024},
        }
        if guild_id is not None:
            if user_install and not any(g.id == guild_id for g in self.guilds):  # a server without the bot
                channel = self._text_channel(channel_id or self._snowflake(), guild_id, "elsewhere")
            else:
                channel = self.channels[channel_id or self._first_channel(guild_id)]
            owners = {"1": str(user_id)} if user_install else {"0": str(guild_id)}
            payload |= {
                **{"guild_id": str(guild_id), "guild": {"id": str(guild_id), "locale": "en-US", "features": []}},
                **{"guild_locale": "en-US", "member": self._member(user_id, permissions), "context": 0},
                "authorizing_integration_owners": owners,
            }
        elif (context or 1) == 1:  # in the user's DM with the bot
            channel = self.channels[channel_id or self.dm_channel_id(user_id)]
            payload |= {
                "user": self._user(user_id),
                "context": 1,
                "authorizing_integration_owners": {"1": str(user_id)},
            }
        else:  # a user-installed command in someone else's DM or group DM: not a channel the bot can post in
            other = self._user(user_id + 1)
            channel = {"id": str(channel_id or self._snowflake()), "type": 1, "flags": 0, "recipients": [other]}
            payload |= {
                "user": self._user(user_id),
                "context": context,
                "authorizing_integration_owners": {"1": str(user_id)},
            }
        payload |= {"channel": channel, "channel_id": channel["id"]}
        return payload

    def _component(
        self,
        custom_id: str,
        data: dict[str, Any],
        message: Mapping[str, Any] | int,
        user_id: int,
        guild_id: int | None,
    ) -> dict[str, Any]:
        carried = self.message(message) if isinstance(message, int) else copy.deepcopy(dict(message))
        guild_id = guild_id or (int(carried["guild_id"]) if carried.get("guild_id") else None)
        channel_id = int(carried["channel_id"])
        payload = self._interaction(3, {"custom_id": custom_id, **data}, user_id, guild_id, channel_id)
        payload["message"] = carried  # discord.py needs it: DynamicItems are rebuilt from the message's components
        return payload

    def _message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        interaction: _Interaction | None = None,
        rec: Request | None = None,
        *,
        author: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self._snowflake()
        attachments = [
            {"id": str(self._snowflake()), "filename": name, "size": len(content)}
            | {"url": f"http://127.0.0.1:{self.port}/attachments/{message_id}/{name}"}
            | {"proxy_url": f"http://127.0.0.1:{self.port}/attachments/{message_id}/{name}"}
            for name, content in (rec.files if rec else {}).items()
        ]
        message: dict[str, Any] = {
            **{"id": str(message_id), "type": 0, "channel_id": str(channel_id)},
            **{"author": author or self._user(self.bot_user_id), "content": body.get("content") or ""},
            **{"timestamp": _now_iso(), "edited_timestamp": None, "tts": bool(body.get("tts"))},
            **{"mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": attachments},
            **{"embeds": body.get("embeds") or [], "pinned": False, "flags": int(body.get("flags") or 0)},
            "components": _number_components(body.get("components") or []),
        }
        guild_id = self.channels.get(channel_id, {}).get("guild_id")
        if guild_id is not None:
            message["guild_id"] = guild_id
        if interaction is not None:
            source = interaction.payload
            user = source.get("user") or source["member"]["user"]
            message |= {"webhook_id": str(self.app_id), "application_id": str(self.app_id)}
            message["type"] = 20 if source["type"] == 2 else 0
            message["interaction_metadata"] = {"id": source["id"], "type": source["type"], "user": user} | {
                "authorizing_integration_owners": source["authorizing_integration_owners"],
            }
        return message

    def _store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Keep a message the bot created and, like Discord, echo it on the gateway unless it is ephemeral."""
        self.messages[int(message["id"])] = message
        if not message["flags"] & EPHEMERAL:
            task = asyncio.create_task(self._echo(copy.deepcopy(message)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message

    async def _echo(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(AssertionError, ConnectionError, RuntimeError):  # nobody listening is fine
            await self.dispatch("MESSAGE_CREATE", message)

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key in ("content", "embeds", "flags", "poll"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "components" in body:
            message["components"] = _number_components(body["components"] or [])
        message["edited_timestamp"] = _now_iso()

    # -- waiting --

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(done)
        except TimeoutError:
            seen = [f"{r.method} {r.path} -> {r.status}" for r in self.requests]
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; requests: {seen}") from None

"""A small local fake of Slack's Web API, response URLs and Socket Mode, for end-to-end tests.

Point the real clients at it instead of mocking them::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=FakeSlack.BOT_TOKEN, base_url=fake.api_url)
        await client.chat_postMessage(channel="C1", text="hi")
        assert fake.calls_to("chat.postMessage")[0].args["text"] == "hi"

Errors are answered the way Slack answers them: HTTP 200 with ``{"ok": false, "error": ...}``
(slack_sdk raises ``SlackApiError``), except failures injected with ``fail()`` (e.g. HTTP 429) and
response URL posts that break a limit, which get HTTP 400 with the same JSON body.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSCloseCode, WSMsgType, web
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
APP_ID = "A0TEST"

# Parameters slack_sdk may send as JSON-encoded strings inside form data.
_JSON_ARGS = ("blocks", "view", "attachments", "options")
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"})
_VIEW_METHODS = frozenset({"views.open", "views.publish", "views.update", "views.push"})


@dataclass
class Call:
    """One request the fake received."""

    method: str  # e.g. "chat.postMessage", or "response_url" for posts to a response URL
    args: dict[str, Any]  # query + body parameters (without `token`); JSON-in-string args decoded
    token: str | None  # from "Authorization: Bearer ..." or the `token` parameter
    path: str  # e.g. "/api/chat.postMessage" or "/respond/r1"


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    remaining: int


def _text(obj: Any) -> str:
    """The text of a text object ({"type": "plain_text", "text": ...}) or of a plain string."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def _block_texts(node: Any) -> Iterator[str]:
    """Every string stored under a "text" key anywhere in a block tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _block_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _block_texts(item)


def limit_error(method: str, args: Mapping[str, Any]) -> str | None:
    """The error Slack would answer for a message or view over its limits, or None if it is acceptable.

    These mirror Slack's documented limits (Block Kit block reference, chat.postMessage and views.* docs):
    messages (chat.postMessage/postEphemeral/update, response URLs): at most 50 blocks, header text <= 150
    chars, section text <= 3000 chars, context <= 10 elements (else ``invalid_blocks``); all block text
    <= 13,000 chars (``msg_blocks_too_long``); ``text`` <= 40,000 chars (``msg_too_long``); some text,
    blocks or attachments (``no_text``). Views: at most 100 blocks, the same per-block limits, a modal
    title/submit/close <= 24 chars and private_metadata <= 3000 chars (else ``invalid_arguments``).
    """
    is_view = method in _VIEW_METHODS
    if is_view:
        view = args.get("view")
        if not isinstance(view, dict):
            return "invalid_arguments"
        blocks: Any = view.get("blocks", [])
        max_blocks, bad = 100, "invalid_arguments"
        if any(len(_text(view.get(k))) > 24 for k in ("title", "submit", "close")):
            return bad
        if len(str(view.get("private_metadata") or "")) > 3000:
            return bad
    elif method in _MESSAGE_METHODS:
        blocks = args.get("blocks")
        max_blocks, bad = 50, "invalid_blocks"
        text = str(args.get("text") or "")
        if not (text or blocks or args.get("attachments") or args.get("delete_original")):
            return "no_text"
        if len(text) > 40_000:
            return "msg_too_long"
        if blocks is None:
            return None
    else:
        return None

    if not isinstance(blocks, list) or len(blocks) > max_blocks:
        return bad
    for block in blocks:
        if not isinstance(block, dict):
            return bad
        kind = block.get("type")
        if kind == "header" and len(_text(block.get("text"))) > 150:
            return bad
        if kind == "section" and len(_text(block.get("text"))) > 3000:
            return bad
        if kind == "context" and len(block.get("elements") or []) > 10:
            return bad
    if not is_view and sum(len(t) for t in _block_texts(blocks)) > 13_000:
        return "msg_blocks_too_long"
    return None


class FakeSlack:
    """Slack's Web API (/api/<method>), response URLs (/respond/<name>) and Socket Mode (/socket) on 127.0.0.1."""

    BOT_TOKEN = "xoxb-test-token"
    APP_TOKEN = "xapp-test-token"
    TEAM_ID = "T0TEST"
    BOT_USER_ID = "UBOT"
    BOT_ID = "BBOT"
    # A second workspace, installed through OAuth (oauth.v2.access hands out its token).
    T2_TOKEN = "xoxb-t2-token"
    T2_TEAM_ID = "T2"
    T2_BOT_USER_ID = "UBOT2"
    CLIENT_ID = "111.222"
    CLIENT_SECRET = "client-secret-value"
    OAUTH_CODE = "oauth-code-1"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.admins: set[str] = set()  # user ids that users.info reports as admins
        self.owners: set[str] = set()  # user ids that users.info reports as workspace owners
        # Channels conversations.info knows, by id: {"name", "is_member", "is_archived", "is_private"}.
        # chat.postMessage to one revq is not in, or that is archived, fails as Slack's does; to a
        # channel in `deleted`, with channel_not_found. Other channels accept every post.
        self.channels: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> the client's ack message
        self.envelopes: list[dict[str, Any]] = []  # envelopes sent with send_envelope()
        self.socket_connections = 0  # how many times a Socket Mode client connected
        self._failures: dict[str, list[_Failure]] = {}
        self._sockets: list[web.WebSocketResponse] = []  # open sockets that were sent hello
        self._changed = asyncio.Condition()  # notified on every call, ack and (dis)connection
        self._ts = 0
        self._view_ids = 0
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self.port = 0

    # -- lifecycle --

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.on_shutdown.append(self._close_sockets)
        # A short shutdown timeout so stop() never waits long on stuck handlers.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._stopping = False

    async def stop(self) -> None:
        """Stop listening, close any Socket Mode connection, and wait for handlers (at most ~2s)."""
        if self._runner is None:
            return
        self._stopping = True  # a reconnecting client is refused from here on
        runner, self._runner = self._runner, None
        await runner.cleanup()  # stops the listener first, then runs _close_sockets

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/respond/{name}"

    # -- inspection and configuration --

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` calls to `method` were received; return calls_to(method)."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} call(s) to {method}; methods seen: {seen}"
            ) from None
        return self.calls_to(method)

    def fail(
        self, method: str, *, status: int = 429, error: str = "ratelimited", retry_after: int | None = 0, times: int = 1
    ) -> None:
        """Answer the next `times` calls to `method` (or "response_url") with this HTTP status and error."""
        self._failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def reset(self) -> None:
        """Forget recorded calls; keeps admins, channels, pending failures and Socket Mode state."""
        self.calls.clear()

    def add_channel(
        self, channel: str, name: str, *, member: bool = True, archived: bool = False, private: bool = False
    ) -> None:
        """A channel conversations.info describes; revq is in it when `member`."""
        self.channels[channel] = {"name": name, "is_member": member, "is_archived": archived, "is_private": private}

    def delete_channel(self, channel: str) -> None:
        """The channel is gone: conversations.info and chat.postMessage answer channel_not_found."""
        self.channels.pop(channel, None)
        self.deleted.add(channel)

    def _post_error(self, channel: str) -> str | None:
        """Why Slack would refuse a post by revq in `channel`, or None."""
        if channel in self.deleted:
            return "channel_not_found"
        known = self.channels.get(channel)
        if known is None:
            return None
        if known["is_archived"]:
            return "is_archived"
        return None if known["is_member"] else "not_in_channel"

    # -- Socket Mode --

    async def socket_connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected (and was sent hello)."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self._live_socket() is not None)
        except TimeoutError:
            raise AssertionError(f"no Socket Mode client connected within {timeout}s") from None

    async def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
    ) -> str:
        """Send an envelope ("events_api", "slash_commands", "interactive") to the newest client; return its id."""
        ws = self._live_socket()
        if ws is None:
            raise AssertionError("no Socket Mode client is connected")
        envelope = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        self.envelopes.append(envelope)
        await ws.send_json(envelope)
        return str(envelope["envelope_id"])

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the client's ack ({"envelope_id": ..., "payload": ...}) of an envelope and return it."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: envelope_id in self.acks)
        except TimeoutError:
            raise AssertionError(
                f"no ack for envelope {envelope_id} within {timeout}s; acked: {list(self.acks)}"
            ) from None
        return self.acks[envelope_id]

    def _live_socket(self) -> web.WebSocketResponse | None:
        live = [ws for ws in self._sockets if not ws.closed]
        return live[-1] if live else None

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if self._stopping:
            return web.Response(status=503, text="stopping")
        # timeout bounds the close handshake, so stop() cannot hang on a silent client.
        ws = web.WebSocketResponse(timeout=1.0)
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._sockets.append(ws)
        self.socket_connections += 1
        await self._notify()
        try:
            async for msg in ws:  # pings are answered by aiohttp (autoping)
                if msg.type != WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(msg.data)
                    # An ack has an envelope_id and no type; anything else is ignored.
                    if isinstance(data, dict) and "envelope_id" in data and "type" not in data:
                        self.acks[str(data["envelope_id"])] = data
                        await self._notify()
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping"), 2.0)

    # -- HTTP --

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _record(self, request: web.Request, method: str) -> Call:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type.startswith("multipart/"):
                form = await request.post()
                args.update({k: v if isinstance(v, str) else getattr(v, "filename", v) for k, v in form.items()})
            else:
                raw = await request.text()
                if request.content_type == "application/json" or raw.lstrip().startswith("{"):
                    body = json.loads(raw) if raw.strip() else {}
                    if isinstance(body, dict):
                        args.update(body)
                else:
                    args.update(parse_qsl(raw, keep_blank_values=True))
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        call = Call(method=method, args=args, token=token, path=request.path)
        self.calls.append(call)
        await self._notify()
        return call

    def _injected_failure(self, method: str) -> web.Response | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
        return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)

    async def _response_url(self, request: web.Request) -> web.Response:
        call = await self._record(request, "response_url")
        failure = self._injected_failure("response_url")
        if failure is not None:
            return failure
        error = limit_error("response_url", call.args)
        if error is not None:
            return web.json_response({"ok": False, "error": error}, status=400)
        return web.json_response({"ok": True})

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await self._record(request, method)
        failure = self._injected_failure(method)
        if failure is not None:
            return failure
        if method == "oauth.v2.access":  # the client id and secret authenticate it, not a token
            return web.json_response(self._oauth_access(request, call.args))
        expected = {self.APP_TOKEN} if method == "apps.connections.open" else {self.BOT_TOKEN, self.T2_TOKEN}
        if call.token not in expected:
            return web.json_response({"ok": False, "error": "invalid_auth" if call.token else "not_authed"})
        error = limit_error(method, call.args)
        if error is not None:
            return web.json_response({"ok": False, "error": error})
        answer = self._answer(method, call.args)
        if method == "auth.test" and call.token == self.T2_TOKEN:
            answer |= {"team_id": self.T2_TEAM_ID, "user_id": self.T2_BOT_USER_ID, "team": "Team Two"}
        return web.json_response(answer)

    def _oauth_access(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: the code exchanged for team T2's bot token, if the app's credentials match."""
        expected = "Basic " + base64.b64encode(f"{self.CLIENT_ID}:{self.CLIENT_SECRET}".encode()).decode()
        given = request.headers.get("Authorization", "")
        if given != expected and (args.get("client_id"), args.get("client_secret")) != (
            self.CLIENT_ID, self.CLIENT_SECRET
        ):  # fmt: skip
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("code") != self.OAUTH_CODE:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": "U2"}, "scope": "chat:write,commands",
            "token_type": "bot", "access_token": self.T2_TOKEN, "bot_user_id": self.T2_BOT_USER_ID,
            "team": {"id": self.T2_TEAM_ID, "name": "Team Two"}, "enterprise": None, "is_enterprise_install": False,
        }  # fmt: skip

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The successful answer to a Web API call whose token and limits were checked."""
        channel = args.get("channel")
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": "https://revq-test.slack.com/",
                    "team": "Test Team",
                    "user": "revq",
                    "team_id": self.TEAM_ID,
                    "user_id": self.BOT_USER_ID,
                    "bot_id": self.BOT_ID,
                    "is_enterprise_install": False,
                }
            case "apps.connections.open":
                return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
            case "conversations.open":
                users = args.get("users")
                if not users:
                    return {"ok": False, "error": "users_list_not_supplied"}
                return {"ok": True, "channel": {"id": f"D{users}"}}
            case "chat.postMessage" | "chat.postEphemeral" | "chat.update" | "chat.delete" if not channel:
                return {"ok": False, "error": "channel_not_found"}
            case "chat.postMessage" | "chat.postEphemeral" if self._post_error(str(channel)):
                return {"ok": False, "error": self._post_error(str(channel))}
            case "chat.postMessage":
                ts = self._next_ts()
                message: dict[str, Any] = {"type": "message", "user": self.BOT_USER_ID, "bot_id": self.BOT_ID}
                message |= {"ts": ts, "text": args.get("text"), "blocks": args.get("blocks")}
                return {"ok": True, "channel": channel, "ts": ts, "message": message}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": self._next_ts()}
            case "chat.update":
                return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text")}
            case "chat.delete":
                return {"ok": True, "channel": channel, "ts": args.get("ts")}
            case "views.open" | "views.publish" | "views.update" | "views.push":
                view_id = args.get("view_id")  # views.update keeps the id it was given
                if not view_id:
                    self._view_ids += 1
                    view_id = f"V{self._view_ids}"
                return {"ok": True, "view": {"id": view_id, **args["view"]}}
            case "users.info":
                user = args.get("user")
                is_admin, is_owner = user in self.admins, user in self.owners
                return {"ok": True, "user": {"id": user, "is_admin": is_admin or is_owner, "is_owner": is_owner,
                                             "is_primary_owner": False, "is_bot": False}}  # fmt: skip
            case "conversations.info":
                known = self.channels.get(str(channel))
                if known is None:
                    return {"ok": False, "error": "channel_not_found"}
                return {"ok": True, "channel": {"id": channel, "is_channel": True, "is_im": False, "is_mpim": False,
                                                "is_group": known["is_private"], **known}}  # fmt: skip
        return {"ok": False, "error": "unknown_method"}


# -- signed requests to our own HTTP app --


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack would send with `body`: content type, request timestamp (default now) and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def slash_command_body(
    text: str = "",
    *,
    user_id: str = "U1",
    channel_id: str = "C1",
    team_id: str = FakeSlack.TEAM_ID,
    response_url: str = "",
    trigger_id: str = "T-trigger-1",
    command: str = "/revq",
) -> str:
    """A form-encoded slash command body, as Slack posts it."""
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team_id,
            "team_domain": "revq-test",
            "channel_id": channel_id,
            "channel_name": "general" if channel_id.startswith("C") else "directmessage",
            "user_id": user_id,
            "user_name": f"user-{user_id.lower()}",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def event_body(event: dict[str, Any], *, event_id: str = "Ev1", team_id: str = FakeSlack.TEAM_ID) -> str:
    """A JSON Events API callback body wrapping `event`."""
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": FakeSlack.BOT_USER_ID, "is_bot": True}],
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """A form-encoded ``payload=<json>`` body, as Slack posts block_actions and view_submission."""
    return urlencode({"payload": json.dumps(payload)})

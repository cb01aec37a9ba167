"""slack-bolt wired to the runner. Slack events in, engine events through the runner, Block Kit out.

No dialogue decisions here: what to say comes from the engine, how it looks from render.py. This
module only decides where replies go. That is the person's DM with revq, or an ephemeral reply
that only they can see in a channel. Nothing personal is ever posted where others can read it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import inbound, render
from bot.engine.dialogue import command_name, current_list
from bot.engine.events import Inbound, Text
from bot.engine.replies import FieldErrors, QuestionSet, Reply
from bot.runner import SORRY_BROKEN, ConversationRunner, Turn
from bot.store.base import ConversationKey

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/revq"
_DM_CACHE_SIZE = 10_000


class Destination(Protocol):
    """Where one turn's replies go."""

    async def send(self, message: render.SlackMessage) -> None: ...

    async def replace(self, message: render.SlackMessage) -> bool:
        """Put `message` in place of the message whose button was clicked; False if there is none."""


@dataclass(frozen=True)
class DirectMessage:
    client: AsyncWebClient
    channel: str
    clicked_ts: str | None = None  # the message a button was clicked on, if any

    async def send(self, message: render.SlackMessage) -> None:
        await self.client.chat_postMessage(channel=self.channel, **message)

    async def replace(self, message: render.SlackMessage) -> bool:
        if self.clicked_ts is None:
            return False
        await self.client.chat_update(channel=self.channel, ts=self.clicked_ts, **message)
        return True


@dataclass(frozen=True)
class Ephemeral:
    """A reply only the person sees, through the response URL of their command or click: it works
    in any channel, even one revq was never added to."""

    response_url: str
    session: aiohttp.ClientSession | None
    clicked: bool = False  # the URL belongs to a click on an ephemeral message, which it can replace

    async def send(self, message: render.SlackMessage) -> None:
        await self._post(message, replace_original=False)

    async def replace(self, message: render.SlackMessage) -> bool:
        if self.clicked:
            await self._post(message, replace_original=True)
        return self.clicked

    async def _post(self, message: render.SlackMessage, *, replace_original: bool) -> None:
        webhook = AsyncWebhookClient(self.response_url, session=self.session)
        response = await webhook.send(response_type="ephemeral", replace_original=replace_original, **message)
        if response.status_code != 200:
            raise ResponseUrlError(response.status_code)


class ResponseUrlError(Exception):
    """Slack refused a post to a response URL (expired, used up, or over a limit)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"response URL answered HTTP {status}")
        self.status = status


@dataclass
class SlackFrontEnd:
    """Everything the handlers share: the runner, the Web API client, and how long data is kept."""

    runner: ConversationRunner
    client: AsyncWebClient
    ttl_days: float
    http_session: aiohttp.ClientSession | None = None
    clock: Callable[[], float] = time.time
    _dm_channels: OrderedDict[str, str] = field(default_factory=OrderedDict)

    # --- where replies go ---------------------------------------------------------------

    async def dm_channel(self, key: ConversationKey) -> str:
        """The person's DM with revq (conversations.open), remembered for the process's life."""
        found = self._dm_channels.get(str(key))
        if found is None:
            response = await self.client.conversations_open(users=key.user)
            found = str(response["channel"]["id"])
            self._dm_channels[str(key)] = found
            if len(self._dm_channels) > _DM_CACHE_SIZE:
                self._dm_channels.popitem(last=False)
        return found

    async def direct(self, key: ConversationKey) -> DirectMessage:
        return DirectMessage(self.client, await self.dm_channel(key))

    async def where_typed(self, key: ConversationKey, channel: str, response_url: str) -> Destination:
        """In revq's own DM a normal message; anywhere else, visible only to the person."""
        if channel.startswith("D") and channel == await self.dm_channel(key):
            return DirectMessage(self.client, channel)
        return Ephemeral(response_url, self.http_session)

    async def where_clicked(self, key: ConversationKey, body: Mapping[str, Any]) -> Destination:
        container = body.get("container") or {}
        if container.get("is_ephemeral") and body.get("response_url"):
            return Ephemeral(str(body["response_url"]), self.http_session, clicked=True)
        if container.get("type") == "message" and container.get("channel_id") and container.get("message_ts"):
            return DirectMessage(self.client, str(container["channel_id"]), str(container["message_ts"]))
        return await self.direct(key)  # the Home tab

    # --- running a turn -------------------------------------------------------------------

    async def run(
        self, key: ConversationKey, event: Inbound, destination: Destination, event_id: str | None = None
    ) -> Turn:
        async def deliver(replies: Sequence[Reply]) -> None:
            await send_all(destination, replies)

        turn = await self.runner.handle(key, event, deliver, event_id=event_id)
        await self.refresh_home_after(key, turn)
        return turn

    async def refresh_home_after(self, key: ConversationKey, turn: Turn) -> None:
        """Keep the Home tab in step with a new list, and empty it after forget."""
        if turn.erased or any(isinstance(r, QuestionSet) for r in turn.replies):
            await self.publish_home(key)

    async def publish_home(self, key: ConversationKey) -> None:
        session = await self.runner.peek(key, self.clock())
        view = render.home_view(current_list(session, self.runner.ctx), ttl_days=self.ttl_days)
        await self.client.views_publish(user_id=key.user, view=view)

    async def open_form(self, trigger_id: str, *, company: str = "", metadata: Mapping[str, str] | None = None) -> None:
        private = json.dumps(dict(metadata or {}), separators=(",", ":"))
        view = render.form_modal(self.runner.ctx.slots, company=company, private_metadata=private)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def apologise(self, destination: Destination) -> None:
        try:
            await send_all(destination, (SORRY_BROKEN,))
        except Exception as exc:  # Slack itself is failing: the log is all we have left
            log.warning("could not send an apology either: %s", _describe(exc))


async def send_all(destination: Destination, replies: Sequence[Reply]) -> None:
    messages = render.messages(replies)
    # A swapped question changes the list where it stands, so the DM keeps one list, not a copy
    # per swap; a list too long for one message is posted anew instead.
    edited = any(isinstance(reply, QuestionSet) and reply.edit for reply in replies)
    if edited and len(messages) == 1 and await destination.replace(messages[0]):
        return
    for message in messages:
        await destination.send(message)


def conversation_key(context: AsyncBoltContext) -> ConversationKey:
    workspace = context.team_id or context.enterprise_id or "-"
    return ConversationKey(PLATFORM, workspace, str(context.user_id or ""))


def _describe(exc: BaseException) -> str:
    """An error for the log: its type and Slack's error code, never a message that may quote text."""
    if isinstance(exc, SlackApiError):
        return f"SlackApiError({exc.response.get('error') or 'unknown'})"
    if isinstance(exc, ResponseUrlError):
        return f"ResponseUrlError({exc.status})"
    return type(exc).__name__


def _log_failure(kind: str, key: ConversationKey | None, exc: BaseException) -> None:
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error("slack %s failed for %s: %s\n%s", kind, key.log_id if key else "-", _describe(exc), where)


def _metadata(raw: str | None) -> dict[str, str]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}
    )


def build_app(front: SlackFrontEnd, signing_secret: str) -> AsyncApp:
    """The Bolt app with every revq listener. Listeners ack first, so Slack never waits on us."""
    app = AsyncApp(client=front.client, signing_secret=signing_secret, logger=logging.getLogger("slack_bolt"))

    @app.command(COMMAND)
    async def slash_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        key = conversation_key(context)
        response_url = str(command.get("response_url", ""))
        destination: Destination = Ephemeral(response_url, front.http_session)
        try:
            text = inbound.plain_text(str(command.get("text") or "")).strip()
            name = command_name(text) if text else "start"
            if name == "start" or name is None:  # bare, "hi", or a company name: the form, prefilled
                metadata = {"response_url": response_url, "channel": str(command.get("channel_id", ""))}
                await front.open_form(
                    str(command["trigger_id"]), company=text if name is None else "", metadata=metadata
                )
                return
            destination = await front.where_typed(key, str(command.get("channel_id", "")), response_url)
            await front.run(key, Text(text, front.clock()), destination)
        except Exception as exc:
            _log_failure("command", key, exc)
            await front.apologise(destination)

    @app.view(render.FORM_CALLBACK)
    async def form_submitted(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        key = conversation_key(context)
        form, typed_priorities = inbound.form_from_view(view, front.clock())
        metadata = _metadata(view.get("private_metadata"))
        acked = False

        async def deliver(replies: Sequence[Reply]) -> None:
            nonlocal acked
            errors = [r for r in replies if isinstance(r, FieldErrors)]
            if errors:  # shown inline in the modal, which stays open with everything typed
                acked = True
                await ack(
                    response_action="errors", errors=render.form_errors(errors[0], typed_priorities=typed_priorities)
                )
                return
            acked = True
            await ack()
            dm = await front.direct(key)
            await send_all(dm, replies)
            if metadata.get("response_url") and metadata.get("channel") != dm.channel:
                await Ephemeral(metadata["response_url"], front.http_session).send(render.sent_to_dm())

        try:
            turn = await front.runner.handle(key, form, deliver)
            await front.refresh_home_after(key, turn)
        except Exception as exc:
            _log_failure("form", key, exc)
            if not acked:
                await ack()
            await front.apologise(await front.direct(key))

    @app.action(re.compile("^" + re.escape(render.CHOOSE)))
    async def menu_changed(ack: AsyncAck) -> None:
        await ack()  # a multi-select only holds picks until its Done button is clicked

    @app.action(re.compile("^(" + re.escape(render.PICK) + "|" + re.escape(render.COMMAND) + ")"))
    async def clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        key = conversation_key(context)
        destination: Destination | None = None
        try:
            destination = await front.where_clicked(key, body)
            event = inbound.event_from_action(action, body.get("state"), front.clock())
            if event is not None:
                await front.run(key, event, destination)
        except Exception as exc:
            _log_failure("button", key, exc)
            if destination is not None:
                await front.apologise(destination)

    @app.action(render.OPEN_FORM)
    async def open_form_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        try:
            await front.open_form(str(body["trigger_id"]))
        except Exception as exc:
            _log_failure("open form", conversation_key(context), exc)

    @app.event("message")
    async def direct_message(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        subtype = event.get("subtype")
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if subtype is not None and subtype != "file_share":  # edits, deletions, joins and the like
            return
        key = conversation_key(context)
        destination = DirectMessage(front.client, str(event["channel"]))
        try:
            text = inbound.plain_text(str(event.get("text") or ""))
            await front.run(key, Text(text, front.clock()), destination, event_id=body.get("event_id"))
        except Exception as exc:
            _log_failure("message", key, exc)
            await front.apologise(destination)

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab") != "home":
            return
        key = conversation_key(context)
        try:
            await front.publish_home(key)
        except Exception as exc:
            _log_failure("home", key, exc)

    @app.error
    async def unexpected(error: Exception, body: dict[str, Any]) -> None:
        # Reached only if a listener above let something through; the body may hold personal text.
        kind = body.get("type") or body.get("command") or "request"
        log.error("slack %s failed: %s", kind, _describe(error))

    return app


def make_client(token: str, api_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: every call, auth.test included, goes to `api_url`; a 429 is waited out."""
    # slack_sdk formats a debug line with the whole request whenever its logger's own level is
    # unset, whatever the effective level: set it, so no request is ever turned into log text.
    quiet = logging.getLogger("slack_sdk.web.async_client")
    quiet.setLevel(max(logging.INFO, quiet.level))
    client = AsyncWebClient(token=token, base_url=api_url, session=session, logger=quiet)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client

"""slack-bolt wired to the runner. Slack events in, engine events through the runner, Block Kit out.

No dialogue decisions here: what to say comes from the engine, how it looks from render.py. This
module only decides where replies go. That is the person's DM with revq, or an ephemeral reply
that only they can see in a channel. Nothing personal is ever posted where others can read it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import inbound, render
from bot.adapters.slack.installations import prompt_workspace
from bot.engine.dialogue import check_form, command_name, current_list
from bot.engine.events import Inbound, Text
from bot.engine.replies import Ask, QuestionSet, Reply
from bot.prompts.admin import ACTIONS, carry_out, parse_request, usage
from bot.prompts.rotation import ChannelPrompt
from bot.prompts.schedule import Schedule, ScheduleError
from bot.prompts.scheduler import ChannelLost
from bot.runner import SORRY_BROKEN, ConversationRunner, Turn
from bot.store.base import ConversationKey, SessionStore

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/revq"
PROMPTS_COMMAND = f"{COMMAND} {inbound.PROMPTS_WORD}"
_DM_CACHE_SIZE = 10_000
_RATE_LIMIT_RETRIES = 3

# With OAuth, each workspace has its own bot token. It is set for each request (from Bolt's
# authorization) and for each scheduled post, and the shared client sends it.
_workspace_token: ContextVar[str | None] = ContextVar("revq_slack_workspace_token", default=None)
UNINSTALL_ATTEMPTS = 3
TokenLookup = Callable[[str], Awaitable[str | None]]  # workspace id -> its bot token, None if not installed


class Destination(Protocol):
    """Where one turn's replies go."""

    async def send(self, message: render.SlackMessage) -> None: ...

    async def replace(self, message: render.SlackMessage) -> bool:
        """Put `message` in place of the message whose button was clicked; False if there is none."""


@dataclass(frozen=True)
class DirectMessage:
    client: AsyncWebClient
    channel: str
    clicked_ts: str | None = None  # a whole list whose button was clicked, which a new list may replace

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
        webhook = AsyncWebhookClient(
            self.response_url,
            session=self.session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=_RATE_LIMIT_RETRIES)],
        )
        response = await webhook.send(response_type="ephemeral", replace_original=replace_original, **message)
        if response.status_code != 200:
            raise ResponseUrlError(response.status_code)


class ResponseUrlError(Exception):
    """Slack refused a post to a response URL (expired after 30 minutes, used up, or over a limit)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"response URL answered HTTP {status}")
        self.status = status


async def send_all(destination: Destination, replies: Sequence[Reply]) -> None:
    messages = render.messages(replies)
    # A swapped question changes the list where it stands, so the DM keeps one list, not a copy
    # per swap; a list too long for one message is posted anew instead.
    if any(isinstance(reply, QuestionSet) and reply.edit for reply in replies) and len(messages) == 1:
        try:
            if await destination.replace(messages[0]):
                return
        except (SlackApiError, ResponseUrlError) as exc:  # deleted, or too old to edit: post it anew
            log.info("could not replace the clicked list: %s", _describe(exc))
    for message in messages:
        await destination.send(message)


@dataclass
class SlackFrontEnd:
    """Everything the handlers share: the runner, the Web API client, and how long data is kept."""

    runner: ConversationRunner
    client: AsyncWebClient
    ttl_days: float
    http_session: aiohttp.ClientSession | None = None
    clock: Callable[[], float] = time.time
    admins: frozenset[str] = frozenset()  # REVQ_ADMINS: may use the prompt commands besides workspace admins
    _dm_channels: OrderedDict[str, str] = field(default_factory=OrderedDict)

    # --- where replies go ---------------------------------------------------------------

    async def dm_channel(self, key: ConversationKey) -> str:
        """The person's DM with revq (conversations.open), remembered while the process runs."""
        found = self._dm_channels.get(str(key))
        if found is not None:
            self._dm_channels.move_to_end(str(key))
            return found
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
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if container.get("type") == "message" and channel and ts:  # a message in revq's DM
            blocks = (body.get("message") or {}).get("blocks") or []
            return DirectMessage(self.client, str(channel), str(ts) if render.is_whole_list(blocks) else None)
        return await self.direct(key)  # the Home tab

    # --- running a turn -------------------------------------------------------------------

    async def run(
        self,
        key: ConversationKey,
        event: Inbound,
        deliver: Callable[[Sequence[Reply]], Awaitable[None]],
        event_id: str | None = None,
    ) -> Turn:
        turn = await self.runner.handle(key, event, deliver, event_id=event_id)
        await self.refresh_home_after(key, turn)
        return turn

    async def refresh_home_after(self, key: ConversationKey, turn: Turn) -> None:
        """Keep the Home tab in step with a new list, and empty it after forget. A Home tab that
        lags behind is no reason to trouble the person, so failures are only logged."""
        if turn.erased or any(isinstance(r, QuestionSet) for r in turn.replies):
            try:
                await self.publish_home(key)
            except Exception as exc:
                _log_failure("home refresh", key, exc)

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


def to(destination: Destination) -> Callable[[Sequence[Reply]], Awaitable[None]]:
    async def deliver(replies: Sequence[Reply]) -> None:
        await send_all(destination, replies)

    return deliver


def conversation_key(context: AsyncBoltContext) -> ConversationKey:
    # On Enterprise Grid, events carry only the organization while commands carry the workspace
    # too; user ids are unique across the organization, so it is the one stable key.
    workspace = context.enterprise_id or context.team_id or "-"
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


async def _best_effort(kind: str, key: ConversationKey, work: Awaitable[None]) -> None:
    """A courtesy (a note in the channel) whose failure must not undo a list that arrived."""
    try:
        await work
    except Exception as exc:
        _log_failure(kind, key, exc)


def _metadata(raw: str | None) -> dict[str, str]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}
    )


# --- channel prompts -------------------------------------------------------------------------

REFUSED = (
    "Sorry, only workspace admins and owners can set up channel prompts, and people named as prompt admins "
    "by whoever runs revq. Ask one of them if you'd like a question of the week in a channel."
)
NEEDS_MANIFEST = (
    "revq needs new Slack permissions for this. Ask whoever set up revq to re-apply its app manifest "
    "(deploy/slack/manifest.yml) and reinstall the app."
)
CHECK_FAILED = "I couldn't check with Slack whether you may change channel prompts. Please try again in a minute."
UNCHANGED = "Nothing was changed."

# Slack errors that mean revq cannot post in the channel at all, in words for the admin's note.
LOST_CHANNEL_REASONS = {
    "channel_not_found": "the channel was deleted, or revq can no longer see it",
    "not_in_channel": "revq was removed from the channel (type `/invite @revq` there to add it back)",
    "is_archived": "the channel was archived",
    "channel_is_archived": "the channel was archived",
    "restricted_action": "the workspace does not let revq post in that channel",
    "restricted_action_read_only_channel": "the channel is read-only, so revq may not post there",
    "restricted_action_thread_only_channel": "the channel takes replies in threads only, so revq may not post there",
    "restricted_action_non_threadable_channel": "the workspace does not let revq post in that channel",
    "no_permission": "revq is not allowed to post in the channel",
    "missing_scope": "revq lacks the Slack permission to post there (its app manifest needs re-applying)",
    "ekm_access_denied": "the workspace's key management has locked the channel",
    "team_access_not_granted": "revq is not allowed in the workspace that owns the channel",
}


def _error_code(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown") if exc.response is not None else "unknown"


def _sentence(text: str) -> str:
    """A core message ("'25:00' is not a time; use ...") as a sentence of its own."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


@dataclass
class SlackPoster:
    """What the scheduler posts with on Slack: the prompt in its channel, and a DM to the admin."""

    client: AsyncWebClient
    admin_command: str = PROMPTS_COMMAND
    tokens: TokenLookup | None = None  # OAuth: each workspace's own bot token

    @asynccontextmanager
    async def _as(self, schedule: Schedule) -> AsyncIterator[None]:
        """Calls inside use the schedule's workspace's token (OAuth); without OAuth, the fixed one."""
        if self.tokens is None:
            yield
            return
        token = await self.tokens(schedule.workspace)
        if not token:
            raise ChannelLost("revq is no longer installed in the workspace")
        reset = _workspace_token.set(token)
        try:
            yield
        finally:
            _workspace_token.reset(reset)

    async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
        async with self._as(schedule):
            try:
                response = await self.client.chat_postMessage(channel=schedule.channel, **render.channel_prompt(prompt))
            except SlackApiError as exc:
                reason = LOST_CHANNEL_REASONS.get(_error_code(exc))
                if reason is None:
                    raise  # passing trouble (rate limits, Slack down): the scheduler retries
                raise ChannelLost(reason) from None
        return str(response["ts"])

    async def tell_admin(self, schedule: Schedule, text: str) -> None:
        if not schedule.created_by:
            log.warning("channel prompt in %s has no admin to tell", schedule.channel)
            return
        try:
            async with self._as(schedule):
                opened = await self.client.conversations_open(users=schedule.created_by)
                await self.client.chat_postMessage(channel=str(opened["channel"]["id"]), **render.admin_reply(text))
        except ChannelLost:
            log.warning("channel prompt in %s: revq is no longer installed, no admin told", schedule.channel)


async def may_manage_prompts(front: SlackFrontEnd, user: str) -> bool:
    """Workspace admins and owners (users.info), and the user ids in REVQ_ADMINS."""
    if user in front.admins:
        return True
    response = await front.client.users_info(user=user)
    person: Mapping[str, Any] = response.get("user") or {}
    return any(bool(person.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))


async def channel_problem(client: AsyncWebClient, channel: str) -> str | None:
    """Why revq could not post in `channel`, in plain words; None when it can."""
    where = f"<#{channel}>"
    try:
        response = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        code = _error_code(exc)
        if code == "channel_not_found":
            return (
                "I can't find that channel. If it is private, add revq to it first (type `/invite @revq` there), "
                "then try again."
            )
        if code == "missing_scope":
            return NEEDS_MANIFEST
        raise
    found: Mapping[str, Any] = response.get("channel") or {}
    if found.get("is_im") or found.get("is_mpim"):
        return "That is a direct message, not a channel. Name a channel, such as #careers."
    if found.get("is_archived"):
        return f"{where} is archived, so nothing can be posted there. Unarchive it, or pick another channel."
    if not found.get("is_member"):
        return (
            f"revq isn't in {where} yet, so it can't post there. Type `/invite @revq` in {where} first, then try again."
        )
    return None


async def run_prompt_command(
    front: SlackFrontEnd, request: inbound.PromptCommand, *, workspace: str, key: ConversationKey
) -> render.SlackMessage:
    """One `/revq prompts ...` from start to end; the answer is for the person who typed it alone."""
    try:
        allowed = await may_manage_prompts(front, key.user)
    except SlackApiError as exc:
        log.warning("prompt command: users.info failed for %s: %s", key.log_id, _describe(exc))
        return render.admin_reply(NEEDS_MANIFEST if _error_code(exc) == "missing_scope" else CHECK_FAILED, warning=True)
    if not allowed:
        return render.admin_reply(REFUSED)
    if request.unlinked and request.action.lower() not in ("list", "help"):
        text = (
            f"I couldn't tell which channel {request.unlinked} is. Pick it from the list Slack shows as you type #, "
            f"so it becomes a link, or give the channel's id (such as C0123ABCD). If Slack never makes it a link, "
            f"ask whoever set up revq to re-apply its app manifest. {UNCHANGED}"
        )
        return render.admin_reply(text, warning=True)
    ctx = front.runner.ctx
    try:
        parsed = parse_request(request.action, request.channel, request.words, ctx.matcher, PROMPTS_COMMAND)
    except ScheduleError as exc:
        text = f"{_sentence(str(exc))} {UNCHANGED}"
        if request.action.lower() not in ACTIONS:
            text += "\n" + usage(PROMPTS_COMMAND)
        return render.admin_reply(text, warning=True)
    if parsed.action in ("add", "resume"):
        problem = await channel_problem(front.client, parsed.channel)
        if problem is not None:
            return render.admin_reply(f"{problem} {UNCHANGED}", warning=True)
    reply = await carry_out(
        parsed, front.runner.store, ctx.bank, platform=PLATFORM, workspace=workspace, user=key.user,
        now=front.clock(), command=PROMPTS_COMMAND,
    )  # fmt: skip
    if reply.changed:
        log.info("channel prompts: %s for %s by %s", parsed.action, parsed.channel, key.log_id)
    if reply.preview is not None:
        return render.prompt_preview(reply.text, reply.preview)
    return render.admin_reply(reply.text)


async def forget_workspace(
    store: SessionStore, installations: AsyncInstallationStore | None, context: AsyncBoltContext
) -> int:
    """Everything kept for a workspace that removed revq; returns how many records went. People's
    data goes first, as the installation is what a retry would need."""
    # Conversations are keyed by the organization on Enterprise Grid: they go only with an install
    # for the whole organization, not when one of its workspaces removes revq. Channel prompts are
    # keyed as `prompt_workspace` names them.
    places = {context.team_id, prompt_workspace(context.enterprise_id, context.team_id, context.is_enterprise_install)}
    if context.is_enterprise_install:
        places.add(context.enterprise_id)
    removed = 0
    for workspace in places - {None, ""}:
        removed += await store.delete_workspace(PLATFORM, str(workspace))
    if installations is not None:  # OAuth: the workspace's token goes too
        await installations.async_delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
    return removed


def build_app(front: SlackFrontEnd, signing_secret: str, oauth: AsyncOAuthSettings | None = None) -> AsyncApp:
    """The Bolt app with every revq listener. Listeners ack first, so Slack never waits on us.
    With `oauth`, Bolt runs the install flow and authorizes each request with its workspace's token."""
    app = AsyncApp(
        client=front.client, signing_secret=signing_secret, logger=logging.getLogger("slack_bolt"), oauth_settings=oauth
    )

    @app.middleware
    async def workspace_token(context: AsyncBoltContext, next_: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        # Set in this request's task, so the listener tasks Bolt starts from here see it too.
        _workspace_token.set(context.bot_token)
        return await next_()

    # When a workspace removes revq, everything revq kept for it goes: conversations, channel
    # prompts and, with OAuth, its installation and token.
    installations = oauth.installation_store if oauth is not None else None

    async def uninstalled(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only people's own tokens went (revq asks for none): the bot still works here
        for attempt in range(1, UNINSTALL_ATTEMPTS + 1):
            try:
                removed = await forget_workspace(front.runner.store, installations, context)
            except Exception as exc:
                log.warning("deleting an uninstalled workspace's data failed (attempt %d): %s", attempt,
                            _describe(exc))  # fmt: skip
                if attempt < UNINSTALL_ATTEMPTS:
                    await asyncio.sleep(2**attempt)
                continue
            log.warning("revq was uninstalled from a workspace: its installation and %d records deleted", removed)
            return
        log.error("could not delete an uninstalled workspace's data; its conversations expire on their own, "
                  "and its channel prompts stop, as revq can no longer post there")  # fmt: skip

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(uninstalled)

    @app.command(COMMAND)
    async def slash_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        key = conversation_key(context)
        response_url = str(command.get("response_url", ""))
        destination: Destination = Ephemeral(response_url, front.http_session)
        try:
            prompt_request = inbound.prompt_command(str(command.get("text") or ""))
            if prompt_request is not None:  # an admin command: every answer is ephemeral
                workspace = prompt_workspace(context.enterprise_id, context.team_id, context.is_enterprise_install)
                await destination.send(await run_prompt_command(front, prompt_request, workspace=workspace, key=key))
                return
            text = inbound.plain_text(str(command.get("text") or "")).strip()
            name = command_name(text) if text else "start"
            if name == "start" or name is None:  # bare, "hi", or a company name: the form, prefilled
                metadata = {"response_url": response_url, "channel": str(command.get("channel_id", ""))}
                await front.open_form(
                    str(command["trigger_id"]), company=text if name is None else "", metadata=metadata
                )
                return
            destination = await front.where_typed(key, str(command.get("channel_id", "")), response_url)
            in_channel = destination

            async def deliver(replies: Sequence[Reply]) -> None:
                # A question to answer goes to the DM: typed in a channel, the answer would be
                # public, and revq would not hear it. The rest is shown to the person alone.
                asks = [r for r in replies if isinstance(r, Ask)] if isinstance(in_channel, Ephemeral) else []
                await send_all(in_channel, [r for r in replies if r not in asks])
                if asks:
                    await send_all(await front.direct(key), asks)
                    await _best_effort("channel note", key, in_channel.send(render.continued_in_dm()))

            await front.run(key, Text(text, front.clock()), deliver)
        except Exception as exc:
            _log_failure("command", key, exc)
            await front.apologise(destination)

    @app.view(render.FORM_CALLBACK)
    async def form_submitted(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        key = conversation_key(context)
        form, typed_priorities = inbound.form_from_view(view, front.clock())
        errors = check_form(form, front.runner.ctx)
        if errors is not None:  # shown under the fields; the modal stays open with everything typed
            await ack(response_action="errors", errors=render.form_errors(errors, typed_priorities=typed_priorities))
            return
        await ack()  # at once: the turn below waits for the person's lock and the store
        metadata = _metadata(view.get("private_metadata"))
        try:
            dm = await front.direct(key)
            turn = await front.run(key, form, to(dm))
            listed = any(isinstance(r, QuestionSet) for r in turn.replies)
            if listed and metadata.get("response_url") and metadata.get("channel") != dm.channel:
                note = Ephemeral(metadata["response_url"], front.http_session).send(render.sent_to_dm())
                await _best_effort("channel note", key, note)
        except Exception as exc:
            _log_failure("form", key, exc)
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
                await front.run(key, event, to(destination))
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

    @app.action(render.PREP)
    async def prep_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """The channel prompt's button: the same form as /revq, and from there on everything is
        private. The only answer in the channel is the note only the clicker sees."""
        await ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        metadata = {"response_url": str(body.get("response_url") or ""), "channel": str(channel or "")}
        try:
            await front.open_form(str(body["trigger_id"]), metadata={k: v for k, v in metadata.items() if v})
        except Exception as exc:
            _log_failure("prep button", conversation_key(context), exc)

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """@revq in a channel: an invitation to talk privately, which only the mentioner sees."""
        user, channel = event.get("user"), event.get("channel")
        if not user or not channel or event.get("bot_id"):
            return
        key = conversation_key(context)
        try:
            event_id = body.get("event_id")
            if event_id and not await front.runner.store.claim_event(str(event_id), front.clock()):
                return  # Slack sent it again: one invitation is enough
            thread = str(event["thread_ts"]) if event.get("thread_ts") else None
            await front.client.chat_postEphemeral(
                channel=str(channel), user=str(user), thread_ts=thread, **render.mention_reply()
            )
        except Exception as exc:
            _log_failure("mention", key, exc)

    @app.event("message")
    async def direct_message(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        text = inbound.plain_text(str(event.get("text") or ""))
        # Edits, deletions, joins and the like are not messages to answer; nor is a file alone.
        if event.get("subtype") is not None and not (event["subtype"] == "file_share" and text.strip()):
            return
        key = conversation_key(context)
        destination = DirectMessage(front.client, str(event["channel"]))
        try:
            await front.run(key, Text(text, front.clock()), to(destination), event_id=body.get("event_id"))
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
    client = WorkspaceClient(token=token, base_url=api_url, session=session, logger=quiet)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=_RATE_LIMIT_RETRIES))
    return client


class WorkspaceClient(AsyncWebClient):
    """The shared client: it sends the current workspace's token (OAuth), else the fixed one."""

    @property
    def token(self) -> str | None:
        return _workspace_token.get() or self._fixed_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._fixed_token = value

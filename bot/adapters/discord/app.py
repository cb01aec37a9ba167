"""discord.py wired to the runner: interactions and DMs in, engine events through the runner,
embeds and components out.

No dialogue decisions here: what to say comes from the engine, how it looks from render.py. This
module only decides where replies go: in revq's own DM a normal message, anywhere else an
ephemeral reply that only the person sees. Every interaction is answered or deferred at once,
well inside Discord's three seconds, and finished with follow-ups.

Channel prompts: `/revq-prompts` (for people who manage the server) turns its options into the
words of the platform-neutral prompt commands; `DiscordPoster` posts what the scheduler decides;
the post's **Prep my questions** button opens the same form as `/revq start`. A mention of revq
in a channel is answered in a thread with an invitation, never with anything the person wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.adapters.discord import inbound, render
from bot.engine.events import Command, Form, Inbound, Pick, Text
from bot.engine.intake import Slot
from bot.engine.replies import FieldErrors, QuestionSet, Reply
from bot.prompts import admin
from bot.prompts.rotation import ChannelPrompt
from bot.prompts.schedule import Schedule, ScheduleError
from bot.prompts.scheduler import ChannelLost
from bot.runner import SORRY_BROKEN, ConversationRunner, Turn
from bot.store.base import ConversationKey

log = logging.getLogger(__name__)

PLATFORM = "discord"
EVERYWHERE = "-"  # Discord user ids are global: one conversation per person in every server and DM
ERASE_SCAN = 1000  # the newest messages in a DM looked through after `forget`
ERASE_GRACE = 5.0  # seconds a shutdown waits for DM deletions still running
ERASING_MESSAGES = "I'm also deleting the messages I sent you in our direct messages. That can take a minute or two."
DRAFT_SECONDS = 15 * 60.0  # as long as Discord lets a reply to the form's interaction be sent
_DRAFTS_KEPT = 10_000

PROMPTS_COMMAND = "/revq-prompts"
# What revq needs in a channel to post a prompt there: (discord.py's name, Discord's label).
POST_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)
PROMPTS_REFUSED = (
    "Only people who may **Manage Server** here can set up channel prompts. "
    "Ask someone who manages this server. Nothing was changed."
)
NEEDS_SERVER_INSTALL = (
    "Channel prompts need revq added to this server, and it isn't yet: you have it on your own account only. "
    "Someone who may **Manage Server** here can add it{link}, then try again. Nothing was changed."
)
MENTION_THREAD = "Prepare your interview questions"
MENTION_REPLY = (
    "Hi! I help people prepare the questions to ask in a job interview. To start, send me a direct message "
    "(just say hi), or type `/revq start` here. Your answers stay private: only you see them."
)


def conversation_key(user_id: int) -> ConversationKey:
    return ConversationKey(PLATFORM, EVERYWHERE, str(user_id))


def typing_reaches_revq(interaction: discord.Interaction[Any]) -> bool:
    """True in revq's own DM, where typed messages reach revq and nobody else reads along; in a
    server or a group DM replies are ephemeral and answers are typed into a form instead."""
    return interaction.context.dm_channel


@dataclass
class Drafts:
    """What a person typed into a form that was refused, to fill the form again when they fix
    it. Kept in memory for the quarter of an hour an interaction lives, and never saved."""

    clock: Callable[[], float] = time.time
    _kept: OrderedDict[int, tuple[float, inbound.Draft]] = field(default_factory=OrderedDict)

    def keep(self, user: int, draft: inbound.Draft) -> None:
        now = self.clock()
        while self._kept and next(iter(self._kept.values()))[0] <= now:  # the oldest first: drop what expired
            self._kept.popitem(last=False)
        self._kept[user] = (now + DRAFT_SECONDS, draft)
        self._kept.move_to_end(user)
        while len(self._kept) > _DRAFTS_KEPT:
            self._kept.popitem(last=False)

    def peek(self, user: int) -> inbound.Draft:
        """A copy of the person's draft, or an empty one; the draft stays until dropped or expired."""
        expires, draft = self._kept.get(user, (0.0, {}))
        return {name: list(values) for name, values in draft.items()} if expires > self.clock() else {}

    def drop(self, user: int) -> None:
        self._kept.pop(user, None)

    def __len__(self) -> int:
        return len(self._kept)


class Destination(Protocol):
    """Where one turn's replies go."""

    async def send(self, message: render.DiscordMessage) -> None: ...

    async def replace(self, message: render.DiscordMessage) -> bool:
        """Put `message` in place of the list whose menu was used; False if there is none."""


@dataclass
class InteractionReplies:
    """Replies to one interaction: its response first, then follow-ups."""

    interaction: discord.Interaction[Any]
    ephemeral: bool

    async def send(self, message: render.DiscordMessage) -> None:
        kwargs = message.send_kwargs()
        if self.interaction.response.is_done():
            await self.interaction.followup.send(ephemeral=self.ephemeral, **kwargs)
        else:
            await self.interaction.response.send_message(ephemeral=self.ephemeral, **kwargs)
        message.sent()

    async def replace(self, message: render.DiscordMessage) -> bool:
        if self.interaction.type is not discord.InteractionType.component:
            return False
        if not render.is_whole_list(self.interaction.message):
            return False
        if self.interaction.response.is_done():  # deferred: the clicked message is the original
            await self.interaction.edit_original_response(**message.edit_kwargs())
        else:
            await self.interaction.response.edit_message(**message.edit_kwargs())
        message.sent()
        return True


@dataclass
class ChannelReplies:
    """Replies in revq's DM with the person, to something they typed there."""

    channel: discord.abc.Messageable

    async def send(self, message: render.DiscordMessage) -> None:
        await self.channel.send(**message.send_kwargs())
        message.sent()

    async def replace(self, message: render.DiscordMessage) -> bool:
        return False


async def send_all(destination: Destination, replies: Sequence[Reply], *, owner: int, can_type: bool) -> None:
    messages = render.messages(replies, owner=owner, can_type=can_type)
    # A swapped question changes the list where it stands, so a DM keeps one list, not a copy per
    # swap; a list too long for one message is posted anew instead.
    if any(isinstance(reply, QuestionSet) and reply.edit for reply in replies) and len(messages) == 1:
        try:
            if await destination.replace(messages[0]):
                return
        except discord.HTTPException as exc:  # deleted, or too old to edit: post it anew
            log.info("could not replace the list: %s", _describe(exc))
    for message in messages:
        await destination.send(message)


def _describe(exc: BaseException) -> str:
    """An error for the log: its type and Discord's status and code, never text it may quote."""
    if isinstance(exc, discord.HTTPException):
        return f"{type(exc).__name__}(status {exc.status}, code {exc.code})"
    return type(exc).__name__


def _log_failure(kind: str, user: int | None, exc: BaseException) -> None:
    where = "".join(traceback.format_tb(exc.__traceback__))
    who = conversation_key(user).log_id if user is not None else "-"
    log.error("discord %s failed for %s: %s\n%s", kind, who, _describe(exc), where)


@dataclass
class DiscordFrontEnd:
    """Everything the handlers share: the runner, the drafts of refused forms, and the clock."""

    runner: ConversationRunner
    clock: Callable[[], float] = time.time
    drafts: Drafts = field(default_factory=Drafts)
    client: discord.Client | None = None  # set by the client this front end serves
    invite_link: str = ""  # the link that adds revq to a server, once the application id is known
    _erasing: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def slots(self) -> tuple[Slot, ...]:
        return self.runner.ctx.slots

    async def run(
        self, user: int, event: Inbound, destination: Destination, *, can_type: bool, event_id: str | None = None
    ) -> Turn:
        delivered: list[datetime.datetime] = []

        async def deliver(replies: Sequence[Reply]) -> None:
            delivered.append(discord.utils.utcnow())  # under the person's lock: every earlier turn has sent its replies
            await send_all(destination, replies, owner=user, can_type=can_type)

        turn = await self.runner.handle(conversation_key(user), event, deliver, event_id=event_id)
        if turn.erased and delivered:
            self.drafts.drop(user)
            await destination.send(render.notice(ERASING_MESSAGES))
            task = asyncio.create_task(self.erase_direct_messages(user, before=delivered[0]))
            self._erasing.add(task)
            task.add_done_callback(self._erasing.discard)
        return turn

    async def erase_direct_messages(self, user: int, *, before: datetime.datetime) -> None:
        """After `forget`: delete what revq wrote in its DM with the person, which quotes their
        priorities and notes. In the background, as Discord lets a bot delete only a few a second."""
        if self.client is None or self.client.user is None:
            return
        deleted = 0
        try:
            channel = await self.client.create_dm(discord.Object(id=user))
            async for message in channel.history(limit=ERASE_SCAN, before=before):
                if message.author.id == self.client.user.id:
                    with contextlib.suppress(discord.NotFound):  # gone already (another forget)
                        await message.delete()
                        deleted += 1
        except asyncio.CancelledError:
            log.warning("stopped deleting a person's DM messages at shutdown, after %d", deleted)
            raise
        except Exception as exc:
            _log_failure("erasing messages", user, exc)
        log.info("deleted %d of revq's messages in a DM at a person's request", deleted)

    async def finish_erasing(self, grace: float = ERASE_GRACE) -> None:
        """At shutdown: let DM deletions still running finish for a few seconds, then stop them."""
        if not self._erasing:
            return
        _, running = await asyncio.wait(set(self._erasing), timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def defer(self, interaction: discord.Interaction[Any]) -> None:
        """Answer at once, before any work: Discord waits three seconds at most."""
        if interaction.type is discord.InteractionType.component or interaction.message is not None:
            # A button, or a text box opened by one: nothing shown yet; the answer follows, or the
            # message with the button changes.
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=not typing_reaches_revq(interaction), thinking=True)

    async def run_interaction(self, interaction: discord.Interaction[Any], event: Inbound) -> Turn:
        """Defer if not done yet, then run the turn and follow up."""
        if not interaction.response.is_done():
            await self.defer(interaction)
        private = not typing_reaches_revq(interaction)
        destination = InteractionReplies(interaction, ephemeral=private)
        return await self.run(interaction.user.id, event, destination, can_type=not private)

    async def form(self, interaction: discord.Interaction[Any], form: Form, draft: inbound.Draft) -> None:
        """A filled form (the modal, or /revq ask). Refused fields are named, with a button to fix
        them in the form, and nothing is saved; what was typed is kept to fill that form."""
        turn = await self.run_interaction(interaction, form)
        if any(isinstance(reply, FieldErrors) for reply in turn.replies):
            self.drafts.keep(interaction.user.id, draft)
        elif turn.replies != (SORRY_BROKEN,):
            self.drafts.drop(interaction.user.id)
            await self.tidy(interaction)  # the refusal's "Fix my answers" has done its work

    async def tidy(self, interaction: discord.Interaction[Any], answer: str = "") -> None:
        """Take the buttons off the message whose button led here, once its question is answered."""
        done = render.answered(interaction.message, answer)
        if done is None or interaction.response.type is not discord.InteractionResponseType.deferred_message_update:
            return
        try:
            await interaction.edit_original_response(**done.edit_kwargs())
        except discord.HTTPException as exc:  # deleted meanwhile: nothing to tidy
            log.info("could not tidy an answered question: %s", _describe(exc))

    # --- the handlers ----------------------------------------------------------------------

    async def open_form(self, interaction: discord.Interaction[Any], company: str | None = None) -> None:
        draft = self.drafts.peek(interaction.user.id)  # kept until a form is accepted: closing it loses nothing
        if company:
            draft["company"] = [company]
        await interaction.response.send_modal(render.form_modal(self.slots, draft))

    async def ask(self, interaction: discord.Interaction[Any], options: dict[str, str | None]) -> None:
        form, draft = inbound.form_from_options(options, self.clock())
        await self.form(interaction, form, draft)

    async def command(self, interaction: discord.Interaction[Any], name: str) -> None:
        await self.run_interaction(interaction, Command(name, self.clock()))

    async def modal_submitted(self, interaction: discord.Interaction[Any]) -> None:
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if custom_id == render.FORM_MODAL:
            # Fixing a refused /revq ask: its notes, which the form has no field for, go along.
            fixing = render.is_refusal(interaction.message)
            kept = self.drafts.peek(interaction.user.id) if fixing else {}
            form, draft = inbound.form_from_modal(data, self.clock(), notes=(kept.get("notes") or [""])[0])
            await self.form(interaction, form, draft)
        elif custom_id.startswith(render.TYPED_MODAL):
            slot = custom_id.removeprefix(render.TYPED_MODAL)
            answer = inbound.typed_answer(data)
            await self.defer(interaction)
            turn = await self.run_interaction(interaction, Text(answer, self.clock(), slot=slot))
            if slot in turn.accepted:
                await self.tidy(interaction, answer)

    async def clicked(self, interaction: discord.Interaction[Any], click: render.Click) -> None:
        if click.owner != interaction.user.id:  # a group DM or a shared message: not theirs to change
            await interaction.response.send_message(ephemeral=True, **render.not_yours().send_kwargs())
            return
        if click.action == "form" or (
            click.action == "cmd" and click.name == "restart" and not typing_reaches_revq(interaction)
        ):
            # Where typed answers are not read, starting over is the form again; closing it changes nothing.
            await self.open_form(interaction)
            return
        if click.action == "type":
            slot = next((s for s in self.slots if s.name == click.name), None)
            await interaction.response.send_modal(render.typed_modal(slot.prompt if slot else "", click.name))
            return
        event = inbound.event_from_click(click, self.clock())
        await self.defer(interaction)
        if event is None:
            return
        turn = await self.run_interaction(interaction, event)
        question = event.slot if isinstance(event, Pick) else event.arg if isinstance(event, Command) else ""
        if question and question in turn.accepted:
            labels = render.chosen_labels(interaction.message, click)
            await self.tidy(interaction, ", ".join(labels))

    async def direct_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is not None or not isinstance(message.channel, discord.DMChannel):
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # pins, calls and the like are not messages to answer
        event = Text(message.content, self.clock())
        destination = ChannelReplies(message.channel)
        await self.run(message.author.id, event, destination, can_type=True, event_id=f"discord:{message.id}")

    async def prompt_clicked(self, interaction: discord.Interaction[Any], action: str) -> None:
        """**Prep my questions** under a channel prompt: the clicker's own form, seen by them alone;
        the channel gets nothing. What follows goes as after `/revq start`."""
        if action == render.PREP:
            await self.open_form(interaction)
        else:  # a button of a later revq, clicked after a downgrade: nothing to do
            await interaction.response.defer()

    async def prompts(
        self,
        interaction: discord.Interaction[Any],
        action: str,
        channel: discord.abc.Snowflake | None = None,
        words: Sequence[str] = (),
    ) -> None:
        """One `/revq-prompts` command; every answer is seen by the person alone."""
        replies = InteractionReplies(interaction, ephemeral=True)
        for message in await self._prompts_answer(interaction, action, channel, words):
            await replies.send(message)

    async def _prompts_answer(
        self,
        interaction: discord.Interaction[Any],
        action: str,
        channel: discord.abc.Snowflake | None,
        words: Sequence[str],
    ) -> list[render.DiscordMessage]:
        # Discord hides the command from those without Manage Server, but a server's admins can
        # change who sees it: the check is made here too.
        guild_id = interaction.guild_id
        if guild_id is None or not interaction.is_guild_integration():
            link = (
                f" with this link: <{self.invite_link}>"
                if self.invite_link
                else " (`revq discord invite` prints the link)"
            )
            return [render.notice(NEEDS_SERVER_INSTALL.format(link=link))]
        allowed = interaction.permissions
        if not (allowed.manage_guild or allowed.administrator):
            return [render.notice(PROMPTS_REFUSED)]
        channel_id = str(channel.id) if channel is not None else ""
        try:
            request = admin.parse_request(action, channel_id, list(words), self.runner.ctx.matcher, PROMPTS_COMMAND)
        except ScheduleError as exc:  # the message quotes what was typed: escaped
            return [render.notice(f"⚠️ {render.escape(str(exc).rstrip('.'))}. Nothing was changed.")]
        if request.action in ("add", "resume") and channel is not None:
            problem = self.cannot_post(guild_id, channel.id)
            if problem is not None:
                return [render.notice(problem)]
        reply = await admin.carry_out(
            request, self.runner.store, self.runner.ctx.bank, platform=PLATFORM, workspace=str(guild_id),
            user=str(interaction.user.id), now=self.clock(), command=PROMPTS_COMMAND, options=True,
        )  # fmt: skip
        if reply.changed:
            log.info("channel prompts: %s for channel %s in server %s", request.action, channel_id, guild_id)
        if reply.preview is not None:
            return [render.prompt_preview(reply.text, reply.preview)]
        return render.notices(reply.text)

    def cannot_post(self, guild_id: int, channel_id: int) -> str | None:
        """Why revq could not post a prompt in the channel, naming what it lacks; None if it can.
        Read from the server's channels and roles, which Discord keeps up to date in the cache."""
        guild = self.client.get_guild(guild_id) if self.client is not None else None
        target = guild.get_channel(channel_id) if guild is not None else None
        where = f"<#{channel_id}>"
        if guild is None or guild.me is None or target is None:
            missing: str | None = "View Channel"
        elif not isinstance(target, discord.TextChannel):
            return f"{where} is not a text channel: pick one where people write messages. Nothing was changed."
        else:
            # The first one lacking: without View Channel nothing else counts, and without Send
            # Messages Discord counts Embed Links as lacking too.
            granted = target.permissions_for(guild.me)
            missing = next((label for flag, label in POST_PERMISSIONS if not getattr(granted, flag)), None)
        if missing is None:
            return None
        return (
            f"I can't post in {where}: revq needs the **{missing}** permission there. In the channel's settings, "
            "under Permissions, allow View Channel, Send Messages and Embed Links for revq, then try again. "
            "Nothing was changed."
        )

    async def answer_mention(self, message: discord.Message) -> None:
        """Someone mentioned revq in a server channel: invite them to their DM or /revq, in a thread
        on their message (or, where no thread can be made, a reply). Their words are never repeated."""
        me = self.client.user if self.client is not None else None
        if me is None or message.guild is None or message.author.bot:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        role = message.guild.self_role  # "@revq" can also name the role Discord gives the bot
        # Only a written @revq counts: a reply to revq's own post pings it too, and must not get a thread.
        if me.id not in message.raw_mentions and not (role and role.id in message.raw_role_mentions):
            return
        reply = render.notice(MENTION_REPLY)
        if isinstance(message.channel, discord.TextChannel):
            try:
                thread = await message.create_thread(name=MENTION_THREAD, auto_archive_duration=60)
                await thread.send(**reply.send_kwargs())
                return
            except discord.HTTPException as exc:  # no thread allowed here: a reply instead
                log.info("could not answer a mention in a thread: %s", _describe(exc))
        await message.reply(**reply.send_kwargs())

    async def answer_now(self, interaction: discord.Interaction[Any], replies: Sequence[Reply]) -> None:
        private = not typing_reaches_revq(interaction)
        await send_all(InteractionReplies(interaction, ephemeral=private), replies, owner=interaction.user.id,
                       can_type=not private)  # fmt: skip

    async def apologise(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await InteractionReplies(interaction, ephemeral=True).send(render.notice(SORRY_BROKEN.text))
        except Exception as exc:  # Discord itself is failing: the log is all we have left
            log.warning("could not send an apology either: %s", _describe(exc))

    async def guarded(self, kind: str, interaction: discord.Interaction[Any], work: Any) -> None:
        """Run a handler; a failure is logged (never the text) and the person gets an apology."""
        try:
            await work
        except Exception as exc:
            _log_failure(kind, interaction.user.id, exc)
            await self.apologise(interaction)


def build_tree(client: discord.Client, front: DiscordFrontEnd) -> app_commands.CommandTree[Any]:
    """`/revq` and its subcommands, for servers, revq's DM and (user installs) any DM."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(
        client,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
    )
    choices = {slot.name: slot.choices for slot in front.slots}
    stages = [app_commands.Choice(name=c.label[:100], value=c.value) for c in choices.get("stage", ())][:25]
    kinds = [app_commands.Choice(name=c.label[:100], value=c.value) for c in choices.get("company_type", ())][:25]
    settings = [app_commands.Choice(name=c.label[:100], value=c.value) for c in choices.get("setting", ())][:25]
    levels = [app_commands.Choice(name=c.label[:100], value=c.value) for c in choices.get("level", ())][:25]
    group = app_commands.Group(name="revq", description="Prepare questions to ask the employer in your job interview")

    @group.command(name="start", description="Answer a few questions in a form and get your question list")
    @app_commands.describe(company="The company or organization (you can change it in the form)")
    async def start(
        interaction: discord.Interaction[Any], company: app_commands.Range[str, 1, 100] | None = None
    ) -> None:
        await front.guarded("start", interaction, front.open_form(interaction, company))

    @group.command(name="ask", description="Get your question list at once, without a form")
    @app_commands.describe(
        company="The company or organization",
        stage="Who you will be talking to",
        priorities="What matters most to you, in your own words, most important first",
        role="The job title, such as Staff Nurse or Data Engineer",
        company_type="What kind of employer it is",
        notes="Anything you already know about them",
        setting="Where you will mostly work (otherwise read from the job title)",
        level="How senior the job is (otherwise read from the job title)",
    )
    @app_commands.choices(stage=stages, company_type=kinds, setting=settings, level=levels)
    async def ask(
        interaction: discord.Interaction[Any],
        company: app_commands.Range[str, 1, 100],
        stage: app_commands.Choice[str],
        priorities: app_commands.Range[str, 1, 500],
        role: app_commands.Range[str, 1, 100] | None = None,
        company_type: app_commands.Choice[str] | None = None,
        notes: app_commands.Range[str, 1, 600] | None = None,
        setting: app_commands.Choice[str] | None = None,
        level: app_commands.Choice[str] | None = None,
    ) -> None:
        options = {
            "company": company,
            "stage": stage.value,
            "priorities": priorities,
            "role": role,
            "company_type": company_type.value if company_type else None,
            "notes": notes,
            "setting": setting.value if setting else None,
            "level": level.value if level else None,
        }
        await front.guarded("ask", interaction, front.ask(interaction, options))

    @ask.autocomplete("priorities")
    async def suggest_priorities(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        found = inbound.priority_suggestions(current, choices.get("priorities", ()), front.runner.ctx.matcher)
        return [app_commands.Choice(name=text, value=text) for text in found]

    for name, description in (
        ("more", "More questions, none you've seen before"),
        ("export", "A plain-text copy of your question list"),
        ("help", "What revq does and what you can say"),
        ("forget", "Erase everything revq stored about you"),
    ):
        group.add_command(_simple_command(front, name, description))

    tree.add_command(group)
    tree.add_command(prompts_group(front))

    @tree.error
    async def failed(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        _log_failure("command", interaction.user.id if interaction.user else None, error)
        await front.apologise(interaction)

    return tree


def _simple_command(front: DiscordFrontEnd, name: str, description: str) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: discord.Interaction[Any]) -> None:
        await front.guarded(name, interaction, front.command(interaction, name))

    return app_commands.Command(name=name, description=description, callback=callback)


class _TextChannelOption(app_commands.Transformer[Any]):
    """A text or announcement channel of the server, as Discord gives it in the command: read
    without discord.py's cache, so a server without revq gets an answer rather than an error."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> discord.Object:
        return discord.Object(id=int(value.id))  # only the id matters: permissions are read from the cache


_CHANNEL = "The channel for the question"


def prompts_group(front: DiscordFrontEnd) -> app_commands.Group:
    """`/revq-prompts`: a command of its own, as only a whole command can be hidden from people who
    may not manage the server (and /revq stays visible to everyone). Servers with revq only."""
    group = app_commands.Group(
        name=PROMPTS_COMMAND.removeprefix("/"),
        description="Post a question for interviews in a channel, every day, week or month (server managers)",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        # Offered to personal installs too, so someone who tries it there is told why it needs the server install.
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
    )
    cadences = [
        app_commands.Choice(name="Every day", value="daily"),
        app_commands.Choice(name="Every week", value="weekly"),
        app_commands.Choice(name="Every month", value="monthly"),
    ]

    @group.command(name="add", description="Post a question in a channel every day, week or month")
    @app_commands.describe(
        channel=_CHANNEL,
        cadence="How often",
        at="The time, 24-hour HH:MM, such as 09:00 or 17:30",
        timezone="The time zone, such as Europe/Berlin or America/New_York",
        day="Weekly: a day, such as monday. Monthly: 1 to 28. Daily: leave it out",
    )
    @app_commands.rename(at="time")
    @app_commands.choices(cadence=cadences)
    async def add(
        interaction: discord.Interaction[Any],
        channel: app_commands.Transform[discord.Object, _TextChannelOption],
        cadence: app_commands.Choice[str],
        at: app_commands.Range[str, 1, 20],
        timezone: app_commands.Range[str, 1, 64],
        day: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        words = inbound.prompt_words(cadence.value, day, at, timezone)
        await front.guarded("prompts", interaction, front.prompts(interaction, "add", channel, words))

    @add.autocomplete("timezone")
    async def suggest_timezones(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in inbound.timezone_suggestions(current)]

    @add.autocomplete("day")
    async def suggest_days(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        cadence = getattr(interaction.namespace, "cadence", None)
        found = inbound.day_suggestions(str(cadence) if cadence else None, current)
        return [app_commands.Choice(name=day.capitalize(), value=day) for day in found]

    @group.command(name="topic", description="Keep a channel's questions to one topic for a while (any: all topics)")
    @app_commands.describe(channel=_CHANNEL, topic="Such as salary, training or remote work; any to stop")
    async def topic(
        interaction: discord.Interaction[Any],
        channel: app_commands.Transform[discord.Object, _TextChannelOption],
        topic: app_commands.Range[str, 1, 100],
    ) -> None:
        await front.guarded("prompts", interaction, front.prompts(interaction, "topic", channel, [topic]))

    for action, description in (
        ("pause", "Stop a channel's questions for now"),
        ("resume", "Start a channel's questions again"),
        ("remove", "Stop a channel's questions for good"),
        ("preview", "See the channel's next question as it will be posted (only you)"),
    ):
        group.add_command(_prompts_channel_command(front, action, description))
    for action, description in (
        ("list", "Every channel's questions and when they are posted"),
        ("help", "How to set up channel questions"),
    ):
        group.add_command(_prompts_plain_command(front, action, description))
    return group


def _prompts_channel_command(
    front: DiscordFrontEnd, action: str, description: str
) -> app_commands.Command[Any, ..., None]:
    @app_commands.describe(channel=_CHANNEL)
    async def callback(
        interaction: discord.Interaction[Any],
        channel: app_commands.Transform[discord.Object, _TextChannelOption],
    ) -> None:
        await front.guarded("prompts", interaction, front.prompts(interaction, action, channel))

    return app_commands.Command(name=action, description=description, callback=callback)


def _prompts_plain_command(
    front: DiscordFrontEnd, action: str, description: str
) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: discord.Interaction[Any]) -> None:
        await front.guarded("prompts", interaction, front.prompts(interaction, action))

    return app_commands.Command(name=action, description=description, callback=callback)


@dataclass
class DiscordPoster:
    """The scheduler's way to post on Discord. Through REST only, so any process can post in any
    server whichever shards it runs; the store's claims keep each post single."""

    client: discord.Client
    admin_command: str = PROMPTS_COMMAND

    async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
        try:
            channel = await self.client.fetch_channel(int(schedule.channel))
        except discord.NotFound:
            raise ChannelLost("the channel no longer exists") from None
        except discord.Forbidden:
            raise ChannelLost(
                "revq can no longer see the channel (removed from the server, or View Channel taken away)"
            ) from None
        if not isinstance(channel, discord.TextChannel):
            raise ChannelLost("it is no longer a text channel")
        message = render.channel_prompt(prompt)
        try:
            sent = await channel.send(**message.send_kwargs())
        except discord.NotFound:
            raise ChannelLost("the channel no longer exists") from None
        except discord.Forbidden:
            raise ChannelLost(
                "revq may no longer post there (it needs View Channel, Send Messages and Embed Links)"
            ) from None
        message.sent()
        return str(sent.id)

    async def tell_admin(self, schedule: Schedule, text: str) -> None:
        if not schedule.created_by.isdigit():
            log.warning("channel prompt in %s has no admin to tell", schedule.channel)
            return
        channel = await self.client.create_dm(discord.Object(id=int(schedule.created_by)))
        await channel.send(**render.notice(text).send_kwargs())


def intents() -> discord.Intents:
    """Servers (discord.py keeps its state by them), DMs, and server messages, for mentions of revq.
    Message content arrives in DMs and in messages that mention revq without the privileged intent,
    and interactions need none, so revq never asks for a privileged one."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    wanted.guild_messages = True
    return wanted


# revq never joins voice: without this, every start warns that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class _RevqHandlers:
    """The client's part: register the buttons, route events to the front end."""

    front: DiscordFrontEnd
    tree: app_commands.CommandTree[Any]

    def _set_up(self, front: DiscordFrontEnd) -> None:
        self.front = front
        assert isinstance(self, discord.Client)
        front.client = self
        self.tree = build_tree(self, front)

    async def setup_hook(self) -> None:
        assert isinstance(self, discord.Client)
        self.add_dynamic_items(*render.DYNAMIC_ITEMS)  # buttons of lists sent before a restart still work

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None:  # a shared channel: a failure is logged, never announced there
            try:
                await self.front.answer_mention(message)
            except Exception as exc:
                _log_failure("mention", message.author.id, exc)
            return
        try:
            await self.front.direct_message(message)
        except Exception as exc:
            _log_failure("message", message.author.id, exc)
            try:
                await message.channel.send(**render.notice(SORRY_BROKEN.text).send_kwargs())
            except Exception as again:
                log.warning("could not send an apology either: %s", _describe(again))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        # Modals are read here, not by discord.py's modal store, which a restart empties.
        if interaction.type is discord.InteractionType.modal_submit:
            await self.front.guarded("form", interaction, self.front.modal_submitted(interaction))

    async def revq_click(self, interaction: discord.Interaction[Any], click: render.Click) -> None:
        await self.front.guarded("button", interaction, self.front.clicked(interaction, click))

    async def revq_prompt_click(self, interaction: discord.Interaction[Any], action: str) -> None:
        await self.front.guarded("prompt button", interaction, self.front.prompt_clicked(interaction, action))


class RevqClient(_RevqHandlers, discord.Client):
    def __init__(self, front: DiscordFrontEnd, **options: Any) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self._set_up(front)


class ShardedRevqClient(_RevqHandlers, discord.AutoShardedClient):
    """The same bot over several shards (DISCORD_SHARD_COUNT), for very large communities."""

    def __init__(self, front: DiscordFrontEnd, **options: Any) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self._set_up(front)


def make_client(
    front: DiscordFrontEnd, *, shard_count: int = 0, shard_ids: Sequence[int] = (), **options: Any
) -> discord.Client:
    if shard_count:
        return ShardedRevqClient(front, shard_count=shard_count, shard_ids=list(shard_ids) or None, **options)
    return RevqClient(front, **options)

"""Channel prompts on Discord end to end: `/revq-prompts`, the scheduled post and its button, and
mentions, through the real discord.py client against the local Discord fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.app import MENTION_REPLY, DiscordPoster, conversation_key
from bot.adapters.discord.server import sync_commands
from bot.engine.dialogue import EngineContext
from bot.prompts.admin import upcoming_prompt
from bot.prompts.schedule import Schedule, When
from bot.prompts.scheduler import Scheduler
from bot.store import SessionStore, SQLiteStore
from tests.discord_harness import EPHEMERAL, RunningBot, running_revq, settings_for
from tests.fakes.discord_api import (
    APP_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    CREATE_PUBLIC_THREADS,
    EVERYONE_PERMISSIONS,
    GUILD_ID,
    MANAGE_GUILD,
    PRIVILEGED_INTENTS,
    SEND_MESSAGES,
    USER_ID,
    VIEW_CHANNEL,
    FakeDiscord,
    FakeGuild,
)

CAREERS = CHANNEL_ID + 1
LOCKED = CHANNEL_ID + 2  # revq may not send messages here
HIDDEN = CHANNEL_ID + 3  # revq may not even see this one
OTHER_GUILD = GUILD_ID + 1000
OTHER_CHANNEL = OTHER_GUILD + 1
STRANGER = USER_ID + 7  # a member who clicks a prompt's button
GUILD_MESSAGES = 1 << 9
# Monday 2 March 2026, 09:30 in Berlin: half an hour after a weekly Monday 09:00 prompt was due.
MONDAY_MORNING = datetime(2026, 3, 2, 8, 30, tzinfo=UTC).timestamp()
WEEKLY = When("weekly", 0, 9, 0, "Europe/Berlin")
PREP = "revq:prompt:prep"
QUIET = {"prompt_check_seconds": 3600.0}  # the service's own due-check runs once at start, then not again in a test


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    guilds = [
        FakeGuild(channels={CHANNEL_ID: "general", CAREERS: "careers", LOCKED: "announcements", HIDDEN: "mods"}),
        FakeGuild(id=OTHER_GUILD, name="Other Guild", channels={OTHER_CHANNEL: "jobs"}),
    ]
    async with FakeDiscord(guilds=guilds) as fake:
        await fake.set_permissions(LOCKED, BOT_USER_ID, deny=SEND_MESSAGES)
        await fake.set_permissions(HIDDEN, GUILD_ID, deny=VIEW_CHANNEL)  # hidden from @everyone, revq included
        yield fake


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SessionStore]:
    opened = await SQLiteStore.open(str(tmp_path / "revq.db"))
    yield opened
    await opened.close()


@pytest.fixture
async def bot(fake: FakeDiscord, ctx: EngineContext, store: SessionStore) -> AsyncIterator[RunningBot]:
    async with running_revq(fake, ctx, store, **QUIET) as running:
        yield running


def add_options(**changes: str) -> dict[str, Any]:
    """`/revq-prompts add`'s options: #careers, weekly, Monday 09:00 in Berlin, unless changed."""
    options: dict[str, Any] = {"channel": str(CAREERS), "cadence": "weekly", "time": "09:00"}
    options |= {"timezone": "Europe/Berlin", "day": "monday"} | changes
    return options | {"channel": FakeDiscord.channel_option(int(options["channel"]))}


async def prompts(bot: RunningBot, subcommand: str, options: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """`/revq-prompts <subcommand>` in the server; returns the answer, checked to be for the person alone."""
    kw.setdefault("guild_id", GUILD_ID)
    data = bot.fake.slash_command("revq-prompts", subcommand, options or {}, **kw)
    callback = await bot.interact(data)
    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL, callback
    assert callback["data"]["allowed_mentions"] == {"parse": []}
    answer: dict[str, Any] = callback["data"]
    return answer


def schedule(channel: int = CAREERS, **changes: Any) -> Schedule:
    fields: dict[str, Any] = {"when": WEEKLY, "created_by": str(USER_ID)} | changes
    return Schedule("discord", str(GUILD_ID), str(channel), **fields)


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row.get("components") or []]


def without_ids(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components as sent, without the ids Discord numbers them with."""
    bare = [{key: value for key, value in component.items() if key != "id"} for component in components]
    return [component | {"components": without_ids(component.get("components") or [])} for component in bare]


async def test_sync_registers_revq_prompts_for_server_managers_only(fake: FakeDiscord, ctx: EngineContext) -> None:
    with fake.point_discord_here():
        await sync_commands(settings_for(fake), ctx)
    (put,) = fake.calls("PUT", rf"/applications/{APP_ID}/commands")
    sent = {command["name"]: command for command in put.json}
    registered = {command["name"]: command for command in fake.commands[None]}
    prompts_command = registered["revq-prompts"]
    assert prompts_command["default_member_permissions"] == str(MANAGE_GUILD) == "32"  # as Discord keeps it
    assert int(sent["revq-prompts"]["default_member_permissions"]) == MANAGE_GUILD
    assert prompts_command["integration_types"] == [0, 1] and prompts_command["contexts"] == [0]
    assert registered["revq"]["default_member_permissions"] is None  # /revq stays visible to everyone
    subcommands = {option["name"]: option for option in prompts_command["options"]}
    assert set(subcommands) == {"add", "list", "pause", "resume", "remove", "preview", "topic", "help"}
    add = {option["name"]: option for option in subcommands["add"]["options"]}
    assert [option["name"] for option in subcommands["add"]["options"]] == [
        "channel",
        "cadence",
        "time",
        "timezone",
        "day",
    ]
    assert add["channel"]["type"] == 7 and add["channel"]["channel_types"] == [0, 5]  # text and announcement channels
    assert [choice["value"] for choice in add["cadence"]["choices"]] == ["daily", "weekly", "monthly"]
    assert add["timezone"]["autocomplete"] is True and add["day"]["required"] is False


async def test_add_list_pause_resume_topic_and_remove(bot: RunningBot) -> None:
    store = bot.service.store
    added = await prompts(bot, "add", add_options())
    assert added["content"].startswith(f"Done: <#{CAREERS}> gets a question of the week every Monday at 09:00")
    saved = await store.get_schedule("discord", str(CAREERS))
    assert saved is not None and saved.when == WEEKLY and saved.workspace == str(GUILD_ID)
    assert saved.created_by == str(USER_ID) and not saved.paused

    daily = add_options(cadence="daily", time="08:30", timezone="America/Chicago")
    del daily["day"]
    replaced = await prompts(bot, "add", daily)
    assert "This replaces the earlier schedule (every Monday at 09:00 Europe/Berlin)" in replaced["content"]

    listed = await prompts(bot, "list")
    assert f"<#{CAREERS}>: every day at 08:30 America/Chicago, any topic" in listed["content"]

    assert "Paused the prompts" in (await prompts(bot, "pause", {"channel": fake_channel(CAREERS)}))["content"]
    paused = await store.get_schedule("discord", str(CAREERS))
    assert paused is not None and paused.paused

    assert "Resumed the prompts" in (await prompts(bot, "resume", {"channel": fake_channel(CAREERS)}))["content"]
    resumed = await store.get_schedule("discord", str(CAREERS))
    assert resumed is not None and not resumed.paused

    topic = await prompts(bot, "topic", {"channel": fake_channel(CAREERS), "topic": "salary"})
    assert "questions about" in topic["content"]
    pinned = await store.get_schedule("discord", str(CAREERS))
    assert pinned is not None and pinned.topic == "compensation"

    assert "Removed the prompts" in (await prompts(bot, "remove", {"channel": fake_channel(CAREERS)}))["content"]
    assert await store.get_schedule("discord", str(CAREERS)) is None
    assert "/revq-prompts add: pick the channel" in (await prompts(bot, "help"))["content"]
    assert bot.fake.channel_messages(CAREERS) == []  # all of it was seen by the admin alone


def fake_channel(channel: int) -> dict[str, Any]:
    return FakeDiscord.channel_option(channel)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not a time zone; use an IANA name such as Europe/Berlin"),
        ({"time": "25:00"}, "'25:00' is not a time; use 24-hour HH:MM"),
        ({"time": "9am-ish"}, "'9am-ish' is not a time; use 24-hour HH:MM"),
        ({"day": "funday"}, "'funday' is not a day; use monday, tuesday"),
        ({"cadence": "monthly", "day": "31"}, "must be a number from 1 to 28"),
        ({"time": "*9* <@1>"}, "'\\*9\\* \\<@\u200b1>' is not a time"),  # their words, shown as typed
        ({"channel": str(LOCKED)}, f"I can't post in <#{LOCKED}>: revq needs the **Send Messages** permission there"),
        ({"channel": str(HIDDEN)}, f"I can't post in <#{HIDDEN}>: revq needs the **View Channel** permission there"),
    ],
)
async def test_bad_input_is_answered_and_changes_nothing(bot: RunningBot, changes: dict[str, str], needle: str) -> None:
    store = bot.service.store
    await store.save_schedule(schedule(when=When("daily", 0, 8, 0, "UTC")))
    before = await store.list_schedules()
    answer = await prompts(bot, "add", add_options(**changes))
    assert needle in answer["content"] and "Nothing was changed." in answer["content"]
    assert await store.list_schedules() == before


async def test_resume_in_a_channel_revq_may_not_post_in_keeps_it_paused(bot: RunningBot) -> None:
    store = bot.service.store
    lost = schedule(LOCKED).paused_as("revq may no longer post there")
    await store.save_schedule(lost)
    answer = await prompts(bot, "resume", {"channel": fake_channel(LOCKED)})
    assert "**Send Messages**" in answer["content"] and "Nothing was changed." in answer["content"]
    assert await store.get_schedule("discord", str(LOCKED)) == lost
    await bot.fake.set_permissions(LOCKED, BOT_USER_ID, deny=0)  # fixed in the channel's settings: revq hears of it
    answer = await prompts(bot, "resume", {"channel": fake_channel(LOCKED)})
    assert "Resumed the prompts" in answer["content"]


async def test_members_who_may_not_manage_the_server_are_refused_and_nothing_changes(bot: RunningBot) -> None:
    store = bot.service.store
    await store.save_schedule(schedule())
    before = await store.list_schedules()
    member = EVERYONE_PERMISSIONS & ~MANAGE_GUILD  # a server's admins may have shown them the command
    for subcommand, options in (
        ("add", add_options(channel=str(CHANNEL_ID))),
        ("remove", {"channel": fake_channel(CAREERS)}),
        ("pause", {"channel": fake_channel(CAREERS)}),
        ("list", {}),
    ):
        answer = await prompts(bot, subcommand, options, member_permissions=member)
        assert "Only people who may **Manage Server** here" in answer["content"], subcommand
        assert "Nothing was changed." in answer["content"] and f"<#{CAREERS}>" not in answer["content"]
    assert await store.list_schedules() == before


async def test_without_revq_in_the_server_prompts_ask_for_the_server_install(bot: RunningBot) -> None:
    unknown_server = OTHER_GUILD + 555  # revq is on the person's own account only
    answer = await prompts(bot, "add", add_options(), guild_id=unknown_server, user_install=True)
    assert "need revq added to this server" in answer["content"]
    assert f"https://discord.com/oauth2/authorize?client_id={APP_ID}" in answer["content"]
    assert "integration_type=0" in answer["content"] and "Nothing was changed." in answer["content"]
    assert await bot.service.store.list_schedules() == []


async def test_preview_shows_the_next_post_exactly_as_it_will_be_posted_to_the_admin_alone(
    bot: RunningBot, ctx: EngineContext
) -> None:
    store = bot.service.store
    planned = schedule()
    await store.save_schedule(planned)
    answer = await prompts(bot, "preview", {"channel": fake_channel(CAREERS)})
    assert answer["content"].startswith("Preview of the next post in <#") and "Next post: " in answer["content"]
    assert bot.fake.channel_messages(CAREERS) == []

    prompt = await upcoming_prompt(store, ctx.bank, planned)
    assert prompt is not None
    message_id = await DiscordPoster(bot.service.client).post(planned, prompt)
    (posted,) = bot.fake.channel_messages(CAREERS)
    assert posted["id"] == message_id
    assert answer["embeds"] == posted["embeds"]
    assert without_ids(answer["components"]) == without_ids(posted["components"])


async def test_the_post_is_an_embed_with_a_button_for_everyone(bot: RunningBot, ctx: EngineContext) -> None:
    planned = schedule()
    prompt = await upcoming_prompt(bot.service.store, ctx.bank, planned)
    assert prompt is not None
    message_id = await DiscordPoster(bot.service.client).post(planned, prompt)
    (request,) = bot.fake.calls("POST", rf"/channels/{CAREERS}/messages")
    assert request.json["allowed_mentions"] == {"parse": []} and not request.json.get("content")
    (embed,) = request.json["embeds"]
    assert embed["title"] == "Question of the week"
    assert prompt.question in embed["description"] and f"Why ask it: {prompt.why}" in embed["description"]
    assert "only you see your answers" in embed["description"]
    (button,) = request.json["components"][0]["components"]
    assert button["custom_id"] == PREP and button["label"] == "Prep my questions"  # no person in it
    assert bot.fake.message(message_id)["channel_id"] == str(CAREERS)


async def test_prep_my_questions_opens_the_form_and_keeps_everything_out_of_the_channel(
    fake: FakeDiscord, ctx: EngineContext, store: SessionStore
) -> None:
    await store.save_schedule(schedule())
    async with running_revq(fake, ctx, store, **QUIET) as bot:
        scheduler = Scheduler(
            store, ctx.bank, {"discord": DiscordPoster(bot.service.client)}, clock=lambda: MONDAY_MORNING
        )
        assert await scheduler.check() == [(str(CAREERS), "2026-W10")]
        assert await scheduler.check() == []  # posted once
    (post,) = fake.channel_messages(CAREERS)
    assert len(await store.posted_questions("discord", str(CAREERS))) == 1

    async with running_revq(fake, ctx, store, **QUIET) as bot:  # after a restart the button still works
        click = fake.button_click(PREP, post, user_id=STRANGER)
        opened = await bot.interact(click)
        assert opened["type"] == 9 and opened["data"]["custom_id"] == "revq:form"
        typed: dict[str, str | list[str] | bool] = {"company": "Acme", "role": "Staff Nurse", "priorities": ["remote"]}
        submit = fake.modal_submit("revq:form", fake.modal_values(typed), user_id=STRANGER, guild_id=GUILD_ID,
                                   channel_id=CAREERS, message=post)  # fmt: skip
        await bot.interact(submit, followups=1)
        (listed,) = bot.followups(submit)
        assert listed["flags"] == EPHEMERAL and "### Questions to ask Acme (Staff Nurse)" in listed["content"]
        stored = await store.get(conversation_key(STRANGER), time.time())
        assert stored is not None and '"remote"' in stored.data
    assert fake.channel_messages(CAREERS) == [post]  # nothing new, nothing changed
    assert not fake.calls("PATCH", rf"/webhooks/\d+/{submit['token']}/messages/@original")
    assert not fake.calls("PATCH", rf"/channels/{CAREERS}/messages/\d+")


@pytest.mark.parametrize(
    ("lose_it", "reason"),
    [
        ("delete", "the channel no longer exists"),
        ("forbid", "revq may no longer post there"),
        ("hide", "revq can no longer see the channel"),
    ],
)
async def test_a_lost_channel_pauses_its_prompts_and_the_admin_is_told_privately(
    bot: RunningBot, ctx: EngineContext, lose_it: str, reason: str
) -> None:
    fake, store = bot.fake, bot.service.store
    await store.save_schedule(schedule())
    if lose_it == "delete":
        await fake.delete_channel(CAREERS)
    else:
        await fake.set_permissions(CAREERS, BOT_USER_ID, deny=SEND_MESSAGES if lose_it == "forbid" else VIEW_CHANNEL)
    scheduler = Scheduler(store, ctx.bank, {"discord": DiscordPoster(bot.service.client)}, clock=lambda: MONDAY_MORNING)
    assert await scheduler.check() == []
    paused = await store.get_schedule("discord", str(CAREERS))
    assert paused is not None and paused.paused and reason in paused.pause_reason
    dm = fake.dm_channel_id(USER_ID)
    (note,) = await fake.wait_for_call("POST", rf"/channels/{dm}/messages")
    assert f"I paused the prompts for <#{CAREERS}>: {reason}" in note.json["content"]
    assert "/revq-prompts resume <#" in note.json["content"] and note.json["allowed_mentions"] == {"parse": []}
    assert await scheduler.check() == []  # paused: not tried again


async def test_the_service_runs_the_due_check_from_start_up(
    fake: FakeDiscord, ctx: EngineContext, store: SessionStore
) -> None:
    due = datetime.now(UTC) - timedelta(minutes=2)  # a daily prompt due two minutes ago, within the grace hours
    await store.save_schedule(schedule(when=When("daily", 0, due.hour, due.minute, "UTC")))
    async with running_revq(fake, ctx, store, **QUIET):
        (request,) = await fake.wait_for_call("POST", rf"/channels/{CAREERS}/messages")
        assert custom_ids(request.json) == [PREP]
    assert len(await store.posted_questions("discord", str(CAREERS))) == 1


async def test_a_mention_is_answered_in_a_thread_with_nothing_personal(bot: RunningBot) -> None:
    fake = bot.fake
    identify = fake.identifies[-1]
    assert identify["intents"] & GUILD_MESSAGES and not identify["intents"] & PRIVILEGED_INTENTS

    secret = "I have an interview at Globex tomorrow and I'm scared"
    await fake.dispatch("MESSAGE_CREATE", fake.message_create("nobody here", guild_id=GUILD_ID))
    # a reply to revq's own post pings revq without writing @revq: no thread for that
    await fake.dispatch("MESSAGE_CREATE", fake.message_create("great question", guild_id=GUILD_ID,
                                                              mentions=(BOT_USER_ID,)))  # fmt: skip
    mention = fake.message_create(f"<@{BOT_USER_ID}> {secret}", guild_id=GUILD_ID, mentions=(BOT_USER_ID,))
    await fake.dispatch("MESSAGE_CREATE", mention)
    (thread,) = await fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages/{mention['id']}/threads")
    assert "Globex" not in thread.json["name"]
    (reply,) = await fake.wait_for_call("POST", rf"/channels/{mention['id']}/messages")
    assert reply.json["content"] == MENTION_REPLY and reply.json["allowed_mentions"] == {"parse": []}
    assert "direct message" in MENTION_REPLY and "/revq start" in MENTION_REPLY
    assert not fake.calls("POST", rf"/channels/{CHANNEL_ID}/messages")  # the channel itself got nothing
    assert len(fake.calls("POST", r"/channels/\d+/messages/\d+/threads")) == 1  # only the mention was answered


async def test_a_mention_where_no_thread_may_be_made_gets_a_reply(bot: RunningBot) -> None:
    fake = bot.fake
    await fake.set_permissions(CHANNEL_ID, BOT_USER_ID, deny=CREATE_PUBLIC_THREADS)
    secret = "help me with my salary talk at Globex"
    mention = fake.message_create(f"<@{BOT_USER_ID}> {secret}", guild_id=GUILD_ID, mentions=(BOT_USER_ID,))
    await fake.dispatch("MESSAGE_CREATE", mention)
    (reply,) = await fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert reply.status == 200 and reply.json["content"] == MENTION_REPLY
    assert int(reply.json["message_reference"]["message_id"]) == int(mention["id"])
    assert "Globex" not in str(reply.json)
    (refused,) = fake.calls("POST", rf"/channels/{CHANNEL_ID}/messages/\d+/threads")
    assert refused.status == 403


async def test_time_zones_and_days_are_suggested_while_typing(bot: RunningBot) -> None:
    async def suggested(focused: str, **typed: str) -> list[str]:
        options = {"channel": fake_channel(CAREERS), "cadence": "weekly", "time": "09:00", "timezone": ""} | typed
        data = bot.fake.autocomplete("revq-prompts", "add", options, focused=focused, guild_id=GUILD_ID)
        callback = await bot.interact(data)
        assert callback["type"] == 8
        return [choice["value"] for choice in callback["data"]["choices"]]

    berlin = await suggested("timezone", timezone="berl")
    assert berlin[0] == "Europe/Berlin" and len(berlin) <= 25
    assert (await suggested("timezone", timezone="new york"))[0] == "America/New_York"
    assert len(await suggested("timezone", timezone="a")) == 25
    assert await suggested("day", day="t") == ["tuesday", "thursday"]
    assert await suggested("day", cadence="monthly", day="2") == ["2", *(str(day) for day in range(20, 29))]


async def test_list_shows_only_this_servers_channels(bot: RunningBot) -> None:
    await bot.service.store.save_schedule(
        Schedule("discord", str(OTHER_GUILD), str(OTHER_CHANNEL), WEEKLY, created_by=str(STRANGER))
    )
    await bot.service.store.save_schedule(schedule())
    listed = await prompts(bot, "list")
    assert f"<#{CAREERS}>" in listed["content"]
    assert f"<#{OTHER_CHANNEL}>" not in listed["content"]

"""revq's Discord bot end to end: the real discord.py client against the local Discord fake."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.app import conversation_key
from bot.adapters.discord.server import sync_commands
from bot.adapters.startup import StartupError
from bot.engine.dialogue import EngineContext
from bot.store import SessionStore, SQLiteStore
from tests.discord_harness import EPHEMERAL, FOLLOWUP, RunningBot, running_revq, settings_for
from tests.fakes.discord_api import APP_ID, GUILD_ID, USER_ID, FakeDiscord

OTHER_USER = USER_ID + 7
EVERYONE = "@everyone <@123456789012345678> <@&123456789012345678> **bold** # big"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SessionStore]:
    opened = await SQLiteStore.open(str(tmp_path / "revq.db"))
    yield opened
    await opened.close()


@pytest.fixture
async def bot(fake: FakeDiscord, ctx: EngineContext, store: SessionStore) -> AsyncIterator[RunningBot]:
    async with running_revq(fake, ctx, store) as running:
        yield running


def ask_options(company: str = "Acme", priorities: str = "remote work and a learning budget") -> dict[str, Any]:
    return {"company": company, "stage": "hiring_manager", "priorities": priorities, "role": "Staff Nurse"}


def components_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in message.get("components") or []:
        found += row.get("components") or ([row["component"]] if "component" in row else [])
    return found


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in components_of(message) if "custom_id" in c]


def fields(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for m in messages for e in m.get("embeds") or [] for f in e.get("fields") or []]


def every_message_allows_no_mentions(fake: FakeDiscord) -> None:
    sent = fake.messages_sent()
    assert sent, "nothing was sent"
    for message in sent:
        assert message.get("allowed_mentions") == {"parse": []}, message


async def test_ask_answers_with_the_question_list_visible_only_to_the_person(
    bot: RunningBot, ctx: EngineContext
) -> None:
    data = bot.fake.slash_command("revq", "ask", ask_options(), guild_id=GUILD_ID)
    callback = await bot.interact(data, followups=1)
    assert callback["type"] == 5 and callback["data"]["flags"] == EPHEMERAL  # deferred at once, privately
    (message,) = bot.followups(data)
    assert message["flags"] == EPHEMERAL
    assert "\n### Questions to ask Acme (Staff Nurse, hiring manager interview)" in message["content"]
    assert len(fields([message])) == ctx.question_count
    assert f"revq:b:{USER_ID}:cmd:more" in custom_ids(message)
    every_message_allows_no_mentions(bot.fake)
    stored = await bot.service.store.get(conversation_key(USER_ID), time.time())
    assert stored is not None and '"remote"' in stored.data


async def test_mentions_and_markdown_in_a_company_name_ping_nobody(bot: RunningBot) -> None:
    data = bot.fake.slash_command("revq", "ask", ask_options(company=EVERYONE), guild_id=GUILD_ID)
    await bot.interact(data, followups=1)
    (message,) = bot.followups(data)
    heading = message["content"]
    assert "@\u200beveryone" in heading and "\\<@\u200b123456789012345678>" in heading
    assert "\\<@\u200b&123456789012345678>" in heading and "\\*\\*bold\\*\\*" in heading
    texts = [heading] + [f["name"] + f["value"] for f in fields([message])]
    assert not any("@everyone" in text or "<@1" in text for text in texts)
    every_message_allows_no_mentions(bot.fake)


async def test_the_form_refuses_a_bad_field_keeps_what_was_typed_then_gives_the_list(bot: RunningBot) -> None:
    fake = bot.fake
    opened = await bot.interact(fake.slash_command("revq", "start", {"company": "Acme"}, guild_id=GUILD_ID))
    assert opened["type"] == 9 and opened["data"]["custom_id"] == "revq:form"
    assert len(opened["data"]["components"]) == 5
    assert opened["data"]["components"][0]["component"]["value"] == "Acme"

    # A form opened before an upgrade that retired a topic: the only way a menu can hold a bad value.
    typed = {"company": "Acme", "role": "Staff Nurse", "stage": ["team"], "priorities": ["a-retired-topic"]}
    submitted = fake.modal_submit("revq:form", fake.modal_values(typed), guild_id=GUILD_ID)
    assert (await bot.interact(submitted, followups=1))["type"] == 5
    (refused,) = bot.followups(submitted)
    assert refused["flags"] == EPHEMERAL and "**What matters to you:**" in refused["content"]
    fix = f"revq:b:{USER_ID}:form"
    assert custom_ids(refused) == [fix]
    assert await bot.service.store.get(conversation_key(USER_ID), time.time()) is None  # nothing saved

    reopened = await bot.interact(fake.button_click(fix, fake.message_with_component(fix), guild_id=GUILD_ID))
    assert reopened["type"] == 9
    kept = {c["component"]["custom_id"]: c["component"] for c in reopened["data"]["components"]}
    assert kept["company"]["value"] == "Acme" and kept["role"]["value"] == "Staff Nurse"
    assert [o["value"] for o in kept["stage"]["options"] if o.get("default")] == ["team"]

    typed |= {"company": "St Mary's Hospital", "priorities": ["remote"]}
    submit = fake.modal_submit("revq:form", fake.modal_values(typed), guild_id=GUILD_ID)
    deferred = await bot.interact(submit, followups=1)
    assert deferred["type"] == 5 and deferred["data"]["flags"] == EPHEMERAL
    (listed,) = bot.followups(submit)
    assert "Questions to ask St Mary's Hospital (Staff Nurse, team interview)" in listed["content"]
    every_message_allows_no_mentions(fake)


async def test_no_topic_picked_in_the_form_means_revq_asks_for_them_in_the_persons_own_words(bot: RunningBot) -> None:
    fake = bot.fake
    await bot.interact(fake.slash_command("revq", "start", {}, guild_id=GUILD_ID))
    submit = fake.modal_submit("revq:form", fake.modal_values({"company": "Acme"}), guild_id=GUILD_ID)
    await bot.interact(submit, followups=1)
    (asked,) = bot.followups(submit)
    assert "What matters most to you" in asked["content"] and asked["flags"] == EPHEMERAL
    own_words = f"revq:b:{USER_ID}:type:priorities"
    assert own_words in custom_ids(asked) and f"revq:s:{USER_ID}:pick:priorities" in custom_ids(asked)

    opened = await bot.interact(fake.button_click(own_words, fake.message_with_component(own_words), guild_id=GUILD_ID))
    assert opened["type"] == 9
    asked_id = fake.message_with_component(own_words)["id"]
    answer = fake.modal_submit(
        opened["data"]["custom_id"], fake.modal_values({"answer": "wfh and a mentor"}), guild_id=GUILD_ID,
        message=fake.message(asked_id),
    )  # fmt: skip
    await bot.interact(answer, followups=1)
    (listed,) = bot.followups(answer)
    assert "### Questions to ask Acme" in listed["content"] and listed["flags"] == EPHEMERAL
    await fake.wait_for_call("PATCH", rf"/webhooks/\d+/{answer['token']}/messages/@original")
    asked = fake.message(asked_id)  # the question shows the answer and has no buttons left
    assert not components_of(asked) and asked["content"].endswith("\n-# ✓ wfh and a mentor")
    stored = await bot.service.store.get(conversation_key(USER_ID), time.time())
    assert stored is not None and '"remote"' in stored.data and '"mentorship"' in stored.data


async def test_a_whole_conversation_in_a_direct_message(bot: RunningBot, ctx: EngineContext) -> None:
    fake = bot.fake
    dm = fake.dm_channel_id(USER_ID)
    posts = ("POST", rf"/channels/{dm}/messages")

    async def say(text: str, count: int = 1) -> list[dict[str, Any]]:
        sent = await bot.send("MESSAGE_CREATE", fake.message_create(text), posts, count)
        return [request.json for request in sent]

    (hello,) = await say("hi")
    assert "Which company" in hello["content"] and not hello.get("flags")
    old_skip = f"revq:b:{USER_ID}:cmd:skip:company"
    assert custom_ids(hello) == [old_skip]  # typing is read here: no text box needed
    await say("Acme")
    (stage,) = await say("Staff Nurse")
    menu = f"revq:s:{USER_ID}:pick:stage"
    assert menu in custom_ids(stage)
    asked = fake.message_with_component(menu)
    picked = fake.select_submit(menu, ["team"], asked)
    assert (await bot.interact(picked, followups=1))["type"] == 6
    (after_stage,) = bot.followups(picked)
    await fake.wait_for_call("PATCH", rf"/webhooks/\d+/{picked['token']}/messages/@original")
    answered = fake.message(asked["id"])  # the question now shows the answer, and can't be answered twice
    assert custom_ids(answered) == [] and answered["content"].endswith("\n-# ✓ Future teammates")
    assert "What kind of employer" in after_stage["content"] and not after_stage.get("flags")
    await say("skip")
    # The company question's Skip, clicked now, must not skip the question that is open.
    stale = fake.button_click(old_skip, fake.message_with_component(old_skip))
    await bot.interact(stale, followups=1)
    (notice,) = bot.followups(stale)
    assert "earlier step" in notice["content"] and "What matters most" in notice["content"]
    (notes,) = await say("remote work and a learning budget")
    assert "already know" in notes["content"]
    (listed,) = await say("They opened a new ward")
    assert "### Questions to ask Acme (Staff Nurse, team interview)" in listed["content"]
    assert len(fields([listed])) == ctx.question_count
    every_message_allows_no_mentions(fake)
    assert not [m for m in fake.messages_sent() if m.get("content", "").startswith("Sorry")]


async def list_in_dm(bot: RunningBot) -> dict[str, Any]:
    """A list made in the DM with /revq ask; returns the message holding it."""
    data = bot.fake.slash_command("revq", "ask", ask_options(), context=1)
    callback = await bot.interact(data, followups=1)
    assert callback["type"] == 5 and not callback.get("data", {}).get("flags")  # revq's own DM: an ordinary message
    (listed,) = bot.followups(data)
    return listed


async def test_list_buttons_work_after_a_restart_and_only_for_their_owner(
    fake: FakeDiscord, ctx: EngineContext, store: SessionStore
) -> None:
    more = f"revq:b:{USER_ID}:cmd:more"
    async with running_revq(fake, ctx, store) as bot:
        first = await list_in_dm(bot)
        shown = {f["name"] for f in fields([first])}
    async with running_revq(fake, ctx, store) as bot:  # a new process: nothing in memory
        click = fake.button_click(more, fake.message_with_component(more))
        assert (await bot.interact(click, followups=1))["type"] == 6
        (more_list,) = bot.followups(click)
        assert "### More questions" in more_list["content"]
        assert not {f["name"].split(". ", 1)[1] for f in fields([more_list])} & {n.split(". ", 1)[1] for n in shown}

        before = await store.get(conversation_key(USER_ID), time.time())
        stranger = fake.button_click(more, fake.message_with_component(more), user_id=OTHER_USER)
        refused = await bot.interact(stranger)
        assert refused["type"] == 4 and refused["data"]["flags"] == EPHEMERAL
        assert "someone else's" in refused["data"]["content"]
        assert await store.get(conversation_key(OTHER_USER), time.time()) is None
        assert await store.get(conversation_key(USER_ID), time.time()) == before
    every_message_allows_no_mentions(fake)


async def test_swap_changes_the_list_where_it_stands(bot: RunningBot) -> None:
    fake = bot.fake
    listed = await list_in_dm(bot)
    swap = f"revq:s:{USER_ID}:swap"
    menu = next(c for c in components_of(listed) if c.get("custom_id") == swap)
    second = menu["options"][1]["value"]
    message = fake.message_with_component(swap)
    picked = fake.select_submit(swap, [second], message)
    before = len(fake.calls("PATCH", FOLLOWUP + "/messages/@original"))
    assert (await bot.interact(picked))["type"] == 6
    (edit,) = (await fake.wait_for_call("PATCH", FOLLOWUP + "/messages/@original", count=before + 1))[before:]
    assert edit.json["allowed_mentions"] == {"parse": []}
    names = [f["name"] for f in fields([edit.json])]
    old = [f["name"] for f in fields([listed])]
    assert names[0] == old[0] and names[1] != old[1] and len(names) == len(old)
    assert fake.message(message["id"])["embeds"] == edit.json["embeds"]  # the clicked message itself changed


async def test_a_rate_limit_on_a_reply_is_waited_out(bot: RunningBot) -> None:
    fake = bot.fake
    fake.rate_limit_next("POST", FOLLOWUP, retry_after=0.2)
    data = fake.slash_command("revq", "ask", ask_options(), guild_id=GUILD_ID)
    await bot.interact(data)
    first, second = await fake.wait_for_call("POST", FOLLOWUP, count=2)
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.19
    assert "Questions to ask Acme" in second.json["content"]


@pytest.mark.parametrize("context", [1, 2])
async def test_a_user_install_without_a_server_is_answered(bot: RunningBot, context: int) -> None:
    data = bot.fake.slash_command("revq", "help", {}, context=context)
    assert "guild_id" not in data
    callback = await bot.interact(data, followups=1)
    (answer,) = bot.followups(data)
    assert "What you can say" in answer["content"]
    private = context == 2  # someone else's DM or group DM: only the person sees it
    assert bool(callback.get("data", {}).get("flags")) is private and bool(answer.get("flags")) is private


async def test_priorities_are_suggested_while_typing(bot: RunningBot) -> None:
    options = {"company": "Acme", "priorities": "remote work, lern"}
    data = bot.fake.autocomplete("revq", "ask", options, focused="priorities", guild_id=GUILD_ID)
    callback = await bot.interact(data)
    assert callback["type"] == 8
    choices = [c["value"] for c in callback["data"]["choices"]]
    assert choices[0].startswith("remote work, ") and "Train" in choices[0]


async def test_ask_with_unreadable_priorities_says_so_and_saves_nothing(bot: RunningBot) -> None:
    data = bot.fake.slash_command("revq", "ask", ask_options(priorities="qwerty zxcvb"), guild_id=GUILD_ID)
    await bot.interact(data, followups=1)
    (refused,) = bot.followups(data)
    assert refused["flags"] == EPHEMERAL and "**What matters to you:**" in refused["content"]
    assert custom_ids(refused) == [f"revq:b:{USER_ID}:form"]
    assert await bot.service.store.get(conversation_key(USER_ID), time.time()) is None


async def test_forget_erases_the_person_and_revqs_messages_in_their_dm(bot: RunningBot) -> None:
    fake = bot.fake
    await bot.send("MESSAGE_CREATE", fake.message_create("hi"), ("POST", r"/channels/\d+/messages"))
    await list_in_dm(bot)
    dm = str(fake.dm_channel_id(USER_ID))
    theirs = [m for m in fake.messages.values() if m["channel_id"] == dm and m["author"]["id"] == str(USER_ID)]
    assert theirs and await bot.service.store.get(conversation_key(USER_ID), time.time()) is not None

    data = fake.slash_command("revq", "forget", {}, guild_id=GUILD_ID)
    await bot.interact(data, followups=2)
    answer, erasing = bot.followups(data)
    assert "erased" in answer["content"] and answer["flags"] == EPHEMERAL
    assert "deleting the messages I sent you" in erasing["content"]
    assert await bot.service.store.get(conversation_key(USER_ID), time.time()) is None
    await fake.wait_for_call("DELETE", rf"/channels/{dm}/messages/\d+", count=2)
    for task in list(bot.service.front._erasing):
        await task
    left = [m for m in fake.messages.values() if m["channel_id"] == dm]
    assert left == theirs  # theirs are theirs to delete; every one of revq's is gone


class BrokenStore(SQLiteStore):
    """A store whose disk has gone away."""

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("disk I/O error")


async def test_a_failing_turn_is_logged_without_text_and_answered_with_an_apology(
    fake: FakeDiscord, ctx: EngineContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = await BrokenStore.open(str(tmp_path / "broken.db"))
    try:
        async with running_revq(fake, ctx, broken) as bot:
            secret = "remote work, I am caring for my twins"
            data = fake.slash_command("revq", "ask", ask_options(priorities=secret), guild_id=GUILD_ID)
            with caplog.at_level(logging.INFO):
                await bot.interact(data, followups=1)
            (answer,) = bot.followups(data)
    finally:
        await broken.close()
    assert "Sorry, something went wrong" in answer["content"] and answer["flags"] == EPHEMERAL
    assert "turn failed" in caplog.text and secret not in caplog.text and FakeDiscord.TOKEN not in caplog.text


async def test_sync_registers_revq_for_servers_users_and_dms(fake: FakeDiscord, ctx: EngineContext) -> None:
    with fake.point_discord_here():
        names = await sync_commands(settings_for(fake), ctx)
        assert names == ["revq", "revq-prompts"]  # the second, for server managers: see test_discord_prompts
        (put,) = fake.calls("PUT", rf"/applications/{APP_ID}/commands")
        command = next(c for c in put.json if c["name"] == "revq")
        assert command["integration_types"] == [0, 1] and command["contexts"] == [0, 1, 2]
        assert command["default_member_permissions"] is None  # everyone sees /revq
        assert {o["name"] for o in command["options"]} == {"start", "ask", "more", "export", "help", "forget"}
        await sync_commands(settings_for(fake), ctx, GUILD_ID)
        assert fake.calls("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")


async def test_a_rejected_token_stops_start_up_with_one_line(fake: FakeDiscord, ctx: EngineContext) -> None:
    with fake.point_discord_here(), pytest.raises(StartupError) as stopped:
        async with running_revq(fake, ctx, await SQLiteStore.open(":memory:"), discord_token="wrong"):
            pass
    assert stopped.value.exit_code == 2 and "DISCORD_TOKEN" in str(stopped.value) and "wrong" not in str(stopped.value)


async def test_shards_run_only_the_ones_given(fake: FakeDiscord, ctx: EngineContext, store: SessionStore) -> None:
    async with running_revq(fake, ctx, store, discord_shard_count=2, discord_shard_ids=(1,)) as bot:
        assert [identify["shard"] for identify in fake.identifies] == [[1, 2]]
        data = fake.slash_command("revq", "help", {}, guild_id=GUILD_ID)
        assert await fake.dispatch("INTERACTION_CREATE", data, shard=1) == [1]
        await fake.wait_for_call("POST", FOLLOWUP)
        assert bot.followups(data)


async def test_a_refused_ask_keeps_its_answers_for_the_form_even_after_the_form_is_closed(bot: RunningBot) -> None:
    fake = bot.fake
    options = ask_options(priorities="qwerty zxcvb") | {"notes": "They opened a new ward"}
    data = fake.slash_command("revq", "ask", options, guild_id=GUILD_ID)
    await bot.interact(data, followups=1)
    fix = f"revq:b:{USER_ID}:form"
    for _ in range(2):  # opened, closed without sending, opened again: still filled in
        opened = await bot.interact(fake.button_click(fix, fake.message_with_component(fix), guild_id=GUILD_ID))
        kept = {c["component"]["custom_id"]: c["component"] for c in opened["data"]["components"]}
        assert kept["company"]["value"] == "Acme" and kept["role"]["value"] == "Staff Nurse"
        assert [o["value"] for o in kept["stage"]["options"] if o.get("default")] == ["hiring_manager"]
    message = fake.message_with_component(fix)
    typed = {"company": "Acme", "role": "Staff Nurse", "stage": ["hiring_manager"], "priorities": ["learning"]}
    submit = fake.modal_submit("revq:form", fake.modal_values(typed), guild_id=GUILD_ID, message=message)
    assert (await bot.interact(submit, followups=1))["type"] == 6  # from a button: that message is tidied
    stored = await bot.service.store.get(conversation_key(USER_ID), time.time())
    assert stored is not None and "They opened a new ward" in stored.data  # the notes the form had no room for
    await fake.wait_for_call("PATCH", rf"/webhooks/\d+/{submit['token']}/messages/@original")
    assert custom_ids(fake.message(message["id"])) == []
    assert len(bot.service.front.drafts) == 0


async def test_start_over_in_a_server_opens_the_form_and_changes_nothing_until_it_is_sent(bot: RunningBot) -> None:
    fake = bot.fake
    data = fake.slash_command("revq", "ask", ask_options(), guild_id=GUILD_ID)
    await bot.interact(data, followups=1)
    before = await bot.service.store.get(conversation_key(USER_ID), time.time())
    restart = f"revq:b:{USER_ID}:cmd:restart"
    opened = await bot.interact(fake.button_click(restart, fake.message_with_component(restart), guild_id=GUILD_ID))
    assert opened["type"] == 9 and opened["data"]["custom_id"] == "revq:form"
    assert await bot.service.store.get(conversation_key(USER_ID), time.time()) == before


async def test_notes_of_a_refused_ask_never_reach_an_unrelated_form(bot: RunningBot) -> None:
    fake = bot.fake
    refused = ask_options(priorities="qwerty zxcvb") | {"notes": "Something private about Acme"}
    await bot.interact(fake.slash_command("revq", "ask", refused, guild_id=GUILD_ID), followups=1)
    await bot.interact(fake.slash_command("revq", "start", {}, guild_id=GUILD_ID))
    typed = {"company": "Globex", "priorities": ["learning"]}
    submit = fake.modal_submit("revq:form", fake.modal_values(typed), guild_id=GUILD_ID)
    await bot.interact(submit, followups=1)
    stored = await bot.service.store.get(conversation_key(USER_ID), time.time())
    assert stored is not None and "Globex" in stored.data and "private" not in stored.data

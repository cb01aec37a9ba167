"""revq's Discord bot end to end: the real discord.py client against the local Discord fake."""

from __future__ import annotations

import asyncio
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
from tests.discord_harness import CALLBACK, EPHEMERAL, FOLLOWUP, RunningBot, running_revq, settings_for
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


async def test_ask_answers_with_the_question_list_visible_only_to_the_person(bot: RunningBot, ctx: EngineContext) -> None:
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
    refused = await bot.interact(fake.modal_submit("revq:form", fake.modal_values(typed), guild_id=GUILD_ID))
    assert refused["type"] == 4 and refused["data"]["flags"] == EPHEMERAL
    assert "**What matters to you:**" in refused["data"]["content"]
    fix = f"revq:b:{USER_ID}:form"
    assert custom_ids(refused["data"]) == [fix]
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
    answer = fake.modal_submit(
        opened["data"]["custom_id"], fake.modal_values({"answer": "wfh and a mentor"}), guild_id=GUILD_ID
    )
    await bot.interact(answer, followups=1)
    (listed,) = bot.followups(answer)
    assert "### Questions to ask Acme" in listed["content"] and listed["flags"] == EPHEMERAL
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
    assert custom_ids(hello) == [f"revq:b:{USER_ID}:cmd:skip"]  # typing is read here: no text box needed
    await say("Acme")
    (stage,) = await say("Staff Nurse")
    menu = f"revq:s:{USER_ID}:pick:stage"
    assert menu in custom_ids(stage)
    picked = fake.select_submit(menu, ["team"], fake.message_with_component(menu))
    assert (await bot.interact(picked, followups=1))["type"] == 6  # the menu's message stays as it is
    (after_stage,) = bot.followups(picked)
    assert "What kind of employer" in after_stage["content"] and not after_stage.get("flags")
    await say("skip")
    (notes,) = await say("remote work and a learning budget")
    assert "already know" in notes["content"]
    (listed,) = await say("They opened a new ward")
    assert "### Questions to ask Acme (Staff Nurse, team interview)" in listed["content"]
    assert len(fields([listed])) == ctx.question_count
    every_message_allows_no_mentions(fake)
    assert not [m for m in fake.messages_sent() if m.get("content", "").startswith("Sorry")]

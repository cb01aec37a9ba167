"""Channel prompts on Slack: `/revq prompts`, the scheduled post and its button, @revq mentions,
and the due-check started with the server. The real Bolt app and slack_sdk client, against the
local fake Web API."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render
from bot.adapters.slack.app import SlackPoster
from bot.adapters.slack.server import serve
from bot.engine.dialogue import EngineContext
from bot.prompts.admin import upcoming_prompt
from bot.prompts.rotation import channel_prompt, prompt_pool
from bot.prompts.schedule import Schedule, When
from bot.prompts.scheduler import ChannelLost, Scheduler
from bot.store import MemoryStore, SQLiteStore
from bot.store.base import SessionStore
from tests.fakes.slack_api import Call, FakeSlack
from tests.slack_harness import (
    USER,
    SlackHarness,
    form_values,
    ready_slack,
    running_slack,
    shown_text,
    slack_settings,
    strings,
    view_submission,
)

ADMIN = "UADMIN"
CAREERS = "C0CAREER1"
CAREERS_LINK = f"<#{CAREERS}|careers>"
ADD = f"add {CAREERS_LINK} weekly monday 09:00 Europe/Berlin"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        running.admins.add(ADMIN)
        running.add_channel(CAREERS, "careers")
        yield running


@pytest.fixture
async def slack(fake: FakeSlack, ctx: EngineContext, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with ready_slack(fake, ctx, tmp_path / "revq.db") as harness:
        yield harness


async def prompts(slack: SlackHarness, words: str, *, user: str = ADMIN, channel: str = "C1") -> Call:
    """`/revq prompts <words>`; returns the one answer, checked to be seen by the typist alone."""
    before = len(slack.fake.calls_to("response_url"))
    status, body = await slack.command(f"prompts {words}", user=user, channel=channel)
    assert status == 200 and body == ""  # an empty ack: nothing shows in the channel
    answer = (await slack.fake.wait_for("response_url", before + 1))[before]
    assert answer.args["response_type"] == "ephemeral" and answer.args["replace_original"] is False
    return answer


async def schedules(slack: SlackHarness) -> list[Schedule]:
    return await slack.service.store.list_schedules()


def public_calls(fake: FakeSlack) -> list[Call]:
    """Every call that could show something to others: any message or ephemeral outside a DM."""
    posts = ("chat.postMessage", "chat.update", "chat.postEphemeral")
    return [c for c in fake.calls if c.method in posts and not str(c.args.get("channel", "")).startswith("D")]


# --- who may ---------------------------------------------------------------------------------------


async def test_a_member_who_is_not_an_admin_is_refused_and_nothing_changes(slack: SlackHarness) -> None:
    await prompts(slack, ADD)
    before = await schedules(slack)
    assert len(before) == 1
    for words in (f"add {CAREERS_LINK} daily 07:00 UTC", f"pause {CAREERS_LINK}", f"remove {CAREERS_LINK}", "list"):
        answer = await prompts(slack, words, user=USER)
        assert "only workspace admins and owners" in shown_text(answer)
        assert CAREERS not in shown_text(answer)  # not even which channels have prompts
    assert await schedules(slack) == before
    assert [c.args["user"] for c in slack.fake.calls_to("users.info")][-4:] == [USER] * 4
    assert not slack.fake.calls_to("conversations.info")[1:]  # only the admin's add checked the channel


async def test_workspace_admins_and_owners_are_recognised_with_users_info(slack: SlackHarness) -> None:
    slack.fake.owners.add("UOWNER")
    answer = await prompts(slack, ADD)
    assert f"Done: <#{CAREERS}> gets a question of the week every Monday at 09:00 Europe/Berlin" in shown_text(answer)
    answer = await prompts(slack, "list", user="UOWNER")
    assert f"<#{CAREERS}>: every Monday at 09:00 Europe/Berlin" in shown_text(answer)
    assert [c.args["user"] for c in slack.fake.calls_to("users.info")] == [ADMIN, "UOWNER"]
    (schedule,) = await schedules(slack)
    assert (schedule.workspace, schedule.created_by) == (FakeSlack.TEAM_ID, ADMIN)


async def test_user_ids_in_revq_admins_may_without_asking_slack(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path
) -> None:
    async with running_slack(fake, ctx, tmp_path / "revq.db", admins=frozenset({"UOPS"})) as slack:
        fake.reset()
        answer = await prompts(slack, ADD, user="UOPS")
        assert "Done:" in shown_text(answer)
        assert not fake.calls_to("users.info")
        assert [s.created_by for s in await schedules(slack)] == ["UOPS"]


async def test_a_failed_admin_check_says_what_to_do_and_changes_nothing(slack: SlackHarness) -> None:
    slack.fake.fail("users.info", status=200, error="missing_scope")
    answer = await prompts(slack, ADD)
    assert "re-apply its app manifest" in shown_text(answer)
    assert await schedules(slack) == []


# --- the commands ----------------------------------------------------------------------------------


async def test_add_list_pause_resume_topic_preview_and_remove(slack: SlackHarness, ctx: EngineContext) -> None:
    store = slack.service.store
    answer = await prompts(slack, ADD)
    # The channel is a link in the answer (mrkdwn), not escaped text.
    assert any(f"<#{CAREERS}>" in s for s in strings(answer.args["blocks"]))
    assert slack.fake.calls_to("conversations.info")[-1].args["channel"] == CAREERS

    answer = await prompts(slack, f"add <#{CAREERS}> daily 08:30 America/Chicago")  # a link without a name
    assert "This replaces the earlier schedule (every Monday at 09:00 Europe/Berlin)" in shown_text(answer)
    (schedule,) = await store.list_schedules()
    assert schedule.when == When("daily", 0, 8, 30, "America/Chicago")

    answer = await prompts(slack, f"pause {CAREERS}")  # a bare channel id works too
    assert "Paused the prompts" in shown_text(answer)
    assert (await store.get_schedule("slack", CAREERS)).paused  # type: ignore[union-attr]
    assert "paused" in shown_text(await prompts(slack, "list"))

    calls = len(slack.fake.calls_to("conversations.info"))
    answer = await prompts(slack, f"resume {CAREERS_LINK}")
    assert "Resumed the prompts" in shown_text(answer)
    assert len(slack.fake.calls_to("conversations.info")) == calls + 1  # checked it can post there again
    assert not (await store.get_schedule("slack", CAREERS)).paused  # type: ignore[union-attr]

    answer = await prompts(slack, f"topic {CAREERS_LINK} salary and offers")
    assert "From the next post on" in shown_text(answer)
    assert (await store.get_schedule("slack", CAREERS)).topic == "compensation"  # type: ignore[union-attr]

    answer = await prompts(slack, f"preview {CAREERS_LINK}")
    schedule = await store.get_schedule("slack", CAREERS)  # type: ignore[assignment]
    expected = await upcoming_prompt(store, ctx.bank, schedule)
    assert expected is not None and expected.topic == "compensation"
    blocks = answer.args["blocks"]
    assert blocks[1:] == render.channel_prompt(expected)["blocks"]  # exactly the post, shown to the admin alone
    assert any("Preview of the next post" in s for s in strings(blocks[0]))  # the one-line note above it
    assert "Why ask it:" in shown_text(answer)

    answer = await prompts(slack, f"topic {CAREERS_LINK} any")
    assert "on any topic" in shown_text(answer)
    assert (await store.get_schedule("slack", CAREERS)).topic is None  # type: ignore[union-attr]

    answer = await prompts(slack, f"remove {CAREERS_LINK}")
    assert "Removed the prompts" in shown_text(answer)
    assert await store.list_schedules() == []
    assert "No channel has prompts yet" in shown_text(await prompts(slack, "list"))
    for word in ("help", ""):
        assert "/revq prompts add #channel weekly monday 09:00" in shown_text(await prompts(slack, word))
    await slack.settle()
    assert public_calls(slack.fake) == []  # nothing of all this was posted anywhere


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (f"add {CAREERS_LINK} weekly monday 09:00 Mars/Olympus", "'Mars/Olympus' is not a time zone; use an IANA"),
        (f"add {CAREERS_LINK} weekly monday 25:00 UTC", "'25:00' is not a time; use 24-hour HH:MM"),
        (f"add {CAREERS_LINK} daily 9am-ish UTC", "'9am-ish' is not a time; use 24-hour HH:MM"),
        (f"add {CAREERS_LINK} weekly funday 09:00 UTC", "'funday' is not a day; use monday"),
        (f"add {CAREERS_LINK} fortnightly 09:00 UTC", "Say how often: daily &lt;HH:MM&gt;"),
        (f"topic {CAREERS_LINK} qwertyuiop", "couldn't tell which topic 'qwertyuiop' means"),
        ("pause", "Name the channel, as in `/revq prompts pause #careers`"),
        ("frobnicate", "Unknown action 'frobnicate'"),
        ("add #careers weekly monday 09:00 UTC", "couldn't tell which channel #careers is"),
        ("add <#C0AWAY01|random> weekly monday 09:00 UTC", "revq isn't in <#C0AWAY01> yet"),
        ("add <#C0OLD001|old> weekly monday 09:00 UTC", "<#C0OLD001> is archived"),
        ("add <#C0NOWHERE|gone> weekly monday 09:00 UTC", "I can't find that channel"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(slack: SlackHarness, words: str, needle: str) -> None:
    slack.fake.add_channel("C0AWAY01", "random", member=False)
    slack.fake.add_channel("C0OLD001", "old", archived=True)
    await prompts(slack, ADD)
    before = await schedules(slack)
    answer = await prompts(slack, words)
    text = shown_text(answer)
    assert needle in text and "Nothing was changed." in text and ":warning:" in text
    assert await schedules(slack) == before
    if "isn't in" in needle:
        assert "/invite @revq" in text


async def test_a_company_name_still_opens_the_form(slack: SlackHarness) -> None:
    status, _ = await slack.command("Prompt Labs")  # only the word `prompts` leads to the admin commands
    assert status == 200
    view = (await slack.fake.wait_for("views.open"))[-1].args["view"]
    assert view["callback_id"] == render.FORM_CALLBACK
    assert not slack.fake.calls_to("users.info")


# --- the post, its button, and the poster --------------------------------------------------------


def weekly_schedule(channel: str = CAREERS, created_by: str = ADMIN) -> Schedule:
    return Schedule("slack", FakeSlack.TEAM_ID, channel, When("weekly", 0, 9, 0, "UTC"), created_by=created_by)


async def test_the_prep_button_opens_the_form_and_the_list_goes_only_to_the_clicker(
    slack: SlackHarness, ctx: EngineContext
) -> None:
    prompt = channel_prompt(prompt_pool(ctx.bank)[0], "weekly")
    ts = await SlackPoster(slack.service.front.client).post(weekly_schedule(), prompt)
    post = slack.fake.calls_to("chat.postMessage")[-1]
    assert post.args["channel"] == CAREERS and prompt.question in post.args["text"]
    (button,) = [e for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == render.PREP and button["text"]["text"] == "Prep my questions"
    slack.fake.reset()

    message = {"type": "message", "ts": ts, "text": post.args["text"], "blocks": post.args["blocks"]}
    status, _ = await slack.interact(slack.block_actions(button, channel=CAREERS, message=message))
    assert status == 200
    opened = (await slack.fake.wait_for("views.open"))[-1]
    assert opened.args["trigger_id"] == "T-trigger-2"
    view = opened.args["view"]
    assert view["callback_id"] == render.FORM_CALLBACK  # the same form /revq opens

    values = form_values(company="Initech", role="Staff Nurse", priorities="no night shifts", notes="layoff rumours")
    status, _ = await slack.interact(view_submission(view, values))
    assert status == 200
    listed = await slack.fake.wait_for("chat.postMessage")
    await slack.settle()
    assert all(call.args["channel"] == "D" + USER for call in listed)
    assert "Questions to ask Initech" in "\n".join(shown_text(call) for call in listed)
    assert public_calls(slack.fake) == []
    for note in slack.fake.calls_to("response_url"):  # the clicker alone sees where the list went
        assert note.path == "/respond/click"
        assert note.args["response_type"] == "ephemeral" and note.args["replace_original"] is False
        assert "Initech" not in shown_text(note) and "Nurse" not in shown_text(note)
    assert "direct messages" in shown_text(slack.fake.calls_to("response_url")[-1])


async def test_the_poster_returns_the_ts_and_sorts_lost_channels_from_passing_trouble(
    fake: FakeSlack, ctx: EngineContext
) -> None:
    poster = SlackPoster(AsyncWebClient(token=FakeSlack.BOT_TOKEN, base_url=fake.api_url))
    assert poster.admin_command == "/revq prompts"
    prompt = channel_prompt(prompt_pool(ctx.bank)[0], "weekly")
    first, second = await poster.post(weekly_schedule(), prompt), await poster.post(weekly_schedule(), prompt)
    assert re.fullmatch(r"1700000000\.\d{6}", first) and first != second
    sent = fake.calls_to("chat.postMessage")[-1].args
    assert sent["blocks"] == render.channel_prompt(prompt)["blocks"]
    assert sent["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Question of the week",
                                                             "emoji": True}}  # fmt: skip
    assert f"*Why ask it:* {render.escape(prompt.why)}" in strings(sent["blocks"])

    fake.add_channel("C0AWAY01", "random", member=False)
    fake.add_channel("C0OLD001", "old", archived=True)
    fake.delete_channel("C0GONE01")
    for channel, reason in (("C0AWAY01", "/invite @revq"), ("C0OLD001", "archived"), ("C0GONE01", "deleted")):
        with pytest.raises(ChannelLost, match=re.escape(reason)):
            await poster.post(weekly_schedule(channel), prompt)
    fake.fail("chat.postMessage", status=200, error="restricted_action")
    with pytest.raises(ChannelLost, match="does not let revq post"):
        await poster.post(weekly_schedule(), prompt)
    fake.fail("chat.postMessage", status=200, error="internal_error")
    with pytest.raises(SlackApiError):  # not a lost channel: the scheduler tries again later
        await poster.post(weekly_schedule(), prompt)


MONDAY_0905 = datetime(2026, 3, 2, 9, 5, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_the_scheduler_posts_through_slack_and_pauses_a_deleted_channel_telling_its_admin(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path, kind: str
) -> None:
    store: SessionStore = MemoryStore() if kind == "memory" else await SQLiteStore.open(tmp_path / "revq.db")
    try:
        poster = SlackPoster(AsyncWebClient(token=FakeSlack.BOT_TOKEN, base_url=fake.api_url))
        fake.delete_channel("C0GONE01")
        await store.save_schedule(weekly_schedule())
        await store.save_schedule(weekly_schedule("C0GONE01", created_by="UCREATOR"))
        scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=lambda: MONDAY_0905)

        assert await scheduler.check() == [(CAREERS, "2026-W10")]
        assert await scheduler.check() == []  # once per occurrence
        posts = [c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == CAREERS]
        assert len(posts) == 1
        assert len(await store.posted_questions("slack", CAREERS)) == 1

        lost = await store.get_schedule("slack", "C0GONE01")
        assert lost is not None and lost.paused and "deleted" in lost.pause_reason
        assert fake.calls_to("conversations.open")[-1].args["users"] == "UCREATOR"
        (note,) = [c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == "DUCREATOR"]
        assert "I paused the prompts for <#C0GONE01>" in shown_text(note)
        assert "/revq prompts resume" in shown_text(note)
    finally:
        await store.close()


# --- @revq in a channel -------------------------------------------------------------------------------


async def test_a_mention_gets_one_private_invitation_and_nothing_public(slack: SlackHarness) -> None:
    event = {"type": "app_mention", "user": "U2", "channel": CAREERS, "text": f"<@{FakeSlack.BOT_USER_ID}> help",
             "ts": "1700000001.000100"}  # fmt: skip
    assert await slack.event(event, event_id="EvMention1") == 200
    (invitation,) = await slack.fake.wait_for("chat.postEphemeral")
    assert invitation.args["channel"] == CAREERS and invitation.args["user"] == "U2"
    text = shown_text(invitation)
    assert "direct message" in text and "/revq" in text and "private" in text
    assert "thread_ts" not in invitation.args

    assert await slack.event(event, event_id="EvMention1", retry=1) == 200  # Slack's retry
    in_thread = {**event, "ts": "1700000002.000100", "thread_ts": "1700000000.000001"}
    assert await slack.event(in_thread, event_id="EvMention2") == 200
    await slack.fake.wait_for("chat.postEphemeral", 2)
    await slack.settle()
    invitations = slack.fake.calls_to("chat.postEphemeral")
    assert len(invitations) == 2 and invitations[1].args["thread_ts"] == "1700000000.000001"
    assert not slack.fake.calls_to("chat.postMessage") and not slack.fake.calls_to("response_url")


# --- the due-check runs with the server --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scheduler_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "Scheduler.run"]


@pytest.mark.parametrize("http", [True, False], ids=["http", "socket-mode"])
async def test_serve_runs_one_due_check_and_stops_it_on_shutdown(
    fake: FakeSlack, ctx: EngineContext, tmp_path: Path, http: bool
) -> None:
    db = tmp_path / "revq.db"
    store = await SQLiteStore.open(db)
    due = datetime.fromtimestamp(time.time() - 120, UTC)  # two minutes ago: due now, within the grace window
    await store.save_schedule(
        Schedule("slack", FakeSlack.TEAM_ID, CAREERS, When("daily", 0, due.hour, due.minute, "UTC"), created_by=ADMIN)
    )
    await store.close()
    settings = slack_settings(fake, db, slack_app_token=FakeSlack.APP_TOKEN, prompt_check_seconds=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, ctx, http=http, port=free_port(), host="127.0.0.1", stop=stop))
    try:
        await fake.wait_for("chat.postMessage")
        assert len(scheduler_tasks()) == 1
        await asyncio.sleep(0.3)  # several more checks
        posts = fake.calls_to("chat.postMessage")
        assert [c.args["channel"] for c in posts] == [CAREERS]  # posted once
        assert any(b.get("type") == "actions" for b in posts[0].args["blocks"])
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert scheduler_tasks() == []

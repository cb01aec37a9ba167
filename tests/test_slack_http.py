"""The Slack front end end to end: the real Bolt app over HTTP, signed requests, a local fake Web API."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import render
from bot.engine.dialogue import EngineContext
from bot.store.base import ConversationKey
from tests.fakes.slack_api import FakeSlack, signed_headers, slash_command_body
from tests.slack_harness import (
    USER,
    SlackHarness,
    form_values,
    json_body,
    ready_slack,
    shown_text,
    strings,
    view_submission,
)

KEY = ConversationKey("slack", FakeSlack.TEAM_ID, USER)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
async def slack(fake: FakeSlack, ctx: EngineContext, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with ready_slack(fake, ctx, tmp_path / "revq.db") as harness:
        yield harness


async def open_modal(slack: SlackHarness, text: str = "") -> dict[str, Any]:
    status, body = await slack.command(text)
    assert status == 200 and body == ""  # an empty ack: nothing shows in the channel
    call = (await slack.fake.wait_for("views.open"))[-1]
    assert call.args["trigger_id"] == "T-trigger-1"
    view: dict[str, Any] = call.args["view"]
    return view


def buttons(call_args: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every interactive element of a message, by action id."""
    found: dict[str, dict[str, Any]] = {}
    for block in call_args.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and "action_id" in element:
                found[element["action_id"]] = element
    return found


# --- requests Slack did not sign ------------------------------------------------------------------


async def test_bad_signature_and_stale_timestamp_get_401_and_run_nothing(slack: SlackHarness) -> None:
    body = slash_command_body("help", response_url=slack.fake.response_url())
    forged = {**signed_headers(body), "X-Slack-Signature": "v0=" + "0" * 64}
    response = await slack.http.post("/slack/events", data=body.encode(), headers=forged)
    assert response.status == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await slack.http.post("/slack/events", data=body.encode(), headers=stale)
    assert response.status == 401
    await slack.settle()
    assert slack.fake.calls == []


async def test_healthz_answers_while_alive_and_readyz_while_the_store_answers(slack: SlackHarness) -> None:
    response = await slack.http.get("/healthz")
    assert response.status == 200 and (await response.json())["status"] == "ok"
    assert (await slack.http.get("/readyz")).status == 200
    await slack.service.store.close()
    assert (await slack.http.get("/readyz")).status == 503
    assert (await slack.http.get("/healthz")).status == 200  # liveness: restarting would not fix the store


# --- /revq and the modal --------------------------------------------------------------------------


async def test_revq_opens_the_modal_then_inline_errors_then_the_list_in_the_dm(slack: SlackHarness) -> None:
    view = await open_modal(slack)
    assert view["callback_id"] == render.FORM_CALLBACK

    status, body = await slack.interact(view_submission(view, form_values(company="Acme", priorities="qwerty zxcv")))
    assert status == 200
    answer = json_body(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {render.FORM_BLOCKS["priorities_typed"]}
    assert await slack.service.store.get(KEY, time.time()) is None  # nothing saved
    await slack.settle()
    assert not slack.fake.calls_to("chat.postMessage")

    values = form_values(company="Acme", role="Staff Nurse", stage="hiring_manager", topics=("learning",),
                         priorities="no permanent nights", notes="They opened a new ward")  # fmt: skip
    status, body = await slack.interact(view_submission(view, values))
    assert status == 200 and json_body(body).get("response_action") is None  # the modal closes
    posted = await slack.fake.wait_for("chat.postMessage")
    assert slack.fake.calls_to("conversations.open")[0].args["users"] == USER
    assert all(call.args["channel"] == "D" + USER for call in posted)
    text = "\n".join(shown_text(call) for call in posted)
    assert "Questions to ask Acme (Staff Nurse, hiring manager interview)" in text
    assert "Why ask:" in text and "Listen for:" in text
    confirmation = (await slack.fake.wait_for("response_url"))[-1]
    assert confirmation.path == "/respond/cmd" and confirmation.args["response_type"] == "ephemeral"
    assert "Acme" not in shown_text(confirmation) and "Nurse" not in shown_text(confirmation)
    home = (await slack.fake.wait_for("views.publish"))[-1]
    assert "Questions to ask Acme" in shown_text(home)
    assert await slack.service.store.get(KEY, time.time()) is not None


async def test_revq_with_a_company_name_prefills_the_modal(slack: SlackHarness) -> None:
    view = await open_modal(slack, "Globex Corporation")
    company = next(b for b in view["blocks"] if b.get("block_id") == render.FORM_BLOCKS["company"])
    assert company["element"]["initial_value"] == "Globex Corporation"


async def finish_a_list(slack: SlackHarness) -> None:
    for line in ("hi", "Acme", "Nurse", "skip", "skip", "remote work and training", "skip"):
        await slack.dm(line)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("help", "What you can say"), ("more", "More questions"), ("export", "```"), ("forget", "erased")],
)
async def test_revq_commands_answer_only_the_person_in_a_channel(slack: SlackHarness, word: str, expected: str) -> None:
    await finish_a_list(slack)
    status, _ = await slack.command(word)
    assert status == 200
    reply = (await slack.fake.wait_for("response_url"))[-1]
    await slack.settle()
    assert reply.args["response_type"] == "ephemeral" and expected in shown_text(reply)
    assert {c.args["channel"] for c in slack.fake.calls_to("chat.postMessage")} == {"D" + USER}
    assert not slack.fake.calls_to("views.open")


async def test_a_question_asked_after_a_command_in_a_channel_goes_to_the_dm(slack: SlackHarness) -> None:
    await slack.dm("hi")
    await slack.dm("Acme")
    posted = len(slack.fake.calls_to("chat.postMessage"))
    await slack.command("back")
    note = (await slack.fake.wait_for("response_url"))[-1]
    asked = (await slack.fake.wait_for("chat.postMessage", posted + 1))[-1]
    assert asked.args["channel"] == "D" + USER and "Which company" in shown_text(asked)
    assert "direct messages" in shown_text(note) and "Which company" not in shown_text(note)


async def test_revq_commands_in_the_dm_with_revq_are_normal_messages(slack: SlackHarness) -> None:
    before = len(slack.fake.calls_to("chat.postMessage"))
    status, _ = await slack.command("help", channel="D" + USER)
    assert status == 200
    posted = await slack.fake.wait_for("chat.postMessage", before + 1)
    assert posted[-1].args["channel"] == "D" + USER and "What you can say" in shown_text(posted[-1])
    assert not slack.fake.calls_to("response_url")


async def test_forget_erases_the_session_and_empties_the_home_tab(slack: SlackHarness) -> None:
    for line in ("hi", "Acme", "skip", "skip", "skip", "remote work", "skip"):
        await slack.dm(line)
    assert await slack.service.store.get(KEY, time.time()) is not None
    await slack.command("forget")
    reply = (await slack.fake.wait_for("response_url"))[-1]
    assert "erased" in shown_text(reply)
    assert await slack.service.store.get(KEY, time.time()) is None
    home = slack.fake.calls_to("views.publish")[-1]
    assert "Questions to ask" not in shown_text(home) and "forget" in shown_text(home)


# --- the DM conversation --------------------------------------------------------------------------


async def test_a_whole_dm_conversation_with_typed_commands(slack: SlackHarness) -> None:
    greeting = await slack.dm("hi")
    assert "Which company" in shown_text(greeting[-1])
    await slack.dm("Acme")
    await slack.dm("Nurse")
    back = await slack.dm("back")
    assert "Before, you said: Nurse" in shown_text(back[-1])
    stage = await slack.dm("Ward Nurse")
    assert render.PICK + "stage" in buttons(stage[-1].args)  # a select, and typing still works
    await slack.dm("skip")
    await slack.dm("skip")
    await slack.dm("more training and a mentor")
    listed = await slack.dm("skip")
    first = "\n".join(shown_text(c) for c in listed)
    assert "Questions to ask Acme (Ward Nurse)" in first
    more = await slack.dm("more")
    assert "More questions" in "\n".join(shown_text(c) for c in more)
    swapped = await slack.dm("swap 2")
    assert "Swapped question 2" in "\n".join(shown_text(c) for c in swapped)
    exported = await slack.dm("export")
    copy = exported[-1].args
    assert "blocks" not in copy and "```" in copy["text"] and "Listen for:" in copy["text"]


async def test_other_messages_are_ignored(slack: SlackHarness) -> None:
    dm = {"type": "message", "channel_type": "im", "channel": "DU1", "user": USER, "text": "hi"}
    ignored = [
        {**dm, "subtype": "message_changed"},
        {**dm, "bot_id": "B2", "user": "U9"},
        {**dm, "user": FakeSlack.BOT_USER_ID},
        {**dm, "channel_type": "channel", "channel": "C1"},
        {**dm, "subtype": "channel_join", "text": ""},
        {**dm, "subtype": "file_share", "text": "", "files": [{"id": "F1"}]},
    ]
    for event in ignored:
        assert await slack.event(event) == 200
    await slack.settle()
    assert not slack.fake.calls_to("chat.postMessage")


async def test_a_file_shared_with_words_is_read_as_those_words(slack: SlackHarness) -> None:
    await slack.dm("hi")
    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.event({"type": "message", "subtype": "file_share", "channel_type": "im", "channel": "DU1",
                       "user": USER, "text": "Globex", "files": [{"id": "F1"}]})  # fmt: skip
    answer = (await slack.fake.wait_for("chat.postMessage", before + 1))[-1]
    assert "job title" in shown_text(answer)


async def test_a_form_whose_turn_fails_keeps_quiet_in_the_channel(slack: SlackHarness) -> None:
    view = await open_modal(slack)
    await slack.service.store.close()  # the store breaks after the form was opened
    status, body = await slack.interact(view_submission(view, form_values(company="Acme", topics=("remote",))))
    assert status == 200 and json_body(body).get("response_action") is None
    apology = (await slack.fake.wait_for("chat.postMessage"))[-1]
    await slack.settle()
    assert "Sorry, something went wrong" in shown_text(apology) and apology.args["channel"] == "D" + USER
    assert not slack.fake.calls_to("response_url")  # no "Done!" for a list that never came


async def test_a_retried_event_produces_exactly_one_reply(slack: SlackHarness) -> None:
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": USER, "text": "hi", "ts": "1.1"}
    assert await slack.event(event, event_id="EvSame") == 200
    assert await slack.event(event, event_id="EvSame", retry=1) == 200
    assert await slack.event(event, event_id="EvSame", retry=2) == 200
    await slack.settle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_bad_input_gets_a_clear_answer(slack: SlackHarness) -> None:
    await slack.dm("hi")
    empty = await slack.dm("")
    assert "didn't get any text" in shown_text(empty[0])
    unknown = await slack.dm("/frobnicate")
    assert "don't know the command" in shown_text(unknown[0])
    huge = await slack.dm("x" * 50_000)
    assert "very long" in shown_text(huge[0])
    binary = await slack.dm("\x00\x01\ufffd{company} **bold** @everyone")
    assert all("Traceback" not in shown_text(call) for call in binary)


# --- buttons --------------------------------------------------------------------------------------


async def test_every_button(slack: SlackHarness) -> None:
    await slack.dm("hi")
    await slack.dm("Acme")
    stage_ask = await slack.dm("skip")
    select = buttons(stage_ask[-1].args)[render.PICK + "stage"]
    assert select["type"] == "static_select"
    before = len(slack.fake.calls_to("chat.postMessage"))
    option = {"value": "team", "text": {"type": "plain_text", "text": "Future teammates"}}
    await slack.interact(
        slack.block_actions({"action_id": render.PICK + "stage", "type": "static_select", "selected_option": option})
    )
    type_ask = (await slack.fake.wait_for("chat.postMessage", before + 1))[-1]
    assert render.COMMAND + "skip" in buttons(type_ask.args)
    await slack.settle()

    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.interact(slack.block_actions({"action_id": render.COMMAND + "skip", "type": "button", "value": ""}))
    topics_ask = (await slack.fake.wait_for("chat.postMessage", before + 1))[-1]
    elements = buttons(topics_ask.args)
    assert elements[render.CHOOSE + "priorities"]["type"] == "multi_static_select"
    await slack.settle()

    # Choosing in the menu only holds the picks; Done sends them, read from the message state.
    await slack.interact(slack.block_actions({"action_id": render.CHOOSE + "priorities", "type": "multi_static_select",
                                              "selected_options": [{"value": "remote"}]}))  # fmt: skip
    state = {"values": {render.ASK_BLOCK + "priorities": {render.CHOOSE + "priorities": {
        "type": "multi_static_select", "selected_options": [{"value": "remote"}, {"value": "growth"}]}}}}  # fmt: skip
    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.interact(
        slack.block_actions({"action_id": render.PICK + "priorities.done", "type": "button", "value": ""}, state=state)
    )
    notes_ask = await slack.fake.wait_for("chat.postMessage", before + 1)
    assert "I'll focus on: Remote" in "\n".join(shown_text(c) for c in notes_ask[before:])
    await slack.settle()

    listed = await slack.dm("skip")
    list_call = listed[-1]
    elements = buttons(list_call.args)
    swap_2 = elements[render.COMMAND + "swap.2"]
    for action_id in (render.COMMAND + "more", render.COMMAND + "export", render.COMMAND + "restart"):
        assert action_id in elements
    assert "confirm" in elements[render.COMMAND + "restart"]

    async def click(action_id: str, value: str = "", ephemeral: bool = False) -> list[Any]:
        """Click a button; the messages revq sent in answer (posted, or through the response URL)."""
        method = "response_url" if ephemeral else "chat.postMessage"
        before = len(slack.fake.calls_to(method))
        await slack.interact(slack.block_actions({"action_id": action_id, "type": "button", "value": value},
                                                 ephemeral=ephemeral))  # fmt: skip
        await slack.fake.wait_for(method, before + 1)
        await slack.settle()
        return slack.fake.calls_to(method)[before:]

    # Swap changes the list where it stands: the clicked message is updated, nothing new is posted.
    posted = len(slack.fake.calls_to("chat.postMessage"))
    clicked_list = {"ts": "1.0", "blocks": list_call.args["blocks"]}
    await slack.interact(slack.block_actions({"action_id": render.COMMAND + "swap.2", "type": "button",
                                              "value": swap_2["value"]}, message=clicked_list))  # fmt: skip
    updated = (await slack.fake.wait_for("chat.update"))[-1]
    await slack.settle()
    assert updated.args["channel"] == "D" + USER and updated.args["ts"] == "1.0"
    assert "Swapped question 2" in shown_text(updated)
    assert buttons(updated.args)[render.COMMAND + "swap.2"]["value"] != swap_2["value"]
    assert len(slack.fake.calls_to("chat.postMessage")) == posted
    stale = await click(render.COMMAND + "swap.2", swap_2["value"])  # an older message's button
    assert "no longer on your list" in "\n".join(shown_text(c) for c in stale)
    more = await click(render.COMMAND + "more")
    assert "More questions" in "\n".join(shown_text(c) for c in more)
    exported = await click(render.COMMAND + "export")
    assert "```" in exported[-1].args["text"]
    from_ephemeral = await click(render.COMMAND + "export", ephemeral=True)
    assert from_ephemeral[-1].args["response_type"] == "ephemeral" and "```" in from_ephemeral[-1].args["text"]
    assert from_ephemeral[-1].args["replace_original"] is False  # a copy is added, the list stays
    current = next(b for c in more if (b := buttons(c.args).get(render.COMMAND + "swap.1")))["value"]
    swapped_ephemeral = await click(render.COMMAND + "swap.1", current, ephemeral=True)
    assert swapped_ephemeral[-1].args["replace_original"] is True
    assert "Swapped question 1" in shown_text(swapped_ephemeral[-1])
    # The list was deleted in Slack meanwhile: the swapped list is posted anew instead.
    more_list = next(c for c in more if render.is_whole_list(c.args.get("blocks", [])))
    slack.fake.fail("chat.update", status=200, error="message_not_found", retry_after=None)
    posted = len(slack.fake.calls_to("chat.postMessage"))
    swap_button = buttons(more_list.args)[render.COMMAND + "swap.3"]
    await slack.interact(slack.block_actions({"action_id": render.COMMAND + "swap.3", "type": "button",
                                              "value": swap_button["value"]},
                                             message={"ts": "2.0", "blocks": more_list.args["blocks"]}))  # fmt: skip
    reposted = (await slack.fake.wait_for("chat.postMessage", posted + 1))[-1]
    assert "Swapped question 3" in shown_text(reposted)
    await slack.settle()
    restarted = await click(render.COMMAND + "restart")
    assert "Starting over" in "\n".join(shown_text(c) for c in restarted)


async def test_prepare_questions_on_the_home_tab_opens_the_modal(slack: SlackHarness) -> None:
    await slack.interact(slack.block_actions({"action_id": render.OPEN_FORM, "type": "button", "value": ""}, home=True))
    view = (await slack.fake.wait_for("views.open"))[-1].args["view"]
    assert view["callback_id"] == render.FORM_CALLBACK
    await slack.interact(view_submission(view, form_values(company="Initech", topics=("remote",))))
    posted = await slack.fake.wait_for("chat.postMessage")
    assert posted[-1].args["channel"] == "D" + USER
    await slack.settle()
    assert not slack.fake.calls_to("response_url")  # opened from Home: no channel to confirm in


# --- App Home --------------------------------------------------------------------------------------


async def test_app_home_shows_the_list_the_button_and_the_privacy_line(slack: SlackHarness) -> None:
    await slack.event({"type": "app_home_opened", "user": USER, "tab": "home", "channel": "D" + USER})
    empty = (await slack.fake.wait_for("views.publish"))[-1]
    assert empty.args["user_id"] == USER and empty.args["view"]["type"] == "home"
    assert render.OPEN_FORM in str(empty.args["view"]) and "30 days" in shown_text(empty)
    assert await slack.service.store.get(KEY, time.time()) is None  # looking stores nothing

    for line in ("hi", "Acme", "skip", "skip", "skip", "remote work", "skip"):
        await slack.dm(line)
    await slack.event({"type": "app_home_opened", "user": USER, "tab": "home", "channel": "D" + USER})
    await slack.settle()
    home = slack.fake.calls_to("views.publish")[-1]
    assert "Questions to ask Acme" in shown_text(home)

    published = len(slack.fake.calls_to("views.publish"))
    await slack.event({"type": "app_home_opened", "user": USER, "tab": "messages", "channel": "D" + USER})
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == published


# --- escaping ------------------------------------------------------------------------------------


async def test_mentions_typed_as_a_company_stay_inert_everywhere(slack: SlackHarness) -> None:
    typed = "&lt;!channel&gt; &lt;@U123&gt; Acme"  # what Slack sends when someone types "<!channel> <@U123> Acme"
    view = await open_modal(slack, typed)
    company = next(b for b in view["blocks"] if b.get("block_id") == render.FORM_BLOCKS["company"])
    assert company["element"]["initial_value"] == "&lt;!channel&gt; &lt;@U123&gt; Acme"

    values = form_values(company="<!channel> <@U123> Acme", role="<#C1> lead", topics=("remote",),
                         notes="<!here> said @everyone *bold*")  # fmt: skip
    await slack.interact(view_submission(view, values))
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.wait_for("response_url")
    await slack.settle()
    await slack.dm("export")
    sent = [c for c in slack.fake.calls if c.method in ("chat.postMessage", "response_url", "views.publish")]
    assert sent
    for call in sent:
        for text in strings(call.args):
            assert "<!" not in text and "<@" not in text and "<#" not in text, text
    everything = "\n".join(shown_text(c) for c in sent)
    assert "&lt;!channel&gt; &lt;@U123&gt; Acme" in everything


async def test_mentions_in_a_dm_are_read_as_plain_words(slack: SlackHarness) -> None:
    await slack.dm("hi")
    await slack.dm("<!channel> Globex <@U123|bob> <https://globex.example|globex.example>")
    await slack.dm("skip")
    await slack.dm("skip")
    await slack.dm("skip")
    await slack.dm("remote")
    listed = await slack.dm("skip")
    text = "\n".join(shown_text(c) for c in listed)
    assert "@channel Globex @bob globex.example" in text
    assert "<!channel>" not in "".join(strings([c.args for c in listed]))


# --- reliability ---------------------------------------------------------------------------------


async def test_a_429_is_waited_out_and_the_reply_arrives(slack: SlackHarness) -> None:
    slack.fake.fail("chat.postMessage", status=429, retry_after=0, times=1)
    await slack.event({"type": "message", "channel_type": "im", "channel": "DU1", "user": USER, "text": "hi"})
    calls = await slack.fake.wait_for("chat.postMessage", 2, timeout=10)
    assert len(calls) == 2 and calls[0].args == calls[1].args


async def test_a_failing_delivery_is_logged_safely_apologised_for_and_the_app_keeps_serving(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack.fake.fail("chat.postMessage", status=200, error="internal_error", retry_after=None, times=1)
    await slack.event({"type": "message", "channel_type": "im", "channel": "DU1", "user": USER,
                       "text": "hi my secret plans"})  # fmt: skip
    calls = await slack.fake.wait_for("chat.postMessage", 2)
    assert "Sorry, something went wrong" in shown_text(calls[-1])
    assert "internal_error" in caplog.text and KEY.log_id in caplog.text
    for secret in ("secret plans", FakeSlack.BOT_TOKEN, USER + " ", "xoxb-"):
        assert secret not in caplog.text
    again = await slack.dm("Acme")
    assert "job title" in shown_text(again[-1])

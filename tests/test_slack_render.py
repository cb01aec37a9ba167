"""Block Kit for Slack: every reply fits Slack's limits, and nothing the person typed reads as markup."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.render import (
    ASK_BLOCK,
    CHOOSE,
    COMMAND,
    FORM_BLOCKS,
    FORM_CALLBACK,
    FORM_INPUT,
    MAX_BUTTON_TEXT,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK_CHARS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_OPTION_TEXT,
    MAX_PLAIN_TEXT_MESSAGE,
    MAX_SECTION_CHARS,
    MAX_VIEW_BLOCKS,
    OPEN_FORM,
    PICK,
    escape,
    form_errors,
    form_modal,
    home_view,
    messages,
)
from bot.engine.dialogue import NEXT_STEPS, EngineContext
from bot.engine.input_text import one_line
from bot.engine.intake import MAX_NAME_CHARS, Slot, build_slots
from bot.engine.replies import (
    Ask,
    Choice,
    Document,
    FieldErrors,
    QuestionCard,
    QuestionGroup,
    QuestionSet,
    Reply,
    Say,
)
from question_bank import default_bank
from question_bank.priorities import MAX_PRIORITIES
from tests.conftest import Conversation, asks

INTRO = "Here's a plain-text copy to keep:\n```"
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")  # an `&` that does not start one of the three entities


# --- helpers -------------------------------------------------------------------------------


def strings(value: object) -> Iterator[str]:
    """Every string anywhere in a JSON structure, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def text_length(message: dict[str, Any]) -> int:
    """All characters under a "text" key in a message's blocks (what MAX_MESSAGE_CHARS limits)."""

    def walk(value: object) -> int:
        if isinstance(value, dict):
            return sum(len(v) if k == "text" and isinstance(v, str) else walk(v) for k, v in value.items())
        if isinstance(value, list):
            return sum(walk(v) for v in value)
        return 0

    return walk(message.get("blocks", []))


def values_under(value: object, wanted: str) -> Iterator[Any]:
    """Every value stored under the key `wanted`, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == wanted:
                yield item
            yield from values_under(item, wanted)
    elif isinstance(value, list):
        for item in value:
            yield from values_under(item, wanted)


def assert_escaped(output: object) -> None:
    for text in strings(output):
        assert "<" not in text and ">" not in text, text[:200]
        assert not ENTITY.search(text), text[:200]


def all_blocks(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [block for message in msgs for block in message.get("blocks", [])]


def by_action(value: object) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for elements in values_under(value, "elements"):
        for element in elements:
            if "action_id" in element:
                found[element["action_id"]] = element
    for accessory in values_under(value, "accessory"):
        found[accessory["action_id"]] = accessory
    return found


def check_options(options: list[dict[str, Any]]) -> None:
    assert 1 <= len(options) <= 100
    for option in options:
        assert option["text"]["text"].strip() and len(option["text"]["text"]) <= MAX_OPTION_TEXT
        assert len(option["value"]) <= 150
        if "description" in option:
            assert 1 <= len(option["description"]["text"]) <= 75


def check_block(block: dict[str, Any]) -> None:
    kind = block["type"]
    if kind == "header":
        assert block["text"]["text"].strip() and len(block["text"]["text"]) <= MAX_HEADER_CHARS
    elif kind == "section":
        assert block["text"]["text"].strip() and len(block["text"]["text"]) <= MAX_SECTION_CHARS
        if "accessory" in block:
            assert 1 <= len(block["accessory"]["text"]["text"]) <= MAX_BUTTON_TEXT
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
        for element in block["elements"]:
            assert element["text"].strip() and len(element["text"]) <= MAX_SECTION_CHARS
    elif kind == "actions":
        assert 1 <= len(block["elements"]) <= 25
        for element in block["elements"]:
            if element["type"] == "button":
                assert element["text"]["text"].strip() and len(element["text"]["text"]) <= MAX_BUTTON_TEXT
                assert len(element["value"]) <= 2000
            else:
                assert element["type"] in ("static_select", "multi_static_select")
                assert len(element["placeholder"]["text"]) <= 150
                check_options(element["options"])
            assert len(element["action_id"]) <= 255
    else:
        assert kind == "divider", kind


def check_messages(msgs: list[dict[str, Any]]) -> None:
    """Slack's limits on every message, and no markup from anyone's words anywhere."""
    assert_escaped(msgs)
    for message in msgs:
        if "blocks" not in message:  # a plain-text copy
            assert set(message) == {"text"}
            assert 0 < len(message["text"]) <= MAX_PLAIN_TEXT_MESSAGE
            continue
        assert set(message) == {"text", "blocks"}
        assert 1 <= len(message["blocks"]) <= MAX_MESSAGE_BLOCKS
        assert text_length(message) <= MAX_MESSAGE_CHARS
        assert message["text"].strip() and len(message["text"]) <= MAX_FALLBACK_CHARS
        ids = [*values_under(message["blocks"], "action_id"), *values_under(message["blocks"], "block_id")]
        assert len(ids) == len(set(ids)), ids
        for block in message["blocks"]:
            check_block(block)


def check_view(view: dict[str, Any]) -> None:
    assert_escaped(view)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    for key in ("title", "submit", "close"):
        if key in view:
            assert len(view[key]["text"]) <= 24
    for block in view["blocks"]:
        if block["type"] == "input":
            assert len(block["label"]["text"]) <= 2000
            element = block["element"]
            if "placeholder" in element:
                assert len(element["placeholder"]["text"]) <= 150
            if "options" in element:
                check_options(element["options"])
        else:
            check_block(block)
    assert len(view.get("private_metadata", "")) <= 3000


def card(number: int, size: int = 0, **changes: Any) -> QuestionCard:
    """A card; with `size`, every text is that long (and full of characters that need escaping)."""
    filler = ("<!channel> & <@U1> " * (size // 19 + 1))[:size] if size else ""
    fields: dict[str, Any] = {
        "number": number,
        "id": f"q-{number}",
        "text": filler or f"Question {number}?",
        "purpose": "role",
        "topics": ("role",),
        "stages": ("hiring_manager",),
        "why": filler or "Because.",
        "listen_for": filler or "Specifics.",
        "red_flags": (filler, filler) if size else (),
        "follow_ups": (filler, filler) if size else (),
    }
    return QuestionCard(**{**fields, **changes})


def question_set(cards: list[QuestionCard], title: str = "Questions", homework: tuple[str, ...] = ()) -> QuestionSet:
    groups = (QuestionGroup("role", "About the role", tuple(cards[: len(cards) // 2])),) if cards else ()
    groups += (QuestionGroup("team", "About the team", tuple(cards[len(cards) // 2 :])),) if cards else ()
    return QuestionSet(title, groups, homework, NEXT_STEPS)


def is_next_steps(block: dict[str, Any]) -> bool:
    return block["type"] == "actions" and any(e["action_id"] == f"{COMMAND}more" for e in block["elements"])


# --- escape --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["<!channel>", "<@U123>", "<#C1>", "a & b", "&lt; already", "<<&>>"])
def test_escape_leaves_no_markup(raw: str) -> None:
    escaped = escape(raw)
    assert "<" not in escaped and ">" not in escaped
    assert not ENTITY.search(escaped)
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == raw


def test_escape_changes_nothing_else() -> None:
    assert escape("*bold* _it_ `code` :tada: \"q\" 'q'") == "*bold* _it_ `code` :tada: \"q\" 'q'"
    assert escape("a & b") == "a &amp; b"
    assert escape("<!channel>") == "&lt;!channel&gt;"


# --- a question list from the engine -------------------------------------------------------


def test_engine_question_set_is_escaped_with_buttons(chat: Conversation) -> None:
    qs = chat.complete(company="<!channel> & <@U123>")
    msgs = messages([qs])
    check_messages(msgs)
    assert len(msgs) == 1
    blocks = msgs[0]["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": escape(qs.title), "emoji": True}}
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in blocks[0]["text"]["text"]
    assert msgs[0]["text"].startswith(escape(qs.title))
    for c in qs.cards:
        assert f"{c.number}. {escape(c.text)}" in msgs[0]["text"]

    actions = by_action(msgs[0])
    swaps = list(values_under(blocks, "accessory"))
    assert [b["value"] for b in swaps] == [c.id for c in qs.cards]
    assert [b["action_id"] for b in swaps] == [f"{COMMAND}swap.{c.number}" for c in qs.cards]
    for c in qs.cards:  # each card's section carries its own Swap
        section = next(b for b in blocks if b.get("accessory", {}).get("value") == c.id)
        assert section["text"]["text"] == f"{c.number}. {escape(c.text)}"

    assert f"{COMMAND}swap" not in actions  # swap is per question, not a next step
    assert actions[f"{COMMAND}more"]["style"] == "primary"
    assert actions[f"{COMMAND}export"]["text"]["text"] == "Plain-text copy"
    restart = actions[f"{COMMAND}restart"]
    assert restart["text"]["text"] == "Start over"
    assert restart["confirm"]["title"]["text"] == "Start over?"
    assert restart["confirm"]["confirm"]["text"] == "Start over"
    assert restart["confirm"]["deny"]["text"] == "Keep my list"
    assert is_next_steps(blocks[-1])

    dumped = list(strings(msgs))
    assert not any("<!channel>" in s or "<@U123>" in s for s in dumped)
    assert any("&lt;!channel&gt;" in s for s in dumped)


def test_card_notes_and_homework() -> None:
    c = card(1, red_flags=("vague <b>", "none"), follow_ups=("How & when?",))
    qs = QuestionSet("T", (QuestionGroup("role", "About *you*", (c,)),), ("their <news>", "the & team"), NEXT_STEPS)
    [message] = messages([qs])
    check_messages([message])
    texts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "*Why ask:* Because." in texts and "*Listen for:* Specifics." in texts
    assert "*Watch out for:* vague &lt;b&gt; / none" in texts
    assert "Follow up with: How &amp; when?" in texts
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "*About *you**" in sections
    assert sections[-2:] == ["*Before the interview, look up:*", "• their &lt;news&gt;\n• the &amp; team"]


def test_card_without_notes_has_no_empty_context() -> None:
    [message] = messages([question_set([card(1)])])
    contexts = [b for b in message["blocks"] if b["type"] == "context"]
    assert len(contexts) == 1  # why and listen for only
    assert len(contexts[0]["elements"]) == 2


def test_huge_question_set_splits_without_splitting_cards() -> None:
    cards = [card(n, size=4000) for n in range(1, 21)]
    qs = question_set(cards, title="T<" * 250, homework=tuple("look up <this> " * 300 for _ in range(6)))
    msgs = messages([qs])
    check_messages(msgs)
    assert len(msgs) > 3
    numbers: list[int] = []
    for index, message in enumerate(msgs):
        blocks = message["blocks"]
        assert (blocks[0]["type"] == "header") == (index == 0)
        assert sum(b["type"] == "header" for b in blocks) == (1 if index == 0 else 0)
        assert any(is_next_steps(b) for b in blocks) == (index == len(msgs) - 1)
        # a group label or the homework heading always has something after it in its message
        assert blocks[-1]["type"] != "section" or blocks[-1]["text"]["type"] == "plain_text"
        for position, block in enumerate(blocks):
            swap = block.get("accessory")
            if swap is not None:
                numbers.append(int(swap["action_id"].rsplit(".", 1)[1]))
                # the card's notes follow it in the same message
                assert blocks[position + 1]["type"] == "context"
                assert blocks[position + 1]["elements"][0]["text"].startswith("*Why ask:*")
    assert numbers == list(range(1, 21))
    header = msgs[0]["blocks"][0]["text"]["text"]
    assert len(header) <= MAX_HEADER_CHARS and header.endswith("…")
    assert msgs[0]["text"].startswith("T&lt;T&lt;")
    # nothing of the homework is lost: every item is there in full (folded onto one line)
    homework = "\n".join(
        b["text"]["text"]
        for b in all_blocks(msgs)
        if b["type"] == "section" and b["text"]["type"] == "plain_text" and "accessory" not in b
    )
    assert "".join(homework.split()) == "".join(("• " + escape("look up <this> " * 300)).split()) * 6


def test_homework_heading_stays_with_its_items() -> None:
    # The first message is nearly full after two cards: the heading alone would fit, its items would not.
    cards = [card(1, size=4000), card(2, why="w" * 1900)]
    qs = question_set(cards, homework=("item " * 700,))
    msgs = messages([qs])
    check_messages(msgs)
    assert len(msgs) == 2
    heading = {"type": "section", "text": {"type": "mrkdwn", "text": "*Before the interview, look up:*"}}
    assert heading not in msgs[0]["blocks"]
    assert msgs[1]["blocks"][0] == heading
    assert msgs[1]["blocks"][1]["text"]["text"].startswith("• item item")


def test_question_set_fallback_is_cut() -> None:
    cards = [card(n, text="x" * 1000) for n in range(1, 21)]
    msgs = messages([question_set(cards)])
    check_messages(msgs)
    assert msgs[0]["text"].endswith("…")
    assert msgs[0]["text"].startswith("Questions\n1. xxx")


# --- Ask -----------------------------------------------------------------------------------


def test_engine_stage_ask_is_a_select(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    [ask] = asks(chat.say("Data Engineer"))
    assert ask.slot == "stage" and len(ask.choices) == 6
    msgs = messages([ask])
    check_messages(msgs)
    [message] = msgs
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert actions["block_id"] == f"{ASK_BLOCK}stage"
    select, skip = actions["elements"]
    assert select["type"] == "static_select" and select["action_id"] == f"{PICK}stage"
    assert select["placeholder"]["text"] == "Choose one"
    assert [o["value"] for o in select["options"]] == [c.value for c in ask.choices]
    assert [o["text"]["text"] for o in select["options"]] == [c.label for c in ask.choices]
    assert skip["action_id"] == f"{COMMAND}skip" and skip["value"] == ""
    assert message["blocks"][0]["text"]["text"] == ask.prompt
    assert {"type": "plain_text", "text": f"Step {ask.step} of {ask.total_steps}", "emoji": True} in [
        e for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    assert message["text"] == escape(ask.prompt)
    assert "Or type your answer." not in str(message)  # stage is choices only


def test_three_choices_are_buttons() -> None:
    ask = Ask("size", "How big?", (Choice("s", "Small"), Choice("m", "Medium"), Choice("l", "L" * 100)))
    [message] = messages([ask])
    check_messages([message])
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [f"{PICK}size.{n}" for n in (1, 2, 3)]
    assert [e["value"] for e in actions["elements"]] == ["s", "m", "l"]
    assert actions["elements"][2]["text"]["text"] == "L" * (MAX_BUTTON_TEXT - 1) + "…"
    contexts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "Or type your answer." in contexts
    assert f"{COMMAND}skip" not in by_action(message)


def test_engine_priorities_ask_is_a_multi_select_with_done(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "Data Engineer", "2"):
        chat.say(answer)
    [ask] = asks(chat.say("skip"))
    assert ask.slot == "priorities" and ask.multi
    [message] = messages([ask])
    check_messages([message])
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    select, done = actions["elements"][:2]
    assert select["type"] == "multi_static_select" and select["action_id"] == f"{CHOOSE}priorities"
    assert select["max_selected_items"] == MAX_PRIORITIES
    assert select["placeholder"]["text"] == "Pick up to 5"
    assert [o["value"] for o in select["options"]] == [c.value for c in ask.choices]
    assert all(c.hint for c in ask.choices)
    assert [o["description"]["text"] for o in select["options"]] == [escape(c.hint) for c in ask.choices]
    assert done == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Done", "emoji": True},
        "action_id": f"{PICK}priorities.done",
        "value": "",
        "style": "primary",
    }
    contexts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "Or type your answer." in contexts


def test_ask_skip_and_earlier_answer() -> None:
    ask = Ask("company", "Which company?", can_skip=True, step=1, total_steps=6, earlier_answer="<@U1> & co")
    [message] = messages([ask])
    check_messages([message])
    contexts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert contexts == ["Step 1 of 6", "Before, you said: &lt;@U1&gt; &amp; co"]
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [f"{COMMAND}skip"]
    assert actions["elements"][0]["text"]["text"] == "Skip"

    [skipped] = messages([Ask("role", "Job title?", earlier_answer="skipped")])
    contexts = [e["text"] for b in skipped["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert contexts == ["Step 1 of 1", "You skipped this before."]
    assert not [b for b in skipped["blocks"] if b["type"] == "actions"]  # free text, no skip: nothing to click


def test_say_and_ask_share_one_message() -> None:
    msgs = messages([Say("Got it."), Say("Oops <here>", tone="error"), Ask("role", "Job title?")])
    check_messages(msgs)
    assert len(msgs) == 1
    texts = [b["text"]["text"] for b in msgs[0]["blocks"] if b["type"] == "section"]
    assert texts == ["Got it.", ":warning: Oops &lt;here&gt;", "Job title?"]
    assert msgs[0]["text"] == "Got it.\nOops &lt;here&gt;\nJob title?"


def test_long_say_is_split_at_line_breaks() -> None:
    lines = [f"line {n} " + "y" * 90 for n in range(300)]  # about 30,000 characters
    msgs = messages([Say("\n".join(lines))])
    check_messages(msgs)
    assert len(msgs) >= 3
    sections = [b["text"]["text"] for b in all_blocks(msgs)]
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert "\n".join(sections).split("\n") == lines  # cut only between lines, nothing lost

    one_long_line = "word " * 5000
    sections = [b["text"]["text"] for b in all_blocks(messages([Say(one_long_line)]))]
    assert len(sections) > 1 and "".join(sections).split() == one_long_line.split()


def test_blank_stretch_in_a_long_say_makes_no_blank_section() -> None:
    msgs = messages([Say("x" * 3000 + "\n" + " " * 3000 + "\n" + "y" * 3000)])
    check_messages(msgs)
    assert [b["text"]["text"] for b in all_blocks(msgs)] == ["x" * 3000, "y" * 3000]


def test_many_long_choices_still_fit_one_message() -> None:
    choices = tuple(Choice(f"v{n}", f"{n} " + "label " * 40, "hint " * 40) for n in range(150))
    for multi in (False, True):
        msgs = messages([Ask("topic", "Which?" * 400, choices, multi=multi, earlier_answer="e" * 5000)])
        check_messages(msgs)
        [select] = [e for e in values_under(msgs, "elements") for e in e if e["type"].endswith("static_select")]
        assert [o["value"] for o in select["options"]] == [f"v{n}" for n in range(100)]
        assert len(msgs) == 1  # the prompt, the step, what was said before and the select stay together


def test_empty_say_sends_nothing() -> None:
    assert messages([Say("")]) == []
    assert messages([Say("  \n ")]) == []


def test_field_errors_in_a_message() -> None:
    msgs = messages([FieldErrors({"company": "Type a <name>.", "stage": "Pick one."})])
    check_messages(msgs)
    assert msgs[0]["blocks"][0]["text"]["text"] == ":warning: Type a &lt;name&gt;.\nPick one."


def test_unknown_reply_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        messages([object()])  # type: ignore[list-item]


# --- the plain-text copy -------------------------------------------------------------------


def test_export_is_one_text_message(chat: Conversation) -> None:
    chat.complete(company="<!channel> & co")
    [document] = [r for r in chat.command("export") if isinstance(r, Document)]
    msgs = messages([document])
    check_messages(msgs)
    assert msgs == [{"text": INTRO + escape(document.body) + "```"}]
    assert "&lt;!channel&gt; &amp; co" in msgs[0]["text"]


def test_document_is_its_own_message_between_others() -> None:
    msgs = messages([Say("Here you go."), Document("T", "body"), Say("Anything else?")])
    check_messages(msgs)
    assert [("blocks" in m) for m in msgs] == [True, False, True]
    assert msgs[1] == {"text": INTRO + "body```"}


def test_huge_document_is_split() -> None:
    body = "\n".join(f"{n}. <Question> & answer " + "z" * 80 for n in range(1000))  # over 100,000 characters
    assert len(body) > 100_000
    msgs = messages([Document("T", body)])
    check_messages(msgs)
    assert len(msgs) >= 3
    assert all(len(m["text"]) <= MAX_PLAIN_TEXT_MESSAGE for m in msgs)
    assert msgs[0]["text"].startswith(INTRO)
    pieces = [m["text"].removeprefix(INTRO.removesuffix("```")) for m in msgs]
    assert all(p.startswith("```") and p.endswith("```") for p in pieces)
    content = "\n".join(p[3:-3] for p in pieces)
    assert content.split("\n") == escape(body).split("\n")


# --- the modal -----------------------------------------------------------------------------


def test_form_modal_with_the_engine_slots(ctx: EngineContext) -> None:
    company = "<!channel> " + "x" * 500
    view = form_modal(ctx.slots, company=company, private_metadata='{"channel": "D1"}')
    check_view(view)
    assert view["type"] == "modal" and view["callback_id"] == FORM_CALLBACK
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Interview questions",
        "Get my questions",
        "Cancel",
    )
    assert view["private_metadata"] == '{"channel": "D1"}'
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == list(FORM_BLOCKS.values())
    assert all(b["element"]["action_id"] == FORM_INPUT for b in inputs)
    by_block = {b["block_id"]: b for b in inputs}

    company_block = by_block[FORM_BLOCKS["company"]]
    assert company_block["optional"] is False
    initial = company_block["element"]["initial_value"]
    assert initial == escape(company[:MAX_NAME_CHARS])
    assert initial.startswith("&lt;!channel&gt; x")
    assert all(b["optional"] is True for b in inputs if b is not company_block)

    slots = {s.name: s for s in ctx.slots}
    for block_id, slot in (
        ("setting", "setting"),
        ("stage", "stage"),
        ("company_type", "company_type"),
        ("priorities_picked", "priorities"),
    ):
        element = by_block[FORM_BLOCKS[block_id]]["element"]
        assert [o["value"] for o in element["options"]] == [c.value for c in slots[slot].choices]
    stage = by_block[FORM_BLOCKS["stage"]]["element"]
    assert stage["type"] == "static_select" and "Not sure" in [o["text"]["text"] for o in stage["options"]]
    picked = by_block[FORM_BLOCKS["priorities_picked"]]["element"]
    assert picked["type"] == "multi_static_select" and picked["max_selected_items"] == MAX_PRIORITIES
    typed = by_block[FORM_BLOCKS["priorities_typed"]]
    assert typed["element"]["max_length"] == 500 and typed["hint"]["text"] == "Most important first. Typos are fine."
    notes = by_block[FORM_BLOCKS["notes"]]["element"]
    assert notes["multiline"] is True and notes["max_length"] == 600
    assert view["blocks"][-1]["type"] == "context"


def test_form_modal_without_company_has_no_initial_value(ctx: EngineContext) -> None:
    for company in ("", "   \n "):
        view = form_modal(ctx.slots, company=company)
        assert "initial_value" not in view["blocks"][0]["element"]
        assert view["private_metadata"] == ""


def test_form_modal_folds_the_company_onto_one_line(ctx: EngineContext) -> None:
    view = form_modal(ctx.slots, company="  Acme\n  & Sons ")
    assert view["blocks"][0]["element"]["initial_value"] == "Acme &amp; Sons"


def test_form_modal_refuses_oversized_metadata(ctx: EngineContext) -> None:
    form_modal(ctx.slots, private_metadata="m" * 3000)
    with pytest.raises(ValueError):
        form_modal(ctx.slots, private_metadata="m" * 3001)


def test_form_errors_map_to_blocks() -> None:
    errors = FieldErrors({"company": "Type a <name>.", "priorities": "Pick one.", "notes": "n" * 400})
    picked = form_errors(errors, typed_priorities=False)
    assert picked == {
        FORM_BLOCKS["company"]: "Type a &lt;name&gt;.",
        FORM_BLOCKS["priorities_picked"]: "Pick one.",
        FORM_BLOCKS["notes"]: "n" * 149 + "…",
    }
    typed = form_errors(errors, typed_priorities=True)
    assert typed[FORM_BLOCKS["priorities_typed"]] == "Pick one."
    assert FORM_BLOCKS["priorities_picked"] not in typed
    assert form_errors(FieldErrors({}), typed_priorities=True) == {}


# --- App Home ------------------------------------------------------------------------------


def test_home_without_a_list() -> None:
    view = home_view(None, ttl_days=30)
    check_view(view)
    assert view["type"] == "home"
    kinds = [b["type"] for b in view["blocks"]]
    assert kinds == ["header", "section", "actions", "divider", "context"]
    [button] = view["blocks"][2]["elements"]
    assert button["action_id"] == OPEN_FORM and button["style"] == "primary"
    assert button["text"]["text"] == "Prepare questions"
    privacy = view["blocks"][-1]["elements"][0]["text"]
    assert "for 30 days after you last use it" in privacy and "30.0" not in privacy
    assert "/revq forget" in privacy


@pytest.mark.parametrize(
    ("ttl", "shown"), [(30.0, "30 days"), (7, "7 days"), (0.5, "0.5 days"), (1.25, "1.25 days"), (1, "1 day")]
)
def test_home_privacy_days(ttl: float, shown: str) -> None:
    privacy = home_view(None, ttl_days=ttl)["blocks"][-1]["elements"][0]["text"]
    assert f"for {shown} after" in privacy


def test_home_with_a_huge_list(chat: Conversation) -> None:
    cards = [card(n, size=4000) for n in range(1, 21)]
    qs = question_set(cards, title="<!here> " * 60, homework=("read <this>",))
    view = home_view(qs, ttl_days=30)
    check_view(view)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert [int(s.split(".")[0]) for s in sections if re.match(r"\d+\. ", s)] == list(range(1, 21))
    header = view["blocks"][4]["text"]["text"]
    assert header.endswith("…") and escape("<!here> " * 60).startswith(header[:-1]) and len(header) > 100
    assert "• read &lt;this&gt;" in sections
    contexts = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert sum(t.startswith("*Listen for:*") for t in contexts) == 20
    assert any(t.startswith("For more questions") for t in contexts)
    assert "30 days" in contexts[-1]

    engine_view = home_view(chat.complete(company="<@U1>"), ttl_days=30)
    check_view(engine_view)
    assert "The full list is in your messages with revq." not in str(engine_view)


def test_home_with_too_many_cards_shows_whole_cards() -> None:
    qs = question_set([card(n) for n in range(1, 61)], homework=("news",))
    view = home_view(qs, ttl_days=30)
    check_view(view)
    blocks = view["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS
    numbered = [i for i, b in enumerate(blocks) if b["type"] == "section" and re.match(r"\d+\. ", b["text"]["text"])]
    assert 30 <= len(numbered) < 60
    assert all(blocks[i + 1]["elements"][0]["text"].startswith("*Listen for:*") for i in numbered)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "The full list is in your messages with revq." in sections
    assert blocks[-2]["type"] == "divider" and "days" in blocks[-1]["elements"][0]["text"]


# --- properties ----------------------------------------------------------------------------


@functools.cache
def engine_slots() -> tuple[Slot, ...]:
    """The engine's slots, built once; not a fixture, so Hypothesis does not print the whole bank."""
    return build_slots(default_bank())


# Unicode of every kind, weighted towards what Slack reads as markup and what splits text.
_CHARS = st.one_of(st.sampled_from("<>&;\n *_`~:@!#amplgt"), st.characters())
_SHORT = st.text(_CHARS, max_size=40)


def _long(max_size: int) -> st.SearchStrategy[str]:
    """Text up to `max_size` characters, cheaply: a random piece repeated."""
    repeated = st.builds(
        lambda piece, n: (piece * n)[:max_size], st.text(_CHARS, min_size=1, max_size=60), st.integers(0, max_size)
    )
    return st.one_of(_SHORT, repeated)


_CHOICES = st.lists(st.builds(Choice, value=_SHORT, label=_SHORT, hint=st.one_of(st.just(""), _long(200))), max_size=30)

_SAYS = st.builds(Say, text=_long(20_000), tone=st.sampled_from(["info", "notice", "error"]))
_ASKS = st.builds(
    Ask,
    slot=st.sampled_from(["company", "role", "stage", "company_type", "priorities", "notes"]),
    prompt=_long(5000),
    choices=_CHOICES.map(tuple),
    multi=st.booleans(),
    free_text=st.booleans(),
    can_skip=st.booleans(),
    step=st.integers(1, 6),
    total_steps=st.integers(1, 6),
    earlier_answer=st.one_of(st.none(), st.just("skipped"), _long(2000)),
)


@st.composite
def _question_sets(draw: st.DrawFn) -> QuestionSet:
    count = draw(st.integers(0, 20))
    cards = [
        QuestionCard(
            number=n,
            id=draw(_SHORT),
            text=draw(_long(5000)),
            purpose="role",
            topics=(),
            stages=(),
            why=draw(_long(5000)),
            listen_for=draw(_long(5000)),
            red_flags=tuple(draw(st.lists(_long(5000), max_size=3))),
            follow_ups=tuple(draw(st.lists(_long(5000), max_size=3))),
        )
        for n in range(1, count + 1)
    ]
    groups: list[QuestionGroup] = []
    while cards:  # runs of random length, as the engine groups by purpose
        size = draw(st.integers(1, len(cards)))
        groups.append(QuestionGroup("purpose", draw(_long(300)), tuple(cards[:size])))
        cards = cards[size:]
    homework = tuple(draw(st.lists(_long(5000), max_size=6)))
    return QuestionSet(draw(_long(500)), tuple(groups), homework, NEXT_STEPS)


_DOCUMENTS = st.builds(Document, title=_SHORT, body=_long(50_000))
_FIELD_ERRORS = st.builds(FieldErrors, st.dictionaries(st.sampled_from(list(FORM_BLOCKS)), _long(500), max_size=4))
_REPLIES: st.SearchStrategy[Reply] = st.one_of(_SAYS, _ASKS, _question_sets(), _DOCUMENTS, _FIELD_ERRORS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_REPLIES, min_size=1, max_size=4))
def test_any_replies_fit_slack(replies: list[Reply]) -> None:
    msgs = messages(replies)
    check_messages(msgs)
    # every question list keeps all of its cards, each once
    swaps = [a for a in values_under(msgs, "action_id") if a.startswith(f"{COMMAND}swap.")]
    assert len(swaps) == sum(len(r.cards) for r in replies if isinstance(r, QuestionSet))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(qs=st.one_of(st.none(), _question_sets()), ttl=st.floats(0.01, 3650), company=_long(2000))
def test_any_views_fit_slack(qs: QuestionSet | None, ttl: float, company: str) -> None:
    home = home_view(qs, ttl_days=ttl)
    check_view(home)
    assert "after you last use it" in home["blocks"][-1]["elements"][0]["text"]
    modal = form_modal(engine_slots(), company=company)
    check_view(modal)
    name = one_line(company, MAX_NAME_CHARS)[0]
    assert modal["blocks"][0]["element"].get("initial_value", "") == escape(name)

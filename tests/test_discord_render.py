"""The Discord renderer: every reply within Discord's limits, nobody pinged, nothing lost."""

from __future__ import annotations

import re
from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.discord import inbound, render
from bot.adapters.discord.app import Drafts
from bot.engine.dialogue import EngineContext, step
from bot.engine.events import Form
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

OWNER = 123456789012345678
# Discord's own limits, written out here rather than taken from the renderer it checks.
CONTENT, EMBEDS, EMBED_TOTAL, TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE = (
    2000,
    10,
    6000,
    256,
    4096,
    25,
    256,
    1024,
)
ROWS, ROW_ITEMS, OPTIONS, CUSTOM_ID, BUTTON_LABEL, OPTION_TEXT = 5, 5, 25, 100, 80, 100
INJECTIONS = ["@everyone", "@here", "<@123456789012345678>", "<@&123456789012345678>", "<#123456789012345678>",
              "<t:1700000000:R>", "**bold**", "__u__", "`code`", "# Heading", "\n- item", "\n1. one", "> quote",
              "[link](https://example.com)", "||spoiler||", "-# small", "\\", "{company}"]  # fmt: skip
# A mention Discord would render: `<@…>`, `<@&…>`, `<#…>`, `<t:…>` with no backslash before `<`,
# or @everyone / @here with nothing between the `@` and the word.
UNESCAPED = re.compile(r"(?<!\\)<(?:@[!&]?[0-9]|#[0-9]|t:[0-9])|@(?:everyone|here)")

words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
risky = st.lists(st.one_of(words, st.sampled_from(INJECTIONS)), max_size=6).map("".join)


def texts_of(message: render.DiscordMessage) -> list[str]:
    found = [message.content]
    for embed in message.embeds:
        found += [embed.title or "", embed.description or ""]
        found += [text for f in embed.fields for text in (f.name or "", f.value or "")]
    return found


def components(message: render.DiscordMessage) -> list[dict[str, Any]]:
    return message.view.to_components() if message.view is not None else []


def check_limits(message: render.DiscordMessage) -> None:
    assert message.content or message.embeds or message.files, "an empty message"
    assert len(message.content) <= CONTENT
    assert len(message.embeds) <= EMBEDS
    assert sum(len(e) for e in message.embeds) <= EMBED_TOTAL
    for embed in message.embeds:
        assert len(embed.title or "") <= TITLE
        assert len(embed.description or "") <= DESCRIPTION
        assert len(embed.fields) <= FIELDS
        for f in embed.fields:
            assert 0 < len(f.name or "") <= FIELD_NAME and (f.name or "").strip()
            assert 0 < len(f.value or "") <= FIELD_VALUE and (f.value or "").strip()
    rows = components(message)
    assert len(rows) <= ROWS
    ids: list[str] = []
    for row in rows:
        assert row["type"] == 1 and 0 < len(row["components"]) <= ROW_ITEMS
        for item in row["components"]:
            ids.append(item["custom_id"])
            assert len(item["custom_id"]) <= CUSTOM_ID
            if item["type"] == 2:
                assert 0 < len(item["label"]) <= BUTTON_LABEL
            else:
                assert 0 < len(item["options"]) <= OPTIONS
                assert item["max_values"] <= len(item["options"])
                for option in item["options"]:
                    assert 0 < len(option["label"]) <= OPTION_TEXT
                    assert len(option["value"]) <= OPTION_TEXT
                    assert len(option.get("description") or "") <= OPTION_TEXT
    assert len(ids) == len(set(ids)), "custom ids repeat within a message"


def check_escaped(message: render.DiscordMessage) -> None:
    for text in texts_of(message):
        assert not UNESCAPED.search(text), text


choice = st.builds(Choice, value=st.from_regex(r"[a-z_]{1,20}", fullmatch=True), label=risky, hint=risky)
card_text = st.one_of(risky, st.text(min_size=200, max_size=2000))


@st.composite
def question_sets(draw: st.DrawFn) -> QuestionSet:
    count = draw(st.integers(1, 20))
    cards = [
        QuestionCard(
            number=n,
            id=f"q-{n}",
            text=draw(card_text),
            purpose="duties",
            topics=(),
            stages=(),
            why=draw(card_text),
            listen_for=draw(card_text),
            red_flags=tuple(draw(st.lists(risky, max_size=3))),
            follow_ups=tuple(draw(st.lists(risky, max_size=3))),
        )
        for n in range(1, count + 1)
    ]
    cut = draw(st.integers(0, count))
    groups = tuple(
        QuestionGroup(purpose, draw(risky), tuple(part))
        for purpose, part in (("duties", cards[:cut]), ("personal", cards[cut:]))
        if part
    )
    next_steps = (Choice("more", "More questions"), Choice("swap", "Swap one"), Choice("export", "Plain-text copy"))
    return QuestionSet(draw(risky), groups, tuple(draw(st.lists(risky, max_size=30))), next_steps)


replies = st.one_of(
    st.builds(
        Say, text=st.one_of(risky, st.text(min_size=1900, max_size=5000)), tone=st.sampled_from(["info", "error"])
    ),
    st.builds(
        Ask,
        slot=st.sampled_from(["company", "stage", "priorities"]),
        prompt=risky,
        choices=st.lists(choice, max_size=30, unique_by=lambda c: c.value).map(tuple),
        multi=st.booleans(),
        free_text=st.booleans(),
        can_skip=st.booleans(),
        earlier_answer=st.one_of(st.none(), risky),
    ),
    question_sets(),
    st.builds(FieldErrors, errors=st.dictionaries(st.sampled_from(["company", "priorities"]), risky, max_size=2)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(replies, min_size=1, max_size=4), st.booleans())
def test_every_reply_fits_discord_and_pings_nobody(turn: list[Reply], can_type: bool) -> None:
    sent = render.messages(turn, owner=OWNER, can_type=can_type)
    for message in sent:
        check_limits(message)
        check_escaped(message)
        assert message.send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}
    for question_set in (r for r in turn if isinstance(r, QuestionSet)):  # nothing lost: every card is shown
        names = " ".join(f.name or "" for m in sent for e in m.embeds for f in e.fields)
        for card in question_set.cards:
            assert re.search(rf"(?:^|\s){card.number}\. |Question {card.number}(?:\s|$)", names)


@given(risky)
def test_escaped_text_never_holds_a_mention(text: str) -> None:
    assert not UNESCAPED.search(render.escape(text))


def test_a_list_for_a_company_called_everyone_pings_nobody_and_keeps_its_layout(ctx: EngineContext) -> None:
    company = "@everyone <@123456789012345678> <@&123456789012345678> **bold**"
    result = step(None, Form(1.0, typed={"company": company, "priorities": "remote work"}), ctx)
    sent = render.messages(result.replies, owner=OWNER, can_type=False)
    heading = next(m.content for m in sent if render.list_heading("").strip() in m.content)
    assert "@\u200beveryone" in heading and "\\<@\u200b123456789012345678>" in heading
    assert "\\*\\*bold\\*\\*" in heading and "**bold**" not in heading
    assert all(not UNESCAPED.search(text) for m in sent for text in texts_of(m))
    assert sum(len(e.fields) for m in sent for e in m.embeds) == ctx.question_count


def test_a_question_list_has_its_buttons_and_swap_menu_on_its_last_message(ctx: EngineContext) -> None:
    result = step(None, Form(1.0, typed={"company": "Acme", "priorities": "remote work"}), ctx)
    sent = render.messages(result.replies, owner=OWNER, can_type=True)
    last = components(sent[-1])
    ids = [item["custom_id"] for row in last for item in row["components"]]
    assert ids[:3] == [f"revq:b:{OWNER}:cmd:more", f"revq:b:{OWNER}:cmd:export", f"revq:b:{OWNER}:cmd:restart"]
    swap = next(item for row in last for item in row["components"] if item["custom_id"].endswith(":swap"))
    assert len(swap["options"]) == ctx.question_count
    for pattern, custom_id in ((render.ActionButton, ids[0]), (render.ActionSelect, swap["custom_id"])):
        assert pattern.__discord_ui_compiled_template__.fullmatch(custom_id)


def ask(**extra: Any) -> Ask:
    return Ask(slot="stage", prompt="Who?", **extra)


def test_asks_become_buttons_menus_and_a_typing_field_where_typing_is_not_read() -> None:
    few = tuple(Choice(f"c{n}", f"Choice {n}") for n in range(3))
    many = tuple(Choice(f"c{n}", f"Choice {n}") for n in range(8))

    def items(reply: Ask, can_type: bool) -> list[dict[str, Any]]:
        (message,) = render.messages([reply], owner=OWNER, can_type=can_type)
        return [item for row in components(message) for item in row["components"]]

    assert [i["custom_id"] for i in items(ask(choices=few, free_text=False), True)] == [
        f"revq:b:{OWNER}:pick:stage:c{n}" for n in range(3)
    ]
    (menu,) = items(ask(choices=many, free_text=False), True)
    assert menu["type"] == 3 and menu["max_values"] == 1 and len(menu["options"]) == 8
    (multi,) = items(ask(choices=many, multi=True, free_text=False), True)
    assert multi["max_values"] == 5
    typed = items(ask(can_skip=True), can_type=False)
    assert [i["custom_id"] for i in typed] == [f"revq:b:{OWNER}:type:stage", f"revq:b:{OWNER}:cmd:skip:stage"]
    later = items(ask(step=3), can_type=True)
    assert [i["custom_id"] for i in later] == [f"revq:b:{OWNER}:cmd:back:stage"]
    assert items(ask(), can_type=True) == []


def test_an_export_is_a_text_file() -> None:
    (message,) = render.messages([Document("Title", "1. A question?\n")], owner=OWNER, can_type=True)
    (attached,) = message.files
    assert attached.filename.endswith(".txt") and attached.fp.read() == b"1. A question?\n"


def test_field_errors_name_the_field_and_offer_the_form_again() -> None:
    (message,) = render.messages([FieldErrors({"company": "Type the name."})], owner=OWNER, can_type=False)
    assert "**Company:** Type the name." in message.content
    (row,) = components(message)
    assert row["components"][0]["custom_id"] == f"revq:b:{OWNER}:form"


def modal_submission(modal: discord.ui.Modal, answers: dict[str, Any]) -> dict[str, Any]:
    """What Discord sends back for `modal`: each label's input with the given answer."""
    rows = []
    for label in modal.to_dict()["components"]:
        inner = label["component"]
        answer = answers.get(inner["custom_id"])
        if inner["type"] == 4:
            rows.append({"type": 18, "component": {"type": 4, "custom_id": inner["custom_id"], "value": answer or ""}})
        else:
            rows.append({"type": 18, "component": {"type": 3, "custom_id": inner["custom_id"], "values": answer or []}})
    return {"custom_id": modal.custom_id, "components": rows}


def test_the_form_has_five_fields_and_comes_back_as_one_form(ctx: EngineContext) -> None:
    modal = render.form_modal(ctx.slots, {"company": ["Acme"], "stage": ["team"]})
    shown = modal.to_dict()["components"]
    assert len(shown) == 5 and shown[0]["component"]["value"] == "Acme"
    stage = next(c["component"] for c in shown if c["component"]["custom_id"] == "stage")
    assert [o["value"] for o in stage["options"] if o["default"]] == ["team"]
    data = modal_submission(modal, {"company": "Acme", "role": "", "stage": ["team"], "priorities": []})
    form, draft = inbound.form_from_modal(data, 5.0)
    assert dict(form.typed) == {"company": "Acme"} and dict(form.picked) == {"stage": ("team",)}
    assert form.ask_missing == ("priorities",) and draft["company"] == ["Acme"]
    picked, _ = inbound.form_from_modal(modal_submission(modal, {"company": "A", "priorities": ["remote"]}), 5.0)
    assert picked.picked["priorities"] == ("remote",)


def test_priority_suggestions_complete_the_last_part_typed(ctx: EngineContext) -> None:
    topics = next(slot.choices for slot in ctx.slots if slot.name == "priorities")
    labels = {c.value: c.label for c in topics}
    found = inbound.priority_suggestions("remote work, lern", topics, ctx.matcher)
    assert found[0] == f"remote work, {labels['learning']}"
    assert len(inbound.priority_suggestions("", topics, ctx.matcher)) == min(25, len(topics))
    assert "qqqq" in inbound.priority_suggestions("qqqq", topics, ctx.matcher)
    assert all(len(s) <= 100 for s in inbound.priority_suggestions("x" * 99 + ", ", topics, ctx.matcher))


def test_drafts_of_refused_forms_expire_and_are_pruned() -> None:
    now = [1000.0]
    drafts = Drafts(clock=lambda: now[0])
    drafts.keep(1, {"company": ["Acme"]})
    assert drafts.peek(1) == {"company": ["Acme"]} and drafts.peek(1) == {"company": ["Acme"]}  # not used up
    now[0] += 16 * 60
    assert drafts.peek(1) == {}
    drafts.keep(2, {"company": ["Globex"]})
    assert len(drafts) == 1  # the expired one went when another was kept
    drafts.drop(2)
    assert drafts.peek(2) == {} and len(drafts) == 0

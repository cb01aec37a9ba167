"""The Form event: every slot at once (a modal, `revq ask`), one path with the conversation."""

from __future__ import annotations

import pytest

from bot.engine.dialogue import EngineContext, check_form, current_list, step
from bot.engine.events import Form
from bot.engine.replies import Ask, FieldErrors, QuestionSet
from bot.engine.session import Session
from bot.runner import ConversationRunner
from bot.store import MemoryStore
from bot.store.base import ConversationKey
from tests.conftest import Conversation, question_set, said

AT = 2_000_000.0


def errors_of(ctx: EngineContext, form: Form, session: Session | None = None) -> dict[str, str]:
    result = step(session, form, ctx)
    found = [r for r in result.replies if isinstance(r, FieldErrors)]
    assert len(found) == 1, result.replies
    assert not result.changed and result.session == (session or Session())
    return dict(found[0].errors)


def test_a_valid_form_gives_the_same_list_as_the_typed_conversation(ctx: EngineContext, chat: Conversation) -> None:
    typed = chat.complete(company="Acme", role="Nurse", stage="2", company_type="4",
                          priorities="training and a mentor", notes="They opened a new ward")  # fmt: skip
    form = Form(
        AT,
        typed={"company": "Acme", "role": "Nurse", "priorities": "training and a mentor",
               "notes": "They opened a new ward"},
        picked={"stage": ("hiring_manager",), "company_type": ("public_sector",)},
    )  # fmt: skip
    result = step(None, form, ctx)
    filled = question_set(result.replies)
    assert [c.id for c in filled.cards] == [c.id for c in typed.cards]
    assert filled.title == typed.title
    assert result.changed and result.session.status == "results"
    assert chat.session is not None and result.session.priorities == chat.session.priorities
    assert result.session.expires_at == AT + ctx.session_ttl
    assert "I'll focus on: " in said(result.replies)
    assert set(filled.ranking) == {c.id for c in filled.cards}


def test_every_invalid_field_comes_back_at_once_and_nothing_changes(ctx: EngineContext) -> None:
    form = Form(AT, typed={"priorities": "qwerty zxcvb"}, picked={"stage": ("boss",), "company_type": ("cult",)})
    errors = errors_of(ctx, form)
    assert set(errors) == {"stage", "company_type", "priorities"}
    assert "couldn't tell which topics" in errors["priorities"]
    assert all(message.strip() for message in errors.values())


def test_typed_numbers_are_not_topics_in_a_form(ctx: EngineContext) -> None:
    assert set(errors_of(ctx, Form(AT, typed={"priorities": "1, 2"}))) == {"priorities"}


def test_unusable_optional_text_is_left_out_with_a_notice_not_refused(ctx: EngineContext) -> None:
    result = step(None, Form(AT, typed={"company": "Acme", "role": "the", "priorities": "remote"}), ctx)
    assert result.changed and result.session.company == "Acme" and result.session.role is None
    assert "as the job title, so I left it out" in said(result.replies)


@pytest.mark.parametrize("word", ["skip", "none", "N/A", "-", "not sure", "  "])
def test_words_for_nothing_leave_an_optional_field_empty(ctx: EngineContext, word: str) -> None:
    result = step(None, Form(AT, typed={"role": word, "notes": word, "priorities": "remote"}), ctx)
    assert result.session.role is None and result.session.notes is None
    assert "notes-opener" not in result.session.current


def test_priorities_left_empty_in_a_form_that_asks_for_them_is_an_error(ctx: EngineContext) -> None:
    errors = errors_of(ctx, Form(AT, typed={"company": "Acme", "priorities": "  "}, picked={"priorities": ()}))
    assert set(errors) == {"priorities"} and "at least one topic" in errors["priorities"]


def test_a_form_with_errors_keeps_an_existing_session_as_it_was(ctx: EngineContext, chat: Conversation) -> None:
    chat.complete()
    assert chat.session is not None
    errors_of(ctx, Form(AT, typed={"company": "Acme", "priorities": "qwerty"}), session=chat.session)


def test_typed_priorities_come_first_then_picked_ones_without_repeats(ctx: EngineContext) -> None:
    result = step(None, Form(AT, typed={"priorities": "remote work"}, picked={"priorities": ("growth", "remote")}), ctx)
    assert result.session.priorities == ("remote", "growth")


def test_picked_topics_rescue_unreadable_typed_words_with_a_notice(ctx: EngineContext) -> None:
    result = step(None, Form(AT, typed={"priorities": "qwerty zxcvb"}, picked={"priorities": ("learning",)}), ctx)
    assert result.session.priorities == ("learning",)
    assert "used the ones you picked" in said(result.replies)


def test_slots_left_out_are_not_given(ctx: EngineContext) -> None:
    result = step(None, Form(AT, typed={"company": "Acme"}), ctx)
    session = result.session
    assert session.company == "Acme" and session.role is None and session.stage is None
    assert session.priorities == () and set(session.answered) == {s.name for s in ctx.slots}
    assert isinstance(result.replies[-1], QuestionSet)


def test_a_form_replaces_earlier_answers_but_never_repeats_more(ctx: EngineContext, chat: Conversation) -> None:
    chat.complete(company="Globex")
    assert chat.session is not None
    shown = chat.session.shown
    chat.send(Form(chat.now(), typed={"company": "Initech", "priorities": "remote"}))
    assert chat.session.company == "Initech" and chat.session.shown[: len(shown)] == shown
    more = question_set(chat.say("more"))
    assert not {c.id for c in more.cards} & set(shown)


def test_form_text_is_cleaned_like_typed_text(ctx: EngineContext) -> None:
    result = step(None, Form(AT, typed={"company": "Ac\x00me\u202e", "notes": "x" * 10_000}), ctx)
    assert result.session.company == "Acme"
    assert result.session.notes is not None and len(result.session.notes) <= 600


async def test_the_runner_saves_nothing_for_a_form_with_errors(ctx: EngineContext) -> None:
    store = MemoryStore()
    runner = ConversationRunner(store, ctx)
    key = ConversationKey("test", "w", "u")
    delivered: list[object] = []

    async def deliver(replies: object) -> None:
        delivered.append(replies)

    await runner.handle(key, Form(AT, typed={"priorities": "qwerty"}), deliver)
    assert await store.get(key, AT) is None
    await runner.handle(key, Form(AT, typed={"priorities": "remote"}), deliver)
    assert await store.get(key, AT) is not None


def test_swap_by_question_id_swaps_that_question_wherever_it_now_stands(chat: Conversation) -> None:
    first = chat.complete()
    target = first.cards[3].id
    swapped = question_set(chat.command("swap", target))
    ids = [c.id for c in swapped.cards]
    assert target not in ids and ids[:3] == [c.id for c in first.cards[:3]]
    replies = chat.command("swap", target)  # the same button, clicked again on the old message
    assert "no longer on your list" in said(replies)
    assert [c.id for c in question_set(replies).cards] == ids


@pytest.mark.parametrize("status", ["results", "paused"])
def test_current_list_shows_the_list_for_a_home_page(chat: Conversation, status: str) -> None:
    assert current_list(None, chat.ctx) is None
    chat.start()
    assert current_list(chat.session, chat.ctx) is None
    shown = chat.complete()
    if status == "paused":
        chat.say("cancel")
    found = current_list(chat.session, chat.ctx)
    assert found is not None and [c.id for c in found.cards] == [c.id for c in shown.cards]


def test_check_form_finds_what_step_would_refuse_without_a_session(ctx: EngineContext) -> None:
    bad = Form(AT, typed={"priorities": "qwerty"}, picked={"stage": ("boss",)})
    found = check_form(bad, ctx)
    assert found is not None and dict(found.errors) == errors_of(ctx, bad)
    assert check_form(Form(AT, typed={"company": "Acme", "priorities": "remote"}), ctx) is None


def test_slots_a_form_leaves_to_the_conversation_are_asked_next(ctx: EngineContext, chat: Conversation) -> None:
    form = Form(AT, typed={"company": "Acme"}, picked={"stage": ("team",)}, ask_missing=("priorities",))
    result = step(None, form, ctx)
    asks = [r for r in result.replies if isinstance(r, Ask)]
    assert [a.slot for a in asks] == ["priorities"] and result.session.status == "intake"
    assert result.session.company == "Acme" and "priorities" not in result.session.answered
    chat.send(form)
    listed = question_set(chat.say("remote work"))
    assert chat.session is not None and chat.session.priorities == ("remote",) and chat.session.stage == "team"
    assert listed.cards
    given = step(None, Form(AT, typed={"company": "Acme"}, picked={"priorities": ("learning",)},
                            ask_missing=("priorities",)), ctx)  # fmt: skip
    assert isinstance(given.replies[-1], QuestionSet)

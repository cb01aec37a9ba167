"""The dialogue engine's transitions, through `step` only: no store, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.engine.dialogue import EngineContext, step
from bot.engine.dialogue import profile_of as dialogue_profile
from bot.engine.events import Command, Form, Text
from bot.engine.replies import Document, QuestionSet
from bot.engine.session import Session
from question_bank.model import PURPOSES, Bank
from question_bank.priorities import tokens
from tests.conftest import Conversation, asks, question_set, said

ENGINE_DIR = Path(__file__).resolve().parent.parent / "bot" / "engine"


def test_slots_are_asked_in_order_first_unfilled_first(chat: Conversation) -> None:
    order = [asks(chat.start())[0].slot]
    for answer in ("Acme", "Data Engineer", "2", "3", "1, 7"):
        order.append(asks(chat.say(answer))[0].slot)
    assert order == ["company", "role", "stage", "company_type", "priorities", "notes"]
    result = question_set(chat.say("They opened a Berlin office last month"))
    assert chat.session is not None and chat.session.status == "results"
    assert chat.session.company == "Acme" and chat.session.role == "Data Engineer"
    assert chat.session.stage == "hiring_manager" and chat.session.company_type == "enterprise"
    assert chat.session.priorities == ("role", "learning")
    assert len(result.cards) == chat.ctx.question_count  # the opener from the notes takes the first place
    assert result.cards[0].id == "notes-opener" and "Berlin" not in result.cards[0].text  # never quoted


def test_question_list_has_all_purposes_why_listen_for_and_homework(chat: Conversation) -> None:
    result = chat.complete()
    assert {c.purpose for c in result.cards} == set(PURPOSES)
    assert all(c.why and c.listen_for for c in result.cards)
    assert [c.number for c in result.cards] == list(range(1, len(result.cards) + 1))
    assert 3 <= len(result.homework) <= 5
    assert all("{" not in c.text for c in result.cards)
    assert all(c.text.endswith("?") for c in result.cards)


def test_priorities_lead_the_ranking(ctx: EngineContext) -> None:
    from bot.engine.tailor import Profile, select

    ranked = select(ctx.catalog, Profile(company="Acme", priorities=("remote", "learning", "mentorship")), 6)
    assert ranked[0].topics[0] == "remote"
    covered = {t for q in ranked for t in q.topics}
    assert {"remote", "learning", "mentorship"} <= covered


def test_stage_is_respected(chat: Conversation) -> None:
    result = chat.complete(stage="1")
    assert all("recruiter" in c.stages for c in result.cards)


def test_unknown_stage_gets_the_choices_again(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("Nurse")
    replies = chat.say("the janitor's cousin")
    assert "didn't recognise" in said(replies)
    assert asks(replies)[0].slot == "stage"
    assert len(asks(replies)[0].choices) == 6


def test_stage_words_and_not_sure(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("skip")
    chat.say("not sure")
    assert chat.session is not None and "stage" in chat.session.answered and chat.session.stage is None
    chat.command("back")
    chat.say("a phone screen with HR")
    assert chat.session.stage == "recruiter"


def test_skip_company_gives_neutral_wording(chat: Conversation) -> None:
    result = chat.complete(company="skip", role="skip")
    assert chat.session is not None and chat.session.company is None
    assert "the company" in result.title
    assert not any("None" in c.text for c in result.cards)


def test_priorities_cannot_be_skipped(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "skip", "skip", "skip"):
        chat.say(answer)
    replies = chat.say("skip")
    assert "can't be skipped" in said(replies) or "need at least one" in said(replies)
    assert asks(replies)[0].slot == "priorities"


def test_back_reasks_previous_slot_and_keeps_earlier_answer(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    replies = chat.command("back")
    ask = asks(replies)[0]
    assert ask.slot == "company" and ask.earlier_answer == "Acme"
    chat.say("Globex")
    assert chat.session is not None and chat.session.company == "Globex"


def test_back_at_first_question_says_so(chat: Conversation) -> None:
    chat.start()
    replies = chat.say("back")
    assert "first question" in said(replies)
    assert asks(replies)[0].slot == "company"


def test_back_from_results_returns_to_notes(chat: Conversation) -> None:
    chat.complete(notes="They ship a mobile app")
    replies = chat.say("back")
    assert asks(replies)[0].slot == "notes"
    assert asks(replies)[0].earlier_answer == "They ship a mobile app"


def test_help_works_at_every_step_and_reasks(chat: Conversation) -> None:
    chat.start()
    replies = chat.say("help")
    assert "swap 2" in said(replies) and asks(replies)[0].slot == "company"
    chat.complete()
    assert "export" in said(chat.say("/help"))


def test_restart_clears_answers(chat: Conversation) -> None:
    chat.complete()
    replies = chat.say("restart")
    assert asks(replies)[0].slot == "company"
    assert chat.session is not None and chat.session.company is None and chat.session.priorities == ()


def test_cancel_pauses_and_anything_resumes_without_losing_answers(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("Nurse")
    assert "Paused" in said(chat.say("cancel"))
    replies = chat.say("hello again")
    assert "Welcome back" in said(replies)
    assert asks(replies)[0].slot == "stage"
    assert chat.session is not None and chat.session.company == "Acme" and chat.session.role == "Nurse"


def test_more_never_repeats_a_question(chat: Conversation) -> None:
    first = chat.complete()
    seen = {c.id for c in first.cards}
    for _ in range(4):
        replies = chat.say("more")
        found = [r for r in replies if isinstance(r, QuestionSet)]
        if not found:
            break
        ids = {c.id for c in found[0].cards}
        assert not ids & seen
        seen |= ids
    assert chat.session is not None and set(chat.session.shown) == seen


def test_more_runs_out_politely(ctx: EngineContext, bank: Bank) -> None:
    chat = Conversation(ctx)
    chat.complete(stage="5")
    for _ in range(len(bank.questions)):
        replies = chat.say("more")
        if "every question" in said(replies):
            break
    else:
        raise AssertionError("more never ran out")


def test_swap_replaces_one_question_with_an_unseen_one(chat: Conversation) -> None:
    first = chat.complete()
    before = [c.id for c in first.cards]
    replies = chat.say("swap 2")
    after = [c.id for c in question_set(replies).cards]
    assert after[0] == before[0] and after[2:] == before[2:]
    assert after[1] not in before
    assert question_set(replies).cards[1].purpose == first.cards[1].purpose


def test_swap_with_bad_number_explains(chat: Conversation) -> None:
    chat.complete()
    assert "from 1 to 6" in said(chat.say("swap 99"))
    assert "from 1 to 6" in said(chat.say("swap"))
    assert "once you have a list" in said(Conversation(chat.ctx).say("swap 1"))


def test_export_gives_plain_text_copy(chat: Conversation) -> None:
    result = chat.complete(company="Acme *bold* <!channel>")
    replies = chat.say("export")
    doc = next(r for r in replies if isinstance(r, Document))
    for card in result.cards:
        assert card.text in doc.body
    assert "Acme *bold* <!channel>" in doc.body  # literal: escaping is the renderer's job
    assert "Listen for:" in doc.body


def test_forget_asks_the_runner_to_erase_and_confirms(chat: Conversation) -> None:
    chat.complete()
    replies = chat.say("forget")
    assert chat.last is not None and chat.last.erase_user
    assert "erased" in said(replies)
    assert chat.session == Session(updated_at=chat.clock, expires_at=chat.clock + chat.ctx.session_ttl)


def test_commands_also_work_as_actions(chat: Conversation) -> None:
    chat.complete()
    assert question_set(chat.command("swap", "1"))
    assert question_set(chat.command("more"))


def test_picks_from_buttons(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("skip")
    assert asks(chat.pick("stage", "team"))[0].slot == "company_type"
    chat.pick("company_type", "any")
    replies = chat.pick("priorities", "remote", "growth")
    assert chat.session is not None and chat.session.priorities == ("remote", "growth")
    assert asks(replies)[0].slot == "notes"


def test_stale_pick_is_refused_and_current_step_repeated(chat: Conversation) -> None:
    chat.start()
    replies = chat.pick("stage", "team")
    assert "earlier step" in said(replies)
    assert asks(replies)[0].slot == "company"
    chat.say("Acme")
    chat.say("skip")
    replies = chat.pick("stage", "janitor")
    assert asks(replies)[0].slot == "stage"


# --- bad input -------------------------------------------------------------------------


def test_empty_and_whitespace_get_a_clear_reply(chat: Conversation) -> None:
    chat.start()
    for text in ("", "   ", "\n\t", "\x00\x01\x7f"):
        replies = chat.say(text)
        assert "didn't get any text" in said(replies)
        assert asks(replies)[0].slot == "company"


def test_huge_message_is_truncated_with_notice(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("skip")
    chat.say("skip")
    chat.say("skip")
    replies = chat.say("remote work please " * 500)
    assert "first 2,000 characters" in said(replies)
    assert chat.session is not None and chat.session.priorities[:1] == ("remote",)


def test_control_characters_and_ansi_are_removed(chat: Conversation) -> None:
    chat.start()
    chat.say("Ac\x1b[31mme\x07 \u202eCorp")
    assert chat.session is not None and chat.session.company == "Acme Corp"


def test_binary_noise_never_breaks_a_turn(chat: Conversation) -> None:
    chat.start()
    noise = bytes(range(256)).decode("latin-1") + "\ufffd"
    replies = chat.say(noise)
    assert replies  # answered, and the company slot accepted or re-asked
    assert chat.session is not None and chat.session.status == "intake"


def test_braces_in_company_are_rendered_literally(chat: Conversation) -> None:
    literal = "{__class__} {role} {company}"
    result = chat.complete(company=literal, notes="{notes} and {0}")
    assert literal in result.title
    opener = result.cards[0]
    assert opener.text.startswith(f"I read up on {literal}'s recent news") and "{0}" not in opener.text
    assert "the Data Engineer role" in opener.text


def test_unknown_command_gets_a_clear_reply(chat: Conversation) -> None:
    chat.start()
    replies = chat.say("/frobnicate now")
    assert 'don\'t know the command "frobnicate"' in said(replies)
    assert asks(replies)[0].slot == "company"
    assert chat.session is not None and chat.session.company is None


def test_mentions_and_markdown_are_kept_as_plain_text(chat: Conversation) -> None:
    chat.start()
    chat.say("<!channel> @everyone **Acme**")
    assert chat.session is not None and chat.session.company == "<!channel> @everyone **Acme**"


def test_long_company_name_is_cut_with_notice(chat: Conversation) -> None:
    chat.start()
    replies = chat.say("A" * 300)
    assert "first 100 characters" in said(replies)
    assert chat.session is not None and chat.session.company == "A" * 100


def test_priorities_by_number_and_too_many(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "skip", "skip", "skip"):
        chat.say(answer)
    assert "from 1 to 19" in said(chat.say("0, 99"))
    replies = chat.say("1 2 3 4 5 6 7 8 9 10")
    assert "first 8" in said(replies)
    assert chat.session is not None and len(chat.session.priorities) == 8


def test_six_named_priorities_are_all_covered_across_the_list_and_more(chat: Conversation) -> None:
    six = "tuition help, telework, a promotion path, a mentor, why the job is open, and who I'd report to"
    first = chat.complete(priorities=six, notes="skip")
    assert chat.session is not None and len(chat.session.priorities) == 6
    covered = {t for card in first.cards for t in card.topics}
    waiting = [t for t in chat.session.priorities if t not in covered]
    if waiting:
        assert "next: say more" in said(chat.last.replies if chat.last else ())
        more = question_set(chat.say("more"))
        covered |= {t for card in more.cards for t in card.topics}
    assert set(chat.session.priorities) <= covered


def test_text_after_results_gets_guidance_not_lost(chat: Conversation) -> None:
    chat.complete()
    replies = chat.say("thanks!")
    assert "more" in said(replies) and "swap" in said(replies)


# --- properties of the engine ------------------------------------------------------------


def test_step_is_deterministic(ctx: EngineContext) -> None:
    a, b = Conversation(ctx), Conversation(ctx)
    assert a.complete() == b.complete()
    assert a.session == b.session


def test_step_stamps_time_from_the_event(ctx: EngineContext) -> None:
    result = step(None, Text("hi", 123.0), ctx)
    assert result.session.updated_at == 123.0
    assert result.session.expires_at == 123.0 + ctx.session_ttl


def test_engine_imports_no_io_or_platform_libraries() -> None:
    banned = {
        "slack_bolt",
        "slack_sdk",
        "discord",
        "aiosqlite",
        "sqlite3",
        "redis",
        "asyncio",
        "time",
        "socket",
        "os",
        "subprocess",
        "random",
        "datetime",
        "bot.store",
        "bot.runner",
        "bot.adapters",
    }
    for path in ENGINE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), f"{path.name} imports {name}"
        source = path.read_text()
        assert "sleep(" not in source and "time.time" not in source and "open(" not in source


# --- found in review -----------------------------------------------------------------------


def test_unicode_digits_do_not_crash(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("skip")
    assert "didn't recognise" in said(chat.say("²"))
    chat.say("2")
    chat.say("skip")
    chat.say("remote work")
    chat.say("skip")
    assert "from 1 to" in said(chat.say("swap ²"))


def test_words_with_digits_are_not_numbered_picks(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "skip", "skip", "skip"):
        chat.say(answer)
    chat.say("2nd priority is remote work")
    assert chat.session is not None and chat.session.priorities == ("remote",)


def test_notes_that_say_nothing_are_a_skip(ctx: EngineContext) -> None:
    for nothing in ("n/a", "no idea", "Nope, nothing", "idk", "none yet"):
        chat = Conversation(ctx)
        result = chat.complete(notes=nothing)
        assert chat.session is not None and chat.session.notes is None, nothing
        assert result.cards[0].id != "notes-opener"


def test_job_titles_are_read_sensibly(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    assert "need a job title" in said(chat.say("the role"))
    chat.say("It's a Product Designer role")
    assert chat.session is not None and chat.session.role == "Product Designer"


def test_stage_words(ctx: EngineContext) -> None:
    expected = {
        "HR business partner": "recruiter",
        "talent partner": "recruiter",
        "hiring-manager": "hiring_manager",
        "not sure, maybe the hiring manager": "hiring_manager",
        "the product owner": "hiring_manager",
        "the CEO": "executive",
        "I got an offer!": "offer",
    }
    for text, stage in expected.items():
        chat = Conversation(ctx)
        chat.start()
        chat.say("Acme")
        chat.say("skip")
        chat.say(text)
        assert chat.session is not None and chat.session.stage == stage, text


def test_paused_list_still_answers_more_swap_and_export(chat: Conversation) -> None:
    chat.complete()
    chat.say("cancel")
    assert question_set(chat.say("more"))
    chat.say("cancel")
    assert any(isinstance(r, Document) for r in chat.say("export"))


def test_an_answer_sent_after_a_pause_is_kept(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("cancel")
    replies = chat.say("Data Engineer")
    assert chat.session is not None and chat.session.role == "Data Engineer"
    assert asks(replies)[0].slot == "stage"


def test_greeting_mid_intake_is_not_a_welcome_back(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    replies = chat.say("hi")
    assert "Welcome back" not in said(replies) and asks(replies)[0].slot == "role"


def test_a_company_may_be_called_like_a_command(chat: Conversation) -> None:
    chat.start()
    chat.say("Next")
    assert chat.session is not None and chat.session.company == "Next"
    chat.command("back")
    chat.say('"Help"')
    assert chat.session.company == "Help"


def test_top_priority_shows_among_the_first_two(ctx: EngineContext) -> None:
    chat = Conversation(ctx)
    result = chat.complete(role="Data Engineer", stage="2", priorities="remote work")
    assert "remote" in result.cards[0].topics or "remote" in result.cards[1].topics


def test_a_skip_or_a_text_box_for_an_earlier_question_changes_nothing_else(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    assert chat.last is not None and chat.last.accepted == ("company",)
    replies = chat.command("skip", "company")  # the company question's Skip, clicked late
    assert "earlier step" in said(replies) and asks(replies)[-1].slot == "role"
    assert chat.session is not None and chat.session.company == "Acme" and "role" not in chat.session.answered
    replies = chat.send(Text("Globex", chat.now(), slot="company"))  # its text box, sent late
    assert "earlier step" in said(replies) and chat.session.company == "Acme"
    assert chat.last.accepted == ()
    chat.send(Text("Staff Nurse", chat.now(), slot="role"))
    assert chat.session.role == "Staff Nurse" and chat.last.accepted == ("role",)
    chat.command("skip", "stage")
    assert chat.session.stage is None and chat.last.accepted == ("stage",)


def test_a_text_box_answer_after_a_pause_picks_up_and_an_old_back_changes_nothing(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    chat.say("cancel")
    chat.send(Text("Staff Nurse", chat.now(), slot="role"))
    assert chat.session is not None and chat.session.role == "Staff Nurse" and chat.session.status == "intake"
    assert chat.last is not None and chat.last.accepted == ("role",)
    replies = chat.command("back", "role")  # the Back button on the role question, used after it was answered
    assert "earlier step" in said(replies) and chat.session.role == "Staff Nurse"
    chat.command("back", "stage")
    assert "role" not in chat.session.answered


def test_the_list_ends_with_a_closing_group_and_more_has_none(chat: Conversation) -> None:
    shown = chat.complete(stage="2")
    assert shown.groups[-1].label == "To close the interview" and len(shown.groups[-1].questions) == 1
    assert shown.cards[-1].number == len(shown.cards)
    more = question_set(chat.say("more"))
    assert all(group.purpose != "close" for group in more.groups)


def test_where_the_work_happens_is_asked_only_when_the_title_does_not_tell(chat: Conversation) -> None:
    chat.start()
    chat.say("Acme")
    asked = asks(chat.say("Account Executive"))[-1]  # could be an office, the road or a store
    assert asked.slot == "setting" and (asked.step, asked.total_steps) == (3, 7)
    assert "Out and about" in " ".join(c.label for c in asked.choices)
    chat.pick("setting", "field")
    assert chat.session is not None and chat.session.setting == "field"
    assert asks(chat.last.replies if chat.last else ())[-1].slot == "stage"

    other = Conversation(chat.ctx)
    other.start()
    other.say("Acme")
    assert asks(other.say("Staff Nurse"))[-1].slot == "stage"  # a nurse works shifts: not asked


def test_setting_and_level_given_in_a_form_win_over_the_title(ctx: EngineContext) -> None:
    form = Form(1.0, typed={"company": "Acme", "role": "Data Engineer", "priorities": "remote work"},
                picked={"setting": ("remote",), "level": ("executive",)})  # fmt: skip
    result = step(None, form, ctx)
    assert result.session.setting == "remote" and result.session.level == "executive"
    assert dialogue_profile(result.session).level == "executive"


def test_notes_are_never_quoted_and_hearsay_gets_a_private_word_of_caution(chat: Conversation) -> None:
    notes = (
        "my friend works there and says the manager is a nightmare and people cry in the bathroom "
        + "they also said the new ward opened late " * 100
    )
    result = chat.complete(notes=notes)
    note_words = notes.lower().split()
    runs = {" ".join(note_words[i : i + 7]) for i in range(len(note_words) - 6)}
    texts = [card.text.lower() for card in result.cards] + [line.lower() for line in result.homework]
    assert not any(run in text for text in texts for run in runs)  # no 7 words in a row from the notes
    coaching = said(chat.last.replies if chat.last else ())
    assert "heard privately" in coaching and "keep them to yourself" in coaching
    calm = Conversation(chat.ctx)
    calm.complete(notes="They opened a new ward in March")
    assert "in a few words of your own" in said(calm.last.replies if calm.last else ())


def test_naming_only_what_does_not_matter_gives_a_broad_list_without_it(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "Data Engineer", "2", "skip"):
        chat.say(answer)
    replies = chat.say("I don't care about salary")
    assert "leave out pay" in said(replies)
    assert chat.session is not None and chat.session.priorities == () and chat.session.set_aside == ("compensation",)
    shown = question_set(chat.say("skip"))
    assert shown.cards and not any(card.topics[0] == "compensation" for card in shown.cards)
    chat.say("back")
    chat.say("back")
    assert chat.session.set_aside == ()  # undoing the answer undoes what it set aside


def test_a_swap_never_shows_a_group_heading_twice(ctx: EngineContext) -> None:
    # A list whose purposes got interleaved (a newcomer of another purpose landed mid-group).
    fits = [q for q in ctx.bank.questions if "hiring_manager" in q.stages]
    by_purpose = {p: [q for q in fits if q.purpose == p] for p in PURPOSES}
    ids = (by_purpose["duties"][0].id, by_purpose["personal"][0].id, by_purpose["duties"][1].id,
           by_purpose["organization"][0].id)  # fmt: skip
    session = Session(started=True, status="results", stage="hiring_manager", priorities=("role",),
                      answered=tuple(s.name for s in ctx.slots), current=ids, shown=ids)  # fmt: skip
    result = step(session, Command("swap", 5_000.0, "4"), ctx)
    found = [r for r in result.replies if isinstance(r, QuestionSet)]
    assert found, result.replies
    labels = [group.label for group in found[0].groups]
    assert len(labels) == len(set(labels)), labels
    assert [c.number for c in found[0].cards] == list(range(1, len(found[0].cards) + 1))


def test_export_gives_every_list_newest_first_and_export_current_only_the_one_on_screen(chat: Conversation) -> None:
    first = chat.complete(notes="They opened a new ward")
    more = question_set(chat.say("more"))
    (everything,) = [r for r in chat.say("export") if isinstance(r, Document)]
    body = everything.body
    assert body.index("More questions") < body.index(first.title)  # newest first, the first list kept
    assert first.cards[0].text in body and more.cards[0].text in body
    (current,) = [r for r in chat.say("export current") if isinstance(r, Document)]
    assert more.cards[0].text in current.body and first.cards[0].text not in current.body
    chat.say("restart")
    assert chat.session is not None and len(chat.session.pages) == 2  # kept for export after starting over


def test_what_the_notes_are_about_shapes_the_list_without_quoting_them(chat: Conversation) -> None:
    rumour = Conversation(chat.ctx).complete(notes="my friend says the manager is a nightmare")
    assert rumour.cards[0].id == "notes-opener" and "managed" in rumour.cards[0].text
    assert "nightmare" not in rumour.cards[0].text
    layoffs = Conversation(chat.ctx)
    listed = layoffs.complete(priorities="10", notes="they had big layoffs last spring")
    assert layoffs.session is not None and "stability" in layoffs.session.note_topics
    assert "stability" in {t for card in listed.cards for t in card.topics}


NOTES_THAT_MUST_NOT_BE_QUOTED = {
    "gossip": "my friend works there and says the manager is a nightmare and people cry in the bathroom",
    "long": " ".join(
        f"In week {n} the regional paper wrote that the night shift on ward {n} was short of staff again"
        for n in range(60)
    ),
    "german": "Ein Freund sagt, die Chefin sei schwierig und das Team sei ständig unterbesetzt. "
    "Sie haben gerade eine neue Filiale in Köln eröffnet.",
    "spanish": "Leí que despidieron a doscientas personas el año pasado y que la vacante lleva meses publicada",
    "placeholders": "<!channel> @everyone {company} {role} **bold** `code` " * 20,
    "emoji": "🚀🔥💼🙂" * 10,
}


@pytest.mark.parametrize("kind", sorted(NOTES_THAT_MUST_NOT_BE_QUOTED))
def test_no_note_is_ever_quoted_in_a_question(ctx: EngineContext, kind: str) -> None:
    notes = NOTES_THAT_MUST_NOT_BE_QUOTED[kind]
    chat = Conversation(ctx)
    shown = chat.complete(notes=notes)
    assert shown.cards, kind
    note_words = tokens(notes)
    runs = {" ".join(note_words[i : i + 7]) for i in range(len(note_words) - 6)}
    fields = [f for card in shown.cards for f in (card.text, card.why, card.listen_for)] + list(shown.homework)
    for field in fields:
        text = " ".join(tokens(field))
        assert not any(run in text for run in runs), (kind, field)  # never 7 words in a row from the notes
        assert "<!channel>" not in field and "{company}" not in field and "@everyone" not in field


def test_news_in_the_notes_brings_in_its_topics(ctx: EngineContext) -> None:
    cases = {
        "They just raised a Series B": "stability",
        "they merged with a competitor last year": "stability",
        "they launched a new app in May": "strategy",
        "the job ad has been up for months": "vacancy",
        "Leí que despidieron a mucha gente": "stability",
    }
    for notes, topic in cases.items():
        chat = Conversation(ctx)
        chat.complete(notes=notes)
        assert chat.session is not None and topic in chat.session.note_topics, notes


def test_someone_writing_in_another_language_is_told_once_that_the_questions_are_in_english(
    ctx: EngineContext,
) -> None:
    chat = Conversation(ctx)
    chat.start()
    chat.say("Hospital Central")
    replies = chat.say("Enfermera")
    while asks(replies)[-1].slot != "priorities":
        replies = chat.say("skip")
    told = said(chat.say("turnos de noche y formación, el sueldo me da igual"))
    assert "inglés" in told and "English" in told
    assert chat.session is not None and chat.session.language == "es"
    assert chat.session.priorities == ("worklife", "learning") and chat.session.set_aside == ("compensation",)
    assert "inglés" not in said(chat.say("Abrieron una planta nueva el año pasado"))  # once is enough
    english = Conversation(ctx)
    english.start()
    for answer in ("Acme", "Nurse", "2", "skip"):
        english.say(answer)
    assert "English for now" not in said(english.say("night shifts and training"))
    form = Form(1.0, typed={"company": "Klinik Nord", "priorities": "Weiterbildung und ein netter Chef"})
    result = step(None, form, ctx)
    assert "Englisch" in said(result.replies) and result.session.priorities == ("learning", "manager")


def test_priorities_in_a_script_revq_cannot_read_get_a_menu_and_a_word_on_languages(chat: Conversation) -> None:
    chat.start()
    for answer in ("Acme", "Data Engineer", "2", "skip"):
        chat.say(answer)
    for text in ("ما هو الراتب", "这份工作的工资是多少"):
        replies = chat.say(text)
        assert "I can read English, Spanish, French, German and Portuguese" in said(replies)
        assert asks(replies) and asks(replies)[-1].slot == "priorities"
    replies = chat.say("remote work and " + "salary " * 1500)  # 10,000 characters: read, never an error
    assert chat.session is not None and chat.session.priorities == ("remote", "compensation")
    assert "first" in said(replies) and asks(replies)[-1].slot == "notes"


def test_hearsay_is_recognised_in_every_language(ctx: EngineContext) -> None:
    rumours = (
        "my cousin says the boss is awful",
        "un amigo me contó que el jefe grita mucho",
        "une amie m'a dit que la direction est instable",
        "ich hab gehört, dass der Chef schwierig ist",
        "ouvi dizer que vão demitir gente",
    )
    for notes in rumours:
        chat = Conversation(ctx)
        chat.complete(notes=notes)
        assert "heard privately" in said(chat.last.replies if chat.last else ()), notes
    for notes in ("Abrieron una tienda nueva en Sevilla", "The recruiter told me they opened a new site",
                  "a vaga diz que o time cresceu", "le recruteur m'a dit que l'équipe grandit"):  # fmt: skip
        plain = Conversation(ctx)
        plain.complete(notes=notes)
        assert "heard privately" not in said(plain.last.replies if plain.last else ()), notes

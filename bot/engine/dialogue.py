"""Every transition of a revq conversation, in one place: `step(session, event, ctx)`.

No I/O, no clock, no sleeping. The caller loads the session, calls `step`, saves the new
session and delivers the replies (see bot/runner.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from bot.engine import intake, tailor
from bot.engine.events import COMMANDS, OPENING, Command, Form, Inbound, Pick, Text
from bot.engine.input_text import MAX_MESSAGE_CHARS, QUOTES, clean_message
from bot.engine.intake import Parsed, Slot
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
from bot.engine.session import Session
from question_bank.model import (
    COMPANY_TYPE_LABELS,
    LEVEL_LABELS,
    PURPOSE_LABELS,
    SETTING_LABELS,
    STAGE_LABELS,
    STAGE_TITLES,
    Bank,
    Question,
    company_phrase,
)
from question_bank.priorities import PriorityMatcher

DAY = 86_400.0
DEFAULT_QUESTION_COUNT = 6
MAX_PAGES = 20  # lists kept for `export`; more is rare, and the oldest go first
DEFAULT_SESSION_TTL = 30 * DAY


@dataclass(frozen=True)
class EngineContext:
    """Everything the engine needs besides the session and the event; built once per process."""

    bank: Bank
    slots: tuple[Slot, ...]
    matcher: PriorityMatcher
    catalog: tailor.Catalog
    question_count: int = DEFAULT_QUESTION_COUNT
    session_ttl: float = DEFAULT_SESSION_TTL
    max_message_chars: int = MAX_MESSAGE_CHARS

    @classmethod
    def build(
        cls,
        bank: Bank,
        question_count: int = DEFAULT_QUESTION_COUNT,
        session_ttl: float = DEFAULT_SESSION_TTL,
        max_message_chars: int = MAX_MESSAGE_CHARS,
    ) -> EngineContext:
        return cls(
            bank=bank,
            slots=intake.build_slots(bank),
            matcher=PriorityMatcher(*bank.lexicons),
            catalog=tailor.Catalog.build(bank),
            question_count=question_count,
            session_ttl=session_ttl,
            max_message_chars=max_message_chars,
        )


@dataclass(frozen=True)
class StepResult:
    session: Session
    replies: tuple[Reply, ...]
    erase_user: bool = False  # the person said "forget": delete everything stored about them
    changed: bool = True  # False: nothing to save (a form with errors leaves the session as it was)
    accepted: tuple[str, ...] = ()  # slots answered or skipped in this step, in order


@dataclass
class _Turn:
    """The work area of one step: the session as it changes, and replies gathered in order."""

    session: Session
    ctx: EngineContext
    replies: list[Reply] = field(default_factory=list)
    erase_user: bool = False
    changed: bool = True
    accepted: list[str] = field(default_factory=list)

    def say(self, text: str, tone: str = "info") -> None:
        self.replies.append(Say(text, tone))  # type: ignore[arg-type]


def step(session: Session | None, event: Inbound, ctx: EngineContext) -> StepResult:
    turn = _Turn(session or Session(), ctx)
    if isinstance(event, Command):
        _command(turn, event.name, event.arg)
    elif isinstance(event, Pick):
        _pick(turn, event)
    elif isinstance(event, Text):
        if not event.slot or not _earlier_step(turn, event.slot):
            _text(turn, event.text)
    elif isinstance(event, Form):
        _form(turn, event)
    if not turn.changed:
        return StepResult(turn.session, tuple(turn.replies), changed=False)
    stamped = replace(turn.session, updated_at=event.at, expires_at=event.at + ctx.session_ttl)
    return StepResult(stamped, tuple(turn.replies), turn.erase_user, accepted=tuple(turn.accepted))


def current_list(session: Session | None, ctx: EngineContext) -> QuestionSet | None:
    """The person's list as it stands, for a front end to show outside the conversation (a home
    page), or None when there is none yet."""
    if session is None or not session.current or session.status == "intake":
        return None
    return build_question_set(ctx, profile_of(session), session.current, _title(session))


# --- reading what was typed -------------------------------------------------------------

# Only unmistakable extra words: a company may well be called "Next" or "Change". To answer with
# a command word, put it in quotes.
_ALIASES: dict[str, str] = {
    "?": "help", "menu": "help", "commands": "help",
    "go back": "back", "previous question": "back",
    "start over": "restart", "start again": "restart",
    "stop": "cancel", "pause": "cancel",
    "more questions": "more", "next questions": "more",
    "delete my data": "forget", "forget me": "forget", "erase my data": "forget",
    "hi": "start", "hello": "start", "hey": "start", "resume": "start", "continue": "start",
    # The first words people try in Spanish, French, German and Portuguese.
    "ayuda": "help", "aide": "help", "hilfe": "help", "ajuda": "help",
    "hola": "start", "bonjour": "start", "salut": "start", "hallo": "start", "olá": "start", "ola": "start",
}  # fmt: skip
_SWAP = re.compile(r"^(?:swap|replace)(?:\s+(?:question\s+|number\s+|#)?(\S+))?$")


@dataclass(frozen=True)
class _Typed:
    name: str  # a known command, or "" when the word is unknown
    arg: str
    word: str


def _read_command(text: str) -> _Typed | None:
    """A command typed as text, or None when the text is an answer."""
    if text[:1] in QUOTES:
        return None
    lowered = " ".join(text.lower().split())
    sigil = lowered[:1] in ("/", "!")
    if sigil:
        lowered = lowered[1:].strip()
        if lowered.startswith("revq"):
            lowered = lowered[4:].strip() or "start"
    lowered = lowered.rstrip(".!")
    swap = _SWAP.match(lowered)
    if swap:
        return _Typed("swap", swap.group(1) or "", "swap")
    if lowered in ("export current", "export this", "export latest", "export last"):
        return _Typed("export", "current", "export")
    name = _ALIASES.get(lowered, lowered)
    if name in COMMANDS:
        return _Typed(name, "", lowered)
    if sigil:
        return _Typed("", "", lowered.split(" ", 1)[0] if lowered else "")
    return None


def command_name(text: str) -> str | None:
    """The known command in a typed line ("swap 2" -> "swap", "start over" -> "restart"), or
    None when it is an answer or an unknown word. For front ends whose entry point takes text
    (a slash command) and must tell a command from, say, a company name."""
    typed = _read_command(clean_message(text).text)
    return typed.name if typed is not None and typed.name else None


def _text(turn: _Turn, raw: str) -> None:
    cleaned = clean_message(raw, turn.ctx.max_message_chars)
    if cleaned.truncated:
        turn.say(
            f"That message was very long, so I read only the first {turn.ctx.max_message_chars:,} characters.",
            "notice",
        )
    if not cleaned.text:
        turn.say("I didn't get any text there.", "notice")
        _prompt_again(turn)
        return
    typed = _read_command(cleaned.text)
    if typed is not None and not typed.name:
        _unknown_command(turn, typed.word)
    elif typed is not None:
        _command(turn, typed.name, typed.arg)
    else:
        _answer(turn, cleaned.text)


def _answer(turn: _Turn, text: str) -> None:
    session = turn.session
    if not session.started or (session.status == "paused" and session.current):
        _start(turn)
    elif session.status == "paused":
        # Back from a pause in the middle of the questions: what they typed is the answer.
        turn.session = replace(session, status="intake")
        turn.say("Welcome back!")
        _answer(turn, text)
    elif session.status == "results":
        turn.say(
            "Your list is ready above. Say more for new questions, swap and a number to replace "
            "one, export for a copy, back to change your answers, or restart."
        )
    else:
        slot = intake.next_slot(turn.ctx.slots, session)
        if slot is None:
            _finish_intake(turn)
        else:
            _accept(turn, slot, intake.parse_answer(slot, text, turn.ctx.matcher))


def _earlier_step(turn: _Turn, slot_name: str) -> bool:
    """True, with a word and the question that is open now, when a button or text box for
    `slot_name` is used after the conversation moved past it."""
    session = turn.session
    in_intake = session.status == "intake" or (session.status == "paused" and not session.current)
    slot = intake.next_slot(turn.ctx.slots, session) if in_intake else None
    if session.started and slot is not None and slot.name == slot_name:
        if session.status == "paused":  # answering the open question is picking up again
            turn.session = replace(session, status="intake")
        return False
    turn.say("That button belongs to an earlier step.", "notice")
    if not session.started or session.status == "paused":
        _start(turn)
    else:
        _prompt_again(turn)
    return True


def _pick(turn: _Turn, event: Pick) -> None:
    if _earlier_step(turn, event.slot):
        return
    slot = intake.next_slot(turn.ctx.slots, turn.session)
    assert slot is not None  # _earlier_step saw it open
    _accept(turn, slot, intake.parse_pick(slot, event.values))


def _accept(turn: _Turn, slot: Slot, parsed: Parsed) -> None:
    if not parsed.ok:
        turn.say(parsed.problem, "error")
        turn.replies.append(_ask(turn, slot))
        return
    if parsed.notice:
        turn.say(parsed.notice, "notice")
    turn.session = turn.session.with_answer(slot.name, parsed.value)
    _note_language(turn, parsed.language)
    if slot.name == "notes":
        _read_notes(turn)
    turn.accepted.append(slot.name)
    if slot.name == "priorities" and turn.session.priorities:
        turn.say(f"I'll focus on: {_topic_labels(turn.ctx.bank, turn.session.priorities)}. (Say back to change that.)")
    _advance(turn)


def _form(turn: _Turn, event: Form) -> None:
    """Every slot at once. All fields are read before anything changes: one FieldErrors for
    whatever is wrong, or a filled form and the question list, as at the end of the conversation."""
    answers, errors = _read_form(event, turn.ctx)
    if errors:
        turn.replies.append(FieldErrors(errors))
        turn.changed = False
        return
    turn.session = Session(
        started=True, shown=turn.session.shown, pages=turn.session.pages, language=turn.session.language
    )
    for slot, parsed in answers:
        if slot.name in event.ask_missing and not _given(event, slot.name):
            continue  # left open: the conversation asks it next
        turn.session = turn.session.with_answer(slot.name, () if slot.multi and parsed.value is None else parsed.value)
        turn.accepted.append(slot.name)
        if parsed.notice:
            turn.say(parsed.notice, "notice")
        _note_language(turn, parsed.language)
    _read_notes(turn)
    if turn.session.priorities:
        turn.say(f"I'll focus on: {_topic_labels(turn.ctx.bank, turn.session.priorities)}.")
    _advance(turn)


def _read_notes(turn: _Turn) -> None:
    """What the notes are about (a launch, layoffs, a manager), read once as priorities are, so the
    list covers it, and the language they are in; the notes themselves are never quoted."""
    reading = turn.ctx.matcher.read(turn.session.notes) if turn.session.notes else None
    topics = reading.named if reading else ()
    if topics != turn.session.note_topics:
        turn.session = replace(turn.session, note_topics=topics)
    _note_language(turn, reading.language if reading else None)


def _note_language(turn: _Turn, language: str | None) -> None:
    """Once per session, tell someone writing in another language that the questions are in English."""
    lexicon = turn.ctx.bank.lexicon(language) if language else None
    if lexicon is None or not lexicon.questions_in_english or turn.session.language:
        return
    turn.session = replace(turn.session, language=language)
    turn.say(lexicon.questions_in_english, "notice")


def _given(event: Form, slot: str) -> bool:
    return slot in event.typed or slot in event.picked


def check_form(event: Form, ctx: EngineContext) -> FieldErrors | None:
    """What `step` would refuse in this form, without a session: a front end can answer a modal
    at once, before the turn runs. A form's validity never depends on the session."""
    _, errors = _read_form(event, ctx)
    return FieldErrors(errors) if errors else None


def _read_form(event: Form, ctx: EngineContext) -> tuple[list[tuple[Slot, Parsed]], dict[str, str]]:
    """Each slot's answer (slots not given are None), and the problems by slot."""
    answers: list[tuple[Slot, Parsed]] = []
    errors: dict[str, str] = {}
    for slot in ctx.slots:
        typed, picked = event.typed.get(slot.name), event.picked.get(slot.name)
        if typed is None and picked is None:
            answers.append((slot, Parsed.accept(None)))
            continue
        cleaned = clean_message(typed or "", ctx.max_message_chars)
        parsed = intake.parse_form_field(slot, cleaned.text, tuple(picked or ()), ctx.matcher)
        if parsed.ok:
            answers.append((slot, parsed))
        else:
            errors[slot.name] = parsed.problem
    return answers, errors


# --- commands ---------------------------------------------------------------------------


def _command(turn: _Turn, name: str, arg: str) -> None:
    handlers = {
        "start": lambda: _start(turn, opening=arg == OPENING),
        "help": lambda: _help(turn),
        "back": lambda: _back(turn, arg),
        "skip": lambda: _skip(turn, arg),
        "restart": lambda: _restart(turn),
        "cancel": lambda: _cancel(turn),
        "more": lambda: _more(turn),
        "swap": lambda: _swap(turn, arg),
        "export": lambda: _export(turn, arg),
        "forget": lambda: _forget(turn),
    }
    handler = handlers.get(name)
    if handler is None:
        _unknown_command(turn, name)
        return
    if turn.session.status == "paused" and name in ("more", "swap", "export", "back", "skip"):
        turn.session = replace(turn.session, status="results" if turn.session.current else "intake")
    handler()


def _unknown_command(turn: _Turn, word: str) -> None:
    turn.say(f'I don\'t know the command "{word[:30] or "that"}". Say help to see what I can do.', "error")
    _prompt_again(turn)


def _start(turn: _Turn, opening: bool = False) -> None:
    """Greet a new person, or show where a returning one left off."""
    session = turn.session
    if not session.started:
        turn.session = replace(session, started=True, status="intake")
        turn.say(
            "Hi! I'll help you prepare questions to ask the employer in your interview. "
            "A few quick questions first; say skip for anything optional, back to change an "
            "answer, or help at any time."
        )
        _advance(turn)
    else:
        if session.status == "paused" or opening:
            turn.say("Welcome back! Let's pick up where you left off.")
        turn.session = replace(session, status="results" if session.current else "intake")
        if turn.session.status == "results":
            turn.replies.append(_question_set(turn, _title(turn.session)))
        else:
            _prompt_again(turn)


def _help(turn: _Turn) -> None:
    session = turn.session
    slot = intake.next_slot(turn.ctx.slots, session) if session.status == "intake" else None
    where = (
        f"Right now I'm asking: {slot.prompt}" if slot
        else "Your question list is ready." if session.status == "results"
        else "We're paused."
    )  # fmt: skip
    turn.say(
        f"{where}\n"
        "What you can say at any time:\n"
        "help: this message\n"
        "back: change your last answer\n"
        "skip: skip an optional question\n"
        "more: more questions, none you've seen\n"
        "swap 2: replace question 2 with another\n"
        "export: a plain-text copy of every list so far (export current: just this one)\n"
        "restart: start over with new answers\n"
        "cancel: pause; your answers are kept\n"
        f"forget: erase everything I stored about you (otherwise it is deleted after "
        f"{_days(turn.ctx.session_ttl)} without use)"
    )
    if slot is not None:
        turn.replies.append(_ask(turn, slot))


def _back(turn: _Turn, slot_name: str = "") -> None:
    """Undo the last answer. A Back button names the question it sits on, so an old one never
    undoes a later answer."""
    if slot_name and _earlier_step(turn, slot_name):
        return
    session = turn.session
    if not session.started or not session.answered:
        turn.say("This is the first question, so there's nothing to go back to.", "notice")
        _prompt_again(turn)
        return
    last = session.answered[-1]
    earlier = _describe_answer(turn.ctx.bank, session, last)
    undone, _ = session.without_last_answer()
    turn.session = replace(undone, status="intake", earlier={**session.earlier, last: earlier}, current=())
    _advance(turn)


def _skip(turn: _Turn, slot_name: str = "") -> None:
    if slot_name and _earlier_step(turn, slot_name):
        return
    slot = intake.next_slot(turn.ctx.slots, turn.session)
    if turn.session.status != "intake" or not turn.session.started or slot is None:
        turn.say("There's nothing to skip right now.", "notice")
        _prompt_again(turn)
    elif not slot.can_skip:
        turn.say(
            "I need at least one priority to tailor your questions. Pick from the list or say it in your own words.",
            "notice",
        )
        turn.replies.append(_ask(turn, slot))
    else:
        if slot.skip_note:
            turn.say(slot.skip_note)
        turn.session = turn.session.with_answer(slot.name, None)
        turn.accepted.append(slot.name)
        _advance(turn)


def _restart(turn: _Turn) -> None:
    turn.session = Session(
        started=True, shown=turn.session.shown, pages=turn.session.pages, language=turn.session.language
    )
    turn.say("Starting over. Your earlier answers are cleared.")
    _advance(turn)


def _cancel(turn: _Turn) -> None:
    if not turn.session.started:
        turn.say("Nothing to stop: we haven't started. Say hi, or use /revq, when you're ready.")
        return
    turn.session = replace(turn.session, status="paused")
    turn.say(
        f"Paused. I'll keep your answers for {_days(turn.ctx.session_ttl)}. Send anything to pick "
        "up where you left off, or say forget to erase them now."
    )


def _more(turn: _Turn) -> None:
    if turn.session.status != "results":
        turn.say("Your list isn't ready yet. Let's finish the questions first.", "notice")
        _prompt_again(turn)
        return
    profile = profile_of(turn.session)
    # Priorities the lists so far left out come first, so everything named gets its turn.
    seen = {t for i in turn.session.shown if (q := turn.ctx.catalog.get(i, profile)) is not None for t in q.topics}
    waiting = tuple(t for t in profile.priorities if t not in seen)
    profile = replace(profile, priorities=(*waiting, *(t for t in profile.priorities if t not in waiting)))
    found = tailor.select(
        turn.ctx.catalog, profile, turn.ctx.question_count, exclude=turn.session.shown, with_close=False
    )
    if not found:
        turn.say(
            "That's every question I have that fits your answers. "
            "Say restart to try different ones, or export to keep your list."
        )
        return
    _show(turn, found, "More questions")


def _swap(turn: _Turn, arg: str) -> None:
    session = turn.session
    if session.status != "results" or not session.current:
        turn.say("Swap works once you have a list of questions.", "notice")
        _prompt_again(turn)
        return
    total = len(session.current)
    if arg in session.current:  # a Swap button names its question, so an older message still swaps the right one
        index = session.current.index(arg)
    elif arg in session.shown or turn.ctx.catalog.order.get(arg) is not None:
        turn.say("That question is no longer on your list. Here is the list as it stands.", "notice")
        turn.replies.append(_question_set(turn, _title(session)))
        return
    elif re.fullmatch(r"[0-9]{1,3}", arg) and 1 <= int(arg) <= total:
        index = int(arg) - 1
    else:
        turn.say(f"Say swap and a question number from 1 to {total}, like swap 2.", "error")
        return
    profile = profile_of(session)
    old = turn.ctx.catalog.get(session.current[index], profile)
    keep = [q for q in (turn.ctx.catalog.get(i, profile) for i in session.current) if q is not None and q is not old]
    if old is None:  # the bank changed since the list was made: any unseen question will do
        old = keep[0] if keep else None
    if old is None:
        turn.say("That list is out of date. Say restart for a new one.", "notice")
        return
    new = tailor.replacement(turn.ctx.catalog, profile, old, keep, exclude=session.shown)
    if new is None:
        turn.say(f"I have no other question that fits in place of question {index + 1}.", "notice")
        return
    current = list(session.current)
    current[index] = new.id
    # A newcomer of another purpose joins its own group, so no heading shows twice.
    questions = [q for q in (turn.ctx.catalog.get(i, profile) for i in current) if q is not None]
    regrouped = tuple(q.id for q in display_order(questions))
    pages = (*session.pages[:-1], (session.pages[-1][0], *regrouped)) if session.pages else ()
    turn.session = replace(session, current=regrouped, shown=(*session.shown, new.id), pages=pages)
    moved = f" It is now question {regrouped.index(new.id) + 1}." if regrouped.index(new.id) != index else ""
    turn.say(f"Swapped question {index + 1}.{moved}")
    turn.replies.append(replace(_question_set(turn, _title(session)), edit=True))


def _export(turn: _Turn, arg: str = "") -> None:
    """A plain-text copy of every list shown, newest first (`export current`: the list on screen)."""
    if turn.session.status != "results" or not turn.session.current:
        turn.say("There's nothing to export yet. Your list comes after a few questions.", "notice")
        _prompt_again(turn)
        return
    profile = profile_of(turn.session)
    pages = list(reversed(turn.session.pages)) or [(_title(turn.session), *turn.session.current)]
    if arg == "current":
        pages = pages[:1]
    texts = [export_text(build_question_set(turn.ctx, profile, tuple(page[1:]), page[0])) for page in pages]
    title = _title(turn.session)
    turn.replies.append(Document(title, "\n".join(texts)))


def _forget(turn: _Turn) -> None:
    turn.session = Session()
    turn.erase_user = True
    turn.say(
        "Done. I've erased everything I had stored about you: your answers, priorities, notes and "
        "question lists. Say hi, or use /revq, if you'd like to start again."
    )


# --- moving through the form ----------------------------------------------------------


def _advance(turn: _Turn) -> None:
    slot = intake.next_slot(turn.ctx.slots, turn.session)
    if slot is None:
        _finish_intake(turn)
    else:
        turn.session = replace(turn.session, status="intake")
        turn.replies.append(_ask(turn, slot))


def _prompt_again(turn: _Turn) -> None:
    """Repeat whatever the person is expected to do next."""
    session = turn.session
    if not session.started:
        turn.say("Say hi, or use /revq, to start preparing questions for your interview.")
    elif session.status == "paused":
        turn.say("We're paused. Send anything to pick up where you left off.")
    elif session.status == "results" and session.current:
        turn.say("Say more, swap and a number, export, back, or restart.")
    else:
        slot = intake.next_slot(turn.ctx.slots, session)
        if slot is None:
            _finish_intake(turn)
        else:
            turn.replies.append(_ask(turn, slot))


def _ask(turn: _Turn, slot: Slot) -> Ask:
    shown = intake.asked_slots(turn.ctx.slots, turn.session)
    index = shown.index(slot) if slot in shown else turn.ctx.slots.index(slot)
    return Ask(
        slot=slot.name,
        prompt=slot.prompt,
        choices=slot.choices,
        multi=slot.multi,
        free_text=slot.free_text,
        can_skip=slot.can_skip,
        step=index + 1,
        total_steps=max(len(shown), index + 1),
        earlier_answer=turn.session.earlier.get(slot.name),
    )


# Notes that sound like a private source or a rumour: worth a word before the interview.
def _notes_coaching(notes: str | None, matcher: PriorityMatcher) -> str:
    """A line for the person alone on bringing their research into the interview, or ""."""
    if not notes:
        return ""
    if matcher.read(notes).hearsay:
        return (
            "About your notes: they sound like something heard privately, so keep them to yourself in the "
            "interview. Ask about the subject instead, for example how the team is managed or why people "
            "leave, and listen to the answer."
        )
    return (
        "About your notes: your opening question asks about recent changes. Add what you found in a few "
        'words of your own, such as "I saw you opened a new site".'
    )


def _finish_intake(turn: _Turn) -> None:
    session = turn.session
    profile = profile_of(session)
    coaching = _notes_coaching(session.notes, turn.ctx.matcher)
    if coaching:
        turn.say(coaching)
    # A fresh list for these answers: the best questions may come back; `more` and `swap` never repeat.
    found = tailor.select(turn.ctx.catalog, profile, turn.ctx.question_count)
    turn.session = replace(session, status="results", earlier={})
    _show(turn, found, _title(session))


def _show(turn: _Turn, questions: list[Question], title: str) -> None:
    covered = {t for q in questions for t in q.topics}
    waiting = [t for t in turn.session.priorities if t not in covered]
    if waiting:  # nothing named is dropped: it leads the next list
        labels = [turn.ctx.bank.topics[t].label.lower() if t in turn.ctx.bank.topics else t for t in waiting]
        named = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
        turn.say(f"I'll cover {named} next: say more.")
    ordered = display_order(questions)
    turn.session = replace(
        turn.session,
        current=tuple(q.id for q in ordered),
        shown=tuple(dict.fromkeys((*turn.session.shown, *(q.id for q in ordered)))),
        pages=(*turn.session.pages, (title, *(q.id for q in ordered)))[-MAX_PAGES:],
    )
    question_set = _question_set(turn, title)
    turn.replies.append(replace(question_set, ranking=tuple(q.id for q in questions)))


def display_order(questions: list[Question]) -> list[Question]:
    """Grouped by purpose, the opener first and then each group in the order of its best question,
    so the top priority's question stays among the first two; rank order holds inside a group."""
    first_seen = {q.purpose: i for i, q in reversed(list(enumerate(questions))) if q.id != tailor.OPENER_ID}

    def place(q: Question) -> float:
        return -1 if q.id == tailor.OPENER_ID else math.inf if q.close else first_seen[q.purpose]

    return sorted(questions, key=place)


# --- building replies ---------------------------------------------------------------------

_GROUP_LABELS = {"opener": "Open with your research", "close": "To close the interview"}

NEXT_STEPS = (
    Choice("more", "More questions"),
    Choice("swap", "Swap one"),
    Choice("export", "Plain-text copy"),
    Choice("restart", "Start over"),
)


def _question_set(turn: _Turn, title: str) -> QuestionSet:
    return build_question_set(turn.ctx, profile_of(turn.session), turn.session.current, title)


def build_question_set(
    ctx: EngineContext, profile: tailor.Profile, question_ids: tuple[str, ...], title: str
) -> QuestionSet:
    """The reply for a list of question ids, numbered in the order given."""
    cards: list[tuple[QuestionCard, str]] = []
    for question_id in question_ids:
        q = ctx.catalog.get(question_id, profile)
        if q is not None:  # None: the bank changed since this list was made
            key = "opener" if q.id == tailor.OPENER_ID else "close" if q.close else q.purpose
            cards.append((_card(len(cards) + 1, q, profile), key))
    groups: list[QuestionGroup] = []
    for card, key in cards:  # cards come in display order: a group is a run of one purpose
        if groups and groups[-1].purpose == key:
            groups[-1] = QuestionGroup(key, groups[-1].label, (*groups[-1].questions, card))
        else:
            groups.append(QuestionGroup(key, _GROUP_LABELS.get(key) or PURPOSE_LABELS[key], (card,)))
    return QuestionSet(
        title=title,
        groups=tuple(groups),
        homework=tuple(tailor.homework(ctx.bank, profile)),
        next_steps=NEXT_STEPS,
    )


def _card(number: int, q: Question, profile: tailor.Profile) -> QuestionCard:
    return QuestionCard(
        number=number,
        id=q.id,
        text=profile.render(q.text),
        purpose=q.purpose,
        topics=q.topics,
        stages=q.stages,
        why=q.why,
        listen_for=q.listen_for,
        red_flags=q.red_flags,
        follow_ups=tuple(profile.render(f) for f in q.follow_ups),
    )


def _title(session: Session) -> str:
    return list_title(profile_of(session))


def list_title(profile: tailor.Profile) -> str:
    title = f"Questions to ask {company_phrase(profile.company)}"
    details = [d for d in (profile.role, STAGE_TITLES.get(profile.stage or "")) if d]
    return f"{title} ({', '.join(details)})" if details else title


def export_text(question_set: QuestionSet) -> str:
    lines = [question_set.title, ""]
    for group in question_set.groups:
        lines.append(group.label)
        for card in group.questions:
            lines.append(f"{card.number}. {card.text}")
            lines.append(f"   Why ask: {card.why}")
            lines.append(f"   Listen for: {card.listen_for}")
            if card.red_flags:
                lines.append(f"   Watch out for: {' / '.join(card.red_flags)}")
            if card.follow_ups:
                lines.append(f"   Follow up with: {' / '.join(card.follow_ups)}")
        lines.append("")
    if question_set.homework:
        lines.append("Before the interview, look up:")
        lines.extend(f"- {item}" for item in question_set.homework)
    return "\n".join(lines).rstrip() + "\n"


def profile_of(session: Session) -> tailor.Profile:
    """What tailoring knows of the person: their answers, with setting and level read from the
    job title when they gave none."""
    return tailor.Profile(
        company=session.company,
        role=session.role,
        stage=session.stage,
        company_type=session.company_type,
        priorities=session.priorities,
        notes=session.notes,
        avoid=session.set_aside,
        note_topics=session.note_topics,
        setting=session.setting or tailor.work_setting(session.role),
        level=session.level or tailor.seniority(session.role),
    )


def _topic_labels(bank: Bank, topics: tuple[str, ...]) -> str:
    return ", ".join(bank.topics[t].label if t in bank.topics else t for t in topics)


def _describe_answer(bank: Bank, session: Session, slot: str) -> str:
    if slot == "priorities":
        return _topic_labels(bank, session.priorities) or "skipped"
    value = getattr(session, slot)
    if value is None:
        return "skipped" if slot not in ("stage", "company_type", "setting", "level") else "not sure"
    labels = {"stage": STAGE_LABELS, "company_type": COMPANY_TYPE_LABELS, "setting": SETTING_LABELS,
              "level": LEVEL_LABELS}.get(slot, {})  # fmt: skip
    return labels.get(value, str(value))


def _days(seconds: float) -> str:
    days = round(seconds / DAY)
    return f"{days} day{'s' if days != 1 else ''}" if days >= 1 else f"{max(1, round(seconds / 3600))} hours"

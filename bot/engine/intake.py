"""The intake form: which slots are asked, in what order, and how answers are read.

Each slot has a prompt, a parser and whether it may be skipped. The next slot asked is always
the first one not yet answered (see `next_slot`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.input_text import QUOTES, one_line
from bot.engine.replies import Choice
from bot.engine.session import PriorityAnswer, Session
from bot.engine.tailor import work_setting
from question_bank.model import COMPANY_TYPE_LABELS, LEVEL_LABELS, SETTING_LABELS, STAGE_LABELS, Bank
from question_bank.priorities import PriorityMatcher, language_names, tokens

ANY = "any"  # the value of "not sure" for stage and company type
MAX_NAMED = 8  # topics kept from one answer; those one list can't hold come in the next `more`
MAX_NAME_CHARS = 100
MAX_NOTES_CHARS = 600


@dataclass(frozen=True)
class Parsed:
    """An accepted answer (value may be None for "not sure"), or a reason to ask again."""

    ok: bool
    value: object = None
    notice: str = ""  # said alongside an accepted answer, e.g. that it was shortened
    problem: str = ""  # why it was not accepted
    language: str | None = None  # the language free text was read in, when the matcher could tell

    @staticmethod
    def accept(value: object, notice: str = "", language: str | None = None) -> Parsed:
        return Parsed(True, value, notice=notice, language=language)

    @staticmethod
    def reject(problem: str) -> Parsed:
        return Parsed(False, problem=problem)


@dataclass(frozen=True)
class Slot:
    name: str
    prompt: str
    can_skip: bool
    choices: tuple[Choice, ...] = ()
    multi: bool = False
    free_text: bool = True
    skip_note: str = ""  # what skipping means, said when the person skips
    form_problem: str = ""  # what to fix when this field of a form (a modal, flags) can't be read
    form_required: str = ""  # what to say when a form leaves this field empty and it can't be skipped
    needed: Callable[[Session], bool] | None = None  # None: always asked; else asked only when it says so

    def asked(self, session: Session) -> bool:
        return self.needed is None or self.needed(session)


def _setting_unclear(session: Session) -> bool:
    """Where the work happens is asked only when a job title was given and doesn't tell."""
    return bool(session.role) and work_setting(session.role) is None


def _never(session: Session) -> bool:
    return False  # filled by forms and flags only: the title usually tells, and one more question costs more


def _choices(labels: dict[str, str]) -> tuple[Choice, ...]:
    return (*(Choice(value, label) for value, label in labels.items()), Choice(ANY, "Not sure"))


def topic_choices(bank: Bank) -> tuple[Choice, ...]:
    return tuple(Choice(t.id, t.label, t.hint) for t in bank.topics.values())


def build_slots(bank: Bank) -> tuple[Slot, ...]:
    return (
        Slot("company", "Which company or organization is the interview with?", can_skip=True,
             skip_note="No problem, I'll say \"the company\".",
             form_problem="Type the name of the company or organization."),
        Slot("role", "What's the job title? (Or say skip.)", can_skip=True,
             skip_note="Fine, I'll keep the questions general.",
             form_problem="Type a job title, such as Data Engineer or Nurse, or leave this empty."),
        Slot("setting", "Where will you mostly do this job?", can_skip=True, choices=_choices(SETTING_LABELS),
             free_text=False, skip_note="Fine, I won't assume where you work.",
             form_problem="Pick where you will mostly work, or Not sure.", needed=_setting_unclear),
        Slot("level", "How senior is this job?", can_skip=True, choices=_choices(LEVEL_LABELS), free_text=False,
             form_problem="Pick how senior the job is, or Not sure.", needed=_never),
        Slot("stage", "Who will you be talking to?", can_skip=True, choices=_choices(STAGE_LABELS),
             free_text=False, skip_note="I'll mix questions for any stage.",
             form_problem="Pick who you will be talking to, or Not sure."),
        Slot("company_type", "What kind of employer is it? (Or say skip.)", can_skip=True,
             choices=_choices(COMPANY_TYPE_LABELS), free_text=False,
             form_problem="Pick the kind of employer, or Not sure."),
        Slot("priorities",
             "What matters most to you in this job? Say it in your own words, "
             "for example \"remote work and a learning budget\", or pick up to 5 from the list.",
             can_skip=False, choices=topic_choices(bank), multi=True,
             form_problem="I couldn't tell which topics you mean. Pick at least one from the list, "
                          "or say it in other words, such as \"remote work and a learning budget\".",
             form_required="Pick at least one topic, or say in your own words what matters to you."),
        Slot("notes",
             "Anything you already know about them? A recent launch, news, something from the "
             "job ad. (Or say skip.)", can_skip=True),
    )  # fmt: skip


def next_slot(slots: tuple[Slot, ...], session: Session) -> Slot | None:
    return next((s for s in slots if s.name not in session.answered and s.asked(session)), None)


def asked_slots(slots: tuple[Slot, ...], session: Session) -> tuple[Slot, ...]:
    """The slots this person is asked, for "step 3 of 7": some depend on earlier answers."""
    return tuple(s for s in slots if s.asked(session))


# --- parsers ---------------------------------------------------------------------------

_STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "recruiter": ("recruiter", "recruiting", "hr", "human resources", "screen", "screening", "talent",
                  "phone screen", "first call", "headhunter", "people team", "hr business partner",
                  "talent partner", "people partner", "hr partner", "talent acquisition"),
    "hiring_manager": ("hiring manager", "manager", "boss", "supervisor", "team lead", "lead",
                       "line manager", "future manager", "product owner"),
    "team": ("team", "peer", "peers", "panel", "colleagues", "coworkers", "co-workers",
             "technical", "onsite", "on-site", "engineers", "teammates"),
    "executive": ("executive", "exec", "ceo", "cto", "cfo", "coo", "vp", "vice president",
                  "director", "founder", "leadership", "head of", "skip level", "skip-level",
                  "senior leader", "managing partner", "president", "business owner", "company owner"),
    "offer": ("offer", "offered", "negotiat", "final decision", "they want to hire me"),
}  # fmt: skip
_COMPANY_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "startup": ("startup", "start-up", "start up", "early stage", "seed", "founders"),
    "scaleup": ("scaleup", "scale-up", "scale up", "growing", "series b", "series c", "mid-size",
                "mid size", "medium"),
    "enterprise": ("enterprise", "large", "big", "corporate", "corporation", "multinational",
                   "fortune", "bank", "public company", "listed"),
    "public_sector": ("public sector", "public_sector", "government", "gov", "federal", "state",
                      "council", "city", "county", "civil service", "agency of", "school district",
                      "military", "nhs", "university", "public"),
    "nonprofit": ("nonprofit", "non-profit", "non profit", "charity", "ngo", "foundation",
                  "not for profit", "not-for-profit"),
    "agency": ("agency", "consultancy", "consulting", "consultant", "firm", "studio", "staffing",
               "contractor", "outsourc"),
}  # fmt: skip
_SETTING_WORDS: dict[str, tuple[str, ...]] = {
    "onsite": ("on site", "onsite", "one place", "one workplace", "school", "same place"),
    "field": ("field", "mobile", "driving", "on the road", "out and about", "visits", "between sites"),
    "shift": ("shift", "shifts", "rota", "nights", "ward", "store", "warehouse"),
    "hybrid": ("office", "hybrid", "some days from home"),
    "remote": ("remote", "from home", "home"),
}  # fmt: skip
_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "intern": ("intern", "internship", "student", "placement"),
    "early": ("junior", "graduate", "entry", "first job", "early"),
    "experienced": ("experienced", "mid", "middle"),
    "senior": ("senior", "lead", "principal"),
    "executive": ("executive", "director", "vp", "chief", "head of", "c level"),
}  # fmt: skip
_NOT_SURE = ("not sure", "unsure", "dont know", "do not know", "no idea", "idk", "any", "unknown",
             "dunno", "no clue", "both", "mixed", "several", "all of them", "")  # fmt: skip
_NOTHING = ("no", "nope", "none", "nothing", "n a", "na", "not really", "nothing yet", "none yet", "nah",
            "not much", "nope nothing", "no nothing", "nothing really", *_NOT_SURE)  # fmt: skip


def _norm(text: str) -> str:
    """Lowercase words only: "Hiring-Manager!" and "hiring manager" read the same."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.lower().replace("'", "").replace("\u2019", "")).split())


_DIGITS = re.compile(r"[0-9]{1,3}")


def _pick_number(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    stripped = text.strip().rstrip(".)")
    if _DIGITS.fullmatch(stripped) and 1 <= int(stripped) <= len(choices):
        return choices[int(stripped) - 1]
    return None


def _pick_by_words(text: str, choices: tuple[Choice, ...], words: dict[str, tuple[str, ...]]) -> Parsed | None:
    numbered = _pick_number(text, choices)
    if numbered is not None:
        return Parsed.accept(None if numbered.value == ANY else numbered.value)
    norm = _norm(text)
    for choice in choices:
        if norm in (_norm(choice.value), _norm(choice.label)):
            return Parsed.accept(None if choice.value == ANY else choice.value)
    padded = f" {norm} "
    # Longest cue first, so "hiring manager" wins over "manager" and "head of" over "head".
    cues = sorted(((cue, value) for value, cs in words.items() for cue in cs), key=lambda c: -len(c[0]))
    for cue, value in cues:
        if f" {cue}" in padded and (cue.endswith(("negotiat", "outsourc")) or f" {cue} " in padded):
            return Parsed.accept(value)
    if norm in _NOT_SURE or any(norm.startswith(p + " ") for p in _NOT_SURE if " " in p):
        return Parsed.accept(None)
    return None


def _short_name(value: str, what: str) -> Parsed:
    """Accept a name or title on one line, cut to MAX_NAME_CHARS with a notice."""
    value, cut = one_line(value, MAX_NAME_CHARS)
    notice = f"That's long for {what}, so I kept the first {MAX_NAME_CHARS} characters." if cut else ""
    return Parsed.accept(value, notice)


def parse_company(text: str) -> Parsed:
    name = text.strip().strip(QUOTES).strip()
    if not one_line(name, MAX_NAME_CHARS)[0]:
        return Parsed.reject("I need a name here, or say skip.")
    return _short_name(name, "a name")


_ROLE_PREFIX = re.compile(r"^(?:(?:it'?s|it is|i'?m|i am|for)\s+)?(?:(?:a|an|the)\s+)", re.IGNORECASE)
_ROLE_SUFFIX = re.compile(r"\s+(?:role|position|job|post|opening|vacancy)$", re.IGNORECASE)


_NOT_A_TITLE = {"role", "position", "job", "post", "opening", "vacancy", "a", "an", "the", "it", "it is", "its"}


def parse_role(text: str) -> Parsed:
    role = _ROLE_PREFIX.sub("", text.strip().strip(QUOTES).strip().rstrip(".!")).strip()
    without_suffix = _ROLE_SUFFIX.sub("", role).strip()
    role = without_suffix or role  # "Product role" -> "Product"; "role" alone stays, and is refused
    if not one_line(role, MAX_NAME_CHARS)[0] or _norm(role) in _NOT_A_TITLE:
        return Parsed.reject("I need a job title here, such as Data Engineer or Nurse, or say skip.")
    return _short_name(role, "a job title")


def parse_stage(text: str, slot: Slot) -> Parsed:
    found = _pick_by_words(text, slot.choices, _STAGE_WORDS)
    return found or Parsed.reject("I didn't recognise that interview stage. Pick a number from the list.")


def parse_company_type(text: str, slot: Slot) -> Parsed:
    found = _pick_by_words(text, slot.choices, _COMPANY_TYPE_WORDS)
    return found or Parsed.reject("I didn't recognise that kind of employer. Pick a number from the list, or say skip.")


_NUMBER_LIST = re.compile(r"^[0-9]{1,3}(?:\s*(?:,|;|&|\+|/|\band\b)?\s*[0-9]{1,3})*\.?$")


def parse_priorities(text: str, slot: Slot, matcher: PriorityMatcher, read_numbers: bool = True) -> Parsed:
    valid = {c.value for c in slot.choices}
    if read_numbers and _NUMBER_LIST.match(text.strip()):
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        bad = [n for n in numbers if not 1 <= n <= len(slot.choices)]
        if bad:
            return Parsed.reject(f"Pick numbers from 1 to {len(slot.choices)}.")
        return pick_priorities(tuple(slot.choices[n - 1].value for n in numbers), valid)
    typed_ids = [w for w in re.split(r"[\s,]+", text.lower()) if w]
    if typed_ids and all(w in valid for w in typed_ids):
        return pick_priorities(tuple(typed_ids), valid)
    reading = matcher.read(text, limit=MAX_NAMED + 1)
    aside = tuple(t for t in reading.set_aside if t in valid)
    if not reading.named and aside:  # only what does not matter: a broad list without it
        labels = {c.value: c.label.lower() for c in slot.choices}
        left_out = " and ".join(labels[t] for t in aside)
        return Parsed.accept(
            PriorityAnswer((), aside), f"Fine: I'll leave out {left_out} and keep the list broad.", reading.language
        )
    if not reading.named:
        unread_script = not tokens(text) and any(ch.isalpha() for ch in text)
        return Parsed.reject(
            "I couldn't tell which topics you mean. "
            + (f"I can read {language_names(matcher.languages)}. " if unread_script else "")
            + "Pick up to 5 from this list (numbers are fine, like 2, 5, 9), or try other words."
        )
    picked = pick_priorities(reading.named, valid)
    if picked.ok and isinstance(picked.value, tuple):
        value = PriorityAnswer(picked.value, aside) if aside else picked.value
        return Parsed.accept(value, picked.notice, reading.language)
    return picked


def pick_priorities(values: tuple[str, ...], valid: set[str]) -> Parsed:
    unique = tuple(dict.fromkeys(v for v in values if v in valid))
    if not unique:
        return Parsed.reject("Pick at least one topic from the list.")
    notice = ""
    if len(unique) > MAX_NAMED:
        unique = unique[:MAX_NAMED]
        notice = f"I kept your first {MAX_NAMED} priorities."
    return Parsed.accept(unique, notice)


def parse_notes(text: str) -> Parsed:
    if _norm(text) in _NOTHING:
        return Parsed.accept(None)
    notes, cut = one_line(text, MAX_NOTES_CHARS)
    notice = f"I kept the first {MAX_NOTES_CHARS} characters of your notes." if cut else ""
    return Parsed.accept(notes, notice)


def parse_answer(slot: Slot, text: str, matcher: PriorityMatcher) -> Parsed:
    parsers: dict[str, Callable[[], Parsed]] = {
        "company": lambda: parse_company(text),
        "role": lambda: parse_role(text),
        "stage": lambda: parse_stage(text, slot),
        "company_type": lambda: parse_company_type(text, slot),
        "setting": lambda: (
            _pick_by_words(text, slot.choices, _SETTING_WORDS)
            or Parsed.reject("Pick a number from the list, or say skip.")
        ),
        "level": lambda: (
            _pick_by_words(text, slot.choices, _LEVEL_WORDS)
            or Parsed.reject("Pick a number from the list, or say skip.")
        ),
        "priorities": lambda: parse_priorities(text, slot, matcher),
        "notes": lambda: parse_notes(text),
    }
    return parsers[slot.name]()


def parse_pick(slot: Slot, values: tuple[str, ...]) -> Parsed:
    valid = {c.value for c in slot.choices}
    if slot.choices and not values:
        return Parsed.reject("Pick at least one first, or type your answer.")
    if not slot.choices or not set(values) <= valid:
        return Parsed.reject("That choice isn't available any more. Here are the options again.")
    if slot.multi:
        return pick_priorities(values, valid - {ANY})
    if len(values) != 1:
        return Parsed.reject("Pick just one of these.")
    return Parsed.accept(None if values[0] == ANY else values[0])


_FORM_BLANK = frozenset({"", "skip", "none", "n a", "na", "nothing", "not sure", "unsure", "dont know", "idk", "tbd"})
_FORM_FIELD_NAMES = {"role": "job title"}  # optional text a parser can refuse (a company name is any text)


def parse_form_field(slot: Slot, typed: str, picked: tuple[str, ...], matcher: PriorityMatcher) -> Parsed:
    """One field of a form, read by the slot's own parser. `typed` is already cleaned.

    A field left empty, or holding a word such as "none" or "skip", is skipped where the slot
    allows it. Optional text that can't be used is left out with a notice, not refused, so one odd
    field never holds back the list. Priorities join what was typed (in the person's order) and
    what was picked; typed numbers are not read, as a form shows no numbered list.
    """
    if slot.can_skip and not picked and _norm(typed) in _FORM_BLANK:
        return Parsed.accept(None)
    if not typed and not picked:
        return Parsed.reject(slot.form_required)
    if slot.multi:
        words = parse_priorities(typed, slot, matcher, read_numbers=False) if typed else None
        if words is not None and not words.ok and not picked:
            return Parsed.reject(slot.form_problem)
        answer = words.value if words is not None and words.ok else None
        aside = answer.set_aside if isinstance(answer, PriorityAnswer) else ()
        typed_topics = (
            answer.named if isinstance(answer, PriorityAnswer) else answer if isinstance(answer, tuple) else ()
        )
        if aside and not typed_topics and not picked:
            return words if words is not None else Parsed.reject(slot.form_problem)
        merged = pick_priorities((*typed_topics, *picked), {c.value for c in slot.choices})
        if merged.ok and isinstance(merged.value, tuple):
            value = PriorityAnswer(merged.value, aside) if aside else merged.value
            merged = Parsed.accept(value, merged.notice, words.language if words is not None else None)
        if merged.ok and words is not None and not words.ok:
            notice = "I couldn't read what you typed as topics, so I used the ones you picked."
            return Parsed.accept(merged.value, notice)
        return merged if merged.ok else Parsed.reject(slot.form_problem)
    if picked:
        parsed = parse_pick(slot, picked)
        return parsed if parsed.ok else Parsed.reject(slot.form_problem)
    parsed = parse_answer(slot, typed, matcher)
    if parsed.ok:
        return parsed
    if slot.can_skip and slot.name in _FORM_FIELD_NAMES:
        what = _FORM_FIELD_NAMES[slot.name]
        return Parsed.accept(None, f"I couldn't use what you typed as the {what}, so I left it out.")
    return Parsed.reject(slot.form_problem)

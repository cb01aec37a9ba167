"""Block Kit for revq: the only module that turns engine replies into Slack messages and views.

Every piece of text that may hold the person's own words (company, role, notes, question text,
follow-ups, homework, titles) goes out escaped (`&`, `<`, `>`) and as plain_text, so `<!channel>`
or `<@U123>` typed as a company name never pings anyone and `*stars*` never turn bold.
Slack's limits are kept here too: long replies are split into several messages, never refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.pieces import split_text
from bot.engine.input_text import one_line
from bot.engine.intake import MAX_NAME_CHARS, MAX_NOTES_CHARS, Slot
from bot.engine.replies import Ask, Choice, Document, FieldErrors, QuestionCard, QuestionSet, Reply, Say
from bot.prompts.rotation import ChannelPrompt
from question_bank.priorities import MAX_PRIORITIES

# Limits Slack enforces (https://api.slack.com/reference/block-kit); we stay under them.
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_CHARS = 12_000  # all text in one message's blocks; Slack rejects much more than this
MAX_FALLBACK_CHARS = 3000  # the top-level `text` shown in notifications and read by screen readers
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_PLAIN_TEXT_MESSAGE = 35_000  # a text-only message (the export); Slack cuts at 40,000

# Action ids. The app routes on these prefixes; inbound.py reads them back.
PICK = "revq.pick."  # PICK + slot + "." + n: a choice button (value: the choice);
# PICK + slot: a static select (selected_option); PICK + slot + ".done": the Done button under a
# multi-select, whose picks are read from the message state.
CHOOSE = "revq.choose."  # CHOOSE + slot: a multi-select in a message; acked, read when Done is clicked
COMMAND = "revq.cmd."  # COMMAND + name (+ "." + n to keep ids unique); value: the command's argument
OPEN_FORM = "revq.open_form"  # opens the intake modal (App Home, and the like)
PREP = "revq.prep"  # the channel prompt's button: opens the intake modal for whoever clicks it
ASK_BLOCK = "revq.ask."  # ASK_BLOCK + slot: the block holding an Ask's inputs

# The intake modal.
FORM_CALLBACK = "revq.form"
FORM_INPUT = "value"  # the action id of every input in the modal
FORM_BLOCKS: dict[str, str] = {  # block id per field
    "company": "company",
    "role": "role",
    "setting": "setting",
    "stage": "stage",
    "company_type": "company_type",
    "priorities_picked": "priorities_picked",
    "priorities_typed": "priorities_typed",
    "notes": "notes",
}

SlackMessage = dict[str, Any]  # {"text": fallback, "blocks": [...]} or {"text": ...} alone

_ESCAPED_CHANNEL_LINK = re.compile(r"&lt;#([CG][A-Z0-9]+)&gt;")

# How much of a card's text goes into one text object: well under Slack's 3000, so that the
# longest card (question, why, listen for, red flags, follow-ups) still fits one message.
_CARD_TEXT_CHARS = 2000
_CARD_NOTE_CHARS = 1500
_LABEL_CHARS = 150  # a group label, one line of bold text
_EARLIER_CHARS = 1000  # "Before, you said: ..." under an Ask
_ERROR_CHARS = 150  # a modal field error (Slack shows them under the field)
_OPTION_VALUE_CHARS = 150
_BUTTON_VALUE_CHARS = 2000
_MAX_OPTIONS = 100
_MAX_ACTIONS = 25  # elements in one actions block
_OPTIONS_TEXT_BUDGET = 7500  # all option text of one select, so an Ask always fits one message
_BUTTONS_MAX = 5  # more choices than this become a select
_MODAL_TYPED_PRIORITIES_CHARS = 500
_ELLIPSIS = "…"
_FALLBACK_DEFAULT = "A message from revq"
_UNTITLED = "Your questions"
_DOCUMENT_INTRO = "Here's a plain-text copy to keep:\n"
_FENCE = "```"
_PRIVATE_METADATA_CHARS = 3000


def escape(text: str) -> str:
    """The three characters Slack reads as markup: `<!channel>`, `<@U123>` and `&lt;` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- cutting escaped text ------------------------------------------------------------------


def _cut_at(text: str, limit: int) -> int:
    """Where to cut escaped `text` to keep at most `limit` characters: never inside `&amp;`,
    and at a space when one is close, so words stay whole."""
    at = max(limit, 0)
    amp = text.rfind("&", max(at - 4, 0), at)
    if amp != -1 and ";" not in text[amp:at]:
        at = amp
    space = text.rfind(" ", max(at - 40, 0), at)
    if space > 0:
        at = space + 1
    return at if at > 0 else max(limit, 1)  # always progress, even on a tiny limit


def _fit(text: str, limit: int, mark: str = _ELLIPSIS) -> str:
    """Escaped `text` cut to `limit` characters, `mark` included, when it is longer."""
    if len(text) <= limit:
        return text
    return text[: _cut_at(text, limit - len(mark))].rstrip() + mark


def _split(text: str, limit: int) -> list[str]:
    """Escaped `text` in pieces of at most `limit` characters, at line breaks where possible."""
    return split_text(text, limit, _cut_at)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Block Kit pieces ----------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: dict[str, Any], accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": text}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def _context(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "context", "elements": list(elements[:MAX_CONTEXT_ELEMENTS])}


def _header(raw: str) -> dict[str, Any]:
    text = _fit(escape(_one_line(raw)), MAX_HEADER_CHARS) or _UNTITLED
    return {"type": "header", "text": _plain(text)}


def _button(
    raw_text: str,
    action_id: str,
    value: str = "",
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(_fit(escape(_one_line(raw_text)), MAX_BUTTON_TEXT)),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    if confirm is not None:
        button["confirm"] = confirm
    return button


def _value(raw: str, limit: int) -> str:
    # Values carry ids, not the person's words, and the engine's never hold `<`, `>` or `&`; they are
    # escaped anyway so nothing in a payload reads as markup (inbound code unescapes).
    return _fit(escape(raw), limit, mark="")


def _label(choice: Choice, number: int) -> str:
    return _one_line(choice.label) or _one_line(choice.value) or f"Option {number}"


def _options(choices: Sequence[Choice], budget: int = _OPTIONS_TEXT_BUDGET) -> list[dict[str, Any]]:
    """Select options: label, value and hint as a description. Descriptions are dropped when all
    the text would not fit `budget`, so even a hundred long options stay within one message."""
    shown = choices[:_MAX_OPTIONS]
    with_hints = True
    while True:
        options: list[dict[str, Any]] = []
        for number, choice in enumerate(shown, 1):
            option: dict[str, Any] = {
                "text": _plain(_fit(escape(_label(choice, number)), MAX_OPTION_TEXT)),
                "value": _value(choice.value, _OPTION_VALUE_CHARS),
            }
            hint = _one_line(choice.hint)
            if with_hints and hint:
                option["description"] = _plain(_fit(escape(hint), MAX_OPTION_TEXT))
            options.append(option)
        if not with_hints or _text_length(options) <= budget:
            return options
        with_hints = False


def _text_length(value: object) -> int:
    """All characters under a "text" key, at any depth: what MAX_MESSAGE_CHARS limits."""
    if isinstance(value, dict):
        return sum(
            len(item) if key == "text" and isinstance(item, str) else _text_length(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return sum(_text_length(item) for item in value)
    return 0


def _ids(value: object) -> set[str]:
    """Every action_id and block_id at any depth, so no message repeats one."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("action_id", "block_id") and isinstance(item, str):
                found.add(item)
            else:
                found |= _ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids(item)
    return found


# --- messages ------------------------------------------------------------------------------


@dataclass
class _Unit:
    """Blocks that go in one message together when they can (a card and its notes); `summary`
    is unescaped text for the message's fallback."""

    blocks: list[dict[str, Any]]
    summary: str = ""


@dataclass
class _Message:
    blocks: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    chars: int = 0
    ids: set[str] = field(default_factory=set)

    def fits(self, unit: _Unit) -> bool:
        return (
            len(self.blocks) + len(unit.blocks) <= MAX_MESSAGE_BLOCKS
            and self.chars + _text_length(unit.blocks) <= MAX_MESSAGE_CHARS
            and not self.ids & _ids(unit.blocks)
        )

    def add(self, unit: _Unit) -> None:
        self.blocks.extend(unit.blocks)
        self.chars += _text_length(unit.blocks)
        self.ids |= _ids(unit.blocks)
        if unit.summary.strip():
            self.summaries.append(unit.summary)

    def to_slack(self) -> SlackMessage:
        fallback = _fit(escape("\n".join(self.summaries).strip()), MAX_FALLBACK_CHARS) or _FALLBACK_DEFAULT
        return {"text": fallback, "blocks": self.blocks}


def _pack(units: Iterable[_Unit], out: list[SlackMessage]) -> None:
    """Fill messages in order, starting a new one when the next unit would not fit."""
    current = _Message()
    for unit in units:
        if not unit.blocks:
            continue
        if not current.fits(unit):
            if current.blocks:
                out.append(current.to_slack())
                current = _Message()
            if not current.fits(unit):  # too big even alone (never from the engine): block by block
                pieces = [_Unit([block]) for block in unit.blocks]
                pieces[0].summary = unit.summary
                _pack(pieces, out)
                continue
        current.add(unit)
    if current.blocks:
        out.append(current.to_slack())


def _text_units(escaped: str, summary: str) -> list[_Unit]:
    """Plain text over as many sections as it needs; the summary goes with the first."""
    sections = [_section(_plain(piece)) for piece in _split(escaped, MAX_SECTION_CHARS)]
    return [_Unit([block], summary if n == 0 else "") for n, block in enumerate(sections)]


def _say_units(say: Say) -> list[_Unit]:
    prefix = ":warning: " if say.tone == "error" else ""
    if not say.text.strip():
        return []
    return _text_units(prefix + escape(say.text), say.text)


def _ask_inputs(ask: Ask) -> list[dict[str, Any]]:
    slot = escape(ask.slot)
    elements: list[dict[str, Any]] = []
    if ask.multi and ask.choices:
        elements.append(
            {
                "type": "multi_static_select",
                "action_id": f"{CHOOSE}{slot}",
                "placeholder": _plain(f"Pick up to {MAX_PRIORITIES}"),
                "max_selected_items": MAX_PRIORITIES,
                "options": _options(ask.choices),
            }
        )
        elements.append(_button("Done", f"{PICK}{slot}.done", style="primary"))
    elif len(ask.choices) > _BUTTONS_MAX:
        elements.append(
            {
                "type": "static_select",
                "action_id": f"{PICK}{slot}",
                "placeholder": _plain("Choose one"),
                "options": _options(ask.choices),
            }
        )
    else:
        for number, choice in enumerate(ask.choices, 1):
            value = _value(choice.value, _BUTTON_VALUE_CHARS)
            elements.append(_button(_label(choice, number), f"{PICK}{slot}.{number}", value))
    if ask.can_skip:
        elements.append(_button("Skip", f"{COMMAND}skip"))
    return elements[:_MAX_ACTIONS]


def _ask_units(ask: Ask) -> list[_Unit]:
    units = _text_units(escape(ask.prompt), ask.prompt)
    # The last part of the prompt stays with the inputs that answer it.
    last = units.pop() if units else _Unit([], ask.prompt)
    blocks = [*last.blocks, _context(_plain(f"Step {ask.step} of {ask.total_steps}"))]
    if ask.earlier_answer == "skipped":
        blocks.append(_context(_plain("You skipped this before.")))
    elif ask.earlier_answer:
        blocks.append(_context(_plain(_fit("Before, you said: " + escape(ask.earlier_answer), _EARLIER_CHARS))))
    inputs = _ask_inputs(ask)
    if inputs:
        blocks.append({"type": "actions", "block_id": f"{ASK_BLOCK}{escape(ask.slot)}", "elements": inputs})
    if ask.free_text and ask.choices:
        blocks.append(_context(_plain("Or type your answer.")))
    return [*units, _Unit(blocks, last.summary)]


def _card_blocks(card: QuestionCard) -> list[dict[str, Any]]:
    swap = _button("Swap", f"{COMMAND}swap.{card.number}", _value(card.id, _BUTTON_VALUE_CHARS))
    blocks = [
        _section(_plain(_fit(f"{card.number}. {escape(card.text)}", _CARD_TEXT_CHARS)), swap),
        _context(
            _mrkdwn(_fit(f"*Why ask:* {escape(card.why)}", _CARD_NOTE_CHARS)),
            _mrkdwn(_fit(f"*Listen for:* {escape(card.listen_for)}", _CARD_NOTE_CHARS)),
        ),
    ]
    extra: list[dict[str, Any]] = []
    if card.red_flags:
        flags = " / ".join(escape(flag) for flag in card.red_flags)
        extra.append(_mrkdwn(_fit(f"*Watch out for:* {flags}", _CARD_NOTE_CHARS)))
    if card.follow_ups:
        follow_ups = " / ".join(escape(follow_up) for follow_up in card.follow_ups)
        extra.append(_plain(_fit(f"Follow up with: {follow_ups}", _CARD_NOTE_CHARS)))
    if extra:
        blocks.append(_context(*extra))
    return blocks


def _homework_units(homework: Sequence[str]) -> list[_Unit]:
    if not homework:
        return []
    lines = "\n".join(f"• {escape(_one_line(item))}" for item in homework)
    units = _text_units(lines, "")
    heading = _section(_mrkdwn("*Before the interview, look up:*"))
    if not units:
        return [_Unit([heading])]
    units[0].blocks.insert(0, heading)  # never a heading alone at the end of a message
    return units


def _restart_confirm() -> dict[str, Any]:
    return {
        "title": _plain("Start over?"),
        "text": _plain("Your answers will be cleared. Questions you've already seen stay out of More."),
        "confirm": _plain("Start over"),
        "deny": _plain("Keep my list"),
    }


def _next_steps(question_set: QuestionSet) -> dict[str, Any] | None:
    buttons: list[dict[str, Any]] = []
    for choice in question_set.next_steps:
        if choice.value == "swap":  # swapping is a button on each question
            continue
        buttons.append(
            _button(
                _label(choice, len(buttons) + 1),
                f"{COMMAND}{escape(choice.value)}",
                style="primary" if choice.value == "more" else None,
                confirm=_restart_confirm() if choice.value == "restart" else None,
            )
        )
    return {"type": "actions", "elements": buttons[:_MAX_ACTIONS]} if buttons else None


def _question_set_units(question_set: QuestionSet) -> list[_Unit]:
    units: list[_Unit] = []
    # The header and each group's label travel with the next card, so none ends a message alone.
    pending = _Unit([_header(question_set.title)], question_set.title)
    for group in question_set.groups:
        label = _fit(escape(_one_line(group.label)), _LABEL_CHARS)
        if label:
            pending.blocks.append(_section(_mrkdwn(f"*{label}*")))
        for card in group.questions:
            summary = f"{pending.summary}\n{card.number}. {card.text}".strip()
            units.append(_Unit([*pending.blocks, *_card_blocks(card)], summary))
            pending = _Unit([])
    homework = _homework_units(question_set.homework)
    if homework:
        homework[0] = _Unit([*pending.blocks, *homework[0].blocks], pending.summary)
        pending = _Unit([])
    units += [pending, *homework]
    actions = _next_steps(question_set)
    if actions is not None:
        units.append(_Unit([actions]))
    return units


def _field_error_units(errors: FieldErrors) -> list[_Unit]:
    text = "\n".join(errors.errors.values())
    if not text.strip():
        return []
    return _text_units(":warning: " + escape(text), text)


def _document_messages(document: Document) -> list[SlackMessage]:
    """The export as text only, in a code block so it copies cleanly; split at line breaks."""
    body = escape(document.body)
    wrapper = len(_DOCUMENT_INTRO) + 2 * len(_FENCE)
    room = MAX_PLAIN_TEXT_MESSAGE - wrapper
    pieces = [body] if len(body) <= room else _split(body, room) or [body[:room]]
    return [{"text": (_DOCUMENT_INTRO if n == 0 else "") + _FENCE + piece + _FENCE} for n, piece in enumerate(pieces)]


def messages(replies: Sequence[Reply]) -> list[SlackMessage]:
    """One engine turn's replies as few Slack messages as possible, in order, within Slack's
    limits: long replies are split, never refused or dropped."""
    out: list[SlackMessage] = []
    units: list[_Unit] = []
    for reply in replies:
        if isinstance(reply, Say):
            units += _say_units(reply)
        elif isinstance(reply, Ask):
            units += _ask_units(reply)
        elif isinstance(reply, QuestionSet):
            units += _question_set_units(reply)
        elif isinstance(reply, FieldErrors):
            units += _field_error_units(reply)
        elif isinstance(reply, Document):
            _pack(units, out)
            units = []
            out += _document_messages(reply)
        else:
            raise TypeError(f"unknown reply {type(reply).__name__}")
    _pack(units, out)
    return out


def continued_in_dm() -> SlackMessage:
    """Said where /revq was typed when a question to reply to went to the DM instead."""
    text = "Your next question is waiting in your direct messages with revq. Answer it there."
    return {"text": text, "blocks": [_section(_plain(text))]}


def is_whole_list(blocks: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a message (as Slack sends it back on a click) holds a whole question list, from its
    title to its buttons, so that a changed list can take its place."""
    has_title = any(block.get("type") == "header" for block in blocks)
    actions = [e.get("action_id") for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]
    return has_title and f"{COMMAND}more" in actions


def sent_to_dm() -> SlackMessage:
    """The only thing said in the channel where /revq was typed once the list is ready: nothing
    about the person, who sees it alone anyway."""
    text = "Done! Your questions are in your direct messages with revq."
    return {"text": text, "blocks": [_section(_plain(text))]}


# --- channel prompts ------------------------------------------------------------------------


def channel_prompt(prompt: ChannelPrompt) -> SlackMessage:
    """The scheduled post in a channel: the question, why candidates ask it, and the button that
    starts private prep. Nothing in it is about any person; the text is the bank's."""
    question = _fit(escape(_one_line(prompt.question)), MAX_SECTION_CHARS - 2)
    why = _fit(escape(_one_line(prompt.why)), _CARD_NOTE_CHARS)
    blocks = [
        _header(prompt.heading),
        _section(_mrkdwn(f"*{question}*")),
        _context(_mrkdwn(f"*Why ask it:* {why}")),
        _section(_plain(_fit(escape(_one_line(prompt.invitation)), MAX_SECTION_CHARS))),
        {
            "type": "actions",
            "elements": [
                _button(prompt.button, PREP, _value(prompt.question_id, _BUTTON_VALUE_CHARS), style="primary")
            ],
        },
    ]
    fallback = f"{prompt.heading}: {prompt.question} Why ask it: {prompt.why} {prompt.invitation}"
    return {"text": _fit(escape(_one_line(fallback)), MAX_FALLBACK_CHARS), "blocks": blocks}


def admin_text(text: str) -> str:
    """An admin reply as mrkdwn: everything escaped, then the `<#C123>` channel links the reply
    names turned back into links (they never ping anyone)."""
    return _ESCAPED_CHANNEL_LINK.sub(r"<#\1>", escape(text))


def admin_reply(text: str, *, warning: bool = False) -> SlackMessage:
    """A reply to a prompt command, for the admin alone; backticks show commands as code."""
    shown = (":warning: " if warning else "") + admin_text(text)
    sections = [_section(_mrkdwn(piece)) for piece in _split(shown, MAX_SECTION_CHARS)][:MAX_MESSAGE_BLOCKS]
    return {"text": _fit(shown, MAX_FALLBACK_CHARS) or _FALLBACK_DEFAULT, "blocks": sections}


def prompt_preview(text: str, prompt: ChannelPrompt) -> SlackMessage:
    """The next post exactly as the channel will see it, under one line that says it is a preview."""
    post = channel_prompt(prompt)
    note = _context(_mrkdwn(_fit(admin_text(_one_line(text)), _CARD_NOTE_CHARS)))
    return {"text": _fit(admin_text(_one_line(text)), MAX_FALLBACK_CHARS), "blocks": [note, *post["blocks"]]}


def mention_reply() -> SlackMessage:
    """The answer to an @revq mention in a channel, shown to the person who wrote it alone."""
    text = (
        "Hi! I help you prepare questions to ask the employer in your interview. Send me a direct message, "
        "or type /revq, and we'll do it privately: your answers stay between you and revq, never in this channel."
    )
    return {"text": text, "blocks": [_section(_plain(text))]}


# --- the intake modal ----------------------------------------------------------------------


def _input(name: str, label: str, element: dict[str, Any], *, optional: bool = True, hint: str = "") -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": FORM_BLOCKS[name],
        "label": _plain(label),
        "optional": optional,
        "element": {**element, "action_id": FORM_INPUT},
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(placeholder: str, **extra: Any) -> dict[str, Any]:
    return {"type": "plain_text_input", "placeholder": _plain(placeholder), **extra}


def form_modal(slots: Sequence[Slot], *, company: str = "", private_metadata: str = "") -> dict[str, Any]:
    """The intake form as a modal (views.open). `company` pre-fills the first field."""
    if len(private_metadata) > _PRIVATE_METADATA_CHARS:
        raise ValueError(f"private_metadata has {len(private_metadata)} characters, over {_PRIVATE_METADATA_CHARS}")
    blocks = list(_form_blocks(tuple(slots)))
    name, _ = one_line(company, MAX_NAME_CHARS)
    if name:  # a fresh copy of the company field: the cached blocks are shared
        first = blocks[0]
        blocks[0] = {**first, "element": {**first["element"], "initial_value": escape(name)}}
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain("Interview questions"),
        "submit": _plain("Get my questions"),
        "close": _plain("Cancel"),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }


@functools.lru_cache(maxsize=4)
def _form_blocks(slots: tuple[Slot, ...]) -> tuple[dict[str, Any], ...]:
    """The modal's fields, built once per set of slots: every /revq opens it, and Slack is waiting."""
    choices = {slot.name: slot.choices for slot in slots}
    blocks = [
        _input("company", "Company or organization", _text_input("For example, St Mary's Hospital"), optional=False),
        _input(
            "role", "Job title", _text_input("For example, Staff Nurse or Data Engineer", max_length=MAX_NAME_CHARS)
        ),
    ]
    # A slot without choices would make a select Slack refuses; the engine always gives them.
    select: dict[str, Any]
    if choices.get("setting"):
        select = {"type": "static_select", "options": _options(choices["setting"])}
        hint = "Leave it empty and revq reads it from the job title."
        blocks.append(_input("setting", "Where will you mostly work?", select, hint=hint))
    if choices.get("stage"):
        select = {"type": "static_select", "options": _options(choices["stage"])}
        blocks.append(_input("stage", "Who will you be talking to?", select))
    if choices.get("company_type"):
        select = {"type": "static_select", "options": _options(choices["company_type"])}
        blocks.append(_input("company_type", "What kind of employer is it?", select))
    if choices.get("priorities"):
        select = {
            "type": "multi_static_select",
            "max_selected_items": MAX_PRIORITIES,
            "options": _options(choices["priorities"]),
        }
        blocks.append(_input("priorities_picked", f"What matters most to you? Pick up to {MAX_PRIORITIES}", select))
    typed = _text_input("For example, remote work and a learning budget", max_length=_MODAL_TYPED_PRIORITIES_CHARS)
    hint = "Most important first. Typos are fine."
    blocks.append(_input("priorities_typed", "Or say it in your own words", typed, hint=hint))
    notes = _text_input("A recent launch, news, something from the job ad", multiline=True, max_length=MAX_NOTES_CHARS)
    blocks.append(_input("notes", "Anything you already know about them?", notes))
    blocks.append(_context(_plain("Your answers stay private. Your list arrives in your direct messages with revq.")))
    return tuple(blocks)


def form_errors(errors: FieldErrors, *, typed_priorities: bool) -> dict[str, str]:
    """FieldErrors as {block_id: message} for a view_submission's response_action "errors".
    A slot the form has no field for is a programming error (KeyError)."""
    shown: dict[str, str] = {}
    for slot, message in errors.errors.items():
        if slot == "priorities":
            block = FORM_BLOCKS["priorities_typed" if typed_priorities else "priorities_picked"]
        else:
            block = FORM_BLOCKS[slot]
        shown[block] = _fit(escape(message), _ERROR_CHARS)
    return shown


# --- App Home ------------------------------------------------------------------------------


def _days(ttl_days: float) -> str:
    """30 for 30.0, 0.5 for 0.5: at most two decimals, no trailing zeros."""
    return f"{ttl_days:.2f}".rstrip("0").rstrip(".")


def home_view(question_set: QuestionSet | None, *, ttl_days: float) -> dict[str, Any]:
    """The App Home tab (views.publish): how to start, the latest list in short, and privacy."""
    blocks: list[dict[str, Any]] = [
        _header("Prepare for your interview"),
        _section(
            _plain(
                "Get a short, ranked list of questions to ask the employer, "
                "with why to ask each one and what to listen for."
            )
        ),
        {"type": "actions", "elements": [_button("Prepare questions", OPEN_FORM, style="primary")]},
    ]
    days = _days(ttl_days)
    ending = [
        {"type": "divider"},
        _context(
            _plain(
                f"revq keeps your answers and the questions it showed you for {days} "
                f"{'day' if days == '1' else 'days'} after you last use it, then deletes them. "
                "Type forget in your messages with revq, or /revq forget, to erase them now."
            )
        ),
    ]
    if question_set is not None:
        blocks += [{"type": "divider"}, _header(question_set.title)]
        cards = [
            [
                _section(_plain(_fit(f"{card.number}. {escape(card.text)}", _CARD_TEXT_CHARS))),
                _context(_mrkdwn(_fit(f"*Listen for:* {escape(card.listen_for)}", _CARD_NOTE_CHARS))),
            ]
            for card in question_set.cards
        ]
        homework = [block for unit in _homework_units(question_set.homework) for block in unit.blocks]
        more = _context(
            _plain("For more questions, swaps and a plain-text copy, use the buttons in your messages with revq.")
        )
        room = MAX_VIEW_BLOCKS - len(blocks) - 1 - len(ending)  # 1: the "more" line
        if sum(len(card) for card in cards) + len(homework) <= room:
            blocks += [block for card in cards for block in card] + homework
        else:  # whole cards first, then as much homework as fits; the messages hold it all
            room -= 1
            for card in cards:
                if len(card) > room:
                    break
                blocks += card
                room -= len(card)
            if len(homework) > 1 and room >= 2:  # the heading and at least one item
                blocks += homework[:room]
            blocks.append(_section(_plain("The full list is in your messages with revq.")))
        blocks.append(more)
    return {"type": "home", "blocks": blocks + ending}

"""Embeds and components for revq on Discord: the only module that turns engine replies into
Discord messages, modals and buttons.

Every piece of text that may hold the person's own words goes out escaped: markdown characters
get a backslash, `<` too (so `<@123>` and `<#123>` stay text), and `@everyone`, `@here` and
`@123...` get a zero-width space after the `@`. Messages are also sent with no mentions allowed,
so even a slip pings nobody. Discord's limits are kept here: long replies are split over several
embeds and messages, never refused.

Buttons and menus carry their owner and action in their custom id and are dynamic items, so they
keep working after a restart; clicks go to the client's `revq_click`. The button of a channel
prompt is everyone's: its custom id holds only its action, and clicks go to `revq_prompt_click`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import discord

from bot.adapters.pieces import split_text
from bot.engine.input_text import one_line
from bot.engine.intake import MAX_NAME_CHARS, Slot
from bot.engine.replies import Ask, Choice, Document, FieldErrors, QuestionCard, QuestionSet, Reply, Say
from bot.prompts.rotation import ChannelPrompt
from question_bank.priorities import MAX_PRIORITIES

# Limits Discord enforces (https://discord.com/developers/docs/resources/message); we stay under them.
MAX_CONTENT = 2000
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FIELDS = 25
MAX_EMBED_TOTAL = 6000  # every embed of one message together
MAX_EMBEDS = 10
MAX_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_OPTIONS = 25
MAX_BUTTON_LABEL = 80
MAX_OPTION_TEXT = 100
MAX_CUSTOM_ID = 100
MAX_LABEL_DESCRIPTION = 100

# Custom ids. Buttons and selects have different prefixes so each click matches one template.
BUTTON = "revq:b:"  # BUTTON + owner + ":" + action ("cmd:more", "pick:stage:team", "type:notes", "form")
SELECT = "revq:s:"  # SELECT + owner + ":" + action ("pick:priorities", "swap")
FORM_MODAL = "revq:form"  # the intake modal
TYPED_MODAL = "revq:typed:"  # TYPED_MODAL + slot: one field to type an answer where typing is not read
PROMPT_BUTTON = "revq:prompt:"  # PROMPT_BUTTON + action ("prep"): a channel prompt's button, the same for everyone
PREP = "prep"
FORM_FIELDS = {"company": "company", "role": "role", "stage": "stage", "company_type": "company_type",
               "priorities": "priorities"}  # fmt: skip
TYPED_FIELD = "answer"

_ELLIPSIS = "…"
_LIST_HEADING = "### "
_EXPORT_FILE = "interview-questions.txt"
_PURPOSE_COLOURS = {"opener": 0xE0A526, "duties": 0x3B82F6, "organization": 0x16A34A, "personal": 0x9333EA}
_FIELD_LABELS = {"company": "Company", "role": "Job title", "stage": "Who you'll talk to",
                 "company_type": "Kind of employer", "priorities": "What matters to you", "notes": "Notes"}  # fmt: skip


# --- escaping ------------------------------------------------------------------------------

# Characters that start markdown anywhere; `<` starts mentions, channels, timestamps and emoji.
_MARKDOWN = re.compile(r"([\\*_~|`<\[\]])")
# At the start of a line: headings, quotes, lists and subtext.
_LINE_START = re.compile(r"^(\s*|\s*[0-9]+(?=[.)]))([#>\-+.)])", re.MULTILINE)
_MENTION = re.compile(r"@(?=everyone|here|[!&]?[0-9])")
_ZWSP = "\u200b"


def escape(text: str) -> str:
    """The person's words as literal text: no markdown, no mentions, no links, no emoji codes.
    Only characters that would start markup get a backslash, so notifications stay readable."""
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _MARKDOWN.sub(r"\\\1", text))
    return _MENTION.sub("@" + _ZWSP, escaped)


def _cut_at(text: str, limit: int) -> int:
    """Where to cut escaped `text` to keep at most `limit` characters: never between a backslash
    and what it escapes, and at a space when one is close, so words stay whole."""
    at = max(limit, 1)
    backslashes = len(text[:at]) - len(text[:at].rstrip("\\"))
    if backslashes % 2:
        at -= 1
    space = text.rfind(" ", max(at - 40, 0), at)
    if space > 0:
        at = space + 1
    return max(at, 1) if not (at == 1 and text[0] == "\\") else 2


def _fit(text: str, limit: int) -> str:
    """Escaped `text` cut to `limit` characters, the ellipsis included, when it is longer."""
    if len(text) <= limit:
        return text
    return text[: _cut_at(text, limit - len(_ELLIPSIS))].rstrip() + _ELLIPSIS


def _split(text: str, limit: int) -> list[str]:
    """Escaped `text` in pieces of at most `limit` characters, at line breaks where possible."""
    return split_text(text, limit, _cut_at)


def _plain(text: str, limit: int) -> str:
    """One line of text for a place that shows no markdown (labels, options): just cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + _ELLIPSIS


# --- components ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Click:
    """A button or menu of revq's, read back from its custom id: whose it is and what it does."""

    owner: int
    action: str  # "cmd", "pick", "swap", "type" or "form"
    name: str = ""  # the command, or the slot
    arg: str = ""  # the command's argument, or the picked value of a button
    values: tuple[str, ...] = ()  # what was chosen in a menu
    custom_id: str = ""


@runtime_checkable
class ClickHandler(Protocol):
    """What the client does with a click (the app module's client implements it)."""

    async def revq_click(self, interaction: discord.Interaction[Any], click: Click) -> None: ...


def read_action(owner: str, action: str, values: Sequence[str] = (), custom_id: str = "") -> Click:
    head, _, rest = action.partition(":")
    name, _, arg = rest.partition(":")
    return Click(int(owner), head, name, arg, tuple(values), custom_id)


async def _hand_over(
    item: discord.ui.DynamicItem[Any], interaction: discord.Interaction[Any], values: Sequence[str]
) -> None:
    """A click on either kind of action item, read back from its custom id, for the client."""
    match = item.template.fullmatch(item.custom_id)
    if match is not None and isinstance(interaction.client, ClickHandler):
        await interaction.client.revq_click(
            interaction, read_action(match["owner"], match["action"], values, item.custom_id)
        )


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"revq:b:(?P<owner>[0-9]{1,20}):(?P<action>.+)"
):
    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _hand_over(self, interaction, ())


class ActionSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"revq:s:(?P<owner>[0-9]{1,20}):(?P<action>.+)"
):
    def __init__(self, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _hand_over(self, interaction, self.item.values)


@runtime_checkable
class PromptClickHandler(Protocol):
    """What the client does with a click on a channel prompt's button."""

    async def revq_prompt_click(self, interaction: discord.Interaction[Any], action: str) -> None: ...


class PromptButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"revq:prompt:(?P<action>[a-z]{1,20})"):
    """A channel prompt's button. It names no person: anyone in the channel may click it."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PromptButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        match = self.template.fullmatch(self.custom_id)
        if match is not None and isinstance(interaction.client, PromptClickHandler):
            await interaction.client.revq_prompt_click(interaction, match["action"])


DYNAMIC_ITEMS = (ActionButton, ActionSelect, PromptButton)


def _custom_id(prefix: str, owner: int, action: str) -> str:
    custom_id = f"{prefix}{owner}:{action}"
    if len(custom_id) > MAX_CUSTOM_ID:  # engine ids are short; a long one is a programming error
        raise ValueError(f"custom id over {MAX_CUSTOM_ID} characters: {custom_id[:40]}...")
    return custom_id


def _button(
    owner: int, action: str, label: str, *, style: discord.ButtonStyle = discord.ButtonStyle.secondary, row: int = 0
) -> ActionButton:
    button: discord.ui.Button[Any] = discord.ui.Button(
        label=_plain(label, MAX_BUTTON_LABEL) or "Choose",
        style=style,
        custom_id=_custom_id(BUTTON, owner, action),
        row=row,
    )
    return ActionButton(button)


def _options(choices: Sequence[Choice], *, hints: bool = True) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(
            label=_plain(choice.label or choice.value, MAX_OPTION_TEXT) or f"Option {number}",
            value=choice.value[:MAX_OPTION_TEXT],
            description=_plain(choice.hint, MAX_OPTION_TEXT) or None if hints else None,
        )
        for number, choice in enumerate(choices[:MAX_OPTIONS], 1)
    ]


def _select(
    owner: int, action: str, placeholder: str, options: list[discord.SelectOption], *, most: int = 1, row: int = 0
) -> ActionSelect:
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=_custom_id(SELECT, owner, action),
        placeholder=_plain(placeholder, 150),
        min_values=1,
        max_values=max(1, min(most, len(options))),
        options=options,
        row=row,
    )
    return ActionSelect(select)


# --- messages ------------------------------------------------------------------------------


@dataclass
class DiscordMessage:
    """One message: text, embeds, components and files, each within Discord's limits."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)

    def send_kwargs(self) -> dict[str, Any]:
        """Arguments for channel.send, response.send_message and followup.send alike."""
        kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.files
        return kwargs

    def sent(self) -> None:
        """Call once the message is sent. discord.py keeps a sent view for up to 15 minutes
        (a task and its items each); revq's buttons are dynamic items, found again by their
        custom ids, so the view object can go at once."""
        if self.view is not None:
            self.view.stop()

    def edit_kwargs(self) -> dict[str, Any]:
        """Arguments to put this message in place of another: what it lacks is cleared."""
        return {
            "content": self.content or None,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": discord.AllowedMentions.none(),
        }


class _Packer:
    """Fills messages in order: text joins the message before it while it fits; a message with a
    view or embeds is closed before anything else is added."""

    def __init__(self) -> None:
        self.out: list[DiscordMessage] = []
        self.current = DiscordMessage()

    def flush(self) -> None:
        if self.current.content or self.current.embeds or self.current.view or self.current.files:
            self.out.append(self.current)
        self.current = DiscordMessage()

    def text(self, escaped: str) -> None:
        for piece in _split(escaped, MAX_CONTENT):
            joined = f"{self.current.content}\n\n{piece}" if self.current.content else piece
            if self.current.embeds or self.current.view or len(joined) > MAX_CONTENT:
                self.flush()
                joined = piece
            self.current.content = joined

    def view(self, view: discord.ui.View) -> None:
        self.current.view = view
        self.flush()

    def embeds(self, embeds: Iterable[discord.Embed], heading: str = "") -> None:
        """Embeds over as few messages as fit; `heading` is the first message's text."""
        text_only = self.current.content and not (self.current.embeds or self.current.view or self.current.files)
        joined = f"{self.current.content}\n{heading}" if text_only else heading
        if not text_only or len(joined) > MAX_CONTENT:  # a note just before the list travels with it
            self.flush()
            joined = heading
        self.current.content = joined
        total = 0
        for embed in embeds:
            size = len(embed)
            if self.current.embeds and (len(self.current.embeds) >= MAX_EMBEDS or total + size > MAX_EMBED_TOTAL):
                self.flush()
                total = 0
            self.current.embeds.append(embed)
            total += size


def _say(packer: _Packer, say: Say) -> None:
    if say.text.strip():
        packer.text(("⚠️ " if say.tone == "error" else "") + escape(say.text))


def _ask(packer: _Packer, ask: Ask, owner: int, can_type: bool) -> None:
    lines = [escape(ask.prompt), f"-# Step {ask.step} of {ask.total_steps}"]
    if ask.earlier_answer == "skipped":
        lines.append("-# You skipped this before.")
    elif ask.earlier_answer:
        lines.append(_fit("-# Before, you said: " + escape(one_line(ask.earlier_answer, 900)[0]), 1000))
    if ask.free_text and can_type:
        lines.append("-# Or type your answer here." if ask.choices else "-# Type your answer here.")
    packer.text("\n".join(lines))
    view = _ask_view(ask, owner, can_type)
    if view.children:
        packer.view(view)
    else:
        packer.flush()


def _ask_view(ask: Ask, owner: int, can_type: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    slot = ask.slot
    if ask.multi and ask.choices:
        view.add_item(
            _select(owner, f"pick:{slot}", f"Pick up to {MAX_PRIORITIES}", _options(ask.choices), most=MAX_PRIORITIES)
        )
    elif len(ask.choices) > MAX_ROW_BUTTONS:
        view.add_item(_select(owner, f"pick:{slot}", "Choose one", _options(ask.choices)))
    else:
        for choice in ask.choices:
            view.add_item(_button(owner, f"pick:{slot}:{choice.value}", choice.label or choice.value))
    extra_row = 1
    if ask.free_text and not can_type:  # typed here, an answer would be public, and revq would not read it
        label = "Type in my own words" if ask.choices else "Type my answer"
        view.add_item(_button(owner, f"type:{slot}", label, style=discord.ButtonStyle.primary, row=extra_row))
    if ask.can_skip:  # the button names its question: a Skip left on an old message never skips a later one
        view.add_item(_button(owner, f"cmd:skip:{slot}", "Skip", row=extra_row))
    if ask.step > 1:
        view.add_item(_button(owner, f"cmd:back:{slot}", "Back", row=extra_row))
    return view


def _card_field(card: QuestionCard) -> tuple[str, str]:
    """A question as one embed field: the question as the name (bold), the notes as the value."""
    question = f"{card.number}. {escape(card.text)}"
    parts: list[str] = []
    if len(question) <= MAX_FIELD_NAME:
        name = question
    else:
        name = f"Question {card.number}"
        parts.append(_fit(f"**{escape(card.text)}**", 500))
    parts.append(f"**Why ask:** {escape(card.why)}")
    parts.append(f"**Listen for:** {escape(card.listen_for)}")
    if card.red_flags:
        parts.append("**Watch out for:** " + " / ".join(escape(flag) for flag in card.red_flags))
    if card.follow_ups:
        parts.append("**Follow up with:** " + " / ".join(escape(follow_up) for follow_up in card.follow_ups))
    value = "\n".join(parts)
    if len(value) > MAX_FIELD_VALUE:  # each part gets its share, so none is lost entirely
        share = (MAX_FIELD_VALUE - len(parts)) // len(parts)
        value = "\n".join(_fit(part, share) for part in parts)
    return name, value


def _list_embeds(question_set: QuestionSet) -> list[discord.Embed]:
    embeds: list[discord.Embed] = []
    for group in question_set.groups:
        label = _fit(escape(" ".join(group.label.split())), MAX_EMBED_TITLE - 20) or "Questions"
        colour = _PURPOSE_COLOURS.get(group.purpose, 0x6B7280)
        embed = discord.Embed(title=label, colour=colour)
        for card in group.questions:
            name, value = _card_field(card)
            if len(embed.fields) >= MAX_FIELDS or len(embed) + len(name) + len(value) > MAX_EMBED_TOTAL:
                embeds.append(embed)
                embed = discord.Embed(title=f"{label} (continued)", colour=colour)
            embed.add_field(name=name, value=value, inline=False)
        embeds.append(embed)
    if question_set.homework:
        lines = "\n".join(f"• {escape(' '.join(item.split()))}" for item in question_set.homework)
        for n, piece in enumerate(_split(lines, MAX_EMBED_DESCRIPTION)):
            title = "Before the interview, look up" + (" (continued)" if n else "")
            embeds.append(discord.Embed(title=title, description=piece, colour=0x6B7280))
    return embeds


def _list_view(question_set: QuestionSet, owner: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    styles = {"more": discord.ButtonStyle.primary, "restart": discord.ButtonStyle.danger}
    for choice in question_set.next_steps[:MAX_ROW_BUTTONS]:
        if choice.value == "swap":
            continue
        style = styles.get(choice.value, discord.ButtonStyle.secondary)
        view.add_item(_button(owner, f"cmd:{choice.value}", choice.label, style=style, row=0))
    cards = question_set.cards[:MAX_OPTIONS]
    if cards and any(choice.value == "swap" for choice in question_set.next_steps):
        options = [
            discord.SelectOption(
                label=f"Swap question {card.number}",
                value=card.id[:MAX_OPTION_TEXT],
                description=_plain(card.text, MAX_OPTION_TEXT),
            )
            for card in cards
        ]
        view.add_item(_select(owner, "swap", "Swap a question for another", options, row=1))
    return view


def list_heading(title: str) -> str:
    return _LIST_HEADING + _fit(escape(" ".join(title.split())), 300)


def _question_set(packer: _Packer, question_set: QuestionSet, owner: int) -> None:
    packer.embeds(_list_embeds(question_set), heading=list_heading(question_set.title))
    view = _list_view(question_set, owner)
    if view.children:
        packer.view(view)
    packer.flush()


def _field_errors(packer: _Packer, errors: FieldErrors, owner: int) -> None:
    lines = [f"**{_FIELD_LABELS.get(slot, slot)}:** {escape(message)}" for slot, message in errors.errors.items()]
    if not lines:
        return
    packer.text("⚠️ Please check these answers:\n" + "\n".join(lines))
    view = discord.ui.View(timeout=None)
    view.add_item(_button(owner, "form", "Fix my answers", style=discord.ButtonStyle.primary))
    packer.view(view)


def _document(packer: _Packer, document: Document) -> None:
    packer.flush()
    data = io.BytesIO(document.body.encode("utf-8"))
    packer.current.content = "Here's a plain-text copy of your questions to keep."
    packer.current.files.append(discord.File(data, filename=_EXPORT_FILE))
    packer.flush()


def messages(replies: Sequence[Reply], *, owner: int, can_type: bool) -> list[DiscordMessage]:
    """One engine turn's replies as few Discord messages as possible, in order, within Discord's
    limits. `owner` is the person whose buttons these are; `can_type` says whether a typed answer
    reaches revq here (its DM) or a button must open a text field instead."""
    packer = _Packer()
    for reply in replies:
        if isinstance(reply, Say):
            _say(packer, reply)
        elif isinstance(reply, Ask):
            _ask(packer, reply, owner, can_type)
        elif isinstance(reply, QuestionSet):
            _question_set(packer, reply, owner)
        elif isinstance(reply, FieldErrors):
            _field_errors(packer, reply, owner)
        elif isinstance(reply, Document):
            _document(packer, reply)
        else:
            raise TypeError(f"unknown reply {type(reply).__name__}")
    packer.flush()
    return packer.out


def is_whole_list(message: discord.Message | None) -> bool:
    """Whether a message holds a whole question list, from its title to its buttons, so that a
    changed list can take its place."""
    if message is None or not message.embeds:
        return False
    if not any(line.startswith(_LIST_HEADING) for line in message.content.split("\n")):
        return False
    ids = [getattr(child, "custom_id", "") for row in message.components for child in getattr(row, "children", ())]
    return any(str(custom_id).startswith(SELECT) and str(custom_id).endswith(":swap") for custom_id in ids)


def chosen_labels(message: discord.Message | None, click: Click) -> list[str]:
    """What the clicked button or the menu's picks say, read from the message itself."""
    chosen: list[str] = []
    for row in message.components if message is not None else ():
        for child in getattr(row, "children", ()):
            if getattr(child, "custom_id", None) != click.custom_id:
                continue
            if isinstance(child, discord.Button) and child.label:
                chosen.append(child.label)
            elif isinstance(child, discord.SelectMenu):
                chosen += [option.label for option in child.options if option.value in click.values]
    return chosen


def answered(message: discord.Message | None, answer: str = "") -> DiscordMessage | None:
    """A question once it has been answered: the same text without its buttons, and the answer
    underneath when there is one, so an old question can't be answered twice and the chat reads
    as it went. None for a message that keeps its buttons (a list)."""
    if message is None or message.embeds or not message.components:  # a list, or part of one, keeps its buttons
        return None
    line = "\n-# ✓ " + escape(" ".join(answer.split())) if answer.strip() else ""
    line = _fit(line, 300)
    return DiscordMessage(_fit(message.content, MAX_CONTENT - len(line)) + line)


def is_refusal(message: discord.Message | None) -> bool:
    """Whether a message is a refused form's answer, with its "Fix my answers" button."""
    ids = [
        getattr(child, "custom_id", "")
        for row in (message.components if message else ())
        for child in getattr(row, "children", ())
    ]
    return any(str(custom_id).startswith(BUTTON) and str(custom_id).endswith(":form") for custom_id in ids)


def not_yours() -> DiscordMessage:
    return DiscordMessage(
        "These buttons belong to someone else's questions, so I left them alone. "
        "Use /revq start to prepare your own; only you will see them."
    )


def notice(text: str) -> DiscordMessage:
    """A line of revq's own (no person's words in it)."""
    return DiscordMessage(text)


# --- channel prompts ----------------------------------------------------------------------

_PROMPT_COLOUR = 0x3B82F6


def channel_prompt(prompt: ChannelPrompt) -> DiscordMessage:
    """The post in a channel: the question, why candidates ask it, and a button for private prep.
    It says nothing about any person."""
    lines = (f"**{escape(prompt.question)}**", f"Why ask it: {escape(prompt.why)}", escape(prompt.invitation))
    embed = discord.Embed(
        title=_fit(escape(prompt.heading), MAX_EMBED_TITLE),
        description=_fit("\n\n".join(lines), MAX_EMBED_DESCRIPTION),
        colour=_PROMPT_COLOUR,
    )
    button: discord.ui.Button[Any] = discord.ui.Button(
        label=_plain(prompt.button, MAX_BUTTON_LABEL) or "Prep my questions",
        style=discord.ButtonStyle.primary,
        custom_id=PROMPT_BUTTON + PREP,
    )
    view = discord.ui.View(timeout=None)
    view.add_item(PromptButton(button))
    return DiscordMessage(embeds=[embed], view=view)


def prompt_preview(note: str, prompt: ChannelPrompt) -> DiscordMessage:
    """The post exactly as the channel will get it, under the note (revq's own words) that says it
    is a preview and when it will be posted."""
    post = channel_prompt(prompt)
    post.content = note[:MAX_CONTENT]
    return post


def notices(text: str) -> list[DiscordMessage]:
    """A reply of revq's own, already formatted (channel links, `commands`), over as many
    messages as it needs."""
    return [DiscordMessage(piece) for piece in _split(text, MAX_CONTENT)]


# --- modals --------------------------------------------------------------------------------


class _Form(discord.ui.Modal):
    """A modal whose submission the app reads from the interaction itself, so a form opened
    before a restart is still received after it."""


def form_modal(slots: Sequence[Slot], draft: Mapping[str, Sequence[str]] | None = None) -> discord.ui.Modal:
    """The intake form: company, job title, who they'll meet, kind of employer, and priorities
    to pick. Five fields, Discord's most; priorities in the person's own words are asked next
    when none is picked. `draft` fills the fields with what was typed before."""
    draft = draft or {}
    choices = {slot.name: slot.choices for slot in slots}
    modal = _Form(title="Prepare interview questions", custom_id=FORM_MODAL)

    def text(name: str, label: str, placeholder: str, *, required: bool) -> None:
        given = (draft.get(name) or [""])[0]
        modal.add_item(
            discord.ui.Label(
                text=label,
                component=discord.ui.TextInput(
                    custom_id=FORM_FIELDS[name],
                    placeholder=placeholder,
                    default=given[:MAX_NAME_CHARS] or None,
                    required=required,
                    max_length=MAX_NAME_CHARS,
                ),
            )
        )

    def select(name: str, label: str, description: str, *, most: int = 1) -> None:
        options = _options(choices.get(name, ()), hints=False)
        if not options:
            return
        kept = set(draft.get(name) or ())
        for option in options:
            option.default = option.value in kept
        modal.add_item(
            discord.ui.Label(
                text=label,
                description=description,
                component=discord.ui.Select(
                    custom_id=FORM_FIELDS[name],
                    options=options,
                    min_values=0,
                    max_values=min(most, len(options)),
                    required=False,
                ),
            )
        )

    text("company", "Company or organization", "For example, St Mary's Hospital", required=True)
    text("role", "Job title", "For example, Staff Nurse or Data Engineer", required=False)
    select("stage", "Who will you be talking to?", "Leave empty if you're not sure.")
    select("company_type", "What kind of employer is it?", "Leave empty if you're not sure.")
    select(
        "priorities",
        f"What matters most to you? Up to {MAX_PRIORITIES}",
        "Or leave it empty and say it in your own words next.",
        most=MAX_PRIORITIES,
    )
    return modal


def typed_modal(ask_prompt: str, slot: str) -> discord.ui.Modal:
    """One text field for an answer typed where revq cannot read messages (a server channel)."""
    modal = _Form(title="Your answer", custom_id=TYPED_MODAL + slot)
    modal.add_item(
        discord.ui.Label(
            text="In your own words",
            description=_plain(ask_prompt, MAX_LABEL_DESCRIPTION) or None,
            component=discord.ui.TextInput(
                custom_id=TYPED_FIELD, style=discord.TextStyle.paragraph, max_length=1000, required=True
            ),
        )
    )
    return modal

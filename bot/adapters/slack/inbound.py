"""Slack payloads read back into engine events: message markup, the modal's fields, button clicks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.render import ASK_BLOCK, CHOOSE, COMMAND, FORM_BLOCKS, FORM_INPUT, PICK
from bot.engine.events import Command, Form, Pick

_MARKUP = re.compile(r"<([^<>\n]*)>")
# A channel as Slack escapes it in a command (`should_escape: true`): <#C123|name>, or <#C123>.
_CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>$")
# A channel id typed as it is, such as C0123ABCD: a digit in it tells it from a word like CEO.
_CHANNEL_ID = re.compile(r"^[CG](?=[A-Z0-9]*\d)[A-Z0-9]{6,}$")
PROMPTS_WORD = "prompts"  # `/revq prompts ...`: the admin commands for channel prompts


@dataclass(frozen=True)
class PromptCommand:
    """`/revq prompts <action> [#channel] [words...]`, read but not yet checked."""

    action: str
    channel: str  # the channel's id; "" when none was named
    unlinked: str  # a "#name" that Slack did not turn into a channel link, so its id is unknown
    words: list[str]  # the rest, as the admin typed them


def channel_id(word: str) -> str | None:
    """The channel id in `<#C123|name>`, `<#C123>` or a bare `C123...`; None for anything else."""
    link = _CHANNEL_LINK.match(word)
    if link:
        return link.group(1)
    return word if _CHANNEL_ID.match(word) else None


def prompt_command(raw: str) -> PromptCommand | None:
    """The prompt command in a /revq command's raw text, or None when the text is something else."""
    words = raw.split()
    if not words or words[0].lower() != PROMPTS_WORD:
        return None
    action = plain_text(words[1]) if len(words) > 1 else "help"
    rest = words[2:]
    channel = unlinked = ""
    if rest:
        found = channel_id(rest[0])
        if found is not None:
            channel, rest = found, rest[1:]
        elif rest[0].startswith("#"):
            unlinked, rest = rest[0], rest[1:]
    return PromptCommand(action, channel, unlinked, [plain_text(word) for word in rest])


def unescape(text: str) -> str:
    """Slack sends `&`, `<` and `>` as entities; `&amp;` last, so "&amp;lt;" stays "&lt;"."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_text(text: str) -> str:
    """A message as the person saw it: mentions, channel links and links become their labels."""

    def label(match: re.Match[str]) -> str:
        target, _, shown = match.group(1).partition("|")
        if target.startswith(("@", "#")):
            return shown if shown.startswith(target[0]) else target[0] + (shown or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            if special in ("subteam", "date"):
                return shown
            return "@" + special  # channel, here, everyone: the word, never a ping
        return shown or target  # links and mailto

    return unescape(_MARKUP.sub(label, text))


def form_from_view(view: Mapping[str, Any], at: float) -> tuple[Form, bool]:
    """The submitted modal as one Form, and whether priorities were typed (errors show there)."""
    values: Mapping[str, Any] = view.get("state", {}).get("values", {})

    def element(block: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = values.get(FORM_BLOCKS[block], {}).get(FORM_INPUT) or {}
        return found

    def typed(block: str) -> str:
        return unescape(element(block).get("value") or "")

    def picked(block: str) -> tuple[str, ...]:
        return _selected(element(block))

    priorities_typed = typed("priorities_typed")
    form = Form(
        at,
        typed={"company": typed("company"), "role": typed("role"), "priorities": priorities_typed,
               "notes": typed("notes")},
        picked={"stage": picked("stage"), "company_type": picked("company_type"), "setting": picked("setting"),
                "priorities": picked("priorities_picked")},
    )  # fmt: skip
    return form, bool(priorities_typed.strip())


def event_from_action(action: Mapping[str, Any], state: Mapping[str, Any] | None, at: float) -> Command | Pick | None:
    """A click on one of our buttons or menus; None for an action that only holds state."""
    action_id = str(action.get("action_id", ""))
    if action_id.startswith(COMMAND):
        name = action_id[len(COMMAND) :].split(".", 1)[0]
        return Command(name, at, unescape(str(action.get("value") or "")))
    if not action_id.startswith(PICK):
        return None
    slot, _, suffix = action_id[len(PICK) :].partition(".")
    if suffix == "done":  # the Done button under a multi-select: the picks live in the message state
        block = (state or {}).get("values", {}).get(ASK_BLOCK + slot, {})
        return Pick(slot, _selected(block.get(CHOOSE + slot) or {}), at)
    if "selected_option" in action:
        return Pick(slot, _selected(action), at)
    return Pick(slot, (unescape(str(action.get("value") or "")),), at)


def _selected(element: Mapping[str, Any]) -> tuple[str, ...]:
    options = element.get("selected_options")
    if options is None:
        single = element.get("selected_option")
        options = [single] if single else []
    return tuple(unescape(str(option["value"])) for option in options if option and "value" in option)

"""Slack payloads read back into engine events: message markup, the modal's fields, button clicks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.adapters.slack.render import ASK_BLOCK, CHOOSE, COMMAND, FORM_BLOCKS, FORM_INPUT, PICK
from bot.engine.events import Command, Form, Pick

_MARKUP = re.compile(r"<([^<>\n]*)>")


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

"""Discord interactions read back into engine events: the modal's fields, `/revq ask` options,
clicks, and suggestions while the person types their priorities; and `/revq-prompts add`'s
options as the words the prompt commands read, with suggestions for its time zone and day."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import available_timezones

from bot.adapters.discord.render import FORM_FIELDS, TYPED_FIELD, Click
from bot.engine.events import Command, Form, Inbound, Pick
from bot.engine.replies import Choice
from bot.prompts.schedule import DAYS, MAX_MONTH_DAY
from question_bank.priorities import PriorityMatcher

Draft = dict[str, list[str]]  # what a form held, field by field, to fill it again
MAX_SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices
MAX_SUGGESTION_CHARS = 100

_LIST_BREAK = re.compile(r"(?:,|;|/|\+|&|\band\b|\by\b|\bet\b|\bund\b|\be\b)\s*", re.IGNORECASE)


def _fields(components: Any) -> Iterator[Mapping[str, Any]]:
    """Every input in a modal submission, however deep: labels hold one component, rows many."""
    if isinstance(components, Mapping):
        if "custom_id" in components and ("value" in components or "values" in components):
            yield components
        yield from _fields(components.get("component"))
        yield from _fields(components.get("components"))
    elif isinstance(components, list):
        for item in components:
            yield from _fields(item)


def modal_values(data: Mapping[str, Any]) -> Draft:
    """custom_id -> what was typed (one string) or picked (the chosen values)."""
    found: Draft = {}
    for item in _fields(data.get("components")):
        if "values" in item:
            found[str(item["custom_id"])] = [str(v) for v in item.get("values") or ()]
        else:
            found[str(item["custom_id"])] = [str(item.get("value") or "")]
    return found


def form_from_modal(data: Mapping[str, Any], at: float, notes: str = "") -> tuple[Form, Draft]:
    """The intake modal as one Form, and what it held (to fill it again if a field is refused).
    Priorities not picked are left to the conversation, which asks for them in the person's words.
    `notes` come from an earlier `/revq ask` whose fields are being fixed: the form has no room for them."""
    draft = {name: modal_values(data).get(field_id, []) for name, field_id in FORM_FIELDS.items()}
    if notes.strip():
        draft["notes"] = [notes]
    typed = {
        name: draft[name][0] for name in ("company", "role", "notes") if draft.get(name) and draft[name][0].strip()
    }
    picked = {name: tuple(draft[name]) for name in ("stage", "company_type", "priorities") if draft[name]}
    return Form(at, typed=typed, picked=picked, ask_missing=("priorities",)), draft


def typed_answer(data: Mapping[str, Any]) -> str:
    return (modal_values(data).get(TYPED_FIELD) or [""])[0]


def form_from_options(options: Mapping[str, str | None], at: float) -> tuple[Form, Draft]:
    """`/revq ask`'s options as one Form, filled as the modal fills it. Options left out are not given."""
    typed = {name: value for name in ("company", "role", "notes", "priorities") if (value := options.get(name))}
    picked = {name: (value,) for name in ("stage", "company_type", "setting", "level") if (value := options.get(name))}
    draft = {name: [value] for name, value in options.items() if value}
    return Form(at, typed=typed, picked=picked), draft


def event_from_click(click: Click, at: float) -> Inbound | None:
    """What a click means to the engine; None for clicks the app answers itself (open a form)."""
    if click.action == "cmd" and click.name:
        return Command(click.name, at, click.arg)
    if click.action == "pick" and click.name:
        values = click.values or ((click.arg,) if click.arg else ())
        return Pick(click.name, values, at) if values else None
    if click.action == "swap" and click.values:
        return Command("swap", at, click.values[0])
    return None


def priority_suggestions(current: str, choices: Sequence[Choice], matcher: PriorityMatcher) -> list[str]:
    """Completions for the priorities option: what is typed so far, with its last part completed
    to a topic. Topics the matcher reads in that part (typos and synonyms too) come first."""
    pieces = _LIST_BREAK.split(current)
    last = pieces[-1].strip() if pieces else ""
    kept = current[: len(current) - len(pieces[-1])] if pieces else ""
    kept = kept if not kept or kept.rstrip().endswith((",", ";")) else kept.rstrip() + " "
    labels = {choice.value: choice.label for choice in choices}
    order = [topic for topic in matcher.match(last) if topic in labels] if last else []
    needle = last.casefold()
    order += [
        value
        for value, label in labels.items()
        if value not in order and (not needle or needle in label.casefold() or value.startswith(needle))
    ]
    suggestions: list[str] = []
    for value in order:
        text = f"{kept}{labels[value]}" if kept else labels[value]
        if len(text) <= MAX_SUGGESTION_CHARS and text not in suggestions:
            suggestions.append(text)
    if current.strip() and len(current) <= MAX_SUGGESTION_CHARS and current not in suggestions:
        suggestions.append(current)  # what they typed is always a choice, even when nothing matches
    return suggestions[:MAX_SUGGESTIONS]


# --- /revq-prompts ---------------------------------------------------------------------------

# Shown before anything is typed: the zones most people pick, rather than the alphabet's first.
_COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "America/Mexico_City", "Asia/Kolkata",
    "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Africa/Lagos", "Africa/Johannesburg",
)  # fmt: skip


def prompt_words(cadence: str, day: str | None, at: str, timezone: str) -> list[str]:
    """`/revq-prompts add`'s options as the words an admin would type: `weekly monday 09:00 Europe/Berlin`.
    Each option stays one word, so `9 am` is refused as a time rather than read as two words."""
    return [cadence, *([day.strip()] if day and day.strip() else []), at.strip(), timezone.strip()]


@functools.cache
def _zones() -> tuple[str, ...]:
    """IANA names with a region (Europe/Berlin), and UTC; not the old aliases such as EST or GB."""
    return ("UTC", *sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith("Etc/")))


def timezone_suggestions(current: str) -> list[str]:
    """Time zones for what is typed: those starting with it first, then those with a part (the city)
    starting with it, then any containing it. Spaces count as underscores (New York)."""
    needle = current.strip().casefold().replace(" ", "_")
    if not needle:
        return list(_COMMON_ZONES[:MAX_SUGGESTIONS])
    zones = _zones()
    starts = [zone for zone in zones if zone.casefold().startswith(needle)]
    in_city = [zone for zone in zones if any(part.startswith(needle) for part in zone.casefold().split("/")[1:])]
    parts = [zone for zone in in_city if zone not in starts]
    inside = [zone for zone in zones if needle in zone.casefold() and zone not in starts and zone not in parts]
    return (starts + parts + inside)[:MAX_SUGGESTIONS]


def day_suggestions(cadence: str | None, current: str) -> list[str]:
    """Days for `/revq-prompts add`: weekdays for a weekly prompt, 1 to 28 for a monthly one."""
    needle = current.strip().casefold()
    if cadence == "monthly":
        days = [str(day) for day in range(1, MAX_MONTH_DAY + 1)]
    elif cadence == "daily":
        return []
    else:
        days = list(DAYS)
    return [day for day in days if day.startswith(needle)][:MAX_SUGGESTIONS]

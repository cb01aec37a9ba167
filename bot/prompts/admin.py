"""The admin commands for channel prompts, in the same words on Slack, Discord and the shell.

Front ends check who may use them and find the channel; this module reads the rest of the
words, changes the store and says what happened. Bad input changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.prompts.rotation import ChannelPrompt, channel_prompt, next_question, prompt_pool
from bot.prompts.schedule import Schedule, ScheduleError, When, next_occurrence, parse_when
from bot.store.base import SessionStore
from question_bank.model import TOPICS, Bank
from question_bank.priorities import PriorityMatcher

ACTIONS = ("add", "list", "pause", "resume", "remove", "preview", "topic", "help")
_ANY_TOPIC = ("any", "all", "none", "off", "clear")


def usage(command: str, options: bool = False) -> str:
    """What the commands are; `options` for a front end where they are filled in as options (Discord)."""
    if options:
        return "\n".join(
            (
                f"{command} add: pick the channel, how often, the time and the time zone (and the day for "
                "weekly or monthly posts)",
                f"{command} list: every channel's prompts in this server",
                f"{command} pause, resume, remove: stop, restart or delete a channel's prompts",
                f"{command} preview: see the next post, only you",
                f"{command} topic: keep to one topic for a season, in your own words (any to stop)",
            )
        )
    return "\n".join(
        (
            f"`{command} add #channel weekly monday 09:00 Europe/Berlin`: post a question every week "
            "(also `daily 08:30 <zone>` and `monthly <1-28> 12:00 <zone>`)",
            f"`{command} list`: every channel's prompts",
            f"`{command} pause #channel`, `resume #channel`, `remove #channel`",
            f"`{command} preview #channel`: see the next post, only you",
            f"`{command} topic #channel salary and offers`: keep to one topic for a season (`any` to stop)",
        )
    )


@dataclass(frozen=True)
class AdminRequest:
    action: str
    channel: str  # "" for list and help
    when: When | None = None
    topic: str | None = None  # for `topic`: the topic id, or None for any


@dataclass(frozen=True)
class AdminReply:
    text: str
    preview: ChannelPrompt | None = None  # `preview`: the next post, to show only to the admin
    changed: bool = False
    missing: bool = False  # the channel has no schedule to act on


def parse_request(action: str, channel: str, rest: list[str], matcher: PriorityMatcher, command: str) -> AdminRequest:
    """The request, or ScheduleError with a message naming the accepted forms."""
    action = action.lower()
    if action not in ACTIONS:
        raise ScheduleError(f"unknown action {action!r}; use one of: {', '.join(ACTIONS)}")
    if action in ("list", "help"):
        return AdminRequest(action, "")
    if not channel:
        raise ScheduleError(f"name the channel, as in `{command} {action} #careers`")
    if action == "add":
        return AdminRequest(action, channel, when=parse_when(rest))
    if action == "topic":
        return AdminRequest(action, channel, topic=_parse_topic(" ".join(rest), matcher))
    if rest:
        raise ScheduleError(f"`{action}` takes only the channel, as in `{command} {action} #careers`")
    return AdminRequest(action, channel)


def _parse_topic(text: str, matcher: PriorityMatcher) -> str | None:
    words = text.strip().lower()
    if words in _ANY_TOPIC:
        return None
    if words in TOPICS:
        return words
    found = matcher.match(words, limit=1) if words else []
    if not found:
        raise ScheduleError(
            f"I couldn't tell which topic {text!r} means; use words such as salary, training, remote work, "
            f"or a topic id ({', '.join(TOPICS)}), or `any`"
        )
    return found[0]


async def carry_out(
    request: AdminRequest,
    store: SessionStore,
    bank: Bank,
    *,
    platform: str,
    workspace: str,
    user: str,
    now: float,
    command: str,
    options: bool = False,
) -> AdminReply:
    """Do what the request says; the reply is for the admin alone. `options`: the front end takes
    the words as command options (Discord), which the help text then describes."""
    if request.action == "help":
        return AdminReply(usage(command, options))
    if request.action == "list":
        return AdminReply(await _list(store, bank, platform, workspace, now))
    channel = request.channel
    where = f"<#{channel}>"
    existing = await store.get_schedule(platform, channel)
    if request.action == "add":
        assert request.when is not None
        schedule = Schedule(
            platform, workspace, channel, request.when, topic=existing.topic if existing else None,
            created_by=user, not_before=now,
        )  # fmt: skip
        await store.save_schedule(schedule)
        text = f"Done: {where} gets a {_kind(schedule)} {request.when.describe()}. {_next_post(schedule, now)}"
        if existing:
            text += f" This replaces the earlier schedule ({existing.when.describe()})."
        return AdminReply(text, changed=True)
    if existing is None:
        return AdminReply(f"{where} has no prompts. Add them with {command} add {where} weekly monday 09:00 UTC.",
                          missing=True)  # fmt: skip
    if request.action == "remove":
        await store.delete_schedule(platform, channel)
        return AdminReply(f"Removed the prompts for {where}.", changed=True)
    if request.action == "pause":
        if existing.paused:
            return AdminReply(f"The prompts for {where} are already paused.")
        await store.save_schedule(existing.paused_as())
        return AdminReply(
            f"Paused the prompts for {where}. `{command} resume {where}` starts them again.", changed=True
        )
    if request.action == "resume":
        if not existing.paused:
            return AdminReply(f"The prompts for {where} are running. {_next_post(existing, now)}")
        resumed = replace(existing, paused=False, pause_reason="", not_before=now)
        await store.save_schedule(resumed)
        return AdminReply(f"Resumed the prompts for {where}. {_next_post(resumed, now)}", changed=True)
    if request.action == "topic":
        await store.save_schedule(replace(existing, topic=request.topic))
        about = f"about {bank.topics[request.topic].label.lower()}" if request.topic else "on any topic"
        text = f"From the next post on, {where} gets questions {about}."
        count = len(prompt_pool(bank, request.topic))
        if request.topic and count < 10:
            text += f" There are {count} general questions on it, so they repeat after {count} posts."
        return AdminReply(text, changed=True)
    prompt = await upcoming_prompt(store, bank, existing)
    if prompt is None:
        return AdminReply(f"I have no question for {where} on that topic. Try {command} topic {where} any.")
    return AdminReply(f"Preview of the next post in {where}, not posted. {_next_post(existing, now)}", preview=prompt)


async def upcoming_prompt(store: SessionStore, bank: Bank, schedule: Schedule) -> ChannelPrompt | None:
    question = next_question(
        prompt_pool(bank, schedule.topic), await store.posted_questions(schedule.platform, schedule.channel)
    )
    return channel_prompt(question, schedule.when.cadence) if question else None


async def _list(store: SessionStore, bank: Bank, platform: str, workspace: str, now: float) -> str:
    """This workspace's schedules, and those added from the shell (which knows no workspace); the
    shell lists all of the platform's."""
    schedules = [s for s in await store.list_schedules(platform) if workspace in ("", s.workspace) or not s.workspace]
    if not schedules:
        return "No channel has prompts yet."
    lines = []
    for schedule in schedules:
        topic = bank.topics[schedule.topic].label if schedule.topic else "any topic"
        state = f"paused ({schedule.pause_reason})" if schedule.pause_reason else "paused" if schedule.paused else ""
        line = f"<#{schedule.channel}>: {schedule.when.describe()}, {topic}"
        lines.append(f"{line}, {state}" if state else f"{line}. {_next_post(schedule, now)}")
    return "\n".join(lines)


def _kind(schedule: Schedule) -> str:
    return {"daily": "question of the day", "weekly": "question of the week", "monthly": "question of the month"}[
        schedule.when.cadence
    ]


def _next_post(schedule: Schedule, now: float) -> str:
    due = next_occurrence(schedule.when, now).due_at
    local = datetime.fromtimestamp(due, ZoneInfo(schedule.when.timezone))
    return f"Next post: {local:%a %d %b %Y, %H:%M} ({schedule.when.timezone})."

"""A channel prompt's schedule: what admins type, and when each occurrence is due.

Occurrences are computed in the schedule's own time zone, keyed by the period they belong to
(ISO week for weekly, the date for daily, year and month for monthly), so a restart, a second
process or a DST change can never make one period post twice. A wall time that does not exist
on a DST day is moved to the next minute that does; one that happens twice counts once.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

Cadence = Literal["daily", "weekly", "monthly"]
CADENCES: tuple[Cadence, ...] = ("daily", "weekly", "monthly")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ABBREVIATIONS = {day[:3]: n for n, day in enumerate(DAYS)} | {"tues": 1, "thur": 3, "thurs": 3}
MAX_MONTH_DAY = 28  # every month has it
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

FORMS = (
    "daily <HH:MM> <time zone>",
    "weekly <day> <HH:MM> <time zone>",
    f"monthly <1-{MAX_MONTH_DAY}> <HH:MM> <time zone>",
)
FORMS_TEXT = "; ".join(FORMS) + " (for example: weekly monday 09:00 Europe/Berlin)"


class ScheduleError(ValueError):
    """Words that do not make a schedule; the message names the accepted forms."""


@dataclass(frozen=True)
class When:
    cadence: Cadence
    day: int  # weekly: 0 is Monday; monthly: day of the month; daily: 0
    hour: int
    minute: int
    timezone: str

    def describe(self) -> str:
        clock = f"{self.hour:02d}:{self.minute:02d} {self.timezone}"
        if self.cadence == "weekly":
            return f"every {DAYS[self.day].capitalize()} at {clock}"
        if self.cadence == "monthly":
            return f"on day {self.day} of every month at {clock}"
        return f"every day at {clock}"


@dataclass(frozen=True)
class Schedule:
    """One channel's prompt. A channel has at most one; `topic` pins the questions to one topic."""

    platform: str
    workspace: str
    channel: str
    when: When
    topic: str | None = None
    paused: bool = False
    pause_reason: str = ""  # why revq paused it itself (the channel was lost); empty when an admin did
    created_by: str = ""  # the admin's platform user id, told when the channel is lost
    not_before: float = 0.0  # occurrences due before this (creation, resume) are not posted

    def paused_as(self, reason: str = "") -> Schedule:
        return replace(self, paused=True, pause_reason=reason)


@dataclass(frozen=True)
class Occurrence:
    key: str  # the period: "2026-W48", "2026-11-28" or "2026-11"
    due_at: float  # unix time


def parse_when(words: list[str]) -> When:
    """`weekly monday 09:00 Europe/Berlin` and the like, as words."""
    if not words or words[0].lower() not in CADENCES:
        raise ScheduleError(f"say how often: {FORMS_TEXT}")
    cadence: Cadence = {"daily": "daily", "weekly": "weekly", "monthly": "monthly"}[words[0].lower()]  # type: ignore[assignment]
    wanted = 3 if cadence == "daily" else 4
    if len(words) != wanted:
        raise ScheduleError(
            f"a {cadence} prompt takes: {FORMS[CADENCES.index(cadence)]} (for example: {_example(cadence)})"
        )
    day = 0
    if cadence == "weekly":
        day = _parse_day(words[1])
    elif cadence == "monthly":
        if not words[1].isdigit() or not 1 <= int(words[1]) <= MAX_MONTH_DAY:
            raise ScheduleError(f"the day of the month must be a number from 1 to {MAX_MONTH_DAY}, not {words[1]!r}")
        day = int(words[1])
    hour, minute = _parse_time(words[-2])
    return When(cadence, day, hour, minute, _parse_timezone(words[-1]))


def _example(cadence: Cadence) -> str:
    return {"daily": "daily 08:30 America/Chicago", "weekly": "weekly monday 09:00 Europe/Berlin",
            "monthly": "monthly 1 12:00 Asia/Kolkata"}[cadence]  # fmt: skip


def _parse_day(word: str) -> int:
    lowered = word.lower().rstrip(".")
    if lowered in DAYS:
        return DAYS.index(lowered)
    if lowered in _DAY_ABBREVIATIONS:
        return _DAY_ABBREVIATIONS[lowered]
    raise ScheduleError(f"{word!r} is not a day; use monday, tuesday, wednesday, thursday, friday, saturday or sunday")


def _parse_time(word: str) -> tuple[int, int]:
    found = _TIME.match(word)
    if not found:
        raise ScheduleError(f"{word!r} is not a time; use 24-hour HH:MM, from 00:00 to 23:59, such as 09:00 or 17:30")
    return int(found.group(1)), int(found.group(2))


def _parse_timezone(word: str) -> str:
    if word.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    try:
        if "/" in word or word in available_timezones():
            ZoneInfo(word)
            return word
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ScheduleError(
        f"{word!r} is not a time zone; use an IANA name such as Europe/Berlin, America/New_York, Asia/Kolkata or UTC"
    )


def latest_occurrence(when: When, now: float) -> Occurrence:
    """The most recent occurrence due at or before `now`."""
    zone = ZoneInfo(when.timezone)
    today = datetime.fromtimestamp(now, zone).date()
    for back in range(3):  # this period, else the one before (two, for a gap at the period's start)
        key, day = _period(when, today, back)
        due = _wall_time(day, when.hour, when.minute, zone)
        if due <= now:
            return Occurrence(key, due)
    raise AssertionError("an occurrence is always due within three periods")


def next_occurrence(when: When, now: float) -> Occurrence:
    """The first occurrence due after `now`."""
    zone = ZoneInfo(when.timezone)
    today = datetime.fromtimestamp(now, zone).date()
    for ahead in range(0, -3, -1):
        key, day = _period(when, today, ahead)
        due = _wall_time(day, when.hour, when.minute, zone)
        if due > now:
            return Occurrence(key, due)
    raise AssertionError("an occurrence is always due within three periods")


def _period(when: When, today: date, back: int) -> tuple[str, date]:
    """The period `back` periods before today's (negative: after), as (key, the day it posts)."""
    if when.cadence == "daily":
        day = today - timedelta(days=back)
        return day.isoformat(), day
    if when.cadence == "weekly":
        year, week, _ = (today - timedelta(weeks=back)).isocalendar()
        return f"{year}-W{week:02d}", date.fromisocalendar(year, week, when.day + 1)
    months = today.year * 12 + today.month - 1 - back
    year, month = divmod(months, 12)
    return f"{year}-{month + 1:02d}", date(year, month + 1, when.day)


def _wall_time(day: date, hour: int, minute: int, zone: ZoneInfo) -> float:
    """Unix time of a wall-clock time; a time skipped by DST moves to the next minute that exists,
    and one that happens twice is taken the first time."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone, fold=0)
    for _ in range(24 * 60):
        back = local.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) == local.replace(tzinfo=None):
            return local.timestamp()
        local += timedelta(minutes=1)
    raise ValueError(f"no valid local time near {day} {hour:02d}:{minute:02d} in {zone.key}")


def schedule_to_json(schedule: Schedule) -> str:
    return json.dumps(asdict(schedule), separators=(",", ":"), ensure_ascii=False)


def schedule_from_json(raw: str) -> Schedule:
    data = json.loads(raw)
    return Schedule(**{**data, "when": When(**data["when"])})

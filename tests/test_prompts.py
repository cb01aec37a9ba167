"""Channel prompts without a platform: schedules, occurrences, the due-check, rotation, admin words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Settings
from bot.engine.dialogue import EngineContext
from bot.prompts.admin import AdminReply, carry_out, parse_request
from bot.prompts.rotation import ChannelPrompt, next_question, prompt_pool
from bot.prompts.schedule import Schedule, ScheduleError, When, latest_occurrence, parse_when
from bot.prompts.scheduler import ChannelLost, Scheduler
from bot.store import MemoryStore, SessionStore, SQLiteStore

BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = BERLIN) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingPoster:
    """A Poster that keeps what it was asked to post; `lost` makes every post fail for good."""

    admin_command: str = "/revq prompts"
    posts: list[tuple[str, ChannelPrompt]] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    lost: str = ""
    flaky: int = 0  # this many posts fail for a passing reason first

    async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
        if self.lost:
            raise ChannelLost(self.lost)
        if self.flaky:
            self.flaky -= 1
            raise ConnectionError("network blip")
        self.posts.append((schedule.channel, prompt))
        return f"m{len(self.posts)}"

    async def tell_admin(self, schedule: Schedule, text: str) -> None:
        self.told.append(f"{schedule.created_by}: {text}")


@pytest.fixture
async def store() -> AsyncIterator[SessionStore]:
    made = MemoryStore()
    yield made
    await made.close()


def weekly(day: str = "monday", time: str = "09:00", zone: str = "Europe/Berlin") -> When:
    return parse_when(["weekly", day, time, zone])


async def run_minutes(scheduler: Scheduler, clock: Clock, start: float, end: float, step: float = 60.0) -> int:
    """Check every `step` seconds from start to end, as the loop would; return how many posts."""
    posts = 0
    clock.now = start
    while clock.now <= end:
        posts += len(await scheduler.check())
        clock.now += step
    return posts


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        ("weekly monday 09:00 Mars/Olympus", "'Mars/Olympus' is not a time zone; use an IANA name"),
        ("daily 25:00 UTC", "'25:00' is not a time; use 24-hour HH:MM"),
        ("daily 9am-ish UTC", "'9am-ish' is not a time"),
        ("weekly funday 09:00 UTC", "'funday' is not a day; use monday"),
        ("monthly 31 09:00 UTC", "a number from 1 to 28"),
        ("weekly 09:00 UTC", "a weekly prompt takes: weekly <day> <HH:MM> <time zone>"),
        ("sometimes 09:00 UTC", "say how often: daily <HH:MM>"),
    ],
)
def test_bad_schedules_are_refused_with_the_accepted_forms(words: str, needle: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_when(words.split())
    assert needle in str(refused.value)


def test_good_schedules_read_in_plain_words() -> None:
    assert weekly("Mon").describe() == "every Monday at 09:00 Europe/Berlin"
    assert parse_when(["daily", "7:05", "utc"]).describe() == "every day at 07:05 UTC"
    assert parse_when("monthly 28 12:00 Asia/Kolkata".split()).describe() == (
        "on day 28 of every month at 12:00 Asia/Kolkata"
    )


def test_occurrences_are_keyed_by_their_period_in_their_own_zone() -> None:
    monday = latest_occurrence(weekly(), at(2026, 11, 28, 12))
    assert monday.key == "2026-W48" and monday.due_at == at(2026, 11, 23, 9)
    # 04:00 on Monday in New York is 10:00 in Berlin: each schedule reads its own clock
    early_monday = at(2026, 11, 30, 4, 0, ZoneInfo("America/New_York"))
    assert latest_occurrence(weekly(), early_monday).key == "2026-W49"
    assert latest_occurrence(weekly(zone="America/New_York"), early_monday).key == "2026-W48"
    assert latest_occurrence(
        parse_when("monthly 1 08:00 UTC".split()), at(2026, 1, 1, 7, zone=ZoneInfo("UTC"))
    ).key == ("2025-12")


async def test_a_time_skipped_by_dst_posts_at_the_next_valid_minute(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(), Clock(0)
    await store.save_schedule(Schedule("slack", "T1", "C1", parse_when("daily 02:30 Europe/Berlin".split())))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    # 29 March 2026: Berlin jumps from 02:00 to 03:00; 02:30 never happens that night
    assert await run_minutes(scheduler, clock, at(2026, 3, 29, 0), at(2026, 3, 29, 3, 0) - 60) == 0
    clock.now = at(2026, 3, 29, 3, 0)
    assert await scheduler.check() == [("C1", "2026-03-29")]
    assert datetime.fromtimestamp(clock.now, BERLIN).hour == 3


async def test_a_time_that_happens_twice_posts_once(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(), Clock(0)
    await store.save_schedule(Schedule("slack", "T1", "C1", parse_when("daily 02:30 Europe/Berlin".split())))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    # 25 October 2026: Berlin goes from 03:00 back to 02:00, so 02:30 comes twice
    start, end = at(2026, 10, 25, 0), at(2026, 10, 25, 0) + 6 * 3600
    assert await run_minutes(scheduler, clock, start, end) == 1
    assert len(poster.posts) == 1


async def test_the_new_year_week_posts_once_in_each_iso_week(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(), Clock(0)
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    posted: list[tuple[str, str]] = []
    clock.now = at(2026, 12, 24)
    while clock.now <= at(2027, 1, 12):
        posted += await scheduler.check()
        clock.now += 1800
    # 28 Dec 2026 is in ISO week 53 of 2026; 4 and 11 Jan 2027 in weeks 1 and 2 of 2027
    assert posted == [("C1", "2026-W53"), ("C1", "2027-W01"), ("C1", "2027-W02")]


async def test_two_schedulers_over_one_sqlite_store_post_each_occurrence_once(
    tmp_path: Path, ctx: EngineContext
) -> None:
    stores = [await SQLiteStore.open(tmp_path / "shared.db") for _ in range(2)]
    poster, clock = RecordingPoster(), Clock(0)
    try:
        for channel in ("C1", "C2", "C3"):
            await stores[0].save_schedule(Schedule("slack", "T1", channel, parse_when("daily 09:00 UTC".split())))
        schedulers = [Scheduler(store, ctx.bank, {"slack": poster}, clock=clock) for store in stores]
        clock.now = at(2026, 11, 28, 8, 58, ZoneInfo("UTC"))
        for _ in range(12):  # both processes check every 30 s, at the same moments
            await asyncio.gather(*(scheduler.check() for scheduler in schedulers))
            clock.now += 30
        assert sorted(channel for channel, _ in poster.posts) == ["C1", "C2", "C3"]
        for channel, prompt in poster.posts:  # each post recorded once, readable from either process
            assert await stores[1].posted_questions("slack", channel) == [prompt.question_id]
    finally:
        for store in stores:
            await store.close()


async def test_downtime_past_the_grace_window_skips_the_post_and_within_it_posts_once(
    store: SessionStore, ctx: EngineContext
) -> None:
    poster, clock = RecordingPoster(), Clock(0)
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock, grace_hours=6)
    clock.now = at(2026, 11, 30, 9) + 7 * 3600  # down from before 09:00 until 16:00
    assert await scheduler.check() == []
    clock.now = at(2026, 12, 7, 9) + 5 * 3600  # the next week, back by 14:00
    assert await scheduler.check() == [("C1", "2026-W50")]
    clock.now += 600
    assert await scheduler.check() == []
    assert len(poster.posts) == 1


async def test_pause_resume_and_remove(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(), Clock(at(2026, 11, 27))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)

    async def admin(*words: str) -> AdminReply:
        action, channel, *rest = words
        request = parse_request(action, channel, list(rest), ctx.matcher, "/revq prompts")
        return await carry_out(request, store, ctx.bank, platform="slack", workspace="T1", user="U-admin",
                               now=clock.now, command="/revq prompts")  # fmt: skip

    added = await admin("add", "C1", "daily", "09:00", "Europe/Berlin")
    assert "Done: <#C1> gets a question of the day every day at 09:00 Europe/Berlin" in added.text
    assert "Next post: Fri 27 Nov 2026, 09:00" in added.text
    assert "already paused" not in (await admin("pause", "C1")).text
    clock.now = at(2026, 11, 27, 9, 1)
    assert await scheduler.check() == []  # paused
    clock.now = at(2026, 11, 27, 10)
    assert "Resumed" in (await admin("resume", "C1")).text
    assert await scheduler.check() == []  # today's was due before the resume: not posted late
    clock.now = at(2026, 11, 28, 9)
    assert await scheduler.check() == [("C1", "2026-11-28")]
    assert "Removed" in (await admin("remove", "C1")).text
    clock.now = at(2026, 11, 29, 9)
    assert await scheduler.check() == []
    assert "has no prompts" in (await admin("pause", "C1")).text


async def test_admin_words_topic_preview_list_and_replacing(store: SessionStore, ctx: EngineContext) -> None:
    now = at(2026, 11, 27)

    async def admin(*words: str) -> AdminReply:
        action, channel, *rest = words
        request = parse_request(action, channel, list(rest), ctx.matcher, "/revq prompts")
        return await carry_out(request, store, ctx.bank, platform="slack", workspace="T1", user="U-admin", now=now,
                               command="/revq prompts")  # fmt: skip

    await admin("add", "C1", "weekly", "monday", "09:00", "Europe/Berlin")
    assert "gets questions about pay" in (await admin("topic", "C1", "salary", "and", "offers")).text
    preview = await admin("preview", "C1")
    assert preview.preview is not None and preview.preview.topic == "compensation"
    assert preview.preview.heading == "Question of the week" and preview.preview.why.endswith(".")
    replaced = await admin("add", "C1", "daily", "08:00", "UTC")
    assert "This replaces the earlier schedule (every Monday at 09:00 Europe/Berlin)" in replaced.text
    listed = await admin("list", "")
    assert "<#C1>: every day at 08:00 UTC, Pay. Next post:" in listed.text  # the pinned topic is kept
    assert "any topic" in (await admin("topic", "C1", "any")).text
    with pytest.raises(ScheduleError, match="couldn't tell which topic"):
        parse_request("topic", "C1", ["zzzz"], ctx.matcher, "/revq prompts")
    with pytest.raises(ScheduleError, match="unknown action 'launch'"):
        parse_request("launch", "C1", [], ctx.matcher, "/revq prompts")
    with pytest.raises(ScheduleError, match="name the channel"):
        parse_request("pause", "", [], ctx.matcher, "/revq prompts")


async def test_bad_add_leaves_the_existing_schedule_untouched(store: SessionStore, ctx: EngineContext) -> None:
    original = Schedule("slack", "T1", "C1", weekly(), topic="learning")
    await store.save_schedule(original)
    for words in ("weekly monday 09:00 Mars/Olympus", "daily 25:00 UTC", "weekly funday 09:00 UTC"):
        with pytest.raises(ScheduleError):
            parse_request("add", "C1", words.split(), ctx.matcher, "/revq prompts")
    assert await store.list_schedules() == [original]


def test_rotation_never_repeats_until_the_pool_is_used_up(ctx: EngineContext) -> None:
    pool = prompt_pool(ctx.bank)
    assert len(pool) >= 50
    assert len({q.topics[0] for q in pool[:19]}) == 19  # one of each topic first
    assert len({q.purpose for q in pool[:10]}) == 3
    posted: list[str] = []
    for _ in range(len(pool)):
        question = next_question(pool, posted)
        assert question is not None and question.id not in posted
        posted.append(question.id)
    assert next_question(pool, posted) == pool[0]  # a new round starts
    pinned = prompt_pool(ctx.bank, "compensation")
    assert pinned and all("compensation" in q.topics for q in pinned)
    assert all(q.sensitivity == "low" and not q.role_families for q in pool)


async def test_the_scheduler_rotates_questions_across_posts(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(), Clock(0)
    await store.save_schedule(Schedule("slack", "T1", "C1", parse_when("daily 09:00 UTC".split())))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    for day in range(30):
        clock.now = at(2026, 1, 1, 9, zone=ZoneInfo("UTC")) + day * 86_400
        await scheduler.check()
    ids = [prompt.question_id for _, prompt in poster.posts]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert all("{" not in prompt.question and prompt.button == "Prep my questions" for _, prompt in poster.posts)


async def test_a_lost_channel_pauses_its_schedule_and_tells_the_admin(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(lost="the channel was deleted"), Clock(at(2026, 11, 30, 9, 1))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly(), created_by="U-admin"))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    assert await scheduler.check() == []
    paused = await store.get_schedule("slack", "C1")
    assert paused is not None and paused.paused and paused.pause_reason == "the channel was deleted"
    assert poster.told == [
        "U-admin: I paused the prompts for <#C1>: the channel was deleted. Fix that, then resume them with "
        "/revq prompts resume <#C1>, or remove them."
    ]
    poster.lost = ""
    clock.now += 7 * 86_400
    assert await scheduler.check() == []  # not retried forever: it stays paused


async def test_a_passing_failure_is_retried_at_the_next_check(store: SessionStore, ctx: EngineContext) -> None:
    poster, clock = RecordingPoster(flaky=1), Clock(at(2026, 11, 30, 9, 1))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    assert await scheduler.check() == []
    clock.now += 45
    assert await scheduler.check() == [("C1", "2026-W49")]


async def test_a_schedule_added_after_today_s_time_waits_for_the_next_one(
    store: SessionStore, ctx: EngineContext
) -> None:
    poster, clock = RecordingPoster(), Clock(at(2026, 11, 30, 10))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly(), not_before=clock.now))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    assert await scheduler.check() == []  # 09:00 today was before it existed
    clock.now = at(2026, 12, 7, 9) + timedelta(minutes=1).total_seconds()
    assert await scheduler.check() == [("C1", "2026-W50")]


def test_every_zone_name_the_scheduler_accepts_loads(ctx: EngineContext) -> None:
    for name in ("UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Adelaide"):
        assert latest_occurrence(parse_when(["daily", "09:00", name]), datetime.now(UTC).timestamp()).key


async def test_a_failure_that_does_not_pass_is_given_up_after_a_few_tries(
    store: SessionStore, ctx: EngineContext
) -> None:
    poster, clock = RecordingPoster(flaky=100), Clock(at(2026, 11, 30, 9, 1))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    scheduler = Scheduler(store, ctx.bank, {"slack": poster}, clock=clock)
    for _ in range(10):
        await scheduler.check()
        clock.now += 45
    assert poster.flaky == 100 - 3  # three tries, then this week's post is given up
    assert await store.claim_occurrence("slack", "C1", "2026-W49", clock.now) is False


async def test_a_shutdown_in_the_middle_of_a_post_gives_the_occurrence_back(
    store: SessionStore, ctx: EngineContext
) -> None:
    class HangingPoster(RecordingPoster):
        async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
            await asyncio.sleep(3600)
            return "never"

    clock = Clock(at(2026, 11, 30, 9, 1))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    checking = asyncio.create_task(Scheduler(store, ctx.bank, {"slack": HangingPoster()}, clock=clock).check())
    await asyncio.sleep(0.05)
    checking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await checking
    poster = RecordingPoster()
    assert await Scheduler(store, ctx.bank, {"slack": poster}, clock=clock).check() == [("C1", "2026-W49")]


async def test_pausing_a_lost_channel_keeps_what_an_admin_changed_meanwhile(
    store: SessionStore, ctx: EngineContext
) -> None:
    class RacingPoster(RecordingPoster):
        async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
            current = await store.get_schedule("slack", "C1")
            assert current is not None
            await store.save_schedule(replace(current, topic="learning"))  # an admin, at the same moment
            raise ChannelLost("the channel was deleted")

    clock = Clock(at(2026, 11, 30, 9, 1))
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    await Scheduler(store, ctx.bank, {"slack": RacingPoster()}, clock=clock).check()
    paused = await store.get_schedule("slack", "C1")
    assert paused is not None and paused.paused and paused.topic == "learning"


async def test_schedules_added_from_the_shell_show_in_the_chat_list(store: SessionStore, ctx: EngineContext) -> None:
    await store.save_schedule(Schedule("slack", "", "C1", weekly()))  # the shell knows no workspace
    await store.save_schedule(Schedule("slack", "T-other", "C2", weekly()))
    request = parse_request("list", "", [], ctx.matcher, "/revq prompts")
    listed = await carry_out(request, store, ctx.bank, platform="slack", workspace="T1", user="U1",
                             now=at(2026, 11, 27), command="/revq prompts")  # fmt: skip
    assert "<#C1>" in listed.text and "<#C2>" not in listed.text


async def test_a_topic_with_few_questions_says_they_will_repeat(store: SessionStore, ctx: EngineContext) -> None:
    await store.save_schedule(Schedule("slack", "T1", "C1", weekly()))
    request = parse_request("topic", "C1", ["remote", "work"], ctx.matcher, "/revq prompts")
    reply = await carry_out(request, store, ctx.bank, platform="slack", workspace="T1", user="U1",
                            now=at(2026, 11, 27), command="/revq prompts")  # fmt: skip
    count = len(prompt_pool(ctx.bank, "remote"))
    assert f"There are {count} general questions on it, so they repeat after {count} posts." in reply.text


def test_a_grace_window_shorter_than_two_checks_is_refused() -> None:
    with pytest.raises(ConfigError, match="REVQ_PROMPT_GRACE_HOURS"):
        Settings.from_env({"REVQ_PROMPT_GRACE_HOURS": "0"})
    assert (
        Settings.from_env({"REVQ_PROMPT_GRACE_HOURS": "1", "REVQ_PROMPT_CHECK_SECONDS": "60"}).prompt_grace_hours == 1
    )

"""The due-check: every so often, post each schedule's occurrence that is due, exactly once.

Exactly once holds across processes: an occurrence is posted only by whoever claims it in the
shared store first. Occurrences older than the grace window (downtime) are skipped rather than
posted late as a burst. A channel that is gone, or where revq may no longer post, pauses its
schedule and the admin who created it is told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from bot.metrics import PROMPT_CLAIMS_LOST, PROMPT_POSTS, count_error, timed_store
from bot.prompts.rotation import ChannelPrompt, channel_prompt, next_question, prompt_pool
from bot.prompts.schedule import Schedule, latest_occurrence
from bot.store.base import SessionStore
from question_bank.model import Bank

log = logging.getLogger(__name__)

DEFAULT_GRACE_HOURS = 6.0
CHECK_EVERY = 45.0  # seconds between due-checks
MAX_ATTEMPTS = 3  # failed posts of one occurrence before it is given up (an error that will not pass)


class ChannelLost(Exception):
    """The channel was deleted, revq was removed from it, or it may not post there any more."""


class Poster(Protocol):
    """What a front end gives the scheduler: posting a prompt, and a private word to an admin."""

    admin_command: str  # how admins reach the prompt commands there: "/revq prompts"

    async def post(self, schedule: Schedule, prompt: ChannelPrompt) -> str:
        """Post the prompt in the schedule's channel; return the message id. Raise ChannelLost
        when the channel cannot be posted in at all."""

    async def tell_admin(self, schedule: Schedule, text: str) -> None:
        """Say `text` privately to the admin who created the schedule, if that is possible."""


class Scheduler:
    def __init__(
        self,
        store: SessionStore,
        bank: Bank,
        posters: Mapping[str, Poster],
        *,
        grace_hours: float = DEFAULT_GRACE_HOURS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._bank = bank
        self._posters = posters
        self._grace = grace_hours * 3600
        self._clock = clock
        self._failures: dict[tuple[str, str, str], int] = {}  # failed attempts per occurrence, this process
        # The occurrence each channel last had claimed, by this process or another: a claim found
        # held is counted as lost once, not on every check through the grace window.
        self._claimed: dict[tuple[str, str], str] = {}

    async def check(self) -> list[tuple[str, str]]:
        """Post whatever is due now; return (channel, occurrence) of each post made by this process."""
        now = self._clock()
        posted: list[tuple[str, str]] = []
        for schedule in await self._store.list_schedules():
            poster = self._posters.get(schedule.platform)
            if poster is None or schedule.paused:
                continue
            occurrence = latest_occurrence(schedule.when, now)
            if occurrence.due_at < schedule.not_before or now - occurrence.due_at > self._grace:
                continue  # before the schedule existed, or missed during downtime: wait for the next
            where = (schedule.platform, schedule.channel, occurrence.key)
            channel = (schedule.platform, schedule.channel)
            with timed_store("claim_occurrence"):
                claimed = await self._store.claim_occurrence(*where, now)
            if not claimed:
                if self._claimed.get(channel) != occurrence.key:  # another process got there first
                    PROMPT_CLAIMS_LOST.labels(platform=schedule.platform).inc()
                    self._claimed[channel] = occurrence.key
                continue  # posted already, here or by another process
            self._claimed[channel] = occurrence.key
            if await self._post(schedule, poster, occurrence.key):
                posted.append((schedule.channel, occurrence.key))
        return posted

    async def _post(self, schedule: Schedule, poster: Poster, occurrence: str) -> bool:
        where = (schedule.platform, schedule.channel, occurrence)
        pool = prompt_pool(self._bank, schedule.topic)
        question = next_question(pool, await self._store.posted_questions(schedule.platform, schedule.channel))
        if question is None:
            log.error("channel prompt: no question for topic %s in %s:%s", schedule.topic, *where[:2])
            return False
        try:
            message_id = await poster.post(schedule, channel_prompt(question, schedule.when.cadence))
        except ChannelLost as lost:
            await self._pause_lost_channel(schedule, poster, str(lost))
            return False
        except asyncio.CancelledError:  # shutting down mid-post: let the next process or start retry
            await asyncio.shield(self._store.release_occurrence(*where))
            raise
        except Exception as exc:
            count_error("prompt_post", exc)
            # Most failures pass (network, rate limit), so a later check retries; one that keeps
            # failing is given up for this occurrence rather than retried all through the grace window.
            failures = self._failures[where] = self._failures.get(where, 0) + 1
            if failures >= MAX_ATTEMPTS:
                log.error("channel prompt in %s:%s for %s given up after %d failures (%s)", *where, failures,
                          type(exc).__name__)  # fmt: skip
                return False
            log.warning("channel prompt in %s:%s not posted (%s); will retry", *where[:2], type(exc).__name__)
            await self._store.release_occurrence(*where)
            return False
        PROMPT_POSTS.labels(platform=schedule.platform).inc()  # posted, even if recording it fails below
        await self._store.record_post(*where, question.id, message_id)
        log.info("channel prompt posted in %s:%s for %s", *where)
        return True

    async def _pause_lost_channel(self, schedule: Schedule, poster: Poster, reason: str) -> None:
        current = await self._store.get_schedule(schedule.platform, schedule.channel)
        if current is None:  # removed meanwhile: nothing to pause
            return
        schedule = current.paused_as(reason)  # keep what an admin changed meanwhile
        await self._store.save_schedule(schedule)
        log.warning("channel prompt paused in %s:%s: %s", schedule.platform, schedule.channel, reason)
        note = (
            f"I paused the prompts for <#{schedule.channel}>: {reason}. Fix that, then resume them with "
            f"{poster.admin_command} resume <#{schedule.channel}>, or remove them."
        )
        if not schedule.created_by:  # added from the shell: the log line is the note
            return
        try:
            await poster.tell_admin(schedule, note)
        except Exception as exc:  # the admin may have left too; the log line stays
            log.warning("could not tell the admin about the paused prompt: %s", type(exc).__name__)

    async def run(self, every: float = CHECK_EVERY) -> None:
        """Check now and then until cancelled. Start once per process."""
        while True:
            try:
                await self.check()
            except Exception as exc:
                count_error("prompt_check", exc)
                log.exception("channel prompt check failed; trying again in %.0f s", every)
            await asyncio.sleep(every)

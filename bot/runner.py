"""The one path every front end takes: lock the conversation, load, step, save, deliver.

Saving happens before delivery, so a crash between the two never loses an answer. A save that
loses a compare-and-set race (another replica wrote first) is retried from a fresh load.
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.engine.dialogue import EngineContext, StepResult, step
from bot.engine.events import Inbound
from bot.engine.replies import Reply, Say
from bot.engine.session import Session, SessionCorrupt, decode, encode
from bot.metrics import REPLIES, TURNS, count_error, timed_store
from bot.store.base import ConversationKey, SessionStore, VersionConflict

log = logging.getLogger(__name__)

Deliver = Callable[[Sequence[Reply]], Awaitable[None]]
StepFunction = Callable[[Session | None, Inbound, EngineContext], StepResult]

SAVE_ATTEMPTS = 8
RETRY_BASE_DELAY = 0.002  # seconds; doubled per attempt, with jitter so replicas drift apart
SORRY_RESET = Say(
    "Sorry, I couldn't read your saved answers, so we're starting fresh. Nothing else is affected.",
    "notice",
)
SORRY_BROKEN = Say("Sorry, something went wrong on my side. Please try that again in a moment.", "error")


@dataclass(frozen=True)
class Turn:
    """What one handled event came to, for front ends that do more than deliver the replies."""

    replies: tuple[Reply, ...]
    erased: bool = False  # the person's data was deleted ("forget")
    accepted: tuple[str, ...] = ()  # questions (slots) answered or skipped by this turn


class ConversationLocks:
    """One asyncio lock per conversation, dropped again once nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[ConversationKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: ConversationKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class ConversationRunner:
    def __init__(self, store: SessionStore, ctx: EngineContext, step_function: StepFunction = step) -> None:
        self.store = store
        self.ctx = ctx
        self._step = step_function
        self.locks = ConversationLocks()

    async def handle(
        self,
        key: ConversationKey,
        event: Inbound,
        deliver: Deliver,
        event_id: str | None = None,
    ) -> Turn:
        """Run one event for one conversation. A redelivered `event_id` is ignored."""
        async with self.locks.hold(key):
            claimed = False
            try:
                # Inside the try: a store that is down (Redis lost) fails here too, and the person
                # hears "try again in a moment" rather than nothing.
                if event_id is not None:
                    with timed_store("claim"):
                        fresh = await self.store.claim_event(event_id, event.at)
                    if not fresh:
                        log.info("ignored redelivered event %s for %s", event_id, key.log_id)
                        return Turn(())  # a redelivery: nothing run, nothing delivered
                    claimed = True
                TURNS.labels(platform=key.platform).inc()  # after the claim: a redelivery is no turn
                turn = await self._step_and_save(key, event)
            except Exception as exc:
                count_error("turn", exc)
                # The message of an exception may quote what the person typed: log where, not what.
                where = "".join(traceback.format_tb(exc.__traceback__))
                log.error(
                    "turn failed for %s (event %s): %s\n%s", key.log_id, type(event).__name__, type(exc).__name__, where
                )
                if claimed and event_id is not None:
                    try:
                        await self.store.release_event(event_id)  # let the platform's retry through
                    except Exception as again:  # the store is down: the claim's TTL frees it later
                        log.warning("could not release event %s: %s", event_id, type(again).__name__)
                turn = Turn((SORRY_BROKEN,))
            REPLIES.labels(platform=key.platform).inc(len(turn.replies))
            try:
                await deliver(turn.replies)
            except Exception as exc:  # the front end logs and handles it; here it is only counted
                count_error("delivery", exc)
                raise
            return turn

    async def _step_and_save(self, key: ConversationKey, event: Inbound) -> Turn:
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            with timed_store("get"):
                stored = await self.store.get(key, event.at)
            session, prefix = self._decode(key, stored.data if stored else None)
            # The engine is pure, so its CPU work (matching, tailoring) can run off the event loop,
            # which then keeps answering other people's events while this one is worked out.
            result = await asyncio.to_thread(self._step, session, event, self.ctx)
            if result.erase_user:
                removed = await self.store.delete_user(key)
                log.info("erased %d records at a person's request", removed)
                return Turn(result.replies, erased=True)
            if not result.changed:
                return Turn(prefix + result.replies, accepted=result.accepted)
            try:
                with timed_store("put"):
                    await self.store.put(
                        key,
                        encode(result.session),
                        expected_version=stored.version if stored else 0,
                        expires_at=result.session.expires_at,
                    )
            except VersionConflict:
                log.info("conflicting write for %s, attempt %d of %d", key.log_id, attempt, SAVE_ATTEMPTS)
                await asyncio.sleep(RETRY_BASE_DELAY * 2 ** min(attempt, 6) * random.uniform(0.5, 1.5))
                continue
            return Turn(prefix + result.replies, accepted=result.accepted)
        raise RuntimeError(f"could not save {key.log_id} after {SAVE_ATTEMPTS} attempts")

    async def peek(self, key: ConversationKey, now: float) -> Session | None:
        """The stored session, read only: for showing it outside the conversation (a home page).
        Nothing is written, so looking does not keep the data alive longer."""
        stored = await self.store.get(key, now)
        session, _ = self._decode(key, stored.data if stored else None)
        return session

    @staticmethod
    def _decode(key: ConversationKey, raw: str | None) -> tuple[Session | None, tuple[Reply, ...]]:
        if raw is None:
            return None, ()
        try:
            return decode(raw), ()
        except SessionCorrupt as exc:
            log.warning("reset unreadable session for %s: %s", key.log_id, exc)
            return None, (SORRY_RESET,)

"""A store shared by many revq processes: Redis, through redis-py's asyncio client.

Every check-then-write runs inside Redis as one Lua script, so two replicas never race. Expiry
is kept twice: the expiry time (on the callers' clock) is stored next to the data, so `get` and
claims answer exactly as the other stores do, and a Redis TTL deletes the key once it is due
without anyone having to purge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import AuthenticationError, ConnectionError, TimeoutError, WatchError

from bot.config import DEFAULT_REDIS_PREFIX, redact_url
from bot.prompts.schedule import Schedule, schedule_from_json, schedule_to_json
from bot.store.base import (
    EVENT_CLAIM_TTL,
    ConversationKey,
    StoppedWaiting,
    StoredSession,
    StoreUnavailable,
    VersionConflict,
)

log = logging.getLogger(__name__)

DEFAULT_PREFIX = DEFAULT_REDIS_PREFIX
CONNECT_TIMEOUT = 2.0  # seconds, per connection attempt
COMMAND_TIMEOUT = 2.0  # seconds, per command: a person waits at most about this long for "try again"
MAX_CONNECTIONS = 50
OPEN_WAIT = 30.0  # seconds in all that open() waits for Redis to answer at start-up
# A claim only has to outlive the time its occurrence may still be posted (REVQ_PROMPT_GRACE_HOURS,
# at most four weeks); what was posted is kept apart, for the rotation.
OCCURRENCE_CLAIM_MS = 35 * 86_400_000
MIN_TTL_MS = 1_000  # a key already due still lives a moment, so the write that made it returns sanely

# KEYS[1] session. ARGV: now. Returns {data, version} or nil; deletes the key once due.
_GET = """
local found = redis.call('HMGET', KEYS[1], 'd', 'v', 'e')
if not found[1] then return nil end
if tonumber(found[3]) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return nil
end
return {found[1], found[2]}
"""

# KEYS[1] session. ARGV: expected version, data, expires_at, ttl ms. Returns the new version or -1.
_PUT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'v', current + 1, 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return current + 1
"""

# KEYS[1] session. ARGV: now. Deletes it if due; returns 1 when it did.
_PURGE_ONE = """
local expires = redis.call('HGET', KEYS[1], 'e')
if expires and tonumber(expires) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# KEYS[1] event claim. ARGV: now, claim's expiry, ttl ms. SET NX does the work; the fallback only
# takes over a claim that is due on the callers' clock but whose Redis TTL has not run out yet.
_CLAIM_EVENT = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
if tonumber(redis.call('GET', KEYS[1]) or '0') <= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

# KEYS: occurrence claim, channel's posted order (sorted set), channel's posts (hash).
# ARGV: occurrence, post as JSON. Only a claimed occurrence is recorded, as in SQLite.
_RECORD_POST = """
local claimed_at = redis.call('GET', KEYS[1])
if not claimed_at then return 0 end
redis.call('ZADD', KEYS[2], claimed_at, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
"""


def _glob_escape(text: str) -> str:
    """SCAN's MATCH is a glob pattern: a prefix such as "a[1]:" must match literally."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _text(value: bytes | str) -> str:
    """The client decodes replies (decode_responses), but its types allow bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _ttl_ms(expires_at: float, now: float) -> int:
    return max(MIN_TTL_MS, math.ceil((expires_at - now) * 1000))


async def _wait_for_ping(
    client: aioredis.Redis, shown: str, wait: float, until: asyncio.Event | None, first_delay: float
) -> None:
    deadline = math.inf if until is not None else time.monotonic() + wait
    delay, attempt = first_delay, 1
    while True:
        try:
            await client.ping()
            break
        except AuthenticationError as exc:  # waiting will not fix a wrong password
            raise StoreUnavailable(f"Redis at {shown} refused the credentials: {exc}") from None
        except (ConnectionError, TimeoutError, OSError) as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreUnavailable(
                    f"Redis at {shown} did not answer after {attempt} attempts ({type(exc).__name__})"
                ) from None
            pause = min(delay, left)
            log.warning(
                "Redis at %s not answering (attempt %d, %s); retrying in %.2f s",
                shown, attempt, type(exc).__name__, pause,
            )  # fmt: skip
            if await _stopped_during(until, pause):
                raise StoppedWaiting(f"stopped while waiting for Redis at {shown}") from None
            delay, attempt = min(delay * 2, 5.0), attempt + 1
    if attempt > 1:
        log.warning("Redis at %s answered after %d attempts", shown, attempt)


async def _stopped_during(until: asyncio.Event | None, seconds: float) -> bool:
    """Sleep, cut short when `until` is set; True if it was."""
    if until is None:
        await asyncio.sleep(seconds)
        return False
    waiting = asyncio.ensure_future(until.wait())
    try:
        await asyncio.wait({waiting}, timeout=seconds)
    finally:
        waiting.cancel()
    return until.is_set()


class RedisStore:
    def __init__(
        self, client: aioredis.Redis, prefix: str = DEFAULT_PREFIX, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self.prefix = prefix
        # Turns the absolute expiry times callers pass into Redis TTLs; it must be the clock their
        # `now` comes from (tests pass a fixed one).
        self._clock = clock
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)
        self._purge_one = client.register_script(_PURGE_ONE)
        self._claim_event = client.register_script(_CLAIM_EVENT)
        self._record_post = client.register_script(_RECORD_POST)

    @staticmethod
    def client_for(
        url: str, connect_timeout: float = CONNECT_TIMEOUT, command_timeout: float = COMMAND_TIMEOUT
    ) -> aioredis.Redis:
        """A client over its own connection pool, with timeouts on connecting and on every command."""
        # Blocking: past MAX_CONNECTIONS commands in flight, the next waits for a free connection
        # (at most a command timeout) instead of failing at once under a burst.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=connect_timeout,
            socket_timeout=command_timeout,
            max_connections=MAX_CONNECTIONS,
            timeout=command_timeout,
            # One quick retry, on connection errors only: after Redis restarts, each pooled
            # connection is stale once. Timeouts are not retried, so a person waits one timeout.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1, (ConnectionError,)),
        )
        return aioredis.Redis(connection_pool=pool)

    @classmethod
    async def open(
        cls,
        url: str,
        prefix: str = DEFAULT_PREFIX,
        *,
        wait: float = OPEN_WAIT,
        until: asyncio.Event | None = None,
        first_delay: float = 0.25,
        clock: Callable[[], float] = time.time,
        command_timeout: float = COMMAND_TIMEOUT,
    ) -> RedisStore:
        """Connect, waiting (with backoff) for Redis to answer a PING: up to `wait` seconds, or, given
        `until`, for as long as it takes unless that event is set (a server told to stop)."""
        client = cls.client_for(url, command_timeout=command_timeout)
        try:  # whatever ends the wait (an error, a stop, a cancelled start-up) closes the pool
            await _wait_for_ping(client, redact_url(url), wait, until, first_delay)
        except BaseException:
            await client.aclose(close_connection_pool=True)
            raise
        return cls(client, prefix, clock)

    # --- keys -------------------------------------------------------------------------------

    def _session_key(self, key: ConversationKey) -> str:
        return f"{self.prefix}session:{key.platform}:{key.workspace}:{key.user}"

    def _event_key(self, event_id: str) -> str:
        return f"{self.prefix}event:{event_id}"

    def _schedules_key(self) -> str:
        return f"{self.prefix}schedules"

    def _occurrence_key(self, platform: str, channel: str, occurrence: str) -> str:
        return f"{self.prefix}occurrence:{platform}:{channel}:{occurrence}"

    def _posted_keys(self, platform: str, channel: str) -> tuple[str, str]:
        return f"{self.prefix}posted:{platform}:{channel}", f"{self.prefix}posts:{platform}:{channel}"

    def _installation_key(self, team: str) -> str:
        return f"{self.prefix}slack-installation:{team}"

    # --- sessions ---------------------------------------------------------------------------

    async def get(self, key: ConversationKey, now: float) -> StoredSession | None:
        found: Any = await self._get(keys=[self._session_key(key)], args=[repr(now)])
        if found is None:
            return None
        return StoredSession(str(found[0]), int(found[1]))

    async def put(self, key: ConversationKey, data: str, *, expected_version: int, expires_at: float) -> int:
        ttl = _ttl_ms(expires_at, self._clock())
        args: list[str | int] = [expected_version, data, repr(float(expires_at)), ttl]
        version = int(await self._put(keys=[self._session_key(key)], args=args))
        if version < 0:
            raise VersionConflict(str(key))
        return version

    async def delete_user(self, key: ConversationKey) -> int:
        # The session holds all a person said; claims hold only event ids. Schedules they added
        # stay, without their user id.
        removed = int(await self._redis.delete(self._session_key(key)))
        for schedule in await self.list_schedules(key.platform):
            if schedule.created_by == key.user:
                removed += await self._forget_creator(f"{schedule.platform}:{schedule.channel}", key.user)
        return removed

    async def _forget_creator(self, field: str, user: str) -> int:
        """Blank one schedule's creator, unless it was removed or changed hands meanwhile: WATCH
        makes the write fail if any schedule changed since the read, and it is read again."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self._schedules_key())
                    raw = await pipe.hget(self._schedules_key(), field)
                    schedule = schedule_from_json(_text(raw)) if raw else None
                    if schedule is None or schedule.created_by != user:
                        return 0
                    pipe.multi()  # type: ignore[no-untyped-call]  # untyped upstream
                    pipe.hset(self._schedules_key(), field, schedule_to_json(replace(schedule, created_by="")))
                    await pipe.execute()
                    return 1
                except WatchError:
                    continue

    async def delete_workspace(self, platform: str, workspace: str) -> int:
        removed = 0
        pattern = _glob_escape(f"{self.prefix}session:{platform}:{workspace}:") + "*"
        async for name in self._redis.scan_iter(match=pattern, count=500):
            removed += int(await self._redis.delete(name))
        for schedule in await self.list_schedules(platform):
            if schedule.workspace == workspace:
                removed += int(await self.delete_schedule(platform, schedule.channel))
        return removed

    async def claim_event(self, event_id: str, now: float, ttl: float = EVENT_CLAIM_TTL) -> bool:
        args: list[str | int] = [repr(now), repr(now + ttl), max(1, math.ceil(ttl * 1000))]
        return int(await self._claim_event(keys=[self._event_key(event_id)], args=args)) == 1

    async def release_event(self, event_id: str) -> None:
        await self._redis.delete(self._event_key(event_id))

    async def purge_expired(self, now: float) -> int:
        """TTLs delete due keys on their own; this only removes sessions due on the callers' clock
        sooner than their TTL (a clock that differs from this process's)."""
        removed = 0
        async for name in self._redis.scan_iter(match=_glob_escape(self.prefix) + "session:*", count=500):
            removed += int(await self._purge_one(keys=[name], args=[repr(now)]))
        return removed

    # --- channel prompts --------------------------------------------------------------------

    async def save_schedule(self, schedule: Schedule) -> Schedule | None:
        field = f"{schedule.platform}:{schedule.channel}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._schedules_key(), field)
            pipe.hset(self._schedules_key(), field, schedule_to_json(schedule))
            before, _ = await pipe.execute()
        return schedule_from_json(_text(before)) if before else None

    async def get_schedule(self, platform: str, channel: str) -> Schedule | None:
        raw = await self._redis.hget(self._schedules_key(), f"{platform}:{channel}")
        return schedule_from_json(_text(raw)) if raw else None

    async def list_schedules(self, platform: str | None = None) -> list[Schedule]:
        every = [schedule_from_json(_text(raw)) for raw in await self._redis.hvals(self._schedules_key())]
        mine = [s for s in every if platform in (None, s.platform)]
        return sorted(mine, key=lambda s: (s.platform, s.channel))

    async def delete_schedule(self, platform: str, channel: str) -> bool:
        # The schedule first: another process's check then never finds it without its claims.
        order, posts = self._posted_keys(platform, channel)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._schedules_key(), f"{platform}:{channel}")
            pipe.delete(order, posts)
            deleted, _ = await pipe.execute()
        claims = _glob_escape(f"{self.prefix}occurrence:{platform}:{channel}:") + "*"
        async for name in self._redis.scan_iter(match=claims, count=500):
            await self._redis.delete(name)
        return int(deleted) == 1

    async def claim_occurrence(self, platform: str, channel: str, occurrence: str, now: float) -> bool:
        key = self._occurrence_key(platform, channel, occurrence)
        return bool(await self._redis.set(key, repr(now), nx=True, px=OCCURRENCE_CLAIM_MS))

    async def release_occurrence(self, platform: str, channel: str, occurrence: str) -> None:
        order, posts = self._posted_keys(platform, channel)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._occurrence_key(platform, channel, occurrence))
            pipe.zrem(order, occurrence)
            pipe.hdel(posts, occurrence)
            await pipe.execute()

    async def record_post(
        self, platform: str, channel: str, occurrence: str, question_id: str, message_id: str
    ) -> None:
        post = json.dumps({"question": question_id, "message": message_id})
        keys = [self._occurrence_key(platform, channel, occurrence), *self._posted_keys(platform, channel)]
        await self._record_post(keys=keys, args=[occurrence, post])

    async def posted_questions(self, platform: str, channel: str) -> list[str]:
        order, posts = self._posted_keys(platform, channel)
        names: list[Any] = await self._redis.zrange(order, 0, -1)  # no scores asked: plain names
        occurrences = [_text(name) for name in names]
        if not occurrences:
            return []
        found = await self._redis.hmget(posts, occurrences)
        questions = [str(json.loads(_text(raw))["question"]) for raw in found if raw]
        return [q for q in questions if q]

    # --- Slack installations: one hash per team, a field per record ------------------------

    async def save_installation(self, team: str, name: str, data: str) -> None:
        await self._redis.hset(self._installation_key(team), name, data)

    async def get_installation(self, team: str, name: str) -> str | None:
        raw = await self._redis.hget(self._installation_key(team), name)
        return _text(raw) if raw is not None else None

    async def installation_names(self, team: str) -> list[str]:
        return sorted(_text(name) for name in await self._redis.hkeys(self._installation_key(team)))

    async def delete_installation(self, team: str, names: Sequence[str]) -> int:
        if not names:
            return 0
        return int(await self._redis.hdel(self._installation_key(team), *set(names)))

    async def close(self) -> None:
        await self._redis.aclose(close_connection_pool=True)  # the pool is its own: close it too

"""A store in this process's memory: for tests, benchmarks and `revq ask`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.prompts.schedule import Schedule
from bot.store.base import EVENT_CLAIM_TTL, ConversationKey, StoredSession, VersionConflict


class MemoryStore:
    def __init__(self) -> None:
        self._sessions: dict[ConversationKey, tuple[str, int, float]] = {}
        self._events: dict[str, float] = {}
        self._schedules: dict[tuple[str, str], Schedule] = {}
        # occurrence -> (claimed at, question id, message id)
        self._posts: dict[tuple[str, str, str], tuple[float, str, str]] = {}
        self._installations: dict[str, dict[str, str]] = {}

    async def get(self, key: ConversationKey, now: float) -> StoredSession | None:
        found = self._sessions.get(key)
        if found is None:
            return None
        data, version, expires_at = found
        if expires_at <= now:
            del self._sessions[key]
            return None
        return StoredSession(data, version)

    async def put(self, key: ConversationKey, data: str, *, expected_version: int, expires_at: float) -> int:
        found = self._sessions.get(key)
        current = found[1] if found else 0
        if current != expected_version:
            raise VersionConflict(str(key))
        self._sessions[key] = (data, current + 1, expires_at)
        return current + 1

    async def delete_user(self, key: ConversationKey) -> int:
        removed = 1 if self._sessions.pop(key, None) is not None else 0
        for channel, schedule in list(self._schedules.items()):
            if (schedule.platform, schedule.created_by) == (key.platform, key.user):
                self._schedules[channel] = replace(schedule, created_by="")
                removed += 1
        return removed

    async def delete_workspace(self, platform: str, workspace: str) -> int:
        sessions = [k for k in self._sessions if (k.platform, k.workspace) == (platform, workspace)]
        schedules = [s for s in self._schedules.values() if (s.platform, s.workspace) == (platform, workspace)]
        for key in sessions:
            del self._sessions[key]
        for schedule in schedules:
            await self.delete_schedule(platform, schedule.channel)
        return len(sessions) + len(schedules)

    async def claim_event(self, event_id: str, now: float, ttl: float = EVENT_CLAIM_TTL) -> bool:
        expires = self._events.get(event_id)
        if expires is not None and expires > now:
            return False
        self._events[event_id] = now + ttl
        return True

    async def release_event(self, event_id: str) -> None:
        self._events.pop(event_id, None)

    async def purge_expired(self, now: float) -> int:
        gone = [k for k, (_, _, expires_at) in self._sessions.items() if expires_at <= now]
        for key in gone:
            del self._sessions[key]
        self._events = {e: t for e, t in self._events.items() if t > now}
        return len(gone)

    async def save_schedule(self, schedule: Schedule) -> Schedule | None:
        key = (schedule.platform, schedule.channel)
        before = self._schedules.get(key)
        self._schedules[key] = schedule
        return before

    async def get_schedule(self, platform: str, channel: str) -> Schedule | None:
        return self._schedules.get((platform, channel))

    async def list_schedules(self, platform: str | None = None) -> list[Schedule]:
        return [s for key, s in sorted(self._schedules.items()) if platform in (None, s.platform)]

    async def delete_schedule(self, platform: str, channel: str) -> bool:
        for post in [p for p in self._posts if p[:2] == (platform, channel)]:
            del self._posts[post]
        return self._schedules.pop((platform, channel), None) is not None

    async def claim_occurrence(self, platform: str, channel: str, occurrence: str, now: float) -> bool:
        key = (platform, channel, occurrence)
        if key in self._posts:
            return False
        self._posts[key] = (now, "", "")
        return True

    async def release_occurrence(self, platform: str, channel: str, occurrence: str) -> None:
        self._posts.pop((platform, channel, occurrence), None)

    async def record_post(
        self, platform: str, channel: str, occurrence: str, question_id: str, message_id: str
    ) -> None:
        key = (platform, channel, occurrence)
        claimed_at = self._posts.get(key, (0.0, "", ""))[0]
        self._posts[key] = (claimed_at, question_id, message_id)

    async def posted_questions(self, platform: str, channel: str) -> list[str]:
        mine = [(at, q) for (p, c, _), (at, q, _) in self._posts.items() if (p, c) == (platform, channel) and q]
        return [q for _, q in sorted(mine)]

    async def save_installation(self, team: str, name: str, data: str) -> None:
        self._installations.setdefault(team, {})[name] = data

    async def get_installation(self, team: str, name: str) -> str | None:
        return self._installations.get(team, {}).get(name)

    async def installation_names(self, team: str) -> list[str]:
        return sorted(self._installations.get(team, {}))

    async def delete_installation(self, team: str, names: Sequence[str]) -> int:
        records = self._installations.get(team, {})
        removed = sum(1 for name in set(names) if records.pop(name, None) is not None)
        if not records:
            self._installations.pop(team, None)
        return removed

    async def close(self) -> None:
        self._sessions.clear()
        self._events.clear()

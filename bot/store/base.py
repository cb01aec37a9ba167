"""The one storage interface every front end shares through the runner."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.prompts.schedule import Schedule

EVENT_CLAIM_TTL = 86_400.0  # platforms redeliver within minutes; a day is plenty


@dataclass(frozen=True)
class ConversationKey:
    """Who a conversation belongs to. DMs, slash commands and buttons of one person share it."""

    platform: str
    workspace: str
    user: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.user}"

    @property
    def log_id(self) -> str:
        """How logs name this person: stable, but not their platform id."""
        digest = hashlib.sha256(str(self).encode("utf-8")).hexdigest()[:12]
        return f"{self.platform}:{digest}"


@dataclass(frozen=True)
class StoredSession:
    data: str  # the session as JSON text
    version: int  # bumped on every write; compare-and-set works on it


class VersionConflict(Exception):
    """Someone else wrote this conversation since it was read."""


class StoreUnavailable(RuntimeError):
    """The store did not answer at start-up (Redis unreachable); the message never holds a password."""


class StoppedWaiting(StoreUnavailable):
    """A server was told to stop while it was still waiting for the store to answer."""


class SessionStore(Protocol):
    async def get(self, key: ConversationKey, now: float) -> StoredSession | None:
        """The stored session, or None when there is none or it has expired."""

    async def put(self, key: ConversationKey, data: str, *, expected_version: int, expires_at: float) -> int:
        """Write if the stored version is `expected_version` (0: nothing stored); return the new
        version, or raise VersionConflict."""

    async def delete_user(self, key: ConversationKey) -> int:
        """Delete everything stored about this person: the conversation, and their user id on the
        channel-prompt schedules they added (the schedules stay); return how many records changed."""

    async def delete_workspace(self, platform: str, workspace: str) -> int:
        """Delete every conversation and channel-prompt schedule of one workspace (the app was
        uninstalled there), with what those channels were posted; return how many records went."""

    async def claim_event(self, event_id: str, now: float, ttl: float = EVENT_CLAIM_TTL) -> bool:
        """True the first time an event id is seen (within `ttl`), False for redeliveries."""

    async def release_event(self, event_id: str) -> None:
        """Forget a claim, so a redelivery of an event whose turn failed is handled after all."""

    async def purge_expired(self, now: float) -> int:
        """Delete expired sessions and event claims; return how many sessions went."""

    # Channel prompts. A channel has at most one schedule, keyed by (platform, channel).

    async def save_schedule(self, schedule: Schedule) -> Schedule | None:
        """Add or replace the channel's schedule; return the one it replaced."""

    async def get_schedule(self, platform: str, channel: str) -> Schedule | None: ...

    async def list_schedules(self, platform: str | None = None) -> list[Schedule]:
        """Every schedule (of one platform), paused ones included, by channel."""

    async def delete_schedule(self, platform: str, channel: str) -> bool:
        """Delete the channel's schedule and the record of what it posted."""

    async def claim_occurrence(self, platform: str, channel: str, occurrence: str, now: float) -> bool:
        """True for the one caller, across processes sharing the store, that may post it."""

    async def release_occurrence(self, platform: str, channel: str, occurrence: str) -> None:
        """Give a claim back after a post failed for a passing reason, so a later check retries."""

    async def record_post(
        self, platform: str, channel: str, occurrence: str, question_id: str, message_id: str
    ) -> None:
        """Note what a claimed occurrence posted (the rotation reads it back)."""

    async def posted_questions(self, platform: str, channel: str) -> list[str]:
        """Question ids posted in the channel, oldest first."""

    # Slack installations (OAuth). An install is one team's (workspace's or org's) records,
    # each a JSON text under a name ("bot", "installer", "installer:U123"); kept until deleted.

    async def save_installation(self, team: str, name: str, data: str) -> None: ...

    async def get_installation(self, team: str, name: str) -> str | None: ...

    async def installation_names(self, team: str) -> list[str]:
        """The names of the team's records, sorted."""

    async def delete_installation(self, team: str, names: Sequence[str]) -> int:
        """Delete those of the team's records; return how many went."""

    async def close(self) -> None: ...

"""The shared runner: lock, load, step, compare-and-set save, then deliver."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.dialogue import EngineContext, StepResult
from bot.engine.events import Command, Inbound, Text
from bot.engine.replies import Ask, Reply, Say
from bot.engine.session import Session, decode
from bot.runner import SORRY_BROKEN, SORRY_RESET, ConversationRunner
from bot.store import ConversationKey, MemoryStore, SQLiteStore

KEY = ConversationKey("console", "local", "tester")


class Inbox:
    def __init__(self) -> None:
        self.batches: list[list[Reply]] = []

    async def __call__(self, replies: Sequence[Reply]) -> None:
        self.batches.append(list(replies))

    @property
    def last(self) -> list[Reply]:
        return self.batches[-1]


def counting_step(session: Session | None, event: Inbound, ctx: EngineContext) -> StepResult:
    """A step that records every event it sees, so lost updates would show."""
    session = session or Session()
    label = event.text if isinstance(event, Text) else "start"
    return StepResult(replace(session, shown=(*session.shown, label), expires_at=event.at + 100), ())


class YieldingStore(MemoryStore):
    """A memory store that yields to the event loop inside every call, so turns interleave."""

    async def get(self, key: ConversationKey, now: float):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        found = await super().get(key, now)
        await asyncio.sleep(0)
        return found


async def test_turns_for_one_conversation_never_lose_updates(ctx: EngineContext) -> None:
    store = YieldingStore()
    runner = ConversationRunner(store, ctx, counting_step)
    inbox = Inbox()
    await asyncio.gather(*(runner.handle(KEY, Text(f"m{i}", 1.0 + i), inbox) for i in range(30)))
    stored = await store.get(KEY, 0)
    assert stored is not None
    assert sorted(decode(stored.data).shown) == sorted(f"m{i}" for i in range(30))
    assert len(runner.locks) == 0  # locks are dropped once idle


async def test_two_replicas_on_one_database_retry_on_conflict(ctx: EngineContext, tmp_path: Path) -> None:
    path = tmp_path / "revq.db"
    a, b = await SQLiteStore.open(path), await SQLiteStore.open(path)
    try:
        first, second = ConversationRunner(a, ctx, counting_step), ConversationRunner(b, ctx, counting_step)
        inbox = Inbox()
        await asyncio.gather(
            *(runner.handle(KEY, Text(f"{name}{i}", 1.0 + i), inbox)
              for i in range(8) for name, runner in (("a", first), ("b", second)))
        )  # fmt: skip
        stored = await a.get(KEY, 0)
        assert stored is not None
        assert len(decode(stored.data).shown) == 16
        assert SORRY_BROKEN not in [r for batch in inbox.batches for r in batch]
    finally:
        await a.close()
        await b.close()


async def test_a_conversation_resumes_after_restart_with_sqlite(ctx: EngineContext, tmp_path: Path) -> None:
    path = tmp_path / "revq.db"
    store = await SQLiteStore.open(path)
    runner = ConversationRunner(store, ctx)
    inbox = Inbox()
    await runner.handle(KEY, Command("start", 10.0), inbox)
    await runner.handle(KEY, Text("Acme", 11.0), inbox)
    await runner.handle(KEY, Text("Data Engineer", 12.0), inbox)
    await store.close()

    store = await SQLiteStore.open(path)
    try:
        runner = ConversationRunner(store, ctx)
        await runner.handle(KEY, Command("start", 13.0), inbox)
        assert [r.slot for r in inbox.last if isinstance(r, Ask)] == ["stage"]
        await runner.handle(KEY, Text("2", 14.0), inbox)
        stored = await store.get(KEY, 15.0)
        assert stored is not None
        session = decode(stored.data)
        assert (session.company, session.role, session.stage) == ("Acme", "Data Engineer", "hiring_manager")
    finally:
        await store.close()


async def test_corrupt_session_is_reset_with_an_apology_and_logged(
    ctx: EngineContext, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    await store.put(KEY, "{not json", expected_version=0, expires_at=1e12)
    inbox = Inbox()
    with caplog.at_level(logging.WARNING, logger="bot.runner"):
        await ConversationRunner(store, ctx).handle(KEY, Text("Acme", 5.0), inbox)
    assert inbox.last[0] == SORRY_RESET
    assert [r.slot for r in inbox.last if isinstance(r, Ask)] == ["company"]
    assert f"reset unreadable session for {KEY.log_id}" in caplog.text and "tester" not in caplog.text
    stored = await store.get(KEY, 6.0)
    assert stored is not None and decode(stored.data).started


async def test_wrong_schema_version_is_treated_as_corrupt(ctx: EngineContext) -> None:
    store = MemoryStore()
    await store.put(KEY, '{"schema": 999, "status": "intake"}', expected_version=0, expires_at=1e12)
    inbox = Inbox()
    await ConversationRunner(store, ctx).handle(KEY, Command("start", 5.0), inbox)
    assert inbox.last[0] == SORRY_RESET


async def test_forget_erases_everything_stored(ctx: EngineContext, tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "revq.db")
    try:
        runner = ConversationRunner(store, ctx)
        inbox = Inbox()
        await runner.handle(KEY, Command("start", 1.0), inbox)
        await runner.handle(KEY, Text("Acme", 2.0), inbox)
        await runner.handle(KEY, Text("Nurse", 3.0), inbox)
        await runner.handle(KEY, Text("forget", 4.0), inbox)
        assert "erased" in " ".join(r.text for r in inbox.last if isinstance(r, Say))
        assert await store.get(KEY, 5.0) is None
        async with store._db.execute("SELECT COUNT(*) FROM sessions") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == 0
    finally:
        await store.close()


async def test_redelivered_events_are_handled_once(ctx: EngineContext) -> None:
    store = MemoryStore()
    runner = ConversationRunner(store, ctx, counting_step)
    inbox = Inbox()
    for _ in range(3):
        await runner.handle(KEY, Text("once", 1.0), inbox, event_id="Ev-1")
    stored = await store.get(KEY, 0)
    assert stored is not None and decode(stored.data).shown == ("once",)
    assert len(inbox.batches) == 1


async def test_state_is_saved_before_delivery(ctx: EngineContext) -> None:
    store = MemoryStore()
    runner = ConversationRunner(store, ctx)

    async def broken_delivery(replies: Sequence[Reply]) -> None:
        raise ConnectionError("platform unreachable")

    await runner.handle(KEY, Command("start", 1.0), Inbox())
    with pytest.raises(ConnectionError):
        await runner.handle(KEY, Text("Acme", 2.0), broken_delivery)
    stored = await store.get(KEY, 3.0)
    assert stored is not None and decode(stored.data).company == "Acme"


async def test_a_failing_step_gives_a_plain_apology_not_a_traceback(
    ctx: EngineContext, caplog: pytest.LogCaptureFixture
) -> None:
    def exploding_step(session: Session | None, event: Inbound, ctx: EngineContext) -> StepResult:
        raise KeyError(event.text if isinstance(event, Text) else "")

    inbox = Inbox()
    store = MemoryStore()
    runner = ConversationRunner(store, ctx, exploding_step)
    with caplog.at_level(logging.ERROR, logger="bot.runner"):
        await runner.handle(KEY, Text("my secret salary hopes", 1.0), inbox, event_id="Ev-9")
    assert inbox.last == [SORRY_BROKEN]
    assert "Traceback" not in SORRY_BROKEN.text
    assert f"turn failed for {KEY.log_id}" in caplog.text and "KeyError" in caplog.text
    assert "salary hopes" not in caplog.text and "tester" not in caplog.text
    # the claim was released, so the platform's retry of the same event is handled
    assert await store.claim_event("Ev-9", 2.0) is True

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import pytest

from bot.engine.dialogue import EngineContext, StepResult, step
from bot.engine.events import Command, Inbound, Pick, Text
from bot.engine.replies import Ask, QuestionSet, Reply, Say
from bot.engine.session import Session
from question_bank import Bank, default_bank
from tests.redis_server import REDIS_SERVER, RedisServer

# A developer's own settings (a Slack client id, a Redis prefix, a port) must not change what the
# tests run, here or in the revq processes they start, which inherit this environment.
for _name in [n for n in os.environ if n.startswith(("REVQ_", "SLACK_", "DISCORD_")) or n == "PORT"]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def bank() -> Bank:
    return default_bank()


@pytest.fixture(scope="session")
def ctx(bank: Bank) -> EngineContext:
    return EngineContext.build(bank)


class Conversation:
    """Drives the engine the way a front end would, keeping the session between turns."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.session: Session | None = None
        self.clock = 1_000_000.0
        self.last: StepResult | None = None

    def now(self) -> float:
        self.clock += 5
        return self.clock

    def send(self, event: Inbound) -> tuple[Reply, ...]:
        self.last = step(self.session, event, self.ctx)
        self.session = self.last.session
        return self.last.replies

    def start(self) -> tuple[Reply, ...]:
        return self.send(Command("start", self.now()))

    def say(self, text: str) -> tuple[Reply, ...]:
        return self.send(Text(text, self.now()))

    def pick(self, slot: str, *values: str) -> tuple[Reply, ...]:
        return self.send(Pick(slot, values, self.now()))

    def command(self, name: str, arg: str = "") -> tuple[Reply, ...]:
        return self.send(Command(name, self.now(), arg))

    def complete(
        self,
        company: str = "Acme",
        role: str = "Data Engineer",
        stage: str = "2",
        company_type: str = "skip",
        priorities: str = "10, 7, 8",
        notes: str = "skip",
    ) -> QuestionSet:
        self.start()
        for answer in (company, role, stage, company_type, priorities):
            self.say(answer)
        return question_set(self.say(notes))


def asks(replies: Sequence[Reply]) -> list[Ask]:
    return [r for r in replies if isinstance(r, Ask)]


def said(replies: Sequence[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, Say))


def question_set(replies: Sequence[Reply]) -> QuestionSet:
    found = [r for r in replies if isinstance(r, QuestionSet)]
    assert len(found) == 1, f"expected one question set in {replies!r}"
    return found[0]


@pytest.fixture
def chat(ctx: EngineContext) -> Conversation:
    return Conversation(ctx)


QUALITY_REPORT: dict[str, str] = {}  # filled by test_tailoring_quality, printed after the run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if QUALITY_REPORT:
        terminalreporter.section("tailoring quality")
        for name, line in QUALITY_REPORT.items():
            terminalreporter.write_line(f"{name}: {line}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole test session; tests flush it before use."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not on PATH (apt-get install redis-server); the Redis store tests need a real one")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()

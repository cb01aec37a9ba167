"""Benchmark: scripted whole conversations through the shared runner.

For the memory store, the SQLite store and (when redis-server is installed) a Redis store on
loopback, it prints conversations per second and per-turn
p50/p99, and compares each with a no-op step driven through the same runner and store in the
same run (the baseline: everything but the engine's own work).

It also times the priority matcher on every labelled statement in tests/data, against a bare
lowercase-and-split of the same text: once on a fresh matcher (nothing cached yet) and then warm.

    python bench/engine.py [--conversations 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bot.engine.dialogue import EngineContext, StepResult, step
from bot.engine.events import Command, Inbound, Text
from bot.engine.replies import Reply
from bot.engine.session import Session
from bot.runner import ConversationRunner, StepFunction
from bot.store import ConversationKey, MemoryStore, SessionStore, SQLiteStore
from question_bank import default_bank

# start, then six answers; the last answer produces the question list
SCRIPT: tuple[str | None, ...] = (
    None,
    "Acme Analytics",
    "Data Engineer",
    "hiring manager",
    "scale-up",
    "I don't want to drive 80 miles each way, a learning budget and a real promotion path",
    "They just raised a Series B and are hiring a platform team",
)


def noop_step(session: Session | None, event: Inbound, ctx: EngineContext) -> StepResult:
    """The baseline: load and save the same amount of state, decide nothing."""
    session = session or Session()
    return StepResult(replace(session, updated_at=event.at, expires_at=event.at + ctx.session_ttl), ())


@dataclass
class Timings:
    turns: list[float] = field(default_factory=list)
    list_turns: list[float] = field(default_factory=list)  # the turn that builds the question list
    by_turn: dict[int, list[float]] = field(default_factory=dict)
    elapsed: float = 0.0
    conversations: int = 0


async def _discard(replies: Sequence[Reply]) -> None:
    return None


async def run_conversations(store: SessionStore, ctx: EngineContext, step_function: StepFunction, count: int,
                            offset: int, timings: Timings) -> None:  # fmt: skip
    runner = ConversationRunner(store, ctx, step_function)
    started = time.perf_counter()
    for n in range(count):
        key = ConversationKey("bench", "W1", f"U{offset + n}")
        for i, text in enumerate(SCRIPT):
            now = 1_800_000_000.0 + n + i
            event: Inbound = Command("start", now) if text is None else Text(text, now)
            t0 = time.perf_counter()
            await runner.handle(key, event, _discard)
            spent = time.perf_counter() - t0
            if text is not None:
                timings.turns.append(spent)
                timings.by_turn.setdefault(i, []).append(spent)
            if i == len(SCRIPT) - 1:
                timings.list_turns.append(spent)
    timings.elapsed += time.perf_counter() - started
    timings.conversations += count


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


async def bench_store(store: SessionStore, ctx: EngineContext, conversations: int, rounds: int) -> dict[str, Timings]:
    results = {"engine": Timings(), "no-op": Timings()}
    try:
        # warm-up, then alternate the two so drift on the machine hits both alike
        await run_conversations(store, ctx, step, 20, 10_000_000, Timings())
        for r in range(rounds):
            for label, fn in (("engine", step), ("no-op", noop_step)):
                offset = (r * 2 + (label == "no-op")) * conversations
                await run_conversations(store, ctx, fn, conversations, offset, results[label])
    finally:
        await store.close()
    return results


def report(name: str, results: dict[str, Timings]) -> None:
    print(f"\n{name} store")
    print(f"  {'step':<8} {'conv/s':>9} {'turn p50 ms':>12} {'turn p99 ms':>12} {'list-turn p99 ms':>17}")
    for label, t in results.items():
        rate = t.conversations / t.elapsed
        line = f"  {label:<8} {rate:>9.0f} {pct(t.turns, 50):>12.3f} {pct(t.turns, 99):>12.3f}"
        print(line + (f" {pct(t.list_turns, 99):>17.3f}" if label == "engine" else ""))
    engine, noop = results["engine"], results["no-op"]
    print("  engine p99 ms by turn: " + ", ".join(f"{i}: {pct(v, 99):.3f}" for i, v in sorted(engine.by_turn.items())))
    per_conv = (engine.elapsed / engine.conversations) / (noop.elapsed / noop.conversations)
    print(f"  ratio engine/no-op: whole conversation {per_conv:.2f}x, "
          f"turn p50 {statistics.median(engine.turns) / statistics.median(noop.turns):.2f}x, "
          f"turn p99 {pct(engine.turns, 99) / pct(noop.turns, 99):.2f}x")  # fmt: skip


def labelled_statements() -> list[str]:
    data_dir = Path(__file__).resolve().parent.parent / "tests" / "data"
    texts: list[str] = []
    for path in sorted(data_dir.glob("priority_statements*.yaml")):
        texts += [str(entry["text"]) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["statements"]]
    return texts


def bench_matcher(rounds: int) -> None:
    texts = labelled_statements()
    cold = EngineContext.build(default_bank()).matcher
    first: list[float] = []
    for text in texts:
        t0 = time.perf_counter()
        cold.read(text)
        first.append(time.perf_counter() - t0)
    warm: list[float] = []
    bare: list[float] = []
    for _ in range(rounds * 10):
        for text in texts:
            t0 = time.perf_counter()
            cold.read(text)
            t1 = time.perf_counter()
            text.lower().split()
            t2 = time.perf_counter()
            warm.append(t1 - t0)
            bare.append(t2 - t1)
    print(f"\npriority matcher, {len(texts)} labelled statements (µs per statement)")
    print(f"  {'':<22} {'p50':>8} {'p99':>8}")
    for label, values in (("first pass (cold)", first), ("warm", warm), ("bare lower+split", bare)):
        print(f"  {label:<22} {pct(values, 50) * 1000:>8.1f} {pct(values, 99) * 1000:>8.1f}")
    print(f"  ratio warm/bare: p50 {pct(warm, 50) / pct(bare, 50):.0f}x, p99 {pct(warm, 99) / pct(bare, 99):.0f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=400, help="per round and step (default 400)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_matcher(args.rounds)
    ctx = EngineContext.build(default_bank())
    print(f"{args.rounds} rounds x {args.conversations} conversations of {len(SCRIPT) - 1} turns (+ start) "
          f"per step; bank of {len(ctx.bank.questions)} questions; Python {sys.version.split()[0]}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        report("memory", await bench_store(MemoryStore(), ctx, args.conversations, args.rounds))
        sqlite = await SQLiteStore.open(Path(tmp) / "bench.db")
        report("sqlite", await bench_store(sqlite, ctx, args.conversations, args.rounds))
        server = shutil.which("redis-server")
        if server is None:
            print("\nredis-server is not installed: the Redis store is left out")
            return
        from bot.store.redis import RedisStore  # redis-py loads only when there is a server

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", tmp],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            redis = await RedisStore.open(f"redis://127.0.0.1:{port}/0", "bench:")
            report("redis (loopback)", await bench_store(redis, ctx, args.conversations, args.rounds))
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: the stores' get, compare-and-set put and event claim, and bytes per session.

Memory, SQLite (a WAL file in a temporary folder) and Redis (a redis-server this script starts
on a free loopback port, when one is installed) run the same operations in one run; each line
prints operations per second, p50 and p99, and the ratio of its p99 to memory's. It also prints
how many bytes a session holding one list takes, and how that grows with each `more`.

    python bench/store.py [--operations 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.dialogue import EngineContext, step
from bot.engine.events import Command, Text
from bot.engine.session import Session, encode
from bot.store import ConversationKey, MemoryStore, SessionStore, SQLiteStore
from question_bank import default_bank

NOW = 1_800_000_000.0
LATER = NOW + 86_400


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1e6


def session_sizes() -> list[tuple[str, int]]:
    """Bytes of the stored JSON after a whole conversation, then after each `more`."""
    ctx = EngineContext.build(default_bank())
    session: Session | None = None
    answers = ("Acme Analytics", "Data Engineer", "hiring manager", "scale-up",
               "remote work, a learning budget and a promotion path", "They raised a Series B")  # fmt: skip
    session = step(session, Command("start", NOW), ctx).session
    for n, text in enumerate(answers, 1):
        session = step(session, Text(text, NOW + n), ctx).session
    sizes = [("one list", len(encode(session).encode("utf-8")))]
    for n in range(1, 4):
        session = step(session, Command("more", NOW + 100 + n), ctx).session
        sizes.append((f"after more x{n}", len(encode(session).encode("utf-8"))))
    return sizes


async def time_each(operation: Callable[[int], Awaitable[object]], count: int) -> tuple[float, list[float]]:
    spent: list[float] = []
    started = time.perf_counter()
    for n in range(count):
        t0 = time.perf_counter()
        await operation(n)
        spent.append(time.perf_counter() - t0)
    return count / (time.perf_counter() - started), spent


async def bench_store(store: SessionStore, data: str, count: int) -> dict[str, tuple[float, list[float]]]:
    keys = [ConversationKey("bench", "W1", f"U{n}") for n in range(count)]
    versions = [0] * count

    async def put(n: int) -> None:
        versions[n] = await store.put(keys[n], data, expected_version=versions[n], expires_at=LATER)

    async def get(n: int) -> None:
        await store.get(keys[n], NOW)

    async def claim(n: int) -> None:
        await store.claim_event(f"event-{n}", NOW)

    results = {"put (new)": await time_each(put, count)}
    results["put (CAS)"] = await time_each(put, count)
    results["get"] = await time_each(get, count)
    results["claim"] = await time_each(claim, count)
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=3000, help="operations of each kind per store")
    args = parser.parse_args()
    sizes = session_sizes()
    print("bytes stored per session: " + ", ".join(f"{label} {size:,}" for label, size in sizes))
    data = "x" * sizes[0][1]
    rows: dict[str, dict[str, tuple[float, list[float]]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        memory = MemoryStore()
        rows["memory"] = await bench_store(memory, data, args.operations)
        sqlite = await SQLiteStore.open(Path(folder) / "bench.db")
        rows["sqlite"] = await bench_store(sqlite, data, args.operations)
        await sqlite.close()
        server = shutil.which("redis-server")
        if server is None:
            print("redis-server is not installed: the Redis row is left out")
        else:
            from bot.store.redis import RedisStore

            port = free_port()
            process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no", "--dir", folder],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                redis = await RedisStore.open(f"redis://127.0.0.1:{port}/0", "bench:", clock=lambda: NOW)
                rows["redis"] = await bench_store(redis, data, args.operations)
                await redis.close()
            finally:
                process.terminate()
                process.wait()
    print(f"\n{args.operations} operations of each kind per store (µs; ratio = p99 / memory's p99)")
    print(f"  {'store':<8} {'operation':<10} {'ops/s':>9} {'p50':>8} {'p99':>8} {'ratio':>7}")
    for name, results in rows.items():
        for operation, (rate, spent) in results.items():
            ratio = pct(spent, 99) / pct(rows["memory"][operation][1], 99)
            print(f"  {name:<8} {operation:<10} {rate:>9.0f} {pct(spent, 50):>8.1f} {pct(spent, 99):>8.1f} "
                  f"{ratio:>6.1f}x")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())

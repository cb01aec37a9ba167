"""How fast `/revq` is acknowledged over HTTP: revq's Slack app against a bare Bolt app, in one run.

Three processes besides this one, each on its own event loop:
- `revq slack --http`, the real thing: it acks, then opens the modal with views.open;
- the baseline, a bare Bolt app with the same stack whose /revq handler only acks;
- a local fake of Slack's Web API that both talk to.

This process sends signed slash commands with at most C in flight, alternating rounds between
the two apps so that drift in the machine hits both alike. It prints p50 and p99 for each app and
their ratio, and the CPU time each process spent per request. There are two load shapes:
- paced (the default): requests arrive at a fixed rate, as a busy workspace would send them, and
  latency counts from the moment each was due, so queueing is included;
- saturating (--rate 0): a new request as soon as one finishes. The machine's two cores are then
  the limit, so this measures throughput: revq's views.open per /revq shows up in full.

    .venv/bin/python bench/slack_latency.py                       # 3000 per app, 100/s, C=50
    .venv/bin/python bench/slack_latency.py --rate 0              # saturating, C=50
    .venv/bin/python bench/slack_latency.py --replicas            # Redis: two revq against one

With --replicas, two `revq slack --http` processes share one redis-server (started here), and the
same load goes either all to one of them or split evenly between the two, alternating rounds; the
ratio is two replicas against one, both on Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, signed_headers, slash_command_body  # noqa: E402

BARE = "bare Bolt, ack only"
REVQ = "revq (ack, then views.open)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- the child processes ------------------------------------------------------------------------


async def serve_fake() -> None:
    """The fake Web API on a free port, until SIGTERM; then how many calls of each kind it saw."""
    fake = FakeSlack()
    await fake.start()
    print(fake.api_url, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    counts: dict[str, int] = {}
    for call in fake.calls:
        counts[call.method] = counts.get(call.method, 0) + 1
    print(" ".join(f"{method}={n}" for method, n in sorted(counts.items())), flush=True)
    await fake.stop()


async def serve_bare(port: int, api_url: str) -> None:
    """The baseline: the same Bolt stack and client, with a /revq handler that only acks."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=FakeSlack.BOT_TOKEN, base_url=api_url, session=session)
        app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

        @app.command("/revq")
        async def only_ack(ack: AsyncAck) -> None:
            await ack()

        runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used
    requests: int = 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(session: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise SystemExit(f"a server stopped at start-up: {(await process.communicate())[1].decode()[-500:]}")
        try:
            async with session.post(url, data=b"") as response:
                if response.status in (200, 401):  # listening (an unsigned post gets 401)
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"{url} was not ready in 30 s")


async def send(
    session: aiohttp.ClientSession, url: str, count: int, concurrency: int, rate: float, tag: str
) -> list[float]:
    """`count` signed /revq requests, at most `concurrency` in flight, `rate` per second (0: each as
    soon as another finishes). Latency in ms, from when a request was due until its answer."""
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)
    start = time.perf_counter()

    async def one(number: int) -> None:
        due = start + number / rate if rate else 0.0
        if rate:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with slots:
            body = slash_command_body("", user_id=f"U{number % 500}", trigger_id=f"{tag}-{number}")
            headers = signed_headers(body)
            begun = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url} answered {response.status}")
            latencies.append((time.perf_counter() - (due if rate else begun)) * 1000)

    await asyncio.gather(*(one(n) for n in range(count)))
    return latencies


async def spawn(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args, cwd=REPO, env={**os.environ, **(env or {})}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.terminate()
    stdout, _ = await asyncio.wait_for(process.communicate(), 15)
    return stdout.decode()


async def bench(requests: int, concurrency: int, rate: float, rounds: int) -> None:
    revq_port, bare_port = free_port(), free_port()
    me = sys.executable
    fake = await spawn(me, __file__, "--fake")
    assert fake.stdout is not None
    api_url = (await fake.stdout.readline()).decode().strip()
    results = {BARE: Result(), REVQ: Result()}
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
            "REVQ_DB": str(Path(tmp) / "revq.db"), "REVQ_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        revq = await spawn(me, "-m", "bot.cli", "slack", "--http", "--port", str(revq_port), env=env)
        bare = await spawn(me, __file__, "--bare", str(bare_port), "--api-url", api_url)
        targets = {BARE: f"http://127.0.0.1:{bare_port}/slack/events", REVQ: f"http://127.0.0.1:{revq_port}/slack/events"}
        pids = {"load": os.getpid(), "fake": fake.pid, "app": 0}
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                for (name, url), process in zip(targets.items(), (bare, revq), strict=True):
                    await wait_ready(session, url, process)
                    await send(session, url, min(300, requests), concurrency, rate, f"warm-{name[:4]}")
                per_round = max(1, requests // rounds)
                for number in range(rounds):
                    order = list(targets.items())
                    for name, url in order if number % 2 == 0 else reversed(order):
                        pids["app"] = (bare if name == BARE else revq).pid
                        before = {who: cpu_seconds(pid) for who, pid in pids.items()}
                        results[name].latencies += await send(
                            session, url, per_round, concurrency, rate, f"r{number}-{name[:4]}"
                        )
                        await asyncio.sleep(0.5)  # revq finishes the views.open calls it queued after acking
                        for who, pid in pids.items():
                            results[name].cpu[who] = results[name].cpu.get(who, 0.0) + cpu_seconds(pid) - before[who]
                        results[name].requests += per_round
        finally:
            await stop(revq)
            await stop(bare)
            calls = (await stop(fake)).strip().splitlines()

    shape = f"paced at {rate:g}/s" if rate else "saturating"
    print(f"/revq over HTTP: {results[REVQ].requests} requests per app, {shape}, at most {concurrency} in flight")
    print(f"{'app':<30} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}   CPU ms per request: app, fake Slack, load")
    for name, result in results.items():
        values, cpu = result.latencies, {k: v * 1000 / result.requests for k, v in result.cpu.items()}
        print(
            f"{name:<30} {percentile(values, 50):>8.2f} {percentile(values, 99):>8.2f} {statistics.fmean(values):>8.2f}"
            f"   {cpu['app']:.2f}, {cpu['fake']:.2f}, {cpu['load']:.2f}"
        )
    bare_values, revq_values = results[BARE].latencies, results[REVQ].latencies
    p50 = percentile(revq_values, 50) / percentile(bare_values, 50)
    p99 = percentile(revq_values, 99) / percentile(bare_values, 99)
    print(f"ratio revq / bare: p50 {p50:.3f} (target <= 1.15), p99 {p99:.3f} (target <= 1.3)")
    print(f"fake Slack saw: {calls[-1] if calls else 'nothing'}")


async def bench_replicas(requests: int, concurrency: int, rate: float, rounds: int) -> None:
    import shutil
    import subprocess

    server = shutil.which("redis-server")
    if server is None:
        print("--replicas needs redis-server (apt-get install redis-server)")
        return
    me = sys.executable
    fake = await spawn(me, __file__, "--fake")
    assert fake.stdout is not None
    api_url = (await fake.stdout.readline()).decode().strip()
    redis_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        redis = subprocess.Popen([server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", tmp],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
            "REVQ_STORE": f"redis://127.0.0.1:{redis_port}/0", "REVQ_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        ports = (free_port(), free_port())
        replicas = [await spawn(me, "-m", "bot.cli", "slack", "--http", "--port", str(port), env=env) for port in ports]
        urls = [f"http://127.0.0.1:{port}/slack/events" for port in ports]
        results = {"one replica": Result(), "two replicas": Result()}
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                for url, process in zip(urls, replicas, strict=True):
                    await wait_ready(session, url, process)
                    await send(session, url, min(300, requests), concurrency, rate, "warm")
                per_round = max(2, requests // rounds)
                for number in range(rounds):
                    order = ["one replica", "two replicas"] if number % 2 == 0 else ["two replicas", "one replica"]
                    for name in order:
                        if name == "one replica":
                            latencies = await send(session, urls[0], per_round, concurrency, rate, f"r{number}-one")
                        else:
                            halves = await asyncio.gather(*(
                                send(session, url, per_round // 2, concurrency // 2, rate / 2, f"r{number}-two{n}")
                                for n, url in enumerate(urls)
                            ))  # fmt: skip
                            latencies = [value for half in halves for value in half]
                        results[name].latencies += latencies
                        results[name].requests += len(latencies)
                        await asyncio.sleep(0.5)
        finally:
            for process in replicas:
                await stop(process)
            await stop(fake)
            redis.terminate()
            redis.wait()
    shape = f"paced at {rate:g}/s" if rate else "saturating"
    print(f"/revq over HTTP on Redis: {results['one replica'].requests} requests each way, {shape}")
    print(f"{'':<14} {'p50 ms':>8} {'p99 ms':>8}")
    for name, result in results.items():
        print(f"{name:<14} {percentile(result.latencies, 50):>8.2f} {percentile(result.latencies, 99):>8.2f}")
    one, two = results["one replica"].latencies, results["two replicas"].latencies
    print(f"ratio two / one: p50 {percentile(two, 50) / percentile(one, 50):.3f}, "
          f"p99 {percentile(two, 99) / percentile(one, 99):.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per app (default 3000)")
    parser.add_argument("--concurrency", type=int, default=50, help="at most this many in flight (default 50)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second; 0 saturates (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--replicas", action="store_true", help="two revq replicas on Redis against one")
    parser.add_argument("--fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake:
        asyncio.run(serve_fake())
    elif args.bare:
        asyncio.run(serve_bare(args.bare, args.api_url))
    elif args.replicas:
        asyncio.run(bench_replicas(args.requests, args.concurrency, args.rate, args.rounds))
    else:
        asyncio.run(bench(args.requests, args.concurrency, args.rate, args.rounds))


if __name__ == "__main__":
    main()

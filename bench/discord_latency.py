"""How fast revq answers a Discord interaction: revq's bot against a bare discord.py client, in one run.

Three processes:
- this one runs two local Discord fakes (REST API and gateway), one per bot, and drives them;
- `revq discord`, the real thing with its SQLite store: `/revq ask` defers at once, then runs
  the turn and sends the list as a follow-up;
- the baseline, a bare discord.py client with the same intents whose `/revq ask` only defers
  and then sends one short follow-up.

For each interaction, time runs from dispatching INTERACTION_CREATE at the fake gateway to the
interaction callback POST arriving at the fake REST API, both stamped in this process. The
follow-up that holds the list is timed too. Interactions come from 500 different people at a
fixed rate, in rounds that alternate between the two bots so that drift in the machine hits
both alike. It prints p50 and p99 for each bot and their ratios, and the CPU time each process
spent per interaction.

    .venv/bin/python bench/discord_latency.py                      # 1500 per bot, 50/s
    .venv/bin/python bench/discord_latency.py --rate 200 --interactions 3000
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.discord_api import GUILD_ID, USER_ID, FakeDiscord  # noqa: E402

BARE = "bare discord.py, defer only"
REVQ = "revq (defer, then the list)"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = r"/webhooks/\d+/[^/]+"
PEOPLE = 500
OPTIONS = {"company": "Acme", "stage": "hiring_manager", "priorities": "remote work and a learning budget"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the baseline bot (a child process) ---------------------------------------------------------


async def run_bare(api_url: str, gateway_url: str) -> None:
    import discord
    import yarl
    from discord import app_commands

    discord.http.Route.BASE = api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    intents = discord.Intents.none()
    intents.guilds = intents.dm_messages = True
    client = discord.Client(intents=intents, allowed_mentions=discord.AllowedMentions.none())
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    group = app_commands.Group(name="revq", description="baseline")

    @group.command(name="ask", description="baseline")
    async def ask(interaction: discord.Interaction[Any], company: str, stage: str, priorities: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("Here are your questions.", ephemeral=True)

    tree.add_command(group)
    await client.start(FakeDiscord.TOKEN)


# --- driving the fakes --------------------------------------------------------------------------


@dataclass
class Result:
    callbacks: list[float] = field(default_factory=list)  # ms from dispatch to the callback
    answers: list[float] = field(default_factory=list)  # ms from dispatch to the first follow-up
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used
    interactions: int = 0


async def drive(fake: FakeDiscord, count: int, rate: float, first_user: int) -> tuple[list[float], list[float]]:
    """`count` `/revq ask` interactions at `rate` per second; latencies in ms."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    before = len(fake.calls("POST", CALLBACK)), len(fake.calls("POST", FOLLOWUP))

    async def one(number: int) -> None:
        await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
        user = USER_ID + (first_user + number) % PEOPLE
        data = fake.slash_command("revq", "ask", OPTIONS, user_id=user, guild_id=GUILD_ID)
        sent[data["token"]] = time.monotonic()
        await fake.dispatch("INTERACTION_CREATE", data)

    await asyncio.gather(*(one(n) for n in range(count)))
    callbacks = (await fake.wait_for_call("POST", CALLBACK, count=before[0] + count, timeout=60))[before[0] :]
    answers = (await fake.wait_for_call("POST", FOLLOWUP, count=before[1] + count, timeout=60))[before[1] :]

    def latencies(requests: list[Any]) -> list[float]:
        found = []
        for request in requests:
            token = next(t for t in sent if t in request.path)
            found.append((request.at - sent[token]) * 1000)
        return found

    return latencies(callbacks), latencies(answers)


async def until_answering(fake: FakeDiscord, process: asyncio.subprocess.Process) -> None:
    """Wait for the bot to connect and answer one interaction (discord.py waits for guilds first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.returncode is not None:
            _, err = await process.communicate()
            raise SystemExit(f"a bot stopped at start-up: {err.decode()[-800:]}")
        if fake.live_sessions():
            data = fake.slash_command("revq", "ask", OPTIONS, guild_id=GUILD_ID)
            await fake.dispatch("INTERACTION_CREATE", data)
            await asyncio.sleep(0.5)
            if any(data["token"] in r.path for r in fake.calls("POST", CALLBACK)):
                return
        else:
            await asyncio.sleep(0.2)
    raise SystemExit("a bot did not answer within 60 s")


async def spawn(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args, cwd=REPO, env={**os.environ, **(env or {})}, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await asyncio.wait_for(process.communicate(), 15)


async def bench(interactions: int, rate: float, rounds: int, warmup: int) -> None:
    results = {BARE: Result(), REVQ: Result()}
    async with FakeDiscord() as bare_fake, FakeDiscord() as revq_fake:
        fakes = {BARE: bare_fake, REVQ: revq_fake}
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "DISCORD_TOKEN": FakeDiscord.TOKEN, "DISCORD_API_URL": revq_fake.api_url,
                "DISCORD_GATEWAY_URL": revq_fake.gateway_url, "REVQ_DB": str(Path(tmp) / "revq.db"),
                "REVQ_LOG_LEVEL": "WARNING",
            }  # fmt: skip
            me = sys.executable
            processes = {
                BARE: await spawn(me, __file__, "--bare", bare_fake.api_url, bare_fake.gateway_url),
                REVQ: await spawn(me, "-m", "bot.cli", "discord", env=env),
            }
            try:
                for name, fake in fakes.items():
                    await until_answering(fake, processes[name])
                    await drive(fake, warmup, rate, 0)
                per_round = max(1, interactions // rounds)
                for number in range(rounds):
                    order = list(fakes) if number % 2 == 0 else list(reversed(fakes))
                    for name in order:
                        pids = {"bot": processes[name].pid, "fakes and load": os.getpid()}
                        before = {who: cpu_seconds(pid) for who, pid in pids.items()}
                        callbacks, answers = await drive(fakes[name], per_round, rate, number * per_round)
                        result = results[name]
                        result.callbacks += callbacks
                        result.answers += answers
                        result.interactions += per_round
                        for who, pid in pids.items():
                            result.cpu[who] = result.cpu.get(who, 0.0) + cpu_seconds(pid) - before[who]
            finally:
                for process in processes.values():
                    await stop(process)

    print(f"/revq ask on Discord: {results[REVQ].interactions} interactions per bot, paced at {rate:g}/s")
    print(f"{'bot':<30} {'callback p50':>12} {'p99':>8} {'mean':>8}   {'answer p50':>10} {'p99':>8}   CPU ms each")
    for name, result in results.items():
        cpu = {who: seconds * 1000 / result.interactions for who, seconds in result.cpu.items()}
        print(
            f"{name:<30} {percentile(result.callbacks, 50):>12.2f} {percentile(result.callbacks, 99):>8.2f}"
            f" {statistics.fmean(result.callbacks):>8.2f}   {percentile(result.answers, 50):>10.2f}"
            f" {percentile(result.answers, 99):>8.2f}   bot {cpu['bot']:.2f}, fakes {cpu['fakes and load']:.2f}"
        )
    bare, revq = results[BARE], results[REVQ]
    for what, ours, theirs, target in (
        ("callback", revq.callbacks, bare.callbacks, "(target p50 <= 1.15, p99 <= 1.3)"),
        ("answer", revq.answers, bare.answers, "(the list against a one-line follow-up)"),
    ):
        p50 = percentile(ours, 50) / percentile(theirs, 50)
        p99 = percentile(ours, 99) / percentile(theirs, 99)
        print(f"ratio revq / bare, {what}: p50 {p50:.3f}, p99 {p99:.3f} {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1500, help="interactions per bot (default 1500)")
    parser.add_argument("--rate", type=float, default=50.0, help="interactions per second (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured interactions per bot first (default 100)")
    parser.add_argument("--bare", nargs=2, metavar=("API_URL", "GATEWAY_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        asyncio.run(run_bare(*args.bare))
    else:
        asyncio.run(bench(args.interactions, args.rate, args.rounds, args.warmup))


if __name__ == "__main__":
    main()

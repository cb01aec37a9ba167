"""Benchmark: question selection time, on the real bank and on synthetic banks up to 10,000.

Each size is also timed with a bare linear scan of the same bank (the baseline: touching every
question once and taking the first N), so the ratio shows what ranking costs and whether it
grows faster than the bank does.

    python bench/tailor.py [--calls 400]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.tailor import Catalog, Profile, select
from question_bank import Bank, Question, default_bank
from question_bank.model import COMPANY_TYPES, PURPOSES, STAGES, TOPICS

WORDS = (
    "team budget travel review launch client plan growth office schedule tools training pay leave "
    "manager goal risk customer data code report policy mentor hire project shift quarter market"
).split()


def synthetic_bank(size: int, real: Bank, seed: int = 7) -> Bank:
    rng = random.Random(seed)
    questions = []
    for n in range(size):
        topics = tuple(dict.fromkeys(rng.sample(TOPICS, rng.randint(1, 3))))
        text = " ".join(rng.sample(WORDS, 6)) + f" number {n}?"
        questions.append(
            Question(
                id=f"{topics[0]}-synthetic-{n}",
                text="How " + text,
                purpose=rng.choice(PURPOSES),
                topics=topics,
                stages=tuple(rng.sample(STAGES, rng.randint(1, 4))),
                why="Synthetic.",
                listen_for="Synthetic.",
                company_types=tuple(rng.sample(COMPANY_TYPES, 1)) if rng.random() < 0.1 else (),
                sensitivity=rng.choice(("low", "low", "low", "medium", "high")),
            )
        )
    return Bank(tuple(questions), real.topics, real.lexicons)


def profiles(seed: int = 11) -> list[Profile]:
    rng = random.Random(seed)
    return [
        Profile(
            company="Acme",
            role=rng.choice((None, "Data Engineer", "Nurse", "Sales Manager")),
            stage=rng.choice((None, *STAGES)),
            company_type=rng.choice((None, *COMPANY_TYPES)),
            priorities=tuple(rng.sample(TOPICS, rng.randint(1, 5))),
        )
        for _ in range(50)
    ]


def bare_scan(catalog: Catalog, profile: Profile, count: int) -> list[Question]:
    """The baseline: look at every question once, keep the first `count` that fit the stage."""
    fit = [q for q in catalog.questions if profile.stage is None or profile.stage in q.stages]
    return fit[:count]


def timings(fn: Callable[[Catalog, Profile, int], list[Question]], catalog: Catalog, calls: int) -> list[float]:
    people = profiles()
    for person in people[:10]:
        fn(catalog, person, 6)
    spent = []
    for n in range(calls):
        t0 = time.perf_counter()
        fn(catalog, people[n % len(people)], 6)
        spent.append(time.perf_counter() - t0)
    return sorted(spent)


def ms(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    real = default_bank()
    banks = [("real", real)] + [(str(n), synthetic_bank(n, real)) for n in (300, 1000, 3000, 10000)]
    print(f"select 6 questions for 50 rotating profiles, {args.calls} calls per bank\n")
    print(f"{'bank':>6} {'size':>6} {'p50 ms':>8} {'p99 ms':>8} {'scan p50':>9} {'ratio p50':>10} {'us/question':>12}")
    for name, bank in banks:
        catalog = Catalog.build(bank)
        ranked = timings(select, catalog, args.calls)
        scan = timings(bare_scan, catalog, args.calls)
        size = len(bank.questions)
        print(
            f"{name:>6} {size:>6} {ms(ranked, 50):>8.3f} {ms(ranked, 99):>8.3f} {ms(scan, 50):>9.3f} "
            f"{ms(ranked, 50) / ms(scan, 50):>9.1f}x {ms(ranked, 50) * 1000 / size:>12.2f}"
        )
    print("\nus/question staying flat as the bank grows means selection time grows linearly.")


if __name__ == "__main__":
    main()

"""Prometheus metrics: counts and timings only, served on /metrics.

Labels are low-cardinality by design (platform, kind, operation): never a user id, a workspace,
a channel or anything a person typed, so a scrape can be shared without sharing anyone's words.
The registry is revq's own rather than prometheus_client's global one, so tests read exactly
what revq counted and nothing a library registered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry()

TURNS = Counter("revq_turns_total", "Events run through a conversation turn.", ["platform"], registry=REGISTRY)
REPLIES = Counter("revq_replies_total", "Replies handed to a front end to deliver.", ["platform"], registry=REGISTRY)
ERRORS = Counter(
    "revq_errors_total",
    "Failures by stage (turn, delivery, prompt_post, prompt_check) and exception class.",
    ["stage", "kind"],
    registry=REGISTRY,
)
STORE_SECONDS = Histogram(
    "revq_store_seconds",
    "Latency of store calls on the way of a reply or a channel prompt (get, put, claim, claim_occurrence).",
    ["operation"],
    registry=REGISTRY,
    # From an in-memory dict to a slow network Redis: most calls are well under 10 ms.
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PROMPT_POSTS = Counter(
    "revq_prompt_posts_total", "Channel prompts posted by this process.", ["platform"], registry=REGISTRY
)
PROMPT_CLAIMS_LOST = Counter(
    "revq_prompt_claims_lost_total",
    "Due channel prompts another process (or an earlier check) had already claimed.",
    ["platform"],
    registry=REGISTRY,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def count_error(stage: str, exc: BaseException) -> None:
    """The exception's class only: messages may quote what people typed."""
    ERRORS.labels(stage=stage, kind=type(exc).__name__).inc()


@contextmanager
def timed_store(operation: str) -> Iterator[None]:
    """Observe how long the store call in the block took, whether it succeeded or raised."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STORE_SECONDS.labels(operation=operation).observe(time.perf_counter() - started)


def exposition() -> bytes:
    """Every revq metric in Prometheus text format."""
    return generate_latest(REGISTRY)

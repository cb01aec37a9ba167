"""How well revq understands priorities and tailors lists, on our own labelled set.

tests/data/priority_statements.yaml and tests/data/personas.yaml were written independently of
the lexicon. The figures are printed in pytest's summary; the test fails below micro-F1 0.90 for
topic extraction or below a 95% persona pass rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.dialogue import EngineContext
from bot.engine.tailor import Profile, select
from question_bank.model import PURPOSES, TOPICS
from question_bank.priorities import PriorityMatcher
from tests.conftest import QUALITY_REPORT

DATA = Path(__file__).resolve().parent / "data"
MIN_F1 = 0.90
MIN_PERSONA_PASS = 0.95


def _load(name: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))[key]
    return items


STATEMENTS = _load("priority_statements.yaml", "statements")
PERSONAS = _load("personas.yaml", "personas")


def test_the_labelled_set_is_big_and_valid() -> None:
    assert len(STATEMENTS) >= 150 and len(PERSONAS) >= 30
    for item in STATEMENTS:
        assert set(item["topics"]) <= set(TOPICS), item
    for persona in PERSONAS:
        assert set(persona["expected_topics"]) <= set(TOPICS), persona


def micro_f1(matcher: PriorityMatcher) -> tuple[float, float, float, list[str]]:
    true_pos = false_pos = false_neg = 0
    misses: list[str] = []
    for item in STATEMENTS:
        expected, got = set(item["topics"]), set(matcher.match(item["text"]))
        true_pos += len(expected & got)
        false_pos += len(got - expected)
        false_neg += len(expected - got)
        if expected != got:
            misses.append(f"{item['text'][:70]!r}: expected {sorted(expected)}, got {sorted(got)}")
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, misses


def test_topic_extraction_micro_f1(ctx: EngineContext) -> None:
    precision, recall, f1, misses = micro_f1(ctx.matcher)
    QUALITY_REPORT["topic extraction"] = (
        f"micro-F1 {f1:.3f} (precision {precision:.3f}, recall {recall:.3f}) on {len(STATEMENTS)} statements, "
        f"{len(STATEMENTS) - len(misses)} exactly right"
    )
    assert f1 >= MIN_F1, "\n".join([f"micro-F1 {f1:.3f} < {MIN_F1}", *misses[:40]])


def persona_failures(ctx: EngineContext, persona: dict[str, Any], count: int = 6) -> list[str]:
    profile = Profile(
        company=persona["company"],
        role=persona.get("role"),
        stage=persona.get("stage"),
        company_type=persona.get("company_type"),
        priorities=tuple(ctx.matcher.match(persona["priorities"])),
    )
    picked = select(ctx.catalog, profile, count)
    texts = [profile.render(q.text) for q in picked]
    covered = {t for q in picked for t in q.topics}
    problems = [f"topic {t} missing" for t in persona["expected_topics"] if t not in covered]
    if {q.purpose for q in picked} != set(PURPOSES):
        problems.append(f"purposes {sorted({q.purpose for q in picked})}")
    if any(text.count("{") > (profile.company or "").count("{") for text in texts):
        problems.append("unfilled placeholder")
    if len({q.id for q in picked}) != len(picked):
        problems.append("repeated id")
    if len(picked) != count:
        problems.append(f"only {len(picked)} questions")
    return problems


def test_persona_pass_rate(ctx: EngineContext) -> None:
    failures = {}
    for persona in PERSONAS:
        problems = persona_failures(ctx, persona)
        if problems:
            failures[f"{persona['company']} / {persona['priorities'][:50]!r}"] = problems
    rate = 1 - len(failures) / len(PERSONAS)
    QUALITY_REPORT["personas"] = f"pass rate {rate:.1%} ({len(PERSONAS) - len(failures)} of {len(PERSONAS)})"
    assert rate >= MIN_PERSONA_PASS, "\n".join(f"{name}: {p}" for name, p in failures.items())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I don't want to drive 80 miles each way", ["remote"]),
        ("wfh + learning budget + promotion path", ["remote", "learning", "growth"]),
        ("mentorshp", ["mentorship"]),
        ("will they pay for my MBA", ["learning"]),
    ],
)
def test_the_issue_examples(ctx: EngineContext, text: str, expected: list[str]) -> None:
    assert ctx.matcher.match(text) == expected

"""The priority matcher's mechanics, on a small lexicon made here (the real one is data)."""

from __future__ import annotations

import pytest

from bot.engine.dialogue import EngineContext
from question_bank.model import Lexicon
from question_bank.priorities import PriorityMatcher, stem, words

MATCHER = PriorityMatcher(
    Lexicon(
        {
            "remote": ("remote", "work from home", "wfh", "commute", "telework"),
            "learning": ("learning budget", "training", "tuition", "mba", "certification"),
            "growth": ("promotion", "career growth", "career path"),
            "stability": ("company growth", "layoffs", "run out of money"),
            "mentorship": ("mentorship", "mentor"),
            "compensation": ("salary", "pay"),
        }
    )
)


def test_order_follows_first_mention() -> None:
    assert MATCHER.match("promotion, then training, and wfh") == ["growth", "learning", "remote"]


def test_stemming_and_separators() -> None:
    assert MATCHER.match("Working-from-home + Certifications/trainings") == ["remote", "learning"]
    assert stem("trainings") == stem("training") and words("Don't  Café") == ["dont", "cafe"]


def test_typos_are_tolerated_on_longer_words_only() -> None:
    assert MATCHER.match("mentorshp") == ["mentorship"]  # one edit, 9+ letters
    assert MATCHER.match("promtion") == ["growth"]  # one edit, 5+ letters
    assert MATCHER.match("certifcation and promotoin") == ["learning", "growth"]
    assert MATCHER.match("pey") == []  # short words must be exact


def test_longest_phrase_wins_where_phrases_overlap() -> None:
    assert MATCHER.match("worried about company growth") == ["stability"]
    assert MATCHER.match("I want career growth") == ["growth"]


def test_dismissed_topics_are_left_out_within_their_clause() -> None:
    assert MATCHER.match("not bothered about salary, mainly want a mentor") == ["mentorship"]
    assert MATCHER.match("salary is fine already. I want training") == ["learning"]
    assert MATCHER.match("I don't want a long commute") == ["remote"]  # wanting to avoid it still counts


def test_nothing_understood_gives_nothing() -> None:
    for text in ("", "idk", "asdfgh", "こんにちは、よろしくお願いします", "مرحبا", "🙂🙂", "\x00\x01"):
        assert MATCHER.match(text) == []


def test_limit_and_huge_text() -> None:
    text = "salary, training, wfh, promotion, mentor, layoffs"
    assert MATCHER.match(text) == ["compensation", "learning", "remote", "growth", "mentorship"]
    assert MATCHER.match(text, limit=2) == ["compensation", "learning"]
    assert MATCHER.match("blah " * 5000 + "tuition") == ["learning"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i really dont want permanent nights", ["worklife"]),
        ("do I get a real lunch break", ["worklife"]),
        ("not about the money, I want to learn", ["learning"]),
        ("salary isnt that important, mentoring is", ["mentorship"]),
        ("path to store manager", ["growth"]),
        ("become a team lead", ["growth"]),
        ("we are always short-handed", ["worklife"]),
        ("not just grant reports", []),
    ],
)
def test_everyday_speech_reads_right(ctx: EngineContext, text: str, expected: list[str]) -> None:
    assert ctx.matcher.match(text) == expected  # the real lexicon

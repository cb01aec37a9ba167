"""The priority matcher's mechanics, on a small lexicon made here (the real one is data)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.dialogue import EngineContext
from question_bank.model import TOPICS, Lexicon
from question_bank.priorities import PriorityMatcher, Reading, light_english_stem, stemmed_words, tokens

MATCHER = PriorityMatcher(
    Lexicon(
        {
            "remote": ("remote", "work from home", "wfh", "commute", "telework"),
            "learning": ("learning budget", "training", "tuition", "mba", "certification"),
            "growth": ("promotion", "career growth", "career path"),
            "stability": ("company growth", "layoffs", "run out of money"),
            "mentorship": ("mentorship", "mentor"),
            "compensation": ("salary", "pay"),
        },
        dismissals=("not bothered", "is fine", "fine already"),
        clause_breaks=("but",),
    )
)


def test_order_follows_first_mention() -> None:
    assert MATCHER.match("promotion, then training, and wfh") == ["growth", "learning", "remote"]


def test_stemming_and_separators() -> None:
    assert MATCHER.match("Working-from-home + Certifications/trainings") == ["remote", "learning"]
    assert light_english_stem("trainings") == light_english_stem("training")
    assert tokens("Don't  Café, Straße") == ["dont", "cafe", "strasse"]
    assert stemmed_words("formaciones", "es") == stemmed_words("formación", "es")


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


SPANISH = Lexicon(
    {"compensation": ("salario", "sueldo"), "remote": ("teletrabajo",), "learning": ("formacion",)},
    language="es",
    dismissals=("me da igual", "no me importa"),
    clause_breaks=("pero",),
)
GERMAN = Lexicon({"compensation": ("gehalt",), "manager": ("chef",)}, language="de", dismissals=("egal",))
ENGLISH = Lexicon({"compensation": ("salary",), "remote": ("remote work",)}, dismissals=("dont care",),
                  clause_breaks=("but",))  # fmt: skip
MULTI = PriorityMatcher(ENGLISH, SPANISH, GERMAN)


def test_each_language_is_read_with_its_own_words_and_stems() -> None:
    assert MULTI.read("quiero teletrabajo y buenos salarios") == Reading(("remote", "compensation"), (), "es")
    assert MULTI.read("Formaciones, por favor") == Reading(("learning",), (), "es")  # plural, accent dropped
    assert MULTI.read("salary and remote work") == Reading(("compensation", "remote"), (), "en")


def test_mixed_text_is_read_in_both_languages() -> None:
    assert MULTI.match("busco remote work y un buen sueldo") == ["remote", "compensation"]


def test_dismissals_work_in_either_order_and_stop_at_a_clause_break() -> None:
    assert MULTI.read("me da igual el salario") == Reading((), ("compensation",), "es")
    assert MULTI.read("el salario me da igual, quiero teletrabajo").named == ("remote",)
    assert MULTI.read("no me importa el salario, quiero teletrabajo").set_aside == ("compensation",)
    # "pero" ends the clause, so the cue before it cannot reach the topic after it
    assert MULTI.match("el teletrabajo me da igual pero el sueldo es clave") == ["compensation"]


def test_compound_words_are_read_by_their_parts_in_german() -> None:
    assert MULTI.match("Wie hoch ist das Jahresgehalt und die Gehaltserhöhung?") == ["compensation"]
    assert MULTI.match("ein netter Chef wäre schön") == ["manager"]
    assert MULTI.read("das Gehalt ist mir egal, ein netter Chef ist wichtig").set_aside == ("compensation",)


def test_unknown_scripts_and_noise_give_nothing_and_no_language() -> None:
    for text in ("", "这份工作的工资是多少", "ما هو الراتب", "🙂🙂🙂", "\x00\x01"):
        assert MULTI.read(text) == Reading((), (), None), text


def test_the_word_caches_stay_bounded() -> None:
    matcher = PriorityMatcher(ENGLISH)
    for n in range(60_000):
        matcher.match(f"word{n}")
    assert all(language.spellings.cache_info().currsize <= 50_000 for language in matcher._languages.values())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=9))
def test_any_text_reads_to_known_topics_without_error(ctx: EngineContext, text: str, limit: int) -> None:
    reading = ctx.matcher.read(text, limit)
    assert len(reading.named) <= limit and len(set(reading.named)) == len(reading.named)
    assert set(reading.named) <= set(TOPICS) and set(reading.set_aside) <= set(TOPICS)
    assert not set(reading.named) & set(reading.set_aside)
    assert reading.language in (None, *ctx.matcher.languages)


@pytest.mark.parametrize(
    ("text", "named", "aside"),
    [
        ("I want good pay and don't care about the commute", ("compensation",), ("remote",)),
        ("Pay matters most and location doesn't matter", ("compensation",), ("remote",)),
        ("quiero aprender y el sueldo da igual", ("learning",), ("compensation",)),
        ("Weiterbildung ist wichtig und Gehalt ist mir egal", ("learning",), ("compensation",)),
        ("je veux de la formation et le salaire m'importe peu", ("learning",), ("compensation",)),
        ("quero aprender e o salário tanto faz", ("learning",), ("compensation",)),
        ("don't care about salary, I want training", ("learning",), ("compensation",)),
        ("I want growth no matter what", ("growth",), ()),
    ],
)
def test_a_dismissal_cancels_only_the_topic_it_is_about(
    ctx: EngineContext, text: str, named: tuple[str, ...], aside: tuple[str, ...]
) -> None:
    reading = ctx.matcher.read(text)
    assert (reading.named, reading.set_aside) == (named, aside)


def test_english_words_are_never_taken_for_another_language(ctx: EngineContext) -> None:
    for text in ("Salary", "mentor", "Bonus", "pension", "Management", "Culture", "Flexible", "Equity",
                 "Diversity", "tech stack", "\uff33\uff21\uff2c\uff21\uff32\uff39 and remote"):  # fmt: skip
        assert ctx.matcher.read(text).language == "en", text
    assert ctx.matcher.read("New CEO from Deutsche Telekom").language is None  # nothing recognised
    assert ctx.matcher.read("Gehalt ist mir egal, aber Weiterbildung ist wichtig").language == "de"


def test_a_huge_word_is_read_without_typo_search(ctx: EngineContext) -> None:
    assert ctx.matcher.read("ab" * 1000 + " salary").named == ("compensation",)

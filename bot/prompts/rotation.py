"""Which question a channel gets next, and the prompt built from it. No I/O.

The pool is the bank's general questions: low sensitivity, for any employer, line of work,
setting and level, so they suit everyone in a community channel. They rotate across topics
(one from each topic, then the next from each) and so across purposes too. A channel sees no
question twice until it has seen the whole pool (or the pinned topic's part of it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from question_bank.model import TOPICS, Bank, Question, fill_placeholders

_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)")
HEADINGS = {"daily": "Question of the day", "weekly": "Question of the week", "monthly": "Question of the month"}


@dataclass(frozen=True)
class ChannelPrompt:
    """What is posted in the channel: nothing about any person."""

    question_id: str
    heading: str  # "Question of the week"
    question: str
    why: str  # one line on why candidates ask it
    topic: str  # the question's first topic, for a pinned season's label
    button: str = "Prep my questions"
    invitation: str = (
        "Want questions tailored to your own interview? Press the button: it's private, only you see your answers."
    )


def prompt_pool(bank: Bank, topic: str | None = None) -> list[Question]:
    """The general questions in rotation order, limited to `topic` when one is pinned."""
    general = [
        q
        for q in bank.questions
        if q.sensitivity == "low"
        and not (q.company_types or q.role_families or q.settings or q.levels or q.close)
        and (topic is None or topic in q.topics)
    ]
    by_topic: dict[str, list[Question]] = {t: [] for t in TOPICS}
    for question in general:
        by_topic[question.topics[0]].append(question)
    order: list[Question] = []
    for rank in range(max((len(group) for group in by_topic.values()), default=0)):
        order += [group[rank] for group in by_topic.values() if rank < len(group)]
    if topic:  # a pinned season starts with the questions mainly about it
        order.sort(key=lambda q: q.topics[0] != topic)
    return order


def next_question(pool: Sequence[Question], posted: Sequence[str]) -> Question | None:
    """The first question of the pool not posted in this round; a round ends when every question
    of the pool has been posted, and the next one starts over."""
    if not pool:
        return None
    ids = {q.id for q in pool}
    this_round: set[str] = set()
    for question_id in posted:
        if question_id in ids:
            this_round.add(question_id)
            if this_round == ids:
                this_round = set()
    return next(q for q in pool if q.id not in this_round)


def channel_prompt(question: Question, cadence: str) -> ChannelPrompt:
    why = _FIRST_SENTENCE.match(question.why.strip())
    return ChannelPrompt(
        question_id=question.id,
        heading=HEADINGS.get(cadence, "Question to ask"),
        question=fill_placeholders(question.text, None, None),
        why=why.group(1) if why else question.why.strip(),
        topic=question.topics[0],
    )

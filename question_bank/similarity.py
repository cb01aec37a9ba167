"""How alike two question texts are, by the content words they share."""

from __future__ import annotations

from question_bank.priorities import stemmed_words as words

_STOP = frozenset(
    words(
        "a an the and or but of to in on at for with about from by as is are was were be been "
        "do does did doing you your yours i me my we our us they them their it its this that these "
        "those what which who whom how when where why would could should can will may might "
        "there here have has had any some if than then so such very just also more most company role "
        "like into out up over after before during"
    )
)
NEAR_DUPLICATE = 0.6


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in words(text.replace("{", " ").replace("}", " ")) if w not in _STOP)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two content-word sets, 0 to 1."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicates(a: frozenset[str], b: frozenset[str]) -> bool:
    return overlap(a, b) >= NEAR_DUPLICATE

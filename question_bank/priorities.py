"""Turn free text about what matters to a person into ranked canonical topic ids.

The phrases come from lexicon.yaml. Matching is word-based: light stemming on both sides,
typo tolerance for longer words (one edit from 5 letters, two from 10), `*` in a phrase stands
for any one word ("lay * off"), the longest phrase wins where two overlap (neutral phrases
take part but name no topic), and "don't care about X" style cues drop X. Topics are ranked by
where the person first mentioned them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from question_bank.model import Lexicon

MAX_PRIORITIES = 5
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n()\[\]\u2022\u3001\u3002]+|\s[-\u2013\u2014]\s|\bbut\b|\bhowever\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")
# Cues that say a topic does NOT matter, checked only inside the same clause.
# "I don't want to drive an hour" still means the commute matters, so "dont want" is no cue.
_DISMISSALS: tuple[tuple[str, ...], ...] = tuple(
    tuple(cue.split())
    for cue in (
        "dont care", "do not care", "dont really care", "not bothered", "not worried", "not fussed",
        "dont mind", "do not mind", "not interested", "not important", "isnt important", "is not important",
        "doesnt matter", "does not matter", "dont matter", "no matter", "not a priority", "isnt a priority",
        "not my priority", "less important", "not that important", "dont need", "do not need", "no need",
        "not really care", "not a concern", "not an issue", "couldnt care less", "care less about",
        "less about", "whatever", "is fine", "are fine", "is ok", "is okay", "fine already", "already fine",
        "is a given", "are a given", "not a big deal", "is what it is", "doesnt bother", "dont bother", "not fussy",
        "not about", "not all about", "not just about", "not only about", "not just", "isnt that important",
        "is not that important", "not that bothered", "not the main thing", "matters less", "not my main",
    )
)  # fmt: skip
_DISMISS_WINDOW = 4


def normalize(text: str) -> str:
    """Lowercase, strip accents and apostrophes, keep letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return plain.replace("'", "").replace("\u2019", "").replace("&", " and ")


def stem(word: str) -> str:
    """A deliberately small stemmer: the same on the lexicon and the text, so it need not be right."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


_STEMMED_DISMISSALS: tuple[tuple[str, ...], ...] = ()  # filled below, once stem() exists


def words(text: str) -> list[str]:
    return [stem(w) for w in _NON_WORD.split(normalize(text)) if w]


_STEMMED_DISMISSALS = tuple(tuple(stem(w) for w in cue) for cue in _DISMISSALS)


def phrase_words(phrase: str) -> tuple[str, ...]:
    """A lexicon phrase as words, keeping `*` wildcards."""
    return tuple(
        WILDCARD if part == WILDCARD else w
        for part in phrase.split()
        for w in ([part] if part == WILDCARD else words(part))
    )


WILDCARD = "*"
NEUTRAL = ""  # the topic of a neutral phrase


def _allowed_edits(word: str) -> int:
    return 2 if len(word) >= 10 else 1 if len(word) >= 5 else 0


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, giving up early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@dataclass(frozen=True)
class _Match:
    start: int
    end: int  # exclusive, in words
    topic: str
    exact: bool


class PriorityMatcher:
    """Built once from the lexicon; `match` is then pure and fast."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        vocabulary: set[str] = set()
        entries = [(p, t) for t, phrases in lexicon.phrases.items() for p in phrases]
        entries += [(p, NEUTRAL) for p in lexicon.neutral]
        for phrase, topic in entries:
            tokens = phrase_words(phrase)
            if tokens and tokens[0] != WILDCARD:
                self._phrases[tokens[0]].append((tokens, topic))
                vocabulary.update(t for t in tokens if t != WILDCARD)
        self._by_deletion: dict[str, set[str]] = defaultdict(set)
        for word in vocabulary:
            for variant in _deletes(word, _allowed_edits(word)):
                self._by_deletion[variant].add(word)
        self._vocabulary = vocabulary

    def _spellings(self, word: str) -> dict[str, bool]:
        """Lexicon words this text word may stand for, with True where it is exact."""
        found = {word: True} if word in self._vocabulary else {}
        limit = _allowed_edits(word)
        if limit == 0:
            return found
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates |= self._by_deletion.get(variant, set())
        for candidate in candidates - found.keys():
            if _edit_distance(word, candidate, min(limit, _allowed_edits(candidate))) <= min(
                limit, _allowed_edits(candidate)
            ):
                found[candidate] = False
        return found

    def _matches_in(self, clause: list[str], offset: int) -> list[_Match]:
        spellings = [self._spellings(w) for w in clause]
        found: list[_Match] = []
        for i, first in enumerate(spellings):
            for spelled, exact_first in first.items():
                for tokens, topic in self._phrases.get(spelled, ()):
                    end = i + len(tokens)
                    if end > len(clause):
                        continue
                    rest = range(1, len(tokens))
                    if all(tokens[k] == WILDCARD or tokens[k] in spellings[i + k] for k in rest):
                        exact = exact_first and all(tokens[k] == WILDCARD or spellings[i + k][tokens[k]] for k in rest)
                        found.append(_Match(offset + i, offset + end, topic, exact))
        return found

    @staticmethod
    def _dismissed(clause: list[str], offset: int, match: _Match) -> bool:
        lo = max(0, match.start - offset - _DISMISS_WINDOW)
        hi = min(len(clause), match.end - offset + _DISMISS_WINDOW)
        window = clause[lo:hi]
        return any(
            window[i : i + len(cue)] == list(cue)
            for cue in _STEMMED_DISMISSALS
            for i in range(len(window) - len(cue) + 1)
        )

    def match(self, text: str, limit: int = MAX_PRIORITIES) -> list[str]:
        """Topic ids in the order the person first named them, at most `limit`."""
        return self.read(text, limit)[0]

    def read(self, text: str, limit: int = MAX_PRIORITIES) -> tuple[list[str], list[str]]:
        """(topics named, in order, at most `limit`; topics set aside, such as "not about the money")."""
        accepted: list[_Match] = []
        dismissed: list[_Match] = []
        offset = 0
        for raw_clause in _CLAUSE_BREAK.split(normalize(text)):
            clause = words(raw_clause)
            candidates = self._matches_in(clause, offset)
            # Longest phrase first, exact before fuzzy; each word belongs to one phrase.
            candidates.sort(key=lambda m: (-(m.end - m.start), not m.exact, m.start))
            taken: set[int] = set()
            for m in candidates:
                span = set(range(m.start, m.end))
                if span & taken:
                    continue
                taken |= span
                if m.topic == NEUTRAL:
                    continue
                (dismissed if self._dismissed(clause, offset, m) else accepted).append(m)
            offset += len(clause)
        ranked = list(dict.fromkeys(m.topic for m in sorted(accepted, key=lambda m: m.start)))
        aside = [t for t in dict.fromkeys(m.topic for m in dismissed) if t not in ranked]
        return ranked[:limit], aside

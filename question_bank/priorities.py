"""Turn free text about what matters to a person into ranked canonical topic ids.

The words come from the lexicons in question_bank/lexicon/, one per language; this module holds
the rule for reading them:

- The text is lowercased, accents and apostrophes are dropped, and it is split into words.
  Its language is guessed (py3langid); English and any other language that is likely enough
  are read, each with its own lexicon and its own Snowball stemmer, so mixed text works.
- A topic is mentioned when a phrase of its lexicon appears: stems equal, or one typo in a
  word of 5+ letters and two in 10+ (rapidfuzz), `*` standing for any one word. In a
  compounding language (German), a listed word of 6+ letters also counts at the start or end
  of a longer word ("Gehalt" in "Jahresgehalt").
- Where phrases overlap, the longest wins, then an exact one over a typo, then the likelier
  language; each word belongs to one phrase. Neutral phrases take part but name no topic.
- A dismissal cue ("don't care", "me da igual") cancels one mention in its clause: the one it
  overlaps, else the nearest after it, else the nearest before it, with at most four words
  between them. Punctuation and words such as "but" end a
  clause. Cancelled topics are reported as set aside.
- Topics are ranked by where the person first mentioned them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import snowballstemmer
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from rapidfuzz.distance import OSA

from question_bank.model import Lexicon

MAX_PRIORITIES = 5
WILDCARD = "*"
NEUTRAL = ""  # the topic of a neutral phrase
ENGLISH = "en"
SNOWBALL_NAMES = {"en": "english", "es": "spanish", "fr": "french", "de": "german", "pt": "portuguese"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese"}
COMPOUNDING = frozenset({"de"})
_COMPOUND_PART = 6  # shortest listed word that counts inside a compound
_DISMISS_GAP = 4  # most words between a dismissal cue and the topic it cancels
_ALSO_READ_FROM = 0.15  # a language this likely is read as well as English and the likeliest one
_SURE = 0.9  # a language this likely is surely the text's: English misspellings are not read in it
_DETECT_CHARS = 2000  # enough to tell the language; the rest only costs time
_CACHE_WORDS = 50_000  # words remembered per language, stems and spellings each

_PUNCTUATION_BREAK = re.compile(r"[.,;:!?\n()\[\]\u2022\u3001\u3002\u00a1\u00bf]+|\s[-\u2013\u2014]\s")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SPELLED_OUT = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})


def normalize(text: str) -> str:
    """Lowercase, strip accents and apostrophes; letters NFKD cannot split are spelled out."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPELLED_OUT))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("'", "").replace("\u2019", "").replace("&", " and ")


def language_names(codes: Iterable[str] = LANGUAGE_NAMES) -> str:
    """'English, Spanish and French', for telling people what revq reads."""
    wanted = set(codes)
    names = [name for code, name in LANGUAGE_NAMES.items() if code in wanted]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def tokens(text: str) -> list[str]:
    """Normalized words, not yet stemmed."""
    return [w for w in _NON_WORD.split(normalize(text)) if w]


def light_english_stem(word: str) -> str:
    """English keeps revq's own light stemmer: on our labelled English statements it reads better
    than Snowball's English stemmer, which joins words the lexicon keeps apart (position, positive)."""
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


@functools.cache
def stemmer(language: str) -> Callable[[str], str]:
    """The stem function for a language: Snowball's (PyStemmer's C build when installed)."""
    if language == ENGLISH:
        return light_english_stem
    snowball: Any = snowballstemmer.stemmer(SNOWBALL_NAMES[language])  # the library has no types
    return lambda word: str(snowball.stemWord(word))


def stemmed_words(text: str, language: str = ENGLISH) -> list[str]:
    stem = stemmer(language)
    return [stem(w) for w in tokens(text)]


def _allowed_edits(word: str) -> int:
    return 2 if len(word) >= 10 else 1 if len(word) >= 5 else 0


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@functools.cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """py3langid's bundled model, limited to the languages revq has lexicons for (loaded once)."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


@dataclass(frozen=True)
class _Match:
    start: int
    end: int  # exclusive, in words
    topic: str
    exact: bool
    rank: int  # of the language, 0 the likeliest
    language: str


@dataclass(frozen=True)
class Reading:
    """What a text says matters (`named`, in order) and what it sets aside ("not about the money").
    `language` is the language the text was read as, when a lexicon recognised something or the
    guess is sure; None for text with no words revq knows. `hearsay` is whether it reads like
    gossip or a private source ("my friend says", "me dijeron")."""

    named: tuple[str, ...]
    set_aside: tuple[str, ...]
    language: str | None
    hearsay: bool = False


class _Language:
    """One lexicon, stemmed and indexed once, with caches for the words people type."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.code = lexicon.language
        # Bounded caches of the words people type: odd input cannot grow memory.
        self.stem = functools.lru_cache(maxsize=_CACHE_WORDS)(stemmer(self.code))
        self.spellings = functools.lru_cache(maxsize=_CACHE_WORDS)(self._find_spellings)
        self._compounds = self.code in COMPOUNDING
        self.clause_breaks = frozenset(w for phrase in lexicon.clause_breaks for w in tokens(phrase))
        # phrases by their first two stems ("" for one-word phrases): few are then tried per word
        self._phrases: dict[tuple[str, str], list[tuple[tuple[str, ...], str, bool]]] = defaultdict(list)
        entries = [(p, t, False) for t, phrases in lexicon.phrases.items() for p in phrases]
        entries += [(p, t, True) for t, phrases in lexicon.misspellings.items() for p in phrases]
        entries += [(p, NEUTRAL, False) for p in lexicon.neutral]
        for phrase, topic, misspelt in entries:
            stems = self.phrase_stems(phrase)
            if stems and stems[0] != WILDCARD:
                self._phrases[stems[0], stems[1] if len(stems) > 1 else ""].append((stems, topic, misspelt))
        self.vocabulary = {s for group in self._phrases.values() for stems, _, _ in group for s in stems} - {WILDCARD}
        # Typos are looked up by deletions (the symmetric-delete index) and checked with rapidfuzz.
        # Stems are compared, not words as typed: on our labelled sets that reads better.
        self._longest = max(map(len, self.vocabulary), default=0)
        self._by_deletion: dict[str, set[str]] = defaultdict(set)
        for stem in self.vocabulary:
            for variant in _deletes(stem, _allowed_edits(stem)):
                self._by_deletion[variant].add(stem)
        self._dismissals = self._cue_index(lexicon.dismissals)
        self._hearsay = self._cue_index(lexicon.hearsay)

    def _cue_index(self, cues: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
        """Cues as stems, by their first stem, as phrases are indexed."""
        index: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for cue in cues:
            stems = self.phrase_stems(cue)
            if stems and stems[0] != WILDCARD:
                index[stems[0]].append(stems)
        return index

    def phrase_stems(self, phrase: str) -> tuple[str, ...]:
        """A lexicon phrase as stems, keeping `*` wildcards."""
        return tuple(
            WILDCARD if part == WILDCARD else self.stem(w)
            for part in phrase.split()
            for w in ([part] if part == WILDCARD else tokens(part))
        )

    def _find_spellings(self, word: str) -> dict[str, bool]:
        """Lexicon stems this text word may stand for, with True where it is exact."""
        stem = self.stem(word)
        found = {stem: True} if stem in self.vocabulary else {}
        limit = _allowed_edits(stem)
        if limit and len(stem) <= self._longest + limit:  # a 2,000-letter "word" is no typo of ours
            candidates: set[str] = set()
            for variant in _deletes(stem, limit):
                candidates |= self._by_deletion.get(variant, set())
            for candidate in candidates - found.keys():
                allowed = min(limit, _allowed_edits(candidate))
                if OSA.distance(stem, candidate, score_cutoff=allowed) <= allowed:
                    found[candidate] = False
        if self._compounds and len(stem) > _COMPOUND_PART:
            for cut in range(_COMPOUND_PART, len(stem)):
                for part in (stem[:cut], stem[-cut:]):
                    if part in self.vocabulary:
                        found.setdefault(part, False)
        return found

    def matches(self, clause: list[str], offset: int, rank: int, own_typos: bool = True) -> list[_Match]:
        spellings = [self.spellings(w) for w in clause]
        found: list[_Match] = []
        for i, first in enumerate(spellings):
            seconds = ["", WILDCARD, *spellings[i + 1]] if i + 1 < len(clause) else [""]
            for spelled, exact_first in first.items():
                candidates = (p for second in seconds for p in self._phrases.get((spelled, second), ()))
                for stems, topic, misspelt in candidates:
                    end = i + len(stems)
                    if end > len(clause) or (misspelt and not own_typos):
                        continue
                    rest = range(1, len(stems))
                    if all(stems[k] == WILDCARD or stems[k] in spellings[i + k] for k in rest):
                        exact = exact_first and all(stems[k] == WILDCARD or spellings[i + k][stems[k]] for k in rest)
                        found.append(_Match(offset + i, offset + end, topic, exact, rank, self.code))
        return found

    def cue_spans(self, clause: list[str], hearsay: bool = False) -> list[tuple[int, int]]:
        """Where dismissal cues (or, with `hearsay`, cues of a rumour or private source) are."""
        cues = self._hearsay if hearsay else self._dismissals
        stems = [self.stem(w) for w in clause]
        return [
            (i, i + len(cue))
            for i, first in enumerate(stems)
            for cue in cues.get(first, ())
            if len(cue) <= len(stems) - i and all(want in (WILDCARD, stems[i + k]) for k, want in enumerate(cue))
        ]


class PriorityMatcher:
    """Built once from the lexicons (the language model is loaded here too); `read` is then pure."""

    def __init__(self, *lexicons: Lexicon) -> None:
        self._languages = {lexicon.language: _Language(lexicon) for lexicon in lexicons}
        self._codes = tuple(self._languages)
        self._identifier = _identifier(self._codes) if len(self._codes) > 1 else None

    @property
    def languages(self) -> tuple[str, ...]:
        return self._codes

    def _likely_languages(self, text: str) -> list[tuple[str, float]]:
        """Languages to read the text in, likeliest first, with their probabilities: the likeliest,
        English, and any other that is likely enough."""
        if self._identifier is None:
            return [(self._codes[0], 1.0)]
        sample = unicodedata.normalize("NFKC", text[:_DETECT_CHARS]).lower()  # full-width letters too
        ranked = [(code, float(p)) for code, p in self._identifier.rank(sample)]
        return [(code, p) for n, (code, p) in enumerate(ranked) if n == 0 or p >= _ALSO_READ_FROM or code == ENGLISH]

    def match(self, text: str, limit: int = MAX_PRIORITIES) -> list[str]:
        """Topic ids in the order the person first named them, at most `limit`."""
        return list(self.read(text, limit).named)

    def read(self, text: str, limit: int = MAX_PRIORITIES) -> Reading:
        likely = self._likely_languages(text)
        sure_elsewhere = likely[0][0] != ENGLISH and likely[0][1] >= _SURE
        readers = [self._languages[code] for code, _ in likely if code in self._languages]
        breaks = frozenset().union(*(reader.clause_breaks for reader in readers))
        accepted: list[_Match] = []
        dismissed: list[_Match] = []
        hearsay = False
        foreign: list[str] = []  # the language of each topic only another language's words named
        offset = 0
        for clause in _clauses(text, breaks):
            hearsay = hearsay or any(reader.cue_spans(clause, hearsay=True) for reader in readers)
            candidates = [
                m
                for rank, reader in enumerate(readers)
                # a language's misspellings are ordinary words elsewhere: not read where the text
                # is surely another language
                for m in reader.matches(clause, offset, rank, own_typos=not (sure_elsewhere and reader.code == ENGLISH))
            ]
            candidates.sort(key=lambda m: (-(m.end - m.start), not m.exact, m.rank, m.start))
            taken: set[int] = set()
            topics: list[_Match] = []
            for m in candidates:
                span = set(range(m.start, m.end))
                if not span & taken:
                    taken |= span
                    if m.topic != NEUTRAL:
                        topics.append(m)
            topics.sort(key=lambda m: m.start)
            # what English reads alike is no sign of another language ("Salary" is English too)
            english = {(m.start, m.end, m.topic) for m in candidates if m.language == ENGLISH}
            for m in topics:
                if m.language != ENGLISH and (m.start, m.end, m.topic) not in english:
                    foreign.append(m.language)
            cues = [span for reader in readers for span in reader.cue_spans(clause)]
            cancelled = _cancelled(topics, [(offset + start, offset + end) for start, end in cues])
            for n, m in enumerate(topics):
                (dismissed if n in cancelled else accepted).append(m)
            offset += len(clause)
        ranked = tuple(dict.fromkeys(m.topic for m in sorted(accepted, key=lambda m: m.start)))
        aside = tuple(t for t in dict.fromkeys(m.topic for m in dismissed) if t not in ranked)
        language = max(set(foreign), key=foreign.count) if foreign else None
        if language is None and accepted + dismissed:
            language = likely[0][0] if sure_elsewhere else ENGLISH
        return Reading(ranked[:limit], aside, language, hearsay)


def _cancelled(topics: list[_Match], cues: list[tuple[int, int]]) -> set[int]:
    """Which topics (indexes, in order of position) the dismissal cues cancel.

    A cue cancels the topic it overlaps ("not the * that"); else the nearest topic after it
    ("don't care about the commute"); else, with nothing after it, the nearest before it ("the
    pay doesn't matter"). At most four words may lie between. One cue cancels one topic, so
    "I want to learn and the pay doesn't matter" keeps learning."""
    cancelled: set[int] = set()
    for cue_start, cue_end in cues:
        overlapping = [n for n, m in enumerate(topics) if m.start < cue_end and cue_start < m.end]
        after = [n for n, m in enumerate(topics) if m.start >= cue_end and m.start - cue_end <= _DISMISS_GAP]
        before = [n for n, m in enumerate(topics) if m.end <= cue_start and cue_start - m.end <= _DISMISS_GAP]
        cancelled.update(overlapping or after[:1] or before[-1:])
    return cancelled


def _clauses(text: str, breaks: frozenset[str]) -> Iterable[list[str]]:
    for piece in _PUNCTUATION_BREAK.split(normalize(text)):
        clause: list[str] = []
        for word in _NON_WORD.split(piece):
            if word in breaks:
                yield clause
                clause = []
            elif word:
                clause.append(word)
        yield clause

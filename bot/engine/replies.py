"""What the engine asks front ends to show. Plain structures, never markup: each platform's
renderer decides how they look and escapes the person's own words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Say:
    text: str
    tone: Literal["info", "notice", "error"] = "info"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Ask:
    slot: str
    prompt: str
    choices: tuple[Choice, ...] = ()
    multi: bool = False
    free_text: bool = True
    can_skip: bool = False
    step: int = 1
    total_steps: int = 1
    earlier_answer: str | None = None  # shown after "back", so nothing typed is lost


@dataclass(frozen=True)
class QuestionCard:
    number: int
    id: str
    text: str
    purpose: str
    topics: tuple[str, ...]
    stages: tuple[str, ...]
    why: str
    listen_for: str
    red_flags: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionGroup:
    purpose: str
    label: str
    questions: tuple[QuestionCard, ...]


@dataclass(frozen=True)
class QuestionSet:
    title: str
    groups: tuple[QuestionGroup, ...]
    homework: tuple[str, ...]
    next_steps: tuple[Choice, ...]
    ranking: tuple[str, ...] = ()  # question ids best first, when the list was just chosen
    edit: bool = False  # the list on screen with one question changed (swap), not a new list

    @property
    def cards(self) -> tuple[QuestionCard, ...]:
        return tuple(card for group in self.groups for card in group.questions)


@dataclass(frozen=True)
class Document:
    """A plain-text copy the person can keep (the `export` command)."""

    title: str
    body: str


@dataclass(frozen=True)
class FieldErrors:
    """Fields of a Form that could not be read, slot name to what to fix. Nothing was saved."""

    errors: Mapping[str, str]


Reply = Say | Ask | QuestionSet | Document | FieldErrors

"""One person's conversation state, and its JSON form (never pickle)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

SCHEMA_VERSION = 1

Status = Literal["intake", "results", "paused"]


class SessionCorrupt(ValueError):
    """Stored state that cannot be read back; the runner resets it and apologises."""


@dataclass(frozen=True)
class PriorityAnswer:
    """An answer to the priorities question: topics named, and topics set aside ("not about the money")."""

    named: tuple[str, ...]
    set_aside: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    status: Status = "intake"
    started: bool = False  # False until the person has been greeted
    company: str | None = None
    role: str | None = None
    stage: str | None = None  # None once answered means "any stage"
    company_type: str | None = None
    setting: str | None = None  # where the work happens, when the person said so (else read from the title)
    level: str | None = None  # their seniority, when they said so (else read from the title)
    priorities: tuple[str, ...] = ()
    set_aside: tuple[str, ...] = ()  # topics the person said do not matter to them
    notes: str | None = None
    note_topics: tuple[str, ...] = ()  # what the notes are about, read with the priority matcher
    language: str | None = None  # a language other than English the person wrote in, once noticed
    answered: tuple[str, ...] = ()  # slots answered or skipped, in order, for "back"
    earlier: dict[str, str] = field(default_factory=dict)  # answers undone by "back"
    shown: tuple[str, ...] = ()  # every question id shown in this session
    current: tuple[str, ...] = ()  # the list on screen, in display order
    pages: tuple[tuple[str, ...], ...] = ()  # every list shown, oldest first: (title, *question ids)
    updated_at: float = 0.0
    expires_at: float = 0.0

    def with_answer(self, slot: str, value: object) -> Session:
        earlier = {k: v for k, v in self.earlier.items() if k != slot}
        answered = (*(s for s in self.answered if s != slot), slot)
        # Any: the slot's parser has already given the value the field's type.
        change: dict[str, Any] = {slot: value}
        if isinstance(value, PriorityAnswer):
            change = {"priorities": value.named, "set_aside": value.set_aside}
        elif slot == "priorities":
            change["set_aside"] = ()
        return replace(self, answered=answered, earlier=earlier, **change)

    def without_last_answer(self) -> tuple[Session, str]:
        """Undo the latest answer ("back"); returns the new session and the slot undone."""
        last = self.answered[-1]
        change: dict[str, Any] = {last: () if last == "priorities" else None}
        if last == "priorities":
            change["set_aside"] = ()
        if last == "notes":
            change["note_topics"] = ()
        return replace(self, answered=self.answered[:-1], **change), last


_TUPLE_FIELDS = {"priorities", "set_aside", "note_topics", "answered", "shown", "current"}
_FIELD_NAMES = {f.name for f in fields(Session)}


def encode(session: Session) -> str:
    data: dict[str, Any] = asdict(session)
    data["schema"] = SCHEMA_VERSION
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode(raw: str) -> Session:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise SessionCorrupt(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SessionCorrupt("not a JSON object")
    version = data.pop("schema", None)
    if version != SCHEMA_VERSION:
        raise SessionCorrupt(f"unknown schema version {version!r}")
    unknown = set(data) - _FIELD_NAMES
    if unknown:
        raise SessionCorrupt(f"unknown fields {sorted(unknown)}")
    try:
        if "pages" in data:
            pages = data["pages"]
            if not isinstance(pages, list) or not all(
                isinstance(page, list) and all(isinstance(v, str) for v in page) for page in pages
            ):
                raise SessionCorrupt("pages must be lists of strings")
            data["pages"] = tuple(tuple(page) for page in pages)
        for name in _TUPLE_FIELDS & set(data):
            if not isinstance(data[name], list) or not all(isinstance(v, str) for v in data[name]):
                raise SessionCorrupt(f"{name} must be a list of strings")
            data[name] = tuple(data[name])
        session = Session(**data)
    except TypeError as exc:
        raise SessionCorrupt(str(exc)) from exc
    _check_types(session)
    return session


def _check_types(session: Session) -> None:
    if not isinstance(session.started, bool):
        raise SessionCorrupt("started must be true or false")
    if session.status not in ("intake", "results", "paused"):
        raise SessionCorrupt(f"unknown status {session.status!r}")
    for name in ("company", "role", "stage", "company_type", "setting", "level", "notes", "language"):
        value = getattr(session, name)
        if value is not None and not isinstance(value, str):
            raise SessionCorrupt(f"{name} must be text")
    if not isinstance(session.earlier, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in session.earlier.items()
    ):
        raise SessionCorrupt("earlier must map slot names to text")
    if not isinstance(session.updated_at, int | float) or not isinstance(session.expires_at, int | float):
        raise SessionCorrupt("timestamps must be numbers")

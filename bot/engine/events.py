"""What a front end tells the engine. Every event carries the time, so the engine never reads a clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    """Something the person typed. Commands such as "help" or "swap 2" are recognised by the engine.

    `slot` is set when the text was typed into a field for one question (a text box opened by a
    button): it answers that question only, and is refused once the conversation has moved on."""

    text: str
    at: float
    slot: str = ""


@dataclass(frozen=True)
class Pick:
    """Choices picked from an Ask on a platform UI (buttons, menus, numbered list)."""

    slot: str
    values: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class Command:
    """A command sent as an action (a button), or "start" when a front end opens a conversation.
    A Skip button names its question in `arg`, so an old one never skips a later question."""

    name: str
    at: float
    arg: str = ""


@dataclass(frozen=True)
class Form:
    """Several answers at once: a modal, `revq ask`, a one-shot command.

    `typed` holds what was typed per slot and `picked` what was chosen from the slot's list; a
    slot may have both (priorities). A slot in neither is not given: optional, and "any" for
    stage, company type and priorities. Every given slot is read by its own parser; if any is
    invalid, nothing changes and the reply is one FieldErrors.

    `ask_missing` names slots a form with little room (a Discord modal holds five fields) leaves
    to the conversation: when not given, they are asked next instead of taken as skipped.
    """

    at: float
    typed: Mapping[str, str] = field(default_factory=dict)
    picked: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ask_missing: tuple[str, ...] = ()


Inbound = Text | Pick | Command | Form

OPENING = "open"  # Command("start", at, OPENING): a front end opening the conversation (not typed "hi")

COMMANDS: tuple[str, ...] = (
    "help", "back", "skip", "restart", "cancel", "more", "swap", "export", "forget", "start",
)  # fmt: skip

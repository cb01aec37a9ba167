"""What a front end tells the engine. Every event carries the time, so the engine never reads a clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """Something the person typed. Commands such as "help" or "swap 2" are recognised by the engine."""

    text: str
    at: float


@dataclass(frozen=True)
class Pick:
    """Choices picked from an Ask on a platform UI (buttons, menus, numbered list)."""

    slot: str
    values: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class Command:
    """A command sent as an action (a button), or "start" when a front end opens a conversation."""

    name: str
    at: float
    arg: str = ""


Inbound = Text | Pick | Command

OPENING = "open"  # Command("start", at, OPENING): a front end opening the conversation (not typed "hi")

COMMANDS: tuple[str, ...] = (
    "help", "back", "skip", "restart", "cancel", "more", "swap", "export", "forget", "start",
)  # fmt: skip

"""Cleaning what people type before the engine looks at it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_MESSAGE_CHARS = 2000
QUOTES = "\"'`\u201c\u201d\u2018\u2019"  # straight and curly quotes people wrap answers in
# C0/C1 control characters and DEL, but not tab and newline; also bidi overrides and zero-width marks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool


def clean_message(raw: str, limit: int = MAX_MESSAGE_CHARS) -> CleanText:
    text = unicodedata.normalize("NFC", raw)
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = text.replace("\ufffd", "")  # replacement characters left by binary input
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line)
    truncated = len(text) > limit
    return CleanText(text[:limit].rstrip() if truncated else text, truncated)


def one_line(text: str, limit: int) -> tuple[str, bool]:
    """Fold text to a single line of at most `limit` characters; says whether it was cut."""
    folded = " ".join(text.split())
    if len(folded) <= limit:
        return folded, False
    return folded[:limit].rstrip(), True

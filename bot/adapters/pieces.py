"""Long text in pieces a chat platform accepts, cut at line breaks where possible."""

from __future__ import annotations

from collections.abc import Callable


def split_text(text: str, limit: int, cut_at: Callable[[str, int], int]) -> list[str]:
    """`text` in pieces of at most `limit` characters. Lines stay whole where they fit; a longer
    line is cut where `cut_at(line, limit)` says (each platform knows what must not be split).
    Pieces that are only white space are left out: platforms refuse empty text."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        joined = f"{current}\n{line}" if current else line
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            at = cut_at(line, limit)
            pieces.append(line[:at])
            line = line[at:]
        current = line
    if current:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]

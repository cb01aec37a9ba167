"""Markdown output for `revq ask --format markdown`: the person's words are escaped, never markup."""

from __future__ import annotations

import re

from bot.engine.replies import QuestionSet

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(question_set: QuestionSet) -> str:
    lines = [f"# {escape(question_set.title)}"]
    for group in question_set.groups:
        lines += ["", f"## {escape(group.label)}", ""]
        for card in group.questions:
            lines.append(f"{card.number}. **{escape(card.text)}**  ")
            lines.append(f"   *Why ask:* {escape(card.why)}  ")
            lines.append(f"   *Listen for:* {escape(card.listen_for)}")
            if card.red_flags:
                lines.append(f"   *Watch out for:* {escape(' / '.join(card.red_flags))}")
    if question_set.homework:
        lines += ["", "## Before the interview, look up", ""]
        lines += [f"- {escape(item)}" for item in question_set.homework]
    return "\n".join(lines) + "\n"

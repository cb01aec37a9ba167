"""Markdown output for `revq ask --format markdown`: the person's words are escaped, never markup."""

from __future__ import annotations

import re

from bot.engine.replies import QuestionSet

# What could turn the person's words into markup: emphasis, code, links, html, headings, tables.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(question_set: QuestionSet) -> str:
    lines = [f"# {escape(question_set.title)}"]
    for group in question_set.groups:
        lines += ["", f"## {escape(group.label)}", ""]
        for card in group.questions:
            lines.append(f"{card.number}. **{escape(card.text)}**  ")
            lines.append(f"   *Why ask:* {escape(card.why)}  ")
            extra = [
                (label, items)
                for label, items in (("Watch out for", card.red_flags), ("Follow up with", card.follow_ups))
                if items
            ]
            lines.append(f"   *Listen for:* {escape(card.listen_for)}" + ("  " if extra else ""))
            for n, (label, items) in enumerate(extra):
                lines.append(f"   *{label}:* {escape(' / '.join(items))}" + ("  " if n < len(extra) - 1 else ""))
    if question_set.homework:
        lines += ["", "## Before the interview, look up", ""]
        lines += [f"- {escape(item)}" for item in question_set.homework]
    return "\n".join(lines) + "\n"

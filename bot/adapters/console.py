"""The terminal front end (`revq chat`) and its plain-text renderer, also used by `revq ask`."""

from __future__ import annotations

import asyncio
import getpass
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.engine.dialogue import export_text
from bot.engine.events import OPENING, Command, Text
from bot.engine.replies import Ask, Document, QuestionSet, Reply, Say
from bot.runner import ConversationRunner
from bot.store.base import ConversationKey

EXIT_WORDS = frozenset({"quit", "exit", ":q"})


def render_ask(ask: Ask, interactive: bool) -> str:
    lines = [f"[{ask.step}/{ask.total_steps}] {ask.prompt}"]
    if ask.earlier_answer == "skipped":
        lines.append("  (You skipped this before.)")
    elif ask.earlier_answer:
        lines.append(f"  (Before, you said: {ask.earlier_answer})")
    for number, choice in enumerate(ask.choices, 1):
        hint = f" ({choice.hint})" if choice.hint else ""
        lines.append(f"  {number}. {choice.label}{hint}")
    if ask.choices and interactive:
        if ask.multi:
            lines.append("  Type numbers such as 2, 7, 9, or say it in your own words.")
        else:
            lines.append("  Type a number" + (" or say skip." if ask.can_skip else "."))
    return "\n".join(lines)


def render_question_set(question_set: QuestionSet) -> str:
    """The engine's plain-text copy, plus what can be said next in a conversation."""
    text = export_text(question_set).rstrip()
    if question_set.next_steps:
        said = ("swap 2" if c.value == "swap" else c.value for c in question_set.next_steps)
        text += f"\n\nNext: {', '.join(said)}, back, forget, help"
    return text


def render(reply: Reply, interactive: bool = True) -> str:
    if isinstance(reply, Say):
        return reply.text
    if isinstance(reply, Ask):
        return render_ask(reply, interactive)
    if isinstance(reply, QuestionSet):
        return render_question_set(reply)
    if isinstance(reply, Document):
        rule = "-" * 40
        return f"{rule}\n{reply.body.rstrip()}\n{rule}"
    raise TypeError(f"unknown reply {type(reply).__name__}")


def console_key(user: str | None = None) -> ConversationKey:
    try:
        name = user or getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return ConversationKey("console", "local", name)


async def run_console(
    runner: ConversationRunner,
    key: ConversationKey,
    stdin: TextIO,
    stdout: TextIO,
    interactive: bool,
    clock: Callable[[], float] = time.time,
) -> None:
    """Talk to one person until end of input (Ctrl-D), Ctrl-C, or quit/exit in a terminal."""

    async def deliver(replies: Sequence[Reply]) -> None:
        for reply in replies:
            stdout.write(render(reply, interactive) + "\n\n")
        stdout.flush()

    await runner.handle(key, Command("start", clock(), OPENING), deliver)
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if interactive and line.strip().lower() in EXIT_WORDS:
            stdout.write("Bye! Your answers are saved; run revq chat to pick up again.\n")
            break
        await runner.handle(key, Text(line.rstrip("\n"), clock()), deliver)


def reconfigure_stdio() -> None:
    """Never die on bytes that are not UTF-8: replace them, and let the engine clean up."""
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")

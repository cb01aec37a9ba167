"""The docs keep up with the code: every setting is in the README's table and in `revq --help`."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import build_parser

REPO = Path(__file__).resolve().parent.parent


def settings_read_by_the_code() -> set[str]:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'"((?:REVQ|SLACK|DISCORD)_[A-Z_]+|PORT)"', source))


def test_every_setting_is_in_the_readme_table_and_the_help() -> None:
    names = settings_read_by_the_code()
    assert {"REVQ_STORE", "REVQ_ADMINS", "REVQ_PROMPT_GRACE_HOURS", "DISCORD_TOKEN"} <= names
    table = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    in_table = {re.match(r"\| `([A-Z_]+)`", line).group(1) for line in table if re.match(r"\| `([A-Z_]+)`", line)}  # type: ignore[union-attr]
    assert names <= in_table, names - in_table
    help_text = build_parser().format_help()
    assert all(name in help_text for name in names), [n for n in names if n not in help_text]

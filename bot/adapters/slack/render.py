"""Block Kit for revq: the only module that turns engine replies into Slack messages and views.

Every piece of text that may hold the person's own words (company, role, notes, question text,
follow-ups, homework, titles) goes out escaped (`&`, `<`, `>`) and as plain_text, so `<!channel>`
or `<@U123>` typed as a company name never pings anyone and `*stars*` never turn bold.
Slack's limits are kept here too: long replies are split into several messages, never refused.
"""

from __future__ import annotations

from typing import Any

# Limits Slack enforces (https://api.slack.com/reference/block-kit); we stay under them.
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_CHARS = 12_000  # all text in one message's blocks; Slack rejects much more than this
MAX_FALLBACK_CHARS = 3000  # the top-level `text` shown in notifications and read by screen readers
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_PLAIN_TEXT_MESSAGE = 35_000  # a text-only message (the export); Slack cuts at 40,000

# Action ids. The app routes on these prefixes; inbound.py reads them back.
PICK = "revq.pick."  # PICK + slot + "." + n: a choice button (value: the choice);
# PICK + slot: a static select (selected_option); PICK + slot + ".done": the Done button under a
# multi-select, whose picks are read from the message state.
CHOOSE = "revq.choose."  # CHOOSE + slot: a multi-select in a message; acked, read when Done is clicked
COMMAND = "revq.cmd."  # COMMAND + name (+ "." + n to keep ids unique); value: the command's argument
OPEN_FORM = "revq.open_form"  # opens the intake modal (App Home, and the like)
ASK_BLOCK = "revq.ask."  # ASK_BLOCK + slot: the block holding an Ask's inputs

# The intake modal.
FORM_CALLBACK = "revq.form"
FORM_INPUT = "value"  # the action id of every input in the modal
FORM_BLOCKS: dict[str, str] = {  # block id per field
    "company": "company",
    "role": "role",
    "stage": "stage",
    "company_type": "company_type",
    "priorities_picked": "priorities_picked",
    "priorities_typed": "priorities_typed",
    "notes": "notes",
}

SlackMessage = dict[str, Any]  # {"text": fallback, "blocks": [...]} or {"text": ...} alone

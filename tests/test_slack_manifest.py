"""The Slack app manifest declares what the app uses, and no more."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "deploy" / "slack" / "manifest.yml"
SLACK_CODE = REPO / "bot" / "adapters" / "slack"

# Every Web API method the adapter calls, and the bot scopes it needs (empty: none).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat_postMessage": ("chat:write",),
    "chat_postEphemeral": ("chat:write",),
    "chat_update": ("chat:write",),
    "conversations_open": ("im:write",),
    "conversations_info": ("channels:read", "groups:read"),  # public and private channels
    "users_info": ("users:read",),
    "views_open": (),
    "views_publish": (),
    "auth_test": (),
    "apps_connections_open": (),  # made with the app-level token, not a bot scope
}
# Every event the app subscribes to, and the bot scope it needs.
EVENT_SCOPES = {"message.im": "im:history", "app_home_opened": None, "app_mention": "app_mentions:read",
                "app_uninstalled": None, "tokens_revoked": None}  # fmt: skip


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


def test_manifest_declares_the_command_events_interactivity_tabs_and_socket_mode() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/revq" and len(command["description"]) <= 100
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert command["should_escape"] is True  # `/revq prompts add #careers` must arrive as <#C123|careers>
    assert data["settings"]["interactivity"]["is_enabled"] is True
    home = data["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert data["settings"]["socket_mode_enabled"] is True
    assert 175 <= len(data["display_information"]["long_description"]) <= 4000
    assert len(data["display_information"]["description"]) <= 140


def test_bot_scopes_are_exactly_what_the_code_uses() -> None:
    called = set(re.findall(r"client\.(\w+)\(", "\n".join(p.read_text() for p in SLACK_CODE.glob("*.py"))))
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these Web API methods and their scopes to METHOD_SCOPES: {unknown}"
    needed = {scope for method in called for scope in METHOD_SCOPES[method]}
    needed |= {scope for scope in EVENT_SCOPES.values() if scope} | {"commands"}
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_http_mode_lines_point_at_the_one_events_url() -> None:
    text = MANIFEST.read_text()
    urls = re.findall(r"#\s*(?:url|request_url): (\S+)", text)
    assert len(urls) == 3 and {u.rsplit("/", 2)[-2] + "/" + u.rsplit("/", 1)[-1] for u in urls} == {"slack/events"}

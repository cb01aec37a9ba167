"""slack_sdk's installation store kept in revq's own store, so every replica finds every workspace.

Records follow slack_sdk's file store: per team the latest bot ("bot"), the latest installer
("installer") and each installer by user ("installer:U123"), as the JSON of the model's fields.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.store.base import SessionStore

log = logging.getLogger(__name__)

BOT = "bot"
INSTALLER = "installer"


def team_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> str:
    """An org-wide install is found by its org alone, whatever workspace of it an event came from."""
    team = None if is_enterprise_install else team_id
    return f"{enterprise_id or 'none'}-{team or 'none'}"


def prompt_workspace(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
    """How a channel prompt names its workspace: the team id, or on Enterprise Grid its install's
    key, so the scheduler can find the token without an event to say which organization it is."""
    if not enterprise_id:
        return team_id or "-"
    return team_key(enterprise_id, team_id, is_enterprise_install)


async def find_workspace_bot(installations: AsyncInstallationStore, workspace: str) -> Bot | None:
    """The bot of a workspace named as `prompt_workspace` names it (Slack ids hold no "-")."""
    if "-" not in workspace:
        return await installations.async_find_bot(enterprise_id=None, team_id=workspace)
    enterprise, team = workspace.split("-", 1)
    whole_org = team == "none"
    return await installations.async_find_bot(
        enterprise_id=enterprise, team_id=None if whole_org else team, is_enterprise_install=whole_org
    )


def _installer(user_id: str | None) -> str:
    return f"{INSTALLER}:{user_id or 'none'}"


class StoreInstallations(AsyncInstallationStore):
    def __init__(self, store: SessionStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        team = team_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self.async_save_bot(installation.to_bot())
        record = json.dumps(installation.__dict__)
        await self._store.save_installation(team, INSTALLER, record)
        await self._store.save_installation(team, _installer(installation.user_id), record)

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:  # a user-token-only install has no bot to keep
            return
        team = team_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self._store.save_installation(team, BOT, json.dumps(bot.__dict__))

    async def _load(self, team: str, name: str) -> dict[str, Any] | None:
        raw = await self._store.get_installation(team, name)
        return dict(json.loads(raw)) if raw is not None else None

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await self._load(team_key(enterprise_id, team_id, is_enterprise_install), BOT)
        return Bot(**found) if found is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = team_key(enterprise_id, team_id, is_enterprise_install)
        found = await self._load(team, INSTALLER if user_id is None else _installer(user_id))
        if found is None:
            return None
        installation = Installation(**found)
        if user_id is not None or installation.bot_token is None:
            # A person's own record may predate a reinstall: the bot token is always the latest one.
            bot = await self.async_find_bot(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
            if bot is not None:
                installation.bot_id, installation.bot_user_id = bot.bot_id, bot.bot_user_id
                installation.bot_token, installation.bot_scopes = bot.bot_token, bot.bot_scopes
                installation.bot_refresh_token = bot.bot_refresh_token
                installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._store.delete_installation(team_key(enterprise_id, team_id), [BOT])

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        team = team_key(enterprise_id, team_id)
        if user_id is not None:
            await self._store.delete_installation(team, [_installer(user_id)])
            return
        names = await self._store.installation_names(team)
        await self._store.delete_installation(team, [name for name in names if name.startswith(INSTALLER)])

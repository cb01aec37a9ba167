"""The Discord fake against a bare discord.py client: login, gateway, interactions, DMs, rate limits, shards."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import discord
import pytest
from discord import app_commands, ui

from tests.fakes.discord_api import APP_ID, BOT_USER_ID, CHANNEL_ID, GUILD_ID, USER_ID, FakeDiscord

CALLBACK = r"/interactions/\d+/[^/]+/callback"
READY_TIMEOUT = 3.0

C = TypeVar("C", bound=discord.Client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        with fake.point_discord_here():
            yield fake


def make_client(cls: type[C], **options: Any) -> C:
    # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before `ready` (default 2 s).
    return cls(intents=discord.Intents.default(), guild_ready_timeout=0.05, **options)


@asynccontextmanager
async def running(client: C, token: str = FakeDiscord.TOKEN) -> AsyncIterator[C]:
    """Start the client, wait until it is ready, and close it (and its task) however the test ends."""
    async with client:  # initialises the client's loop state, so wait_until_ready works before login
        task = asyncio.create_task(client.start(token))
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({task, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()  # raises what made start() fail
            assert ready in done, f"client not ready within {READY_TIMEOUT}s"
            yield client
        finally:
            ready.cancel()
            await client.close()
            await asyncio.wait_for(asyncio.gather(task, ready, return_exceptions=True), 5)


Answer = Callable[[discord.Interaction], Awaitable[None]]


def revq_tree(client: discord.Client, answer: Answer) -> app_commands.CommandTree[Any]:
    """A tree with `/revq start` whose callback is `answer(interaction)`."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    group = app_commands.Group(name="revq", description="Reverse interview")

    @group.command(name="start", description="Start")
    async def start(interaction: discord.Interaction) -> None:
        await answer(interaction)

    tree.add_command(group)
    return tree


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def reply_hi(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("hi", ephemeral=True)


async def test_login_ready_and_identify(fake: FakeDiscord) -> None:
    async with running(make_client(discord.Client)) as client:
        assert client.application_id == APP_ID
        assert client.user is not None and client.user.id == BOT_USER_ID
        guild = client.get_guild(GUILD_ID)
        assert guild is not None and guild.get_channel(CHANNEL_ID) is not None
        assert guild.me is not None and guild.member_count == 2  # other members are cached only with intents.members
        [identify] = fake.identifies
        assert identify["intents"] == discord.Intents.default().value
        assert not identify["intents"] & discord.Intents(message_content=True).value
        assert "token" not in identify  # recorded without the secret
        [session] = fake.live_sessions()
        assert session.zlib_stream  # discord.py asked for zlib-stream and decoded our compressed frames
        heartbeats = [m for m in fake.gateway_received if m["op"] == 1]
        assert heartbeats  # discord.py heartbeats as soon as it gets HELLO
    [me] = fake.calls("GET", "/users/@me")
    assert me.authorized and me.status == 200 and "Authorization" not in me.headers


async def test_bad_token_is_login_failure(fake: FakeDiscord) -> None:
    async with make_client(discord.Client) as client:
        with pytest.raises(discord.LoginFailure):
            await client.start("not-the-token")
    assert [r.status for r in fake.calls("GET", "/users/@me")] == [401]
    assert fake.sessions == []


async def test_slash_command_gets_ephemeral_reply(fake: FakeDiscord) -> None:
    client = make_client(discord.Client)
    revq_tree(client, reply_hi)
    async with running(client):
        interaction = fake.slash_command("revq", "start", {}, guild_id=GUILD_ID)
        assert await fake.dispatch("INTERACTION_CREATE", interaction) == [0]
        [callback] = await fake.wait_for_call("POST", CALLBACK)
    assert callback.path == f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    assert callback.query == {"with_response": "1"}
    assert callback.json == {"type": 4, "data": {"content": "hi", "tts": False, "flags": 64}}
    assert callback.status == 200 and not callback.authorized
    original = fake.original_response(interaction)
    assert original is not None and original["flags"] == 64 and original["content"] == "hi"
    assert fake.messages_sent("callback") == [callback.json["data"]]


class Vote(ui.DynamicItem[ui.Button[Any]], template=r"vote:(?P<n>\d+)"):
    clicked: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

    def __init__(self, n: int) -> None:
        super().__init__(ui.Button(label=f"Vote {n}", custom_id=f"vote:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Vote:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        assert interaction.message is not None
        self.clicked.put_nowait((self.n, interaction.message.id))
        await interaction.response.edit_message(content=f"voted {self.n}")


class DynamicClient(discord.Client):
    async def setup_hook(self) -> None:
        self.add_dynamic_items(Vote)


async def test_button_click_reaches_dynamic_item(fake: FakeDiscord) -> None:
    Vote.clicked = asyncio.Queue()
    async with running(make_client(DynamicClient)) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("vote?", view=ui.View(timeout=None).add_item(Vote(7)))
        message = fake.message_with_component("vote:7")
        assert int(message["id"]) == sent.id
        await fake.dispatch("INTERACTION_CREATE", fake.button_click("vote:7", message))
        assert await asyncio.wait_for(Vote.clicked.get(), 2) == (7, sent.id)
        [callback] = await fake.wait_for_call("POST", CALLBACK)
    assert callback.json["type"] == 7
    assert fake.message(sent.id)["content"] == "voted 7"


class AnswerModal(ui.Modal, title="Your answer"):
    answer: ui.Label[Any] = ui.Label(text="Answer", component=ui.TextInput(custom_id="answer"))
    topic: ui.Label[Any] = ui.Label(
        text="Topic", component=ui.Select(custom_id="topic", options=[discord.SelectOption(label=t) for t in "ab"])
    )
    extras: ui.Label[Any] = ui.Label(
        text="Extras",
        component=ui.CheckboxGroup(
            custom_id="extras", max_values=2, options=[discord.CheckboxGroupOption(label=t) for t in "xyz"]
        ),
    )
    submitted: asyncio.Queue[tuple[str, list[str], list[str]]] = asyncio.Queue()

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.answer.component, ui.TextInput)
        assert isinstance(self.topic.component, ui.Select)
        assert isinstance(self.extras.component, ui.CheckboxGroup)
        values = self.answer.component.value, self.topic.component.values, self.extras.component.values
        self.submitted.put_nowait(values)
        await interaction.response.send_message("thanks", ephemeral=True)


async def test_modal_round_trip(fake: FakeDiscord) -> None:
    AnswerModal.submitted = asyncio.Queue()

    async def open_modal(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AnswerModal())

    client = make_client(discord.Client)
    revq_tree(client, open_modal)
    async with running(client):
        await fake.dispatch("INTERACTION_CREATE", fake.slash_command("revq", "start", guild_id=GUILD_ID))
        await fake.wait_for_call("POST", CALLBACK)
        modal = fake.last_modal()
        assert [(c["type"], c["component"]["type"]) for c in modal["components"]] == [(18, 4), (18, 3), (18, 22)]
        components = fake.modal_values({"answer": "ask about on-call", "topic": "b", "extras": ["x", "z"]})
        assert components[0] == {
            "type": 18,
            "id": 1,
            "component": {"type": 4, "id": 2, "custom_id": "answer"} | {"value": "ask about on-call"},
        }
        assert components[2]["component"] == {"type": 22, "id": 6, "custom_id": "extras", "values": ["x", "z"]}
        submit = fake.modal_submit(modal["custom_id"], components, guild_id=GUILD_ID)
        await fake.dispatch("INTERACTION_CREATE", submit)
        assert await asyncio.wait_for(AnswerModal.submitted.get(), 2) == ("ask about on-call", ["b"], ["x", "z"])
        callbacks = await fake.wait_for_call("POST", CALLBACK, count=2)
    assert [c.json["type"] for c in callbacks] == [9, 4]


async def test_dm_message_is_answered_in_the_dm(fake: FakeDiscord) -> None:
    client = make_client(discord.Client)
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.put_nowait(message)
        if message.author != client.user:
            await message.channel.send("pong")

    async with running(client):
        payload = fake.message_create("ping", author_id=USER_ID)
        dm_id = fake.dm_channel_id(USER_ID)
        assert payload["channel_id"] == str(dm_id) and "guild_id" not in payload
        await fake.dispatch("MESSAGE_CREATE", payload)
        [post] = await fake.wait_for_call("POST", rf"/channels/{dm_id}/messages")
        assert post.json["content"] == "pong"
        first = await asyncio.wait_for(seen.get(), 2)
        assert isinstance(first.channel, discord.DMChannel) and first.content == "ping"
        echo = await asyncio.wait_for(seen.get(), 2)  # Discord echoes the bot's own message back
        assert echo.author == client.user and echo.content == "pong"
    assert len(fake.calls("POST", r"/channels/\d+/messages")) == 1


async def test_rate_limit_is_waited_out(fake: FakeDiscord) -> None:
    async with running(make_client(discord.Client)) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        fake.rate_limit_next("POST", rf"/channels/{CHANNEL_ID}/messages", retry_after=0.2)
        message = await asyncio.wait_for(channel.send("hello"), 3)
    first, second = fake.calls("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.19
    assert fake.message(message.id)["content"] == "hello"


@pytest.mark.parametrize("context", [1, 2])
async def test_user_install_without_guild(fake: FakeDiscord, context: int) -> None:
    users: asyncio.Queue[tuple[int, int | None]] = asyncio.Queue()

    async def answer(interaction: discord.Interaction) -> None:
        users.put_nowait((interaction.user.id, interaction.guild_id))
        await reply_hi(interaction)

    client = make_client(discord.Client)
    revq_tree(client, answer)
    async with running(client):
        interaction = fake.slash_command("revq", "start", user_id=USER_ID, context=context)
        assert "guild_id" not in interaction and interaction["context"] == context
        assert interaction["authorizing_integration_owners"] == {"1": str(USER_ID)}
        await fake.dispatch("INTERACTION_CREATE", interaction)
        [callback] = await fake.wait_for_call("POST", CALLBACK)
        assert await asyncio.wait_for(users.get(), 2) == (USER_ID, None)
    assert callback.status == 200 and callback.json["type"] == 4


class FastShards(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # the default sleeps 5 s before every IDENTIFY but the first


async def test_sharded_client_connects_every_shard(fake: FakeDiscord) -> None:
    async with running(make_client(FastShards, shard_count=2)) as client:
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        assert len(await fake.wait_connected(2)) == 2
        expected_shard = (GUILD_ID >> 22) % 2
        assert client.get_guild(GUILD_ID) is not None
        payload = fake.message_create("hi", author_id=USER_ID)  # a DM: always shard 0
        assert await fake.dispatch("MESSAGE_CREATE", payload) == [0]
        interaction = fake.slash_command("revq", "start", guild_id=GUILD_ID)
        assert await fake.dispatch("INTERACTION_CREATE", interaction) == [expected_shard]


async def test_restart_against_the_same_fake(fake: FakeDiscord) -> None:
    async with running(make_client(discord.Client)):
        pass
    await asyncio.wait_for(until(lambda: not fake.live_sessions()), 2)
    async with running(make_client(discord.Client)) as client:
        assert client.is_ready()
        assert len(fake.identifies) == 2 and len(fake.live_sessions()) == 1
        assert fake.sessions[0].closed


async def test_dropped_connection_is_resumed(fake: FakeDiscord) -> None:
    client = make_client(discord.Client)
    revq_tree(client, reply_hi)
    resumed = asyncio.Event()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with running(client):
        [before] = fake.live_sessions()
        session_id = before.session_id
        await fake.disconnect()
        await asyncio.wait_for(resumed.wait(), 2)
        [after] = await fake.wait_connected()
        assert after is not before and after.session_id == session_id
        assert [m["d"]["session_id"] for m in fake.gateway_received if m["op"] == 6] == [session_id]
        assert len(fake.identifies) == 1
        await fake.dispatch("INTERACTION_CREATE", fake.slash_command("revq", "start", guild_id=GUILD_ID))
        [callback] = await fake.wait_for_call("POST", CALLBACK)
    assert callback.status == 200


async def test_unknown_route_and_followup_before_ack_are_refused(fake: FakeDiscord) -> None:
    async with running(make_client(discord.Client)) as client:
        with pytest.raises(discord.NotFound):
            await client.http.request(discord.http.Route("GET", "/nope"))
        interaction = fake.slash_command("revq", "start", guild_id=GUILD_ID)
        await fake.dispatch("INTERACTION_CREATE", interaction)  # no tree: nobody answers it
        webhook = discord.Webhook.partial(APP_ID, interaction["token"], client=client)
        with pytest.raises(discord.NotFound):
            await webhook.send("too early", wait=True)
    assert fake.calls("GET", "/nope")[0].status == 404

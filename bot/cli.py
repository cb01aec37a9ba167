"""The `revq` command: chat in a terminal, ask once, or check the question bank."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

from bot import __version__
from bot.adapters.console import console_key, reconfigure_stdio, render_question_set, run_console
from bot.adapters.markdown import render_markdown
from bot.config import MAX_QUESTION_COUNT, ConfigError, Settings
from bot.engine.dialogue import EngineContext, profile_of, step
from bot.engine.events import Form
from bot.engine.replies import FieldErrors, QuestionGroup, QuestionSet, Say
from bot.engine.session import Session
from bot.prompts.admin import ACTIONS, carry_out, parse_request
from bot.prompts.schedule import FORMS_TEXT, ScheduleError
from bot.runner import ConversationRunner
from bot.store import open_store
from bot.store.base import StoreUnavailable
from question_bank import Bank, BankError, default_bank, load_bank
from question_bank.model import COMPANY_TYPES, LEVELS, PURPOSES, ROLE_FAMILIES, SETTINGS, STAGES, TOPICS
from question_bank.priorities import language_names

log = logging.getLogger("revq")

DESCRIPTION = """\
revq helps you walk into a job interview with good questions for the employer.
It asks what matters to you and who you are meeting, then gives a short, ranked
list of questions, each with why to ask it and what to listen for."""

EPILOG = """\
examples:
  revq chat                          talk it through in this terminal
  printf 'Acme\\nData Engineer\\n2\\nskip\\nremote work\\nskip\\n' | revq chat --new
  revq ask --company Acme --role "Data Engineer" --stage hiring_manager \\
           --priorities "remote work and a learning budget" --format json
  revq ask --company "Brightline Contractors" --role "Electrician" --setting field \\
           --priorities "home time and tools"
  revq bank validate                 check the question bank files
  revq bank stats                    count questions per topic, stage and purpose

  revq slack                         run the Slack app over Socket Mode
  revq slack --http --port 3000      run the Slack app over HTTP (POST /slack/events)
  revq discord sync                  register /revq with Discord (after install or upgrade)
  revq discord invite                print the links that add revq to a server or an account
  revq discord                       run the Discord bot
  revq prompts add --platform slack --channel C0123 weekly monday 09:00 Europe/Berlin
                                     post a question of the week in a career channel

settings come from environment variables: REVQ_STORE (memory://, sqlite:///PATH,
redis://HOST:PORT/DB, rediss://...), REVQ_DB, REVQ_REDIS_PREFIX, REVQ_SESSION_TTL_DAYS,
REVQ_QUESTION_COUNT, REVQ_BANK, REVQ_LOG_LEVEL, REVQ_HEALTH_PORT (/healthz, /readyz and
/metrics for Socket Mode and Discord); for channel prompts: REVQ_ADMINS,
REVQ_PROMPT_GRACE_HOURS, REVQ_PROMPT_CHECK_SECONDS; for Slack: SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL, PORT, and for OAuth in many
workspaces SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET; for Discord: DISCORD_TOKEN,
DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS, DISCORD_API_URL, DISCORD_GATEWAY_URL (see README.md)."""


class OneLineParser(argparse.ArgumentParser):
    """Bad input exits 2 with one clear line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _choice(name: str, values: tuple[str, ...], extra: str = "") -> Any:
    def parse(raw: str) -> str:
        value = raw.strip().lower().replace("-", "_").replace(" ", "_")
        if value not in values:
            raise argparse.ArgumentTypeError(f"{name} must be one of: {', '.join(values)}{extra}; not {raw!r}")
        return value

    return parse


def _count(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", raw.strip()) or not 1 <= int(raw) <= MAX_QUESTION_COUNT:
        raise argparse.ArgumentTypeError(f"--count must be a whole number from 1 to {MAX_QUESTION_COUNT}; not {raw!r}")
    return int(raw)


def _port(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", raw.strip()) or not 1 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be a whole number from 1 to 65535; not {raw!r}")
    return int(raw)


def _snowflake(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{15,20}", raw.strip()):
        raise argparse.ArgumentTypeError(f"expected a Discord id (15 to 20 digits); not {raw!r}")
    return int(raw)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="revq", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"revq {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    chat = commands.add_parser(
        "chat",
        help="prepare your questions in a conversation in this terminal",
        description="Prepare your questions in a conversation in this terminal. "
        "Your answers are saved (REVQ_DB), so you can stop and pick up later. "
        "When input is not a terminal, each line is one message.",
    )
    chat.add_argument("--new", action="store_true", help="start a new conversation instead of resuming")
    chat.add_argument("--user", help="whose conversation this is (default: your login name)")

    ask = commands.add_parser(
        "ask",
        help="print a question list at once, from flags",
        description="Print a tailored question list at once, with no conversation.",
    )
    ask.add_argument("--company", required=True, help="the employer's name")
    ask.add_argument("--role", help='the job title, such as "Data Engineer"')
    ask.add_argument(
        "--stage",
        type=_choice("--stage", STAGES, " (leave it out for any stage)"),
        help=f"who you are meeting: {', '.join(STAGES)}",
    )
    ask.add_argument(
        "--company-type",
        type=_choice("--company-type", COMPANY_TYPES),
        help=f"the kind of employer: {', '.join(COMPANY_TYPES)}",
    )
    ask.add_argument(
        "--setting",
        type=_choice("--setting", SETTINGS),
        help=f"where you will mostly work: {', '.join(SETTINGS)} (default: read from --role)",
    )
    ask.add_argument(
        "--level",
        type=_choice("--level", LEVELS),
        help=f"how senior the job is: {', '.join(LEVELS)} (default: read from --role)",
    )
    ask.add_argument(
        "--priorities",
        help="what matters to you, in your own words (English, Spanish, French, German or Portuguese), "
        "most important first",
    )
    ask.add_argument("--notes", help="what you already know about the employer")
    ask.add_argument("--count", type=_count, default=None, help="how many questions (default 6, at most 20)")
    ask.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format")

    slack = commands.add_parser(
        "slack",
        help="run revq as a Slack app (Socket Mode, or HTTP with --http)",
        description="Run revq as a Slack app. Socket Mode (the default) needs SLACK_BOT_TOKEN and "
        "SLACK_APP_TOKEN and no public URL. HTTP mode (--http) needs SLACK_BOT_TOKEN and "
        "SLACK_SIGNING_SECRET; Slack posts commands, clicks and events to /slack/events, and "
        "GET /healthz, /readyz and /metrics serve probes and Prometheus (in Socket Mode on "
        "REVQ_HEALTH_PORT, when set). SLACK_API_URL points at another Web API "
        "address (a proxy). See README.md for setting up the Slack app.",
    )
    slack.add_argument("--http", action="store_true", help="serve HTTP instead of connecting over Socket Mode")
    slack.add_argument("--port", type=_port, default=None, help="HTTP port (default: PORT, else 3000)")

    discord = commands.add_parser(
        "discord",
        help="run revq as a Discord bot; sync its commands; print its install links",
        description="Run revq as a Discord bot (needs DISCORD_TOKEN). Run `revq discord sync` once "
        "after installing or upgrading, so Discord knows the /revq command. DISCORD_SHARD_COUNT and "
        "DISCORD_SHARD_IDS spread a very large bot over several processes. DISCORD_API_URL and "
        "DISCORD_GATEWAY_URL point at other addresses (local tests, proxies). See README.md.",
    )
    discord_actions = discord.add_subparsers(dest="discord_command", metavar="ACTION", parser_class=OneLineParser)
    discord_actions.add_parser("run", help="connect and answer (the default)")
    sync = discord_actions.add_parser(
        "sync",
        help="register /revq with Discord",
        description="Register /revq with Discord: everywhere (it can take a while to show), or at "
        "once in one server with --guild. Discord limits how often this may run, so revq does "
        "not do it on every start.",
    )
    sync.add_argument("--guild", type=_snowflake, help="a server id: register there only, at once (for trying it out)")
    invite = discord_actions.add_parser(
        "invite",
        help="print the links that add revq to a server or to a person's own account",
        description="Print the two install links: one adds revq to a server, the other to a "
        "person's own Discord account, so they can use /revq anywhere. Uses DISCORD_TOKEN to "
        "find the application id, unless --app-id is given.",
    )
    invite.add_argument("--app-id", type=_snowflake, help="the application id (then no token is needed)")

    prompts = commands.add_parser(
        "prompts",
        help="set up a career channel's scheduled question (the same as the chat's prompt commands)",
        description="Set up the scheduled question that revq posts in a career channel, as admins do "
        "with `/revq prompts` on Slack and `/revq-prompts` on Discord. The running Slack or Discord "
        "bot, sharing this store (REVQ_STORE, REVQ_DB), posts it. WHEN is one of: " + FORMS_TEXT + ".",
        epilog="examples:\n"
        "  revq prompts add --platform slack --channel C0123 weekly monday 09:00 Europe/Berlin\n"
        "  revq prompts topic --platform discord --channel 123456789012345678 salary and offers\n"
        "  revq prompts list --platform slack",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prompts.add_argument("action", choices=[a for a in ACTIONS if a != "help"], metavar="ACTION",
                         help="add, list, pause, resume, remove, preview or topic")  # fmt: skip
    prompts.add_argument("--platform", required=True, choices=("slack", "discord"), help="slack or discord")
    prompts.add_argument("--channel", default="", help="the channel id (C0123 on Slack, digits on Discord)")
    prompts.add_argument("words", nargs="*", metavar="WHEN|TOPIC", help="for add: when to post; for topic: the topic")

    bank = commands.add_parser("bank", help="check or count the question bank")
    bank_commands = bank.add_subparsers(
        dest="bank_command", metavar="ACTION", parser_class=OneLineParser, required=True
    )
    bank_commands.add_parser("validate", help="check every bank file; list each problem with file, line, id, field")
    bank_commands.add_parser("stats", help="count questions per topic, stage, purpose and company type")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # `revq prompts add ... weekly monday 09:00 UTC`: the words may follow the options
    args, extra = parser.parse_known_args(argv)
    if extra and (args.command != "prompts" or any(word.startswith("--") for word in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.words = [*args.words, *extra]
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"revq: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for library in ("slack_bolt", "slack_sdk", "discord"):  # at DEBUG they log request bodies: people's own words
        logging.getLogger(library).setLevel(max(logging.INFO, logging.getLevelName(settings.log_level)))
    try:
        bank = load_bank(Path(settings.bank_dir)) if settings.bank_dir else default_bank()
    except BankError as exc:
        print(exc if args.command == "bank" else f"revq: {exc}", file=sys.stderr)
        return 1
    if args.command == "bank":
        return bank_command(args.bank_command, bank)
    if args.command == "ask":
        return ask_command(args, bank, settings)
    if args.command == "slack":
        return asyncio.run(slack_command(args, bank, settings))
    if args.command == "discord":
        return asyncio.run(discord_command(args, bank, settings))
    if args.command == "prompts":
        return asyncio.run(prompts_command(args, bank, settings))
    return asyncio.run(chat_command(args, bank, settings))


async def prompts_command(args: argparse.Namespace, bank: Bank, settings: Settings) -> int:
    ctx = EngineContext.build(bank)
    channel = args.channel.strip().lstrip("#")
    if channel and not _CHANNEL_ID[args.platform].fullmatch(channel):
        kind = "like C0123ABCD" if args.platform == "slack" else "15 to 20 digits"
        problem = f"--channel must be a {args.platform} channel id ({kind}), not {channel!r}"
        print(f"revq prompts: {problem}", file=sys.stderr)
        return 2
    try:
        request = parse_request(args.action, channel, args.words, ctx.matcher, "revq prompts")
    except ScheduleError as exc:
        print(f"revq prompts: {exc}", file=sys.stderr)
        return 2
    try:
        store = await open_store(settings.store, settings.db_path, settings.redis_prefix)
    except Exception as exc:  # a locked, unreadable or too-new database file; Redis not answering
        print(f"revq prompts: cannot open the store ({settings.store_shown}): {exc}", file=sys.stderr)
        return 1
    try:
        reply = await carry_out(request, store, bank, platform=args.platform, workspace="", user="",
                                now=time.time(), command="revq prompts")  # fmt: skip
    finally:
        await store.close()
    text = _CHANNEL_MENTION.sub(r"#\1", reply.text)
    if reply.missing:
        print(f"revq prompts: {text}", file=sys.stderr)
        return 2
    print(text)
    if reply.preview:
        prompt = reply.preview
        print(
            f"\n{prompt.heading}\n{prompt.question}\nWhy ask it: {prompt.why}\n{prompt.invitation}\n[{prompt.button}]"
        )
    return 0


_CHANNEL_MENTION = re.compile(r"<#([A-Za-z0-9]+)>")
_CHANNEL_ID = {"slack": re.compile(r"[CG][A-Z0-9]{6,}"), "discord": re.compile(r"[0-9]{15,20}")}


async def slack_command(args: argparse.Namespace, bank: Bank, settings: Settings) -> int:
    from bot.adapters.slack.server import StartupError, serve  # slack-bolt loads only when asked for

    ctx = EngineContext.build(bank, question_count=settings.question_count, session_ttl=settings.session_ttl)
    try:
        await serve(settings, ctx, http=args.http, port=args.port or settings.port)
    except StartupError as exc:
        print(f"revq slack: {exc}", file=sys.stderr)
        return exc.exit_code
    except StoreUnavailable as exc:  # Redis never answered while revq waited at start-up
        print(f"revq slack: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, the database folder is not writable, ...
        print(f"revq slack: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


async def discord_command(args: argparse.Namespace, bank: Bank, settings: Settings) -> int:
    from bot.adapters.discord import server  # discord.py loads only when asked for
    from bot.adapters.startup import StartupError

    ctx = EngineContext.build(bank, question_count=settings.question_count, session_ttl=settings.session_ttl)
    action = args.discord_command or "run"
    try:
        if action == "sync":
            names = await server.sync_commands(settings, ctx, args.guild)
            where = f"in server {args.guild} (at once)" if args.guild else "everywhere (it can take a while to show)"
            print(f"registered /{', /'.join(names)} {where}")
        elif action == "invite":
            app_id = args.app_id or await server.application_id(settings)
            in_server, for_user = server.invite_links(app_id)
            print(f"Add revq to a server (needs Manage Server there):\n  {in_server}")
            print(f"Add revq to your own account, to use /revq in any server or DM:\n  {for_user}")
        else:
            await server.serve(settings, ctx)
    except StartupError as exc:
        print(f"revq discord: {exc}", file=sys.stderr)
        return exc.exit_code
    except StoreUnavailable as exc:  # Redis never answered while revq waited at start-up
        print(f"revq discord: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the database folder is not writable, ...
        print(f"revq discord: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


async def chat_command(args: argparse.Namespace, bank: Bank, settings: Settings) -> int:
    reconfigure_stdio()
    ctx = EngineContext.build(bank, question_count=settings.question_count, session_ttl=settings.session_ttl)
    try:
        store = await open_store(settings.store, settings.db_path, settings.redis_prefix)
    except Exception as exc:  # a locked, unreadable or too-new database file; Redis not answering
        log.error("cannot open the session store (%s): %s", settings.store_shown, exc)
        print(f"revq: cannot open the session store ({settings.store_shown}): {exc}", file=sys.stderr)
        return 1
    key = console_key(args.user)
    try:
        await store.purge_expired(time.time())
        if args.new:
            await store.delete_user(key)
        runner = ConversationRunner(store, ctx)
        await run_console(runner, key, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
    except KeyboardInterrupt:
        print("\nBye! Your answers are saved; run revq chat to pick up again.")
    finally:
        await store.close()
    return 0


def ask_command(args: argparse.Namespace, bank: Bank, settings: Settings) -> int:
    ctx = EngineContext.build(bank, question_count=args.count or settings.question_count)
    form = ask_form(args, time.time())
    result = step(None, form, ctx)
    errors = [r for r in result.replies if isinstance(r, FieldErrors)]
    if errors and set(errors[0].errors) == {"priorities"}:
        # Words revq cannot read (another script, a typo too far) still deserve a list: a broad one.
        typed = {slot: value for slot, value in form.typed.items() if slot != "priorities"}
        result = step(None, dataclasses.replace(form, typed=typed), ctx)
        errors = [r for r in result.replies if isinstance(r, FieldErrors)]
        print(f"revq ask: {_flag_problem('priorities', '')}; this list is a broad one", file=sys.stderr)
    if errors:
        problems = (_flag_problem(slot, message) for slot, message in errors[0].errors.items())
        print(f"revq ask: {'; '.join(problems)}", file=sys.stderr)
        return 2
    for reply in result.replies:
        if isinstance(reply, Say) and reply.tone != "info":
            print(f"revq ask: {reply.text}", file=sys.stderr)
    question_set = next(r for r in result.replies if isinstance(r, QuestionSet))
    if args.format == "json":
        print(json.dumps(ask_json(result.session, question_set), indent=2, ensure_ascii=False))
        return 0
    question_set = ranked(dataclasses.replace(question_set, next_steps=()))  # no conversation to continue
    print(render_markdown(question_set) if args.format == "markdown" else render_question_set(question_set))
    return 0


def ranked(question_set: QuestionSet) -> QuestionSet:
    """The list best first, as in the JSON, each question under its own purpose heading, rather than
    grouped by purpose as a chat shows it."""
    cards = {card.id: card for card in question_set.cards}
    labels = {card.id: group.label for group in question_set.groups for card in group.questions}
    order = [i for i in question_set.ranking if i in cards] or list(cards)
    groups = tuple(
        QuestionGroup(cards[i].purpose, labels[i], (dataclasses.replace(cards[i], number=n),))
        for n, i in enumerate(order, 1)
    )
    return dataclasses.replace(question_set, groups=groups)


def ask_form(args: argparse.Namespace, at: float) -> Form:
    """The flags as one form, filled exactly as a modal would fill it. Flags left out are not given."""
    typed = {slot: value for slot, value in (("company", args.company), ("role", args.role), ("notes", args.notes))
             if value is not None}  # fmt: skip
    if args.priorities is not None and args.priorities.strip():
        typed["priorities"] = args.priorities
    chosen = (("stage", args.stage), ("company_type", args.company_type), ("setting", args.setting),
              ("level", args.level))  # fmt: skip
    picked = {slot: (value,) for slot, value in chosen if value}
    return Form(at, typed=typed, picked=picked)


def _flag_problem(slot: str, message: str) -> str:
    if slot == "priorities":
        return (
            f"couldn't tell which topics --priorities means (it reads {language_names()}); "
            f"use other words or topic ids: {', '.join(TOPICS)}"
        )
    return f"--{slot.replace('_', '-')}: {message}"


def ask_json(session: Session, question_set: QuestionSet) -> dict[str, Any]:
    profile = profile_of(session)
    return {
        "company": session.company or "the company",
        "role": session.role,
        "stage": session.stage,
        "company_type": session.company_type,
        "setting": profile.setting,  # as given, else read from the job title; null: unknown
        "level": profile.level,
        "priorities": list(session.priorities),
        "questions": [
            {
                "id": card.id,
                "text": card.text,
                "purpose": card.purpose,
                "topics": list(card.topics),
                "stages": list(card.stages),
                "why": card.why,
                "listen_for": card.listen_for,
            }
            for card in ranked(question_set).cards
        ],
        "homework": list(question_set.homework),
    }


def bank_command(action: str, bank: Bank) -> int:
    if action == "validate":
        print(f"ok: {len(bank.questions)} questions, {len(bank.topics)} topics, no problems found")
        return 0
    print(bank_stats(bank))
    return 0


def bank_stats(bank: Bank) -> str:
    tables: list[tuple[str, tuple[str, ...], Counter[str]]] = [
        ("topic", TOPICS, Counter(t for q in bank.questions for t in q.topics)),
        ("primary topic", TOPICS, Counter(q.topics[0] for q in bank.questions)),
        ("stage", STAGES, Counter(s for q in bank.questions for s in q.stages)),
        ("purpose", PURPOSES, Counter(q.purpose for q in bank.questions)),
        ("company type", COMPANY_TYPES, Counter(c for q in bank.questions for c in q.company_types)),
        ("role family", ROLE_FAMILIES, Counter(r for q in bank.questions for r in q.role_families)),
        (
            "work setting (questions for some settings only)",
            SETTINGS,
            Counter(s for q in bank.questions for s in q.settings),
        ),
        ("level (questions for some levels only)", LEVELS, Counter(lv for q in bank.questions for lv in q.levels)),
        ("sensitivity", ("low", "medium", "high"), Counter(q.sensitivity for q in bank.questions)),
    ]
    lines = [f"{len(bank.questions)} questions"]
    for title, keys, counts in tables:
        lines.append("")
        lines.append(f"per {title}:")
        lines.extend(f"  {key:<16} {counts.get(key, 0):>4}" for key in keys)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

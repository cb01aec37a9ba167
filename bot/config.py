"""Settings from environment variables (the README's configuration table lists every one)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from bot.engine.dialogue import DAY, DEFAULT_QUESTION_COUNT

STORE_FORMS = "memory://, sqlite:///PATH, redis://HOST:PORT/DB or rediss://HOST:PORT/DB"
DEFAULT_REDIS_PREFIX = "revq:"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_QUESTION_COUNT = 20
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10"
MAX_SHARDS = 10_000


class ConfigError(ValueError):
    """A setting has a value revq cannot use; the message names the variable and what it takes."""


@dataclass(frozen=True)
class Settings:
    # "sqlite", "memory", or a redis:// or rediss:// URL, which may hold a password: out of repr.
    store: str = field(default="sqlite", repr=False)
    db_path: str = "./revq.db"
    redis_prefix: str = DEFAULT_REDIS_PREFIX  # every Redis key starts with it, so deployments can share one Redis
    session_ttl_days: float = 30.0
    question_count: int = DEFAULT_QUESTION_COUNT
    log_level: str = "WARNING"
    bank_dir: str = ""  # empty: the bank shipped with revq
    # Slack. Secrets stay out of repr, so a logged Settings never shows them.
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Slack OAuth (installs in many workspaces): on when all three are set, in HTTP mode.
    slack_client_id: str = ""
    slack_client_secret: str = field(default="", repr=False)
    slack_state_secret: str = field(default="", repr=False)
    port: int = DEFAULT_PORT
    health_port: int = 0  # Socket Mode and Discord: /healthz, /readyz and /metrics on this port; 0 is off
    # Discord. The two URLs exist for local tests and proxies.
    discord_token: str = field(default="", repr=False)
    discord_api_url: str = DEFAULT_DISCORD_API_URL
    discord_gateway_url: str = ""  # empty: the gateway Discord names
    discord_shard_count: int = 0  # 0: one process, not sharded
    discord_shard_ids: tuple[int, ...] = ()  # empty: every shard of discord_shard_count
    # Channel prompts
    admins: frozenset[str] = frozenset()  # Slack user ids allowed the prompt commands besides workspace admins
    prompt_grace_hours: float = 6.0  # an occurrence missed by longer (downtime) is skipped, not posted late
    prompt_check_seconds: float = 45.0  # how often the due-check runs

    @property
    def session_ttl(self) -> float:
        return self.session_ttl_days * DAY

    @property
    def slack_oauth(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @property
    def store_shown(self) -> str:
        """The store as messages and logs may name it: never with a password."""
        if self.store.startswith(("redis://", "rediss://")):
            return f"Redis at {redact_url(self.store)}"
        return "memory" if self.store == "memory" else f"SQLite file {self.db_path}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        store, db_path = _store(env, env.get("REVQ_DB", defaults.db_path).strip() or defaults.db_path)
        shard_count = int(_number(env, "DISCORD_SHARD_COUNT", 0, 0, MAX_SHARDS, whole=True))
        grace = _number(env, "REVQ_PROMPT_GRACE_HOURS", defaults.prompt_grace_hours, 0, 24 * 28)
        check_every = _number(env, "REVQ_PROMPT_CHECK_SECONDS", defaults.prompt_check_seconds, 1, 3600)
        if grace * 3600 < 2 * check_every:  # else a due prompt can fall between two checks
            raise ConfigError(
                f"REVQ_PROMPT_GRACE_HOURS ({grace:g} h) must be at least twice REVQ_PROMPT_CHECK_SECONDS "
                f"({check_every:g} s), or prompts could be missed between two checks"
            )
        level = env.get("REVQ_LOG_LEVEL", defaults.log_level).strip().upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"REVQ_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        return cls(
            store=store,
            db_path=db_path,
            redis_prefix=redis_prefix(env),
            session_ttl_days=_number(env, "REVQ_SESSION_TTL_DAYS", defaults.session_ttl_days, 0.01, 3650),
            question_count=int(
                _number(env, "REVQ_QUESTION_COUNT", defaults.question_count, 1, MAX_QUESTION_COUNT, whole=True)
            ),
            log_level=level,
            bank_dir=env.get("REVQ_BANK", "").strip(),
            slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            slack_api_url=_url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL),
            slack_client_id=env.get("SLACK_CLIENT_ID", "").strip(),
            slack_client_secret=env.get("SLACK_CLIENT_SECRET", "").strip(),
            slack_state_secret=env.get("SLACK_STATE_SECRET", "").strip(),
            port=int(_number(env, "PORT", DEFAULT_PORT, 1, 65535, whole=True)),
            health_port=int(_number(env, "REVQ_HEALTH_PORT", 0, 0, 65535, whole=True)),
            discord_token=env.get("DISCORD_TOKEN", "").strip(),
            discord_api_url=_url(env, "DISCORD_API_URL", DEFAULT_DISCORD_API_URL).rstrip("/"),
            discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", "", schemes=("ws://", "wss://")),
            discord_shard_count=shard_count,
            discord_shard_ids=_shard_ids(env, shard_count),
            admins=frozenset(part.strip() for part in env.get("REVQ_ADMINS", "").split(",") if part.strip()),
            prompt_grace_hours=grace,
            prompt_check_seconds=check_every,
        )


def _store(env: Mapping[str, str], db_path: str) -> tuple[str, str]:
    """REVQ_STORE as (kind or Redis URL, SQLite path). The plain old values still work."""
    raw = env.get("REVQ_STORE", "").strip()
    lowered = raw.lower()
    if lowered in ("", "sqlite", "sqlite://"):
        return "sqlite", db_path
    if lowered in ("memory", "memory://"):
        return "memory", db_path
    if lowered.startswith("sqlite:///") and raw[len("sqlite:///") :].strip("/"):
        # As in SQLAlchemy: sqlite:///revq.db is relative, sqlite:////var/lib/revq.db absolute.
        return "sqlite", raw[len("sqlite:///") :]
    if lowered.startswith(("redis://", "rediss://")) and _has_host_and_port(raw):
        scheme, rest = raw.split("://", 1)
        return f"{scheme.lower()}://{rest}", db_path
    shown = redact_url(raw) if "://" in raw else raw
    raise ConfigError(f"REVQ_STORE must be one of {STORE_FORMS}, not {shown!r}")


def _has_host_and_port(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number, or out of range
        return False


def redis_prefix(env: Mapping[str, str] | None = None) -> str:
    """REVQ_REDIS_PREFIX: what every Redis key of this deployment starts with."""
    env = os.environ if env is None else env
    raw = env.get("REVQ_REDIS_PREFIX", "").strip()
    if not raw:
        return DEFAULT_REDIS_PREFIX
    if any(c.isspace() or c in "*?[]" for c in raw) or len(raw) > 64:
        raise ConfigError(
            f"REVQ_REDIS_PREFIX must be up to 64 characters without spaces or *?[], such as 'revq:', not {raw!r}"
        )
    return raw


def redact_url(url: str) -> str:
    """The URL as logs and error messages may show it: any password replaced by ***, and the query
    (where redis-py also takes a password) left out."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:  # a malformed port and the like: show only the scheme
        return url.split("://", 1)[0] + "://..."
    if parts.query:
        parts = parts._replace(query="...")
    if password is None:
        return urlunsplit(parts)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...] = ("http://", "https://")) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.startswith(schemes):
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(schemes)}, not {raw!r}")
    return raw  # passed on as it is: the client appends paths to it


def _shard_ids(env: Mapping[str, str], count: int) -> tuple[int, ...]:
    """DISCORD_SHARD_IDS as numbers, such as "0,1,2": the shards this process runs."""
    raw = env.get("DISCORD_SHARD_IDS", "").strip()
    if not raw:
        return ()
    if count == 0:
        raise ConfigError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT, the number of shards in all processes")
    parts = [part.strip() for part in raw.split(",")]
    if not all(part.isdigit() and int(part) < count for part in parts):
        raise ConfigError(
            f"DISCORD_SHARD_IDS must be shard numbers from 0 to {count - 1}, separated by commas, not {raw!r}"
        )
    return tuple(sorted({int(part) for part in parts}))


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float, whole: bool = False) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name} must be {kind} from {low:g} to {high:g}, not {raw!r}")
    return value

"""GET /healthz, /readyz and /metrics: the same three endpoints for every front end.

They are served from the moment revq starts, before the store is open. Until it is (Redis may
take a while to answer), both /healthz and /readyz say 503 "starting". After that /healthz is
liveness (the process answers HTTP), so an orchestrator restarts only a stuck process, not one
waiting out a Redis outage, and /readyz is readiness: the store answered a cheap read just now,
so a load balancer sends traffic only to copies that can keep what people say.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from bot import metrics
from bot.store.base import ConversationKey, SessionStore

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
READY_TIMEOUT = 1.0  # seconds: a probe must answer well within an orchestrator's own probe timeout
_PROBE = ConversationKey("health", "-", "-")  # a key no person has: reading it touches nobody's data


class Readiness:
    """What the endpoints report on: the store, while it is open (None before, and while stopping)."""

    def __init__(self, store: SessionStore | None = None) -> None:
        self.store = store
        self.stopping = False

    def not_serving(self) -> dict[str, str]:
        return STOPPING if self.stopping else STARTING


STARTING = {"status": "starting: waiting for the store to answer"}
STOPPING = {"status": "stopping"}


def add_health_routes(application: web.Application, readiness: Readiness) -> None:
    """Add the three endpoints to an aiohttp application."""

    async def healthz(_: web.Request) -> web.Response:
        if readiness.store is None:
            return web.json_response(readiness.not_serving(), status=503)
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        store = readiness.store
        if store is None:
            return web.json_response(readiness.not_serving(), status=503)
        try:
            await asyncio.wait_for(store.get(_PROBE, time.time()), READY_TIMEOUT)
        except Exception as exc:  # closed, unreachable or too slow: all mean "send traffic elsewhere"
            log.warning("readiness check: the store is not answering (%s)", type(exc).__name__)
            return web.json_response({"status": "store unavailable"}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics_text(_: web.Request) -> web.Response:
        # Set as a header, not content_type=: aiohttp refuses a content type carrying parameters.
        return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})

    application.router.add_get(HEALTH_PATH, healthz)
    application.router.add_get(READY_PATH, readyz)
    application.router.add_get(METRICS_PATH, metrics_text)


def health_app(readiness: Readiness) -> web.Application:
    application = web.Application()
    add_health_routes(application, readiness)
    return application


@contextlib.asynccontextmanager
async def health_server(readiness: Readiness, port: int, host: str = "0.0.0.0") -> AsyncIterator[None]:
    """Serve the three endpoints on `port` until the block ends; port 0 serves nothing (REVQ_HEALTH_PORT unset)."""
    if not port:
        yield
        return
    runner = web.AppRunner(health_app(readiness), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.warning("revq serves %s, %s and %s on port %d", HEALTH_PATH, READY_PATH, METRICS_PATH, port)
        yield
    finally:
        await runner.cleanup()

"""What chat front ends share when they start: refusing to start, and stopping cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal


class StartupError(Exception):
    """Why a front end cannot start, in one line that names the setting to fix."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, so a long-running front end can close what it opened."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform, or not the main thread
            loop.add_signal_handler(signum, stop.set)
    return stop

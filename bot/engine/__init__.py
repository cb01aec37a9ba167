"""The sans-I/O dialogue engine: events in, (new session, replies) out. See dialogue.step."""

from bot.engine.dialogue import EngineContext, StepResult, step
from bot.engine.events import Command, Inbound, Pick, Text
from bot.engine.session import Session

__all__ = ["Command", "EngineContext", "Inbound", "Pick", "Session", "StepResult", "Text", "step"]

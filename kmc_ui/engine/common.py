"""Errors shared by the engine's modules. Their text is safe and meant for the user."""

from __future__ import annotations


class EngineError(Exception):
    """The engine cannot make this video; the message says why and what to do."""


class EngineCancelled(EngineError):
    """Rendering was stopped on request."""

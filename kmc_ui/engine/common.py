"""Errors shared by the engine's modules. Their text is safe and meant for the user."""

from __future__ import annotations

from typing import Any

from kmc_ui.messages import Msg, Said


class EngineError(Exception):
    """The engine cannot make this video; the message says why and what to do. Made from a
    message (kmc_ui/catalogue/engine.py; `said()` is its text, keeping the message)."""

    def said(self) -> str:
        """The text, as a Said when the error was made from one."""
        first = self.args[0] if self.args else ""
        return first if isinstance(first, Said) else str(self)


def says(code: str, **params: Any) -> Said:
    """An engine text: the English of kmc_ui/catalogue/engine.py's `code`, keeping the message."""
    return Said(Msg(f"engine.{code}", params))


class EngineCancelled(EngineError):
    """Rendering was stopped on request."""


"""The finding: one thing wrong (or worth knowing) about one input, with how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kmc_ui.messages import Msg, render

Level = Literal["error", "warning", "hint"]
InputName = Literal["image", "video", "prompt", "pair", "element"]
LEVEL_ORDER = {"error": 0, "warning": 1, "hint": 2}
LEVEL_ICON = {"error": "⛔", "warning": "⚠️", "hint": "💡"}


@dataclass(frozen=True)
class Finding:
    level: Level
    input: InputName
    code: str  # stable snake_case id (outside scripts rely on it)
    message: str  # what is wrong, with the measured value and the limit
    fix: str = ""  # how to fix it
    auto_fix: bool = False  # the preparation step can fix it without guessing
    # The same two sentences as data (kmc_ui/messages.py): a page renders them in its own language.
    msg: Msg | None = field(default=None, compare=False, repr=False)
    fix_msg: Msg | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls, level: Level, input: InputName, code: str, msg: Msg, fix: Msg | None = None, auto_fix: bool = False
    ) -> Finding:
        """A finding from its messages: `message` and `fix` are their English rendering."""
        return cls(level, input, code, render(msg, "en"), render(fix, "en") if fix else "", auto_fix, msg, fix)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. Besides the English, the message's code and parameters (and the fix's) when the
        finding has them, so an API client can word it itself."""
        out: dict[str, Any] = {
            "level": self.level,
            "input": self.input,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "auto_fix": self.auto_fix,
        }
        if self.msg is not None:
            msg = self.msg.to_dict()
            out["message_code"], out["params"] = msg["code"], msg["params"]
        if self.fix_msg is not None:
            fix = self.fix_msg.to_dict()
            out["fix_code"], out["fix_params"] = fix["code"], fix["params"]
        return out

    def text(self) -> str:
        tail = f" Fix: {self.fix}" if self.fix else ""
        if self.auto_fix:
            tail += " (the app can do this for you: see 'What will be sent')"
        return f"{self.message}{tail}"

    def text_msg(self) -> Msg:
        """text() as a message (its English rendering is text(), word for word)."""
        parts: list[Msg | str] = [self.msg if self.msg is not None else self.message]
        if self.fix:
            parts.append(Msg("finding.fix_part", {"t_fix": self.fix_msg if self.fix_msg is not None else self.fix}))
        if self.auto_fix:
            parts.append(Msg("finding.auto_part"))
        return Msg("finding.sentences", {"parts": parts})


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (LEVEL_ORDER[f.level], f.input))


def has_errors(findings: list[Finding], input_name: str | None = None) -> bool:
    return any(f.level == "error" and (input_name is None or f.input == input_name) for f in findings)


def for_input(findings: list[Finding], input_name: str) -> list[Finding]:
    return [f for f in findings if f.input == input_name]

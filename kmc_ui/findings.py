"""The finding: one thing wrong (or worth knowing) about one input, with how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def text(self) -> str:
        tail = f" Fix: {self.fix}" if self.fix else ""
        if self.auto_fix:
            tail += " (the app can do this for you: see 'What will be sent')"
        return f"{self.message}{tail}"


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (LEVEL_ORDER[f.level], f.input))


def has_errors(findings: list[Finding], input_name: str | None = None) -> bool:
    return any(f.level == "error" and (input_name is None or f.input == input_name) for f in findings)


def for_input(findings: list[Finding], input_name: str) -> list[Finding]:
    return [f for f in findings if f.input == input_name]

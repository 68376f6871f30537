"""Shapes every kind of message uses: sentences one after another, and what is wrong followed by its
fix. Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "common.sentences": ("{parts:sentences}", "{parts:sentences}"),
    "common.with_fix": ("{what} Fix: {fix}", "{what}修复：{fix}"),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

"""Structured run-time messages: a code and its parameters, rendered in each language from a catalogue.

The code that knows the facts (the checks, the backends, the jobs) says what it found as a
`Msg(code, params)`; `render(msg, lang)` writes it in English or Chinese from the templates in
kmc_ui/catalogue (one (English, Chinese) pair per code). Nothing is parsed back: a Chinese page
renders the same facts the English one does.

A template names its parameters in slots: `{name}` is the value as it is (a number, a file name, a
provider's own words), `{name:kind}` goes through the named formatter of that kind (seconds,
lists of times, sides, percentages... see FORMATTERS), a `{w_name}` slot goes through the
glossary in Chinese, and a `{t_name}` slot holds a nested Msg (or, for text that has no code yet,
an English sentence that kmc_ui.ui.runtime_text.translate renders). A value is substituted once
and never read as a template: a file name "{x}.png" stays "{x}.png".

`render` never raises: an unknown code, a missing Chinese template or a missing parameter falls
back to the English (or to the code itself with its parameters), never to an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
MAX_DEPTH = 8


@dataclass(frozen=True)
class Msg:
    """One sentence (or part of one) as data: a catalogue code and its parameters. A parameter is a
    str, an int, a float, a nested Msg, or a list of those (or of pairs of numbers, for spans)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:  # params is a dict: hash what it holds, read-only by convention
        return hash((self.code, repr(sorted(self.to_dict()["params"].items()))))  # type: ignore[union-attr]

    def en(self) -> str:
        return render(self, "en")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"code": ..., "params": {...}} (nested messages as the same shape)."""
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> Msg | None:
        """The message a to_dict() wrote (None for anything else: an old record, a plain text)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("code"), str):
            return None
        params = data.get("params")
        if not isinstance(params, Mapping):
            params = {}
        return cls(data["code"], {str(k): _revive(v) for k, v in params.items()})


class Said(str):
    """English text that keeps the message it was rendered from. Code that hands a plain str along
    (a backend's ready() reason, a Transport's text, a setting's problem) keeps its signature, and a
    page in another language renders `msg` (kmc_ui.ui.runtime_text.translate) instead of reading the
    English back. Anything built from it with str operations is a plain str again."""

    msg: Msg

    def __new__(cls, msg: Msg) -> Said:
        said = super().__new__(cls, render(msg, "en"))
        said.msg = msg
        return said

    def __reduce__(self) -> tuple[Any, ...]:
        return (Said, (self.msg,))


def _plain(value: Any) -> Any:
    if isinstance(value, Said):  # a text that keeps its message is stored as the message
        return value.msg.to_dict()
    if isinstance(value, Msg):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _revive(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Msg.from_dict(value) or dict(value)
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


# ---------------------------------------------------------------- formatters


def num(x: Any, digits: int = 3) -> str:
    """Up to `digits` decimals, trailing zeros dropped: 3 -> "3", 2.99 -> "2.99"; a str as it is."""
    if isinstance(x, str):
        return x
    text = f"{float(x):.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def _pct(x: Any, lang: str) -> str:
    return x if isinstance(x, str) else f"{100 * float(x):.0f}%"


def _plural(n: Any, lang: str) -> str:
    """An English plural "s" after a count (nothing in Chinese)."""
    if lang == "zh":
        return ""
    if isinstance(n, str):
        return n
    return "" if n == 1 else "s"


def _second_unit(lang: str) -> str:
    return " 秒" if lang == "zh" else " s"


def _times(value: Any, lang: str, limit: int = 4) -> str:
    """[1.0, 2.5, ...] -> "1.0 s, 2.5 s and 3 more" / "1.0 秒、2.5 秒，另外还有 3 处"."""
    if isinstance(value, str):
        return value
    ts = list(value)
    unit = _second_unit(lang)
    shown = ("、" if lang == "zh" else ", ").join(f"{float(t):.1f}{unit}" for t in ts[:limit])
    if len(ts) > limit:
        more = len(ts) - limit
        shown += f"，另外还有 {more} 处" if lang == "zh" else f" and {more} more"
    return shown


def _spans(value: Any, lang: str) -> str:
    """[(1.0, 2.0), (3.5, 4.0)] -> "1.0-2.0 s, 3.5-4.0 s" / "1.0-2.0 秒、3.5-4.0 秒"."""
    if isinstance(value, str):
        return value
    unit = _second_unit(lang)
    return ("、" if lang == "zh" else ", ").join(f"{float(a):.1f}-{float(b):.1f}{unit}" for a, b in value)


_SIDES_ZH = {"left": "左", "right": "右", "top": "上", "bottom": "下"}


def _sides(value: Any, lang: str) -> str:
    """["left", "top"] -> "left and top" / "左侧和上方"."""
    names = [value] if isinstance(value, str) else list(value)
    if lang != "zh":
        return " and ".join(names)
    return "和".join(_SIDES_ZH.get(n, n) + ("方" if n in ("top", "bottom") else "侧") for n in names)


def _edges(value: Any, lang: str) -> str:
    """["right"] -> "right edge"; ["left", "top"] -> "left and top edges" / "左边缘和上边缘"."""
    names = [value] if isinstance(value, str) else list(value)
    if lang != "zh":
        return " and ".join(names) + (" edges" if len(names) > 1 else " edge")
    return "和".join(_SIDES_ZH.get(n, n) + "边缘" for n in names)


def _list(value: Any, lang: str) -> str:
    """["a", "b"] -> "a, b" / "a、b"."""
    if isinstance(value, str):
        return value
    return ("、" if lang == "zh" else ", ").join(str(v) for v in value)


def _or_list(value: Any, lang: str) -> str:
    """["MP4", "MOV"] -> "MP4 or MOV" / "MP4 或 MOV"."""
    if isinstance(value, str):
        return value
    return (" 或 " if lang == "zh" else " or ").join(str(v) for v in value)


def _size(value: Any, lang: str) -> str:
    """A byte count already in its unit ("12.5 MB", "1,024 bytes"): bytes are 字节 in Chinese."""
    text = str(value)
    return text.replace(" bytes", " 字节") if lang == "zh" else text


def _said(value: Any, lang: str) -> str:
    """Someone's own words after a colon ("...: Rate limit exceeded"), or nothing when there are none."""
    text = str(value or "")
    if not text:
        return ""
    return ("：" if lang == "zh" else ": ") + text


def _counts(en: str, zh: str, words: Callable[[], Mapping[str, str]]) -> Formatter:
    """A formatter for [(word, count), ...]: each pair through `en` or `zh` (with the word from
    `words()` in Chinese), joined by commas."""

    def fmt(value: Any, lang: str) -> str:
        if isinstance(value, str):
            return value
        if lang != "zh":
            return ", ".join(en.format(w=word, n=n) for word, n in value)
        said = words()
        return "，".join(zh.format(w=said.get(word, word), n=n) for word, n in value)

    return fmt


def _glossary() -> Mapping[str, str]:
    from kmc_ui.ui.zh_catalogue import WORDS

    return WORDS


def _tally_words() -> Mapping[str, str]:
    from kmc_ui.catalogue.batch import TALLY_ZH

    return TALLY_ZH


def _as_is(value: Any, lang: str) -> str:
    return num(value) if isinstance(value, float) else str(value)


Formatter = Callable[[Any, str], str]
FORMATTERS: dict[str, Formatter] = {
    "num": lambda v, lang: num(v),
    "int": _as_is,
    "pct": _pct,
    "pl": _plural,
    "times": _times,
    "spans": _spans,
    "sides": _sides,
    "edges": _edges,
    "list": _list,
    "or_list": _or_list,
    "size": _size,
    "said": _said,
    # [("left arm", 5), ...] -> "left arm in 5, ..." / "左臂 5 帧，..."
    "limbs": _counts("{w} in {n}", "{w} {n} 帧", _glossary),
    # [("done", 2), ("running", 1)] -> "2 done, 1 running" / "完成 2 个，运行中 1 个"
    "tally": _counts("{n} {w}", "{w} {n} 个", _tally_words),
    "sentences": lambda v, lang: str(v),  # rendered by _value (it needs the nested messages)
    "clauses": lambda v, lang: str(v),  # the same
}


# ---------------------------------------------------------------- the catalogue and rendering


def catalogue() -> tuple[Mapping[str, str], Mapping[str, str]]:
    """(English templates, Chinese templates), both keyed by code."""
    from kmc_ui.catalogue import EN, ZH

    return EN, ZH


def slots(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {m.group(1) for m in _SLOT.finditer(template)}


def render(msg: Msg | str | None, lang: str = "en") -> str:
    """`msg` in `lang` ("en" or "zh"). A plain str is returned as it is (English) or through
    kmc_ui.ui.runtime_text.translate (Chinese). Never raises."""
    try:
        return _render(msg, lang, 0)
    except Exception:  # a catalogue mistake must never break a page: the English, or the code
        try:
            return _render(msg, "en", 0)
        except Exception:
            return msg.code if isinstance(msg, Msg) else str(msg or "")


def _render(msg: Msg | str | None, lang: str, depth: int) -> str:
    if msg is None:
        return ""
    if isinstance(msg, Said):
        msg = msg.msg
    if not isinstance(msg, Msg):
        return _fallback_text(str(msg), lang)
    en, zh = catalogue()
    template = (zh.get(msg.code) if lang == "zh" else None) or en.get(msg.code)
    if template is None:  # unknown code: say what we know rather than nothing
        shown = ", ".join(f"{k}={_value(k, '', v, 'en', depth)}" for k, v in msg.params.items())
        return f"{msg.code} ({shown})" if shown else msg.code
    if lang == "zh" and msg.code not in zh:
        lang = "en"  # the whole sentence in English, nested parts too
    if depth > MAX_DEPTH:
        return template
    params = msg.params
    kinds = _kinds(en[msg.code])  # a slot written without a kind takes the English template's

    def fill(m: re.Match[str]) -> str:
        name, kind = m.group(1), m.group(2) or kinds.get(m.group(1), "")
        if name not in params:
            return m.group(0)
        return _value(name, kind, params[name], lang, depth)

    text = _SLOT.sub(fill, template)
    return _CJK_GAP.sub("", text) if lang == "zh" else text


def _kinds(template: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _SLOT.finditer(template):
        if m.group(2):
            out.setdefault(m.group(1), m.group(2))
    return out


_CJK_END = re.compile(f"[{_CJK}]$")
_CJK_STOPS = ("。", "！", "？", "；", "：", "…", "，", "、")


def join_sentences(parts: list[str], lang: str) -> str:
    """Sentences side by side: a space after English; in Chinese a full stop after a part that ends
    without one (BackendError.user_text() joins "... (HTTP 401) What to do: ..." without a stop)."""
    if lang != "zh":
        return " ".join(parts)
    text = ""
    for part in parts:
        if text and not _CJK_END.search(text):
            text += " "
        elif text and not text.endswith(_CJK_STOPS):
            text += "。"
        text += part
    return text


def _value(name: str, kind: str, value: Any, lang: str, depth: int) -> str:
    if isinstance(value, Said):  # a text that keeps its message
        value = value.msg
    if isinstance(value, Msg):
        return _render(value, lang, depth + 1)
    if kind == "sentences":  # a list of messages (or English texts without one), one after another
        items = value if isinstance(value, list) else [value]
        return join_sentences([_render(v, lang, depth + 1) for v in items], lang)
    if kind == "clauses":  # a list of messages as parts of one sentence: "a; b" / "a；b"
        items = value if isinstance(value, list) else [value]
        return ("；" if lang == "zh" else "; ").join(_render(v, lang, depth + 1) for v in items)
    if kind in FORMATTERS:
        return FORMATTERS[kind](value, lang)
    if isinstance(value, Sequence) and not isinstance(value, str):
        sep = "" if lang == "zh" else " "
        return sep.join(_value(name, kind, v, lang, depth) for v in value)
    text = _as_is(value, lang)
    if lang != "zh":
        return text
    if name.startswith("w_"):
        from kmc_ui.catalogue import WORDS_ZH
        from kmc_ui.ui.zh_catalogue import WORDS

        return WORDS_ZH.get(text) or WORDS.get(text, text)
    if name.startswith("t_"):
        return _fallback_text(text, lang)
    return text


def _fallback_text(text: str, lang: str) -> str:
    """Text that has no code yet (a probe's reason, a provider's words): the English, or for
    Chinese the sentence catalogue's reading of it (kmc_ui.ui.runtime_text)."""
    if lang != "zh" or not text:
        return text
    from kmc_ui.ui.runtime_text import translate

    return translate(text, "zh")


def english(msg: Msg | None, fallback: str = "") -> str:
    """The English rendering (what the CLI, the API JSON and the logs read), or `fallback`."""
    return render(msg, "en") if msg is not None else fallback

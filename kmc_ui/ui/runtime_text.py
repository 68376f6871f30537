"""Run-time text in the reader's language: the gettext approach with the English text as the key.

Findings are structured messages now (kmc_ui/messages.py: a code and parameters, rendered from
kmc_ui/catalogue for each language; `say` / `finding_said` below). What follows is the fallback for
text that has no code yet: composed sentences that quote a finding's English, provider reasons
quoted verbatim, progress and backend texts.

Findings, progress, provider messages, costs and reports are composed in English by the code
that knows the facts (kmc_ui.checks, kmc_ui.jobs, the backends...). The CLI, the API's JSON and
the tests read that English. For a page whose browser asks for Chinese, `translate(text, "zh")`
maps each sentence through the catalogue (kmc_ui/ui/zh_catalogue.py): an English template with
named slots, compiled to a regular expression, and its Chinese template. Measured values, file
names, ids and provider reasons quoted verbatim are carried over as they are; a slot named
`t_...` is itself translated (`m_...` too, and it may hold several sentences: no other slot
may run over a sentence end), one named `w_...` goes through the glossary, and a slot with a
kind (`{d:num}`, `{where:edges}`...) matches that kind's pattern and is rewritten by it.

A text the catalogue does not know is split into sentences and each is looked up on its own;
whatever stays unknown is kept in English. Nothing is ever dropped, and nothing here raises.

`lang_of(request)` reads the language from the request's Accept-Language header (q-values
respected): zh, zh-CN, zh-TW, zh-Hans... give "zh"; anything else, or no header, "en".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from kmc_ui.messages import Msg, Said, join_sentences, render
from kmc_ui.ui.scrub import visitor_text

if TYPE_CHECKING:
    from kmc_ui.findings import Finding

Lang = Literal["en", "zh"]
SUPPORTED: tuple[Lang, ...] = ("en", "zh")
MAX_DEPTH = 8  # nested slots (a reason inside a retry note inside a progress line...)
_PREFIXES = ("t_", "m_", "w_")

# Sentence boundaries: end punctuation, spaces, then something that starts a sentence; and the
# joints of Finding.text() and BackendError.user_text(), which follow a message without a full stop.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…)])\s+(?=[A-Z(*'⛔⚠💡✅⏳🔁⏹])|\s+(?=(?:What to do|Fix): )|\s+(?=Task id \S+ is kept in History)"
)
_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


# ---------------------------------------------------------------- language of a request


def accept_language(header: str | None) -> Lang:
    """The supported language the Accept-Language header prefers most ("en" when none is named)."""
    best: tuple[float, int, Lang] | None = None
    for order, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in SUPPORTED:
            continue
        q = _quality(params)
        if q <= 0:
            continue
        key = (-q, order, primary)
        if best is None or key < best:
            best = key  # type: ignore[assignment]
    return best[2] if best else "en"


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def lang_of(request: Any) -> Lang:
    """The reader's language for a Gradio request (None, a request without headers: "en")."""
    headers = getattr(request, "headers", None)
    if headers is None:
        return "en"
    try:
        header = headers.get("accept-language") or headers.get("Accept-Language") or ""
    except Exception:  # a header object of an unexpected kind: English, never a crash
        return "en"
    return accept_language(str(header))


def pick(lang: str, en: str, zh: str) -> str:
    """For text composed by the UI itself: the English or the Chinese version."""
    return zh if lang == "zh" else en


# ---------------------------------------------------------------- the catalogue, compiled

Converter = Callable[[str], str]


@dataclass(frozen=True)
class Entry:
    en: str  # English template: literal text with {slot} / {slot:kind}
    zh: str  # Chinese template with the same slot names
    pattern: re.Pattern[str]
    prefix: str  # the literal text before the first slot (a quick pre-filter)
    kinds: Mapping[str, str]  # slot -> converter kind ("" = verbatim / by name prefix)
    literal: int  # characters of fixed text: when several entries match, the most specific wins


def compile_entry(en: str, zh: str, kinds: Mapping[str, tuple[str, Converter | None]]) -> Entry:
    """`kinds`: slot kind -> (regular expression, converter). Raises ValueError on a bad template."""
    parts: list[str] = []
    seen: dict[str, str] = {}
    pos = 0
    for m in _SLOT.finditer(en):
        parts.append(re.escape(en[pos : m.start()]))
        name, kind = m.group(1), m.group(2) or ""
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            if kind and kind not in kinds:
                raise ValueError(f"unknown slot kind {kind!r} in {en!r}")
            regex = kinds[kind][0] if kind else ".+?"
            parts.append(f"(?P<{name}>{regex})")
            seen[name] = kind
        pos = m.end()
    parts.append(re.escape(en[pos:]))
    missing = {m.group(1) for m in _SLOT.finditer(zh)} - set(seen)
    if missing:
        raise ValueError(f"the Chinese template of {en!r} uses unknown slots {sorted(missing)}")
    first = _SLOT.search(en)
    prefix = en[: first.start()] if first else en
    literal = len(_SLOT.sub("", en))
    return Entry(en, zh, re.compile("".join(parts), re.DOTALL), prefix, seen, literal)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Entry, ...], Mapping[str, str], Mapping[str, tuple[str, Converter | None]]]:
    from kmc_ui.ui import zh_catalogue as cat

    kinds = cat.slot_kinds()
    entries = tuple(compile_entry(en, zh, kinds) for en, zh in cat.ENTRIES)
    return entries, cat.WORDS, kinds


def entries() -> tuple[Entry, ...]:
    """Every compiled catalogue entry (for tests and coverage reports)."""
    return _compiled()[0]


# ---------------------------------------------------------------- translation


def translate(text: str, lang: str) -> str:
    """`text` in `lang` ("en" returns it as it is). Unknown sentences stay in English. Either way
    it is a text for a visitor: errno texts, exception names and server paths are taken out
    (kmc_ui.ui.scrub.visitor_text, the last guard)."""
    if lang != "zh" or not text or not text.strip():
        return visitor_text(text)
    try:
        if isinstance(text, Said):  # it keeps its message: rendered, not read back
            return visitor_text(render(text.msg, lang))
        return visitor_text(_tidy(_translate(text, 0)))
    except Exception:  # a catalogue mistake must never break a page: fall back to the English
        return visitor_text(text)


def say(msg: Msg | None, text: str, lang: str) -> str:
    """A structured message in `lang` (kmc_ui/messages.py) when there is one, else `text` (its English)
    through `translate`. Either way scrubbed for a visitor, like translate's answers."""
    if msg is None or lang == "en":
        return translate(text, lang)
    try:
        return visitor_text(render(msg, lang))
    except Exception:  # never a broken page: the English, as translate would give it
        return translate(text, lang)


def page_text(code: str, lang: str) -> str:
    """One of the page's own sentences (kmc_ui/catalogue/page.py) in `lang`."""
    return render(Msg(code), lang)


def say_all(msgs: Sequence[Msg], text: str, lang: str) -> str:
    """Sentences given as messages, in `lang`, one after another (messages.join_sentences); `text`
    (their English) through `translate` when there are none. Scrubbed for a visitor."""
    if not msgs or lang == "en":
        return translate(text, lang)
    try:
        return visitor_text(join_sentences([render(m, lang) for m in msgs], lang))
    except Exception:  # never a broken page: the English, as translate would give it
        return translate(text, lang)


def finding_said(f: Finding, lang: str) -> tuple[str, str]:
    """(message, fix) of a finding in `lang`, scrubbed for a visitor ("" for no fix)."""
    return say(f.msg, f.message, lang), (say(f.fix_msg, f.fix, lang) if f.fix else "")


def word(value: str, lang: str) -> str:
    """A single word or label (stage, status, level...) through the glossary."""
    if lang != "zh":
        return value
    return _compiled()[1].get(value, value)


def known(text: str) -> bool:
    """True when the whole text is one catalogue sentence (tests use it for coverage)."""
    return _match(text.strip(), 0) is not None


def _translate(text: str, depth: int) -> str:
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    core = text.strip()
    if not core or depth > MAX_DEPTH:
        return text
    hit = _match(core, depth)
    if hit is not None:
        return lead + hit + trail
    pieces = _SENTENCE_END.split(core)
    if len(pieces) < 2:
        return text
    return lead + _join(_segments(pieces, depth)) + trail


def _segments(pieces: list[str], depth: int) -> list[str]:
    """Greedy: from each sentence, the longest run of sentences that is one catalogue entry."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):
            candidate = " ".join(pieces[i:j])
            hit = _match(candidate, depth) if j - i < len(pieces) else None
            if hit is not None:
                out.append(hit)
                i = j
                break
        else:
            out.append(pieces[i])
            i += 1
    return out


def _join(parts: list[str]) -> str:
    """Sentences side by side: a space after English, a full stop after Chinese that lacks one
    (BackendError.user_text() joins "... refused What to do: ..." without a stop)."""
    return join_sentences(parts, "zh")


def _tidy(text: str) -> str:
    """No space between two Chinese characters ("与 可灵 API" -> "与可灵 API")."""
    return _CJK_GAP.sub("", text)


def _match(text: str, depth: int) -> str | None:
    all_entries, words, kinds = _compiled()
    best: tuple[int, Entry, re.Match[str]] | None = None
    for entry in all_entries:
        if entry.prefix and not text.startswith(entry.prefix):
            continue
        if best is not None and entry.literal <= best[0]:
            continue
        m = entry.pattern.fullmatch(text)
        if m is not None and not _swallows_sentences(entry, m):
            score = _specificity(entry, m)
            if best is None or score > best[0]:
                best = (score, entry, m)
    if best is None:
        return None
    _, entry, m = best
    values = {name: _slot_value(name, entry.kinds[name], m.group(name), depth, words, kinds) for name in entry.kinds}
    return _SLOT.sub(lambda s: values.get(s.group(1), s.group(0)), entry.zh)


def _specificity(entry: Entry, m: re.Match[str]) -> int:
    """When several entries match: the one with the most fixed text and the least left verbatim
    ("Kling API: {meaning}: {reason}" must not take "... (code 1201)" into its reason)."""
    verbatim = sum(len(m.group(n)) for n, kind in entry.kinds.items() if not kind and not n.startswith(_PREFIXES))
    return entry.literal - verbatim


def _swallows_sentences(entry: Entry, m: re.Match[str]) -> bool:
    """A slot that runs over a sentence end has taken the sentences after it too: the match is
    refused and they are looked up on their own. Only an `m_` slot may hold several sentences."""
    return any(not name.startswith("m_") and _SENTENCE_END.search(m.group(name)) for name in entry.kinds)


def _slot_value(
    name: str,
    kind: str,
    value: str,
    depth: int,
    words: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Converter | None]],
) -> str:
    if kind:
        convert = kinds[kind][1]
        return convert(value) if convert else value
    if name.startswith(("t_", "m_")):
        return _translate(value, depth + 1)
    if name.startswith("w_"):
        return words.get(value, value)
    return value

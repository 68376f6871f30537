"""The message catalogue: for each code (kmc_ui.messages.Msg.code), its English and its Chinese
template. One module per kind of message, each with EN and ZH dicts; merged here."""

from __future__ import annotations

from kmc_ui.catalogue import (
    analysis,
    backends,
    batch,
    charges,
    common,
    cost,
    engine,
    export,
    findings,
    page,
    prepare,
    probe,
    progress,
    remote,
    report,
    setup,
)

_KINDS = (
    findings,
    backends,
    progress,
    prepare,
    cost,
    report,
    probe,
    batch,
    page,
    remote,
    setup,
    charges,
    export,
    engine,
    analysis,
    common,
)
EN: dict[str, str] = {code: text for kind in _KINDS for code, text in kind.EN.items()}
ZH: dict[str, str] = {code: text for kind in _KINDS for code, text in kind.ZH.items()}
# Words for `w_` slots in Chinese, beyond kmc_ui/ui/zh_catalogue.py's glossary (which serves them too).
WORDS_ZH: dict[str, str] = {**backends.WORDS_ZH, **export.WORDS_ZH}

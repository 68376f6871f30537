"""The message catalogue: for each code (kmc_ui.messages.Msg.code), its English and its Chinese
template. One module per kind of message, each with EN and ZH dicts; merged here."""

from __future__ import annotations

from kmc_ui.catalogue import findings

EN: dict[str, str] = {**findings.EN}
ZH: dict[str, str] = {**findings.ZH}

"""The message catalogue: for each code (kmc_ui.messages.Msg.code), its English and its Chinese
template. One module per kind of message, each with EN and ZH dicts; merged here."""

from __future__ import annotations

from kmc_ui.catalogue import backends, cost, findings, prepare, probe, progress, report

EN: dict[str, str] = {**findings.EN, **backends.EN, **progress.EN, **prepare.EN, **cost.EN, **report.EN, **probe.EN}
ZH: dict[str, str] = {**findings.ZH, **backends.ZH, **progress.ZH, **prepare.ZH, **cost.ZH, **report.ZH, **probe.ZH}
# Words for `w_` slots in Chinese, beyond kmc_ui/ui/zh_catalogue.py's glossary (which serves them too).
WORDS_ZH: dict[str, str] = {**backends.WORDS_ZH}

"""Cost estimate: seconds that will be billed x the tier's price for the model and provider."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kmc_ui.limits import PRICES, ROUNDS_BILLED_SECONDS, TIER_LABELS, USD_PER_UNIT
from kmc_ui.messages import Msg, Said

BILLING_NOTE = (
    "Billing follows the output's duration: with fast or hard motion the output can come back "
    "shorter than the reference, and you pay for what comes back."
)
BILLING_NOTE_MSG = Msg("cost.billing_note")  # BILLING_NOTE as a message


@dataclass(frozen=True)
class Estimate:
    provider: str
    model: str
    tier: str
    seconds: float
    usd: float | None  # None when the provider's price is not published
    units: float | None

    def text(self) -> str:
        return self.msg().en()

    def msg(self) -> Msg:
        """The estimate as a message (kmc_ui/catalogue/cost.py): text() is its English."""
        s = f"{self.seconds:.1f}"
        if self.provider == "local":
            return Msg("cost.offline", {"s": s})
        said = {"s": s, "w_tier": TIER_LABELS.get(self.tier, self.tier), "p": self.provider}
        if self.usd is None:
            return Msg("cost.no_price", said)
        said |= {"model": self.model, "usd": f"{self.usd:.2f}"}
        if self.units is not None:
            return Msg("cost.units", said | {"u": f"{self.units:.2f}"})
        return Msg("cost.approx_units", said | {"u": f"{self.usd / USD_PER_UNIT:.2f}"})


def billed(provider: str, seconds: float) -> float:
    """Seconds the provider bills for `seconds` of output: Kling rounds to the nearest whole second
    (facts addendum A4: 3.041 s was billed as 3 s; a half second rounds up)."""
    seconds = max(0.0, float(seconds))
    return float(math.floor(seconds + 0.5)) if provider in ROUNDS_BILLED_SECONDS else seconds


def estimate(provider: str, model: str, tier: str, seconds: float) -> Estimate:
    price = PRICES.get(provider, {}).get(model, {}).get(tier)
    seconds = billed(provider, seconds)
    if price is None:
        return Estimate(provider, model, tier, seconds, None, None)
    units = price.units_per_second * seconds if price.units_per_second is not None else None
    return Estimate(provider, model, tier, seconds, round(price.usd_per_second * seconds, 4), units)


def guard_usd(est: Estimate) -> float:
    """What the spend guard reserves for a run: the estimate, or, where the provider's price is not
    published, the dearest known price for that model and tier (never nothing)."""
    if est.usd is not None:
        return est.usd
    known = [p.usd_per_second for row in PRICES.values() if (p := row.get(est.model, {}).get(est.tier)) is not None]
    return round(max(known, default=0.0) * est.seconds, 4)


def charge_fields(extra: dict[str, Any]) -> dict[str, Any]:
    """The record's `charge_*` fields from what a backend read off the finished task (kmc_ui/backends/kling.py
    set_charge); {} when the provider reported nothing."""
    if "charge_units" not in extra and "charge_cash_usd" not in extra:
        return {}
    units = float(extra.get("charge_units") or 0.0)
    usd = round(units * USD_PER_UNIT + float(extra.get("charge_cash_usd") or 0.0), 4)
    return {"charge_units": units, "charge_usd": usd, "charge_note": str(extra.get("charge_note") or "")}


def charge_text(record: dict[str, Any]) -> str:
    """The real charge beside the estimate, e.g. "Billed 9 s: 4.5 units = $0.63; estimate $0.66."
    A provider that reports nothing keeps the estimate, said as such; "" for a free run."""
    estimate_usd = record.get("estimate_usd")
    if record.get("provider") == "local" or record.get("status") != "succeeded":
        return ""
    duration = record.get("result_duration")
    seconds = f"{billed(str(record.get('provider') or ''), float(duration)):g}" if duration else ""
    priced = isinstance(estimate_usd, int | float)
    est = Msg("charge.estimate", {"est": f"{estimate_usd:.2f}"}) if priced else Msg("charge.no_price")
    if "charge_usd" in record:
        units = record.get("charge_units") or 0
        said = {"s": seconds, "usd": f"{record['charge_usd']:.2f}", "est": est, "u": f"{units:g}"}
        code = "charge.billed_units" if units else "charge.billed_usd"
        return Said(Msg(code if seconds else f"{code}_unknown_s", said))
    if priced:
        said = {"p": str(record.get("provider")), "est": f"{estimate_usd:.2f}", "s": seconds}
        return Said(Msg("charge.not_reported_for" if seconds else "charge.not_reported", said))
    return ""

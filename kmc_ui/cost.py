"""Cost estimate: seconds that will be billed x the tier's price for the model and provider."""

from __future__ import annotations

from dataclasses import dataclass

from kmc_ui.limits import PRICES, TIER_LABELS, USD_PER_UNIT

BILLING_NOTE = (
    "Billing follows the output's duration: with fast or hard motion the output can come back "
    "shorter than the reference, and you pay for what comes back."
)


@dataclass(frozen=True)
class Estimate:
    provider: str
    model: str
    tier: str
    seconds: float
    usd: float | None  # None when the provider's price is not published
    units: float | None

    def text(self) -> str:
        tier = TIER_LABELS.get(self.tier, self.tier)
        if self.provider == "local":
            return f"Offline engine: free ({self.seconds:.1f} s, runs on this machine)."
        if self.usd is None:
            return (
                f"{self.seconds:.1f} s x {tier} on {self.provider}: price not published in our facts; "
                "see the provider's pricing page."
            )
        units = f" = {self.units:.2f} units" if self.units is not None else f" (~{self.usd / USD_PER_UNIT:.2f} units)"
        return f"{self.seconds:.1f} s x {tier} ({self.model}) on {self.provider}: ${self.usd:.2f}{units}, at most."


def estimate(provider: str, model: str, tier: str, seconds: float) -> Estimate:
    price = PRICES.get(provider, {}).get(model, {}).get(tier)
    seconds = max(0.0, float(seconds))
    if price is None:
        return Estimate(provider, model, tier, seconds, None, None)
    units = price.units_per_second * seconds if price.units_per_second is not None else None
    return Estimate(provider, model, tier, seconds, round(price.usd_per_second * seconds, 4), units)

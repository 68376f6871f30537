"""Cost estimates (kmc_ui/cost.py Estimate.msg, BILLING_NOTE). Code -> (English, Chinese). Slot
syntax: kmc_ui/messages.py. Amounts are passed written as the English writes them ("0.66");
`{w_tier}` is the tier's label (the glossary has each in Chinese)."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "cost.offline": ("Offline engine: free ({s} s, runs on this machine).", "离线引擎：免费（{s} 秒，在本机运行）。"),
    "cost.no_price": (
        "{s} s x {w_tier} on {p}: price not published in our facts; see the provider's pricing page.",
        "{s} 秒 × {w_tier}，服务商 {p}：我们的资料中没有该价格；请查看服务商的价格页面。",
    ),
    "cost.units": (
        "{s} s x {w_tier} ({model}) on {p}: ${usd} = {u} units, at most.",
        "{s} 秒 × {w_tier}（{model}），服务商 {p}：最多 ${usd} = {u} 单位。",
    ),
    "cost.approx_units": (
        "{s} s x {w_tier} ({model}) on {p}: ${usd} (~{u} units), at most.",
        "{s} 秒 × {w_tier}（{model}），服务商 {p}：最多 ${usd}（约 {u} 单位）。",
    ),
    "cost.billing_note": (
        "Billing follows the output's duration: with fast or hard motion the output can come back shorter than the "
        "reference, and you pay for what comes back.",
        "按输出时长计费：动作快或难度大时，输出可能比参考视频短，你只需为实际返回的时长付费。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

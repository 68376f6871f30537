"""A finished run's real charge (kmc_ui/cost.py charge_text) and a run refused by the owner's caps
(kmc_ui/spend.py). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py. Amounts and seconds
are passed written as the English writes them ("0.63", "9.4"); these travel as Said strings."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # kmc_ui/cost.py charge_text: the real charge of a finished run beside its estimate
    "charge.billed_units": ("Billed {s} s: {u} units = ${usd}; {est}.", "按 {s} 秒计费：{u} 单位 = ${usd}；{est}。"),
    "charge.billed_usd": ("Billed {s} s: ${usd}; {est}.", "按 {s} 秒计费：${usd}；{est}。"),
    "charge.billed_units_unknown_s": ("Billed: {u} units = ${usd}; {est}.", "已计费：{u} 单位 = ${usd}；{est}。"),
    "charge.billed_usd_unknown_s": ("Billed: ${usd}; {est}.", "已计费：${usd}；{est}。"),
    "charge.estimate": ("estimate ${est}", "估算 ${est}"),
    "charge.no_price": ("no published price", "没有公开价格"),
    "charge.not_reported_for": (
        "Charge not reported by {p}: ${est} is our estimate for {s} s.",
        "{p} 未报告扣费：${est} 是我们对 {s} 秒的估算。",
    ),
    "charge.not_reported": (
        "Charge not reported by {p}: ${est} is our estimate.",
        "{p} 未报告扣费：${est} 是我们的估算。",
    ),
    # kmc_ui/spend.py: a run refused by the owner's caps
    "spend.runs_used": (
        "You have used your {n} run(s) for today on this studio's account. It resets at 00:00 UTC (in {h} h {m} "
        "min). To run now, paste your own provider key under Keys: runs on your key are not limited here.",
        "你今天在本工作室账户上的 {n} 次运行已用完。额度在 UTC 00:00 重置（还有 {h} 小时 {m} 分钟）。"
        "想现在运行，请在“密钥”中粘贴你自己的服务商密钥：使用你自己密钥的运行在这里不受限制。",
    ),
    "spend.visitor_usd": (
        "This run is estimated at ${usd}, and you have ${left} left of your ${cap} for today. It resets at 00:00 UTC "
        "(in {h} h {m} min). Choose a shorter clip or Standard, or paste your own provider key under Keys.",
        "这次运行预计花费 ${usd}，而你今天的 ${cap} 额度只剩 ${left}。额度在 UTC 00:00 重置（还有 {h} 小时 {m} 分钟）。"
        "请选择更短的片段或标准档，或在“密钥”中粘贴你自己的服务商密钥。",
    ),
    "spend.budget": (
        "This run is estimated at ${usd}, and the studio has ${left} left of today's ${cap} budget. It resets at "
        "00:00 UTC (in {h} h {m} min). Paste your own provider key under Keys to run now, or use the offline engine "
        "(free).",
        "这次运行预计花费 ${usd}，而工作室今天的 ${cap} 预算只剩 ${left}。"
        "预算在 UTC 00:00 重置（还有 {h} 小时 {m} 分钟）。"
        "想现在运行，请在“密钥”中粘贴你自己的服务商密钥，或使用离线引擎（免费）。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

"""The owner's tab: what visitors spent on the owner's keys today and per day, what is left, the runs
refused, and the ledger as CSV (kmc_ui/spend.py).

Shown only when the owner set KMC_ADMIN_PASSWORD or KMC_ADMIN_USERS. Every event checks, on the
server, the password typed in the tab (compared in constant time) or the signed-in Hugging Face
name; anyone else, a raw-queue caller included, gets the same refusal and no figure.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from kmc_ui.studio import Studio
from kmc_ui.ui.access import served
from kmc_ui.ui.i18n import t
from kmc_ui.ui.runtime_text import lang_of, pick

REFUSED = (
    "This tab is for the studio's owner: sign in with an owner's Hugging Face account, or type the owner's password."
)
REFUSED_ZH = "此页面仅供工作室所有者使用：请用所有者的 Hugging Face 账号登录，或输入所有者密码。"


@dataclass
class OwnerUI:
    password: gr.Textbox
    open: gr.Button
    summary: gr.Markdown
    csv: gr.File


def build_owner_tab() -> OwnerUI:
    password = gr.Textbox(label=t("owner_password"), type="password", elem_id="kmc-owner-password")
    show = gr.Button(t("owner_open"), elem_id="kmc-owner-open")
    summary = gr.Markdown(elem_id="kmc-owner-summary")
    csv = gr.File(label=t("owner_csv"), elem_id="kmc-owner-csv", interactive=False)
    return OwnerUI(password, show, summary, csv)


def packs_md(packs: list[dict[str, Any]], why: str, lang: str) -> list[str]:
    """The Kling account's packs: units left of each (the provider's figure lags up to 12 h)."""
    if why:
        return [pick(lang, "### Kling account", "### 可灵账户"), f"- {html.escape(why)}"]
    if not packs:
        return []
    lines = [pick(lang, "### Kling account (its figures lag up to 12 h)", "### 可灵账户（其数字最多滞后 12 小时）")]
    for p in packs:
        name = html.escape(str(p.get("resource_pack_name") or "?"))
        left, total = p.get("remaining_quantity"), p.get("total_quantity")
        status = html.escape(str(p.get("status")))
        lines.append(f"- {name} ({status}): {left} / {total} " + pick(lang, "units left", "单位剩余"))
    return lines


def summary_md(s: dict[str, Any], lang: str, packs: list[str] | None = None) -> str:
    cap = s["budget_usd"]
    if cap is None:
        left = pick(lang, "no cap", "无上限")
    else:
        left = pick(lang, f"${s['left_usd']:.2f} of ${cap:.2f}", f"${cap:.2f} 中剩余 ${s['left_usd']:.2f}")
    refused = ", ".join(f"{n} ({reason})" for reason, n in s["refused"].items()) or pick(lang, "none", "无")
    lines = [
        pick(lang, f"### Today ({s['day']}, UTC)", f"### 今天（{s['day']}，UTC）"),
        pick(lang, "- Charged", "- 已扣费")
        + f": ${s['charged_usd']:.2f} · "
        + pick(lang, "reserved by runs still going", "进行中的运行预留")
        + f": ${s['reserved_usd']:.2f}",
        pick(lang, "- Budget left", "- 剩余预算") + f": {left} · " + pick(lang, "runs", "运行次数") + f": {s['runs']}",
        pick(lang, "- Runs refused", "- 被拒绝的运行") + f": {refused}",
        "",
        pick(lang, "| visitor (hash) | USD | runs |", "| 访客（哈希） | 美元 | 运行次数 |"),
        "|---|---|---|",
        *[f"| {html.escape(v['visitor'])} | {v['usd']:.2f} | {v['runs']} |" for v in s["visitors"]],
        "",
        pick(lang, "### Last 30 days", "### 最近 30 天"),
        pick(lang, "| day | charged USD | reserved USD | runs |", "| 日期 | 已扣费 | 预留 | 运行次数 |"),
        "|---|---|---|---|",
        *[f"| {d['day']} | {d['charged_usd']:.2f} | {d['reserved_usd']:.2f} | {d['runs']} |" for d in s["days"]],
        "",
        *(packs or []),
        "",
        pick(
            lang,
            "Charges are what the provider reported for each run, else our estimate. Kling's own account "
            "figures (its dashboard) lag up to 12 hours.",
            "扣费为服务商对每次运行报告的金额，没有报告时为我们的估算。可灵账户自身的数字（控制台）最多滞后 12 小时。",
        ),
    ]
    return "\n".join(lines)


def wire_owner(studio: Studio, ui: OwnerUI) -> None:
    def view(password: Any, request: gr.Request, profile: gr.OAuthProfile | None) -> tuple[Any, Any]:
        lang = lang_of(request)
        username = profile.username if profile is not None else None  # Hugging Face sign-in
        if not studio.is_owner(str(password or ""), username):
            time.sleep(0.5)  # a guessed password costs time
            return pick(lang, f"⛔ {REFUSED}", f"⛔ {REFUSED_ZH}"), None
        summary = studio.ledger.summary()
        folder = Path(studio.settings.data_dir) / "owner"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"kmc-spend-{summary['day']}.csv"
        path.write_text(studio.ledger.csv(), encoding="utf-8")
        packs, why = studio.account_packs()
        return summary_md(summary, lang, packs_md(packs, why, lang)), served(path)

    ui.open.click(view, [ui.password], [ui.summary, ui.csv], api_visibility="private")

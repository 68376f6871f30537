"""The History tab: this browser's runs, re-opened, resumed, re-run, downloaded or deleted.

Runs are scoped to the visitor id in the browser's signed cookie (kmc_ui/identity.py), so on a
shared Space nobody sees anyone else's runs: every handler finds its visitor on the server and
looks a run up by the id the page names within that visitor's History only.
Widgets and wiring only; the records live in kmc_ui.history.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kmc_ui.cost import charge_text
from kmc_ui.history import public_view
from kmc_ui.jobs import Progress
from kmc_ui.studio import Studio
from kmc_ui.ui import render
from kmc_ui.ui.access import served, visitor
from kmc_ui.ui.i18n import t
from kmc_ui.ui.player import player_value, sync_player
from kmc_ui.ui.runtime_text import lang_of, pick, translate, word
from kmc_ui.ui.stops import Stops, ended_by_itself, session_of, stop_answer

COLUMNS = ["When", "Status", "Backend", "Settings", "Cost (USD)", "Task id", "Run id"]
COLUMNS_ZH = ["时间", "状态", "后端", "设置", "费用（美元）", "任务 ID", "运行 ID"]
PENDING = ("submitted", "queued", "running", "stopped_waiting", "downloading", "download_failed", "submitting")


@dataclass
class HistoryUI:
    refresh: gr.Button
    table: gr.Dataframe
    pick: gr.Dropdown
    player: gr.HTML
    image: gr.Image
    record: gr.JSON
    download: gr.File
    resume: gr.Button
    stop: gr.Button
    rerun: gr.Button
    delete: gr.Button
    status: gr.Markdown


def build_history_tab(studio: Studio) -> HistoryUI:
    gr.Markdown(t("history_intro"))
    with gr.Row():
        refresh = gr.Button(t("refresh"), size="sm", elem_id="kmc-history-refresh")
        pick = gr.Dropdown([], label=t("open_run"), elem_id="kmc-history-pick", scale=4)
    table = gr.Dataframe(headers=COLUMNS, interactive=False, elem_id="kmc-history-table", wrap=True)
    status = gr.Markdown(elem_id="kmc-history-status")
    with gr.Row():
        resume = gr.Button(t("resume"), elem_id="kmc-history-resume")
        stop = gr.Button(t("stop"), variant="stop", size="sm", elem_id="kmc-history-stop")
        rerun = gr.Button(t("rerun"), elem_id="kmc-history-rerun")
        delete = gr.Button(t("delete"), variant="stop", elem_id="kmc-history-delete")
    player = sync_player(elem_id="kmc-history-player")
    with gr.Row():
        image = gr.Image(label=t("sent_image"), interactive=False, height=200, elem_id="kmc-history-image")
        download = gr.File(label=t("result"), interactive=False, elem_id="kmc-history-download", height=80)
        record = gr.JSON(label=t("run_record"), elem_id="kmc-history-record")
    return HistoryUI(refresh, table, pick, player, image, record, download, resume, stop, rerun, delete, status)


def _row(r: dict[str, Any], lang: str = "en", live: str = "") -> list[Any]:
    """One History row; `live`: what the run's worker is doing now (a run still going)."""
    s = r.get("settings") or {}
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(r.get("created_at") or 0)))
    summary = f"{s.get('orientation', '')} · {s.get('tier', '')} · {s.get('model', '')}"
    usd = r.get("estimate_usd")
    return [
        when,
        word(r.get("status", ""), lang) + (f" · {translate(live, lang)}" if live else ""),
        r.get("provider", ""),
        summary,
        "" if usd is None else f"{usd:.2f}",
        r.get("task_id", ""),
        r.get("run_id", ""),
    ]


def _label(r: dict[str, Any], lang: str = "en") -> str:
    status = word(r.get("status", ""), lang)
    return f"{_row(r)[0]} · {status} · {r.get('provider', '')} · {r.get('run_id', '')}"


def _table(rows: list[list[Any]], lang: str) -> Any:
    return {"data": rows, "headers": COLUMNS_ZH} if lang == "zh" else rows


def wire_history(
    studio: Studio,
    ui: HistoryUI,
    *,
    tabs: gr.Tabs,
    studio_inputs: list[gr.components.Component],
    after_run: Any,
) -> None:
    def listing(request: gr.Request) -> tuple[Any, Any]:
        lang = lang_of(request)
        runs = studio.history.list(visitor(studio, request))
        choices = [(_label(r, lang), r["run_id"]) for r in runs]
        rows = [_row(r, lang, studio.live_text(r)) for r in runs]
        return _table(rows, lang), gr.update(choices=choices, value=choices[0][1] if choices else None)

    def open_run(run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        lang = lang_of(request)
        r = studio.history.get(visitor(studio, request), run_id) if run_id else None
        if not r:
            return player_value(None, None), None, None, None, ""
        inputs = r.get("inputs") or {}
        out = r.get("output")
        status = word(r.get("status", ""), lang)
        description = pick(lang, f"Run {run_id}: {status}", f"运行 {run_id}：{status}")
        labels = (pick(lang, "Reference", "参考视频"), pick(lang, "Result", "结果"))
        value = player_value(inputs.get("video"), out, description=description, labels=labels, lang=lang)
        sep = pick(lang, ": ", "：")
        note = f"**{status}**" + (f"{sep}{translate(r['error'], lang)}" if r.get("error") else "")
        if charge_text(r):
            note += f" · {translate(charge_text(r), lang)}"
        if r.get("status") in PENDING and r.get("task_id"):
            note += pick(lang, " · this task can be resumed without paying again.", " · 此任务可以继续，无需再次付费。")
        return value, served(inputs.get("image")), public_view(r), served(out), note

    detail = [ui.player, ui.image, ui.record, ui.download, ui.status]
    for trigger in (ui.refresh.click, after_run.then):
        trigger(listing, None, [ui.table, ui.pick], api_visibility="private")
    ui.pick.change(open_run, [ui.pick], detail, api_visibility="private")

    resuming = Stops()  # each page's running resume, so Stop ends it from the server side

    def resume(run_id: str | None, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        lang = lang_of(request)
        own = visitor(studio, request)
        if not run_id:
            yield translate("Pick a run first.", lang), gr.skip(), gr.skip()
            return

        def closing(p: Progress | None) -> str:
            record = studio.history.get(own, run_id)
            backend = studio.backends.get(str((record or {}).get("provider") or ""))
            return render.stopped_md(record, backend.label if backend else "", p, lang)

        last = None
        for p, closed in resuming.run(
            session_of(request), lambda stop: studio.resume(own, run_id, cancel=stop), ended_by_itself, closing
        ):
            if closed:
                yield closed, gr.skip(), gr.skip()
                return
            last = p
            yield render.progress_md(p, lang), gr.skip(), gr.skip()
        r = studio.history.get(own, run_id) or {}
        labels = (pick(lang, "Reference", "参考视频"), pick(lang, "Result", "结果"))
        value = player_value((r.get("inputs") or {}).get("video"), r.get("output"), labels=labels, lang=lang)
        yield (render.progress_md(last, lang) if last else ""), value, served(r.get("output"))

    def queued(run_id: str | None, request: gr.Request) -> list[dict[str, Any]]:
        resuming.expect(session_of(request))  # accepted into the queue: Stop can end it before it starts
        return [gr.validate(True, "")]  # one per input: nothing here can be wrong

    ui.resume.click(resume, [ui.pick], [ui.status, ui.player, ui.download], validator=queued, api_visibility="private")

    def stopped(request: gr.Request) -> Any:
        return stop_answer(resuming.stop(session_of(request)), lang_of(request))

    ui.stop.click(stopped, None, ui.status, api_visibility="private")

    def rerun(run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        r = studio.history.get(visitor(studio, request), run_id) if run_id else None
        if not r:
            return (*(gr.skip() for _ in studio_inputs), gr.skip())
        s, inputs = r.get("settings") or {}, r.get("inputs") or {}
        values = [
            served(inputs.get("image")),
            served(inputs.get("video")),
            s.get("prompt", ""),
            s.get("orientation", "video"),
            s.get("tier", "std"),
            s.get("keep_sound", True),
            s.get("model", "v2.6"),
            r.get("provider"),
            s.get("trim_start", 0.0),
        ]
        return (*values, gr.Tabs(selected="studio"))

    ui.rerun.click(rerun, [ui.pick], [*studio_inputs, tabs], api_visibility="private")

    def delete(run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        deleted = bool(run_id) and studio.history.delete(visitor(studio, request), run_id)
        rows, choices = listing(request)
        text = f"Deleted run {run_id} and its files." if deleted else "Pick a run first."
        return rows, choices, translate(text, lang_of(request))

    ui.delete.click(delete, [ui.pick], [ui.table, ui.pick, ui.status], api_visibility="private")
    tabs.select(listing, None, [ui.table, ui.pick], api_visibility="private")

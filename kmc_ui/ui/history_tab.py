"""The History tab: this browser's runs, re-opened, resumed, re-run, downloaded or deleted.

Runs are scoped to the browser's random id (gr.BrowserState), so on a shared Space nobody
sees anyone else's runs. Widgets and wiring only; the records live in kmc_ui.history.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kmc_ui.studio import Studio
from kmc_ui.ui import render
from kmc_ui.ui.i18n import t
from kmc_ui.ui.player import player_value, sync_player

COLUMNS = ["When", "Status", "Backend", "Settings", "Cost (USD)", "Task id", "Run id"]
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


def _row(r: dict[str, Any]) -> list[Any]:
    s = r.get("settings") or {}
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(r.get("created_at") or 0)))
    summary = f"{s.get('orientation', '')} · {s.get('tier', '')} · {s.get('model', '')}"
    usd = r.get("estimate_usd")
    return [
        when,
        r.get("status", ""),
        r.get("provider", ""),
        summary,
        "" if usd is None else f"{usd:.2f}",
        r.get("task_id", ""),
        r.get("run_id", ""),
    ]


def _label(r: dict[str, Any]) -> str:
    return f"{_row(r)[0]} · {r.get('status', '')} · {r.get('provider', '')} · {r.get('run_id', '')}"


def wire_history(
    studio: Studio,
    ui: HistoryUI,
    *,
    owner: gr.BrowserState,
    tabs: gr.Tabs,
    studio_inputs: list[gr.components.Component],
    after_run: Any,
) -> None:
    def listing(own: str) -> tuple[Any, Any]:
        runs = studio.history.list(own) if own else []
        choices = [(_label(r), r["run_id"]) for r in runs]
        return [_row(r) for r in runs], gr.update(choices=choices, value=choices[0][1] if choices else None)

    def open_run(own: str, run_id: str | None) -> tuple[Any, ...]:
        r = studio.history.get(own, run_id) if own and run_id else None
        if not r:
            return player_value(None, None), None, None, None, ""
        inputs = r.get("inputs") or {}
        out = r.get("output")
        value = player_value(inputs.get("video"), out, description=f"Run {run_id}: {r.get('status', '')}")
        note = f"**{r.get('status', '')}**" + (f": {r['error']}" if r.get("error") else "")
        if r.get("status") in PENDING and r.get("task_id"):
            note += " · this task can be resumed without paying again."
        return value, inputs.get("image"), r, out, note

    detail = [ui.player, ui.image, ui.record, ui.download, ui.status]
    for trigger in (ui.refresh.click, after_run.then):
        trigger(listing, owner, [ui.table, ui.pick], api_visibility="private")
    ui.pick.change(open_run, [owner, ui.pick], detail, api_visibility="private")

    def resume(own: str, run_id: str | None) -> Iterator[tuple[Any, ...]]:
        if not own or not run_id:
            yield "Pick a run first.", gr.skip(), gr.skip()
            return
        last = None
        for p in studio.resume(own, run_id):
            last = p
            yield render.progress_md(p), gr.skip(), gr.skip()
        r = studio.history.get(own, run_id) or {}
        value = player_value((r.get("inputs") or {}).get("video"), r.get("output"))
        yield (render.progress_md(last) if last else ""), value, r.get("output")

    ev = ui.resume.click(resume, [owner, ui.pick], [ui.status, ui.player, ui.download], api_visibility="private")
    ui.stop.click(
        lambda: "Stopped waiting; resume again any time.", None, ui.status, cancels=[ev], api_visibility="private"
    )

    def rerun(own: str, run_id: str | None) -> tuple[Any, ...]:
        r = studio.history.get(own, run_id) if own and run_id else None
        if not r:
            return (*(gr.skip() for _ in studio_inputs), gr.skip())
        s, inputs = r.get("settings") or {}, r.get("inputs") or {}
        values = [
            inputs.get("image"),
            inputs.get("video"),
            s.get("prompt", ""),
            s.get("orientation", "video"),
            s.get("tier", "std"),
            s.get("keep_sound", True),
            s.get("model", "v2.6"),
            r.get("provider"),
            s.get("trim_start", 0.0),
        ]
        return (*values, gr.Tabs(selected="studio"))

    ui.rerun.click(rerun, [owner, ui.pick], [*studio_inputs, tabs], api_visibility="private")

    def delete(own: str, run_id: str | None) -> tuple[Any, ...]:
        if own and run_id:
            studio.history.delete(own, run_id)
        rows, choices = listing(own)
        return rows, choices, f"Deleted run {run_id} and its files." if run_id else "Pick a run first."

    ui.delete.click(delete, [owner, ui.pick], [ui.table, ui.pick, ui.status], api_visibility="private")
    tabs.select(listing, owner, [ui.table, ui.pick], api_visibility="private")

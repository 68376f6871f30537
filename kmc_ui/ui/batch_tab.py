"""The Batch tab: one motion with several characters, or one character with several motions.

Validated together, cost for the whole batch, run within the provider's concurrency, results in
a grid, each with its motion-agreement report; one failure does not stop the others.
Settings (orientation, tier, model, sound, backend, prompt) come from the Studio tab.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kmc_ui.batch import BatchError, BatchPlan, plan_batch, run_batch
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui import render

COLUMNS = ["#", "Item", "Stage", "Details", "Task id"]


@dataclass
class BatchUI:
    images: gr.File
    videos: gr.File
    plan_btn: gr.Button
    plan_md: gr.HTML
    run_btn: gr.Button
    stop_btn: gr.Button
    status: gr.Markdown
    table: gr.Dataframe
    gallery: gr.Gallery
    reports: gr.Markdown


def build_batch_tab() -> BatchUI:
    gr.Markdown(
        "Run **one motion with several characters**, or **one character with several motions**, as one "
        "request. Every item is checked first and the cost is shown for the whole batch; items run within "
        "the provider's concurrency, and one failure does not stop the others. Orientation, tier, model, "
        "sound, backend and prompt come from the Studio tab."
    )
    with gr.Row():
        images = gr.File(label="Character images", file_count="multiple", file_types=["image"], elem_id="kmc-b-img")
        videos = gr.File(label="Motion videos", file_count="multiple", file_types=["video"], elem_id="kmc-b-vid")
    plan_btn = gr.Button("Check the batch and show its cost", elem_id="kmc-b-plan")
    plan_md = gr.HTML(elem_id="kmc-b-plan-out")
    with gr.Row():
        run_btn = gr.Button("Run the batch", variant="primary", elem_id="kmc-b-run")
        stop_btn = gr.Button("Stop", variant="stop", elem_id="kmc-b-stop")
    status = gr.Markdown(elem_id="kmc-b-status")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, elem_id="kmc-b-table")
    gallery = gr.Gallery(label="Results", columns=3, height="auto", elem_id="kmc-b-gallery")
    reports = gr.Markdown(elem_id="kmc-b-reports")
    return BatchUI(images, videos, plan_btn, plan_md, run_btn, stop_btn, status, table, gallery, reports)


def _paths(files: Any) -> list[str]:
    if not files:
        return []
    return [str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files])]


def plan_html(plan: BatchPlan) -> str:
    rows = []
    for item in plan.items:
        est = item.estimate.text() if item.estimate else ""
        state = f"⛔ skipped: {html.escape(item.skip_reason)}" if item.skip_reason else "✅ will run"
        rows.append(
            f"<li><b>{html.escape(item.label)}</b>: {state}. {html.escape(est)}"
            f"{render.findings_html([f for f in item.report.findings if f.level != 'hint'])}</li>"
        )
    shared = render.findings_html(plan.shared_findings) if plan.shared_findings else ""
    return f"<p><b>{html.escape(plan.total_text())}</b></p>{shared}<ol>{''.join(rows)}</ol>"


def wire_batch(studio: Studio, ui: BatchUI, *, owner: gr.BrowserState, settings_inputs: list[Any]) -> None:
    """settings_inputs: prompt, orientation, tier, keep_sound, model, backend (the Studio tab's widgets)."""

    def common(prompt: str, orientation: str, tier: str, keep_sound: bool, model: str, backend: str) -> Inputs:
        return Inputs(
            prompt=prompt or "",
            orientation=orientation,
            tier=tier,
            keep_sound=bool(keep_sound),
            model=model,
            backend=backend,
        )

    def make_plan(images: Any, videos: Any, *settings: Any) -> BatchPlan:
        return plan_batch(studio, _paths(images), _paths(videos), common(*settings))

    def on_plan(images: Any, videos: Any, *settings: Any) -> str:
        try:
            return plan_html(make_plan(images, videos, *settings))
        except BatchError as exc:
            return f"<p>⛔ {html.escape(str(exc))}</p>"

    ui.plan_btn.click(on_plan, [ui.images, ui.videos, *settings_inputs], ui.plan_md, api_visibility="private")

    def on_run(images: Any, videos: Any, *rest: Any) -> Iterator[tuple[Any, ...]]:
        *settings, own = rest
        try:
            plan = make_plan(images, videos, *settings)
            progress = run_batch(studio, plan, own or "batch")
            last = None
            for p in progress:
                last = p
                rows = [[i.index, i.label, i.stage, i.error or i.text, i.task_id] for i in p.items]
                yield f"⏳ {p.text()}", rows, gr.skip(), gr.skip()
        except BatchError as exc:
            yield f"⛔ {exc}", gr.skip(), gr.skip(), gr.skip()
            return
        if last is None:
            return
        gallery, notes = [], []
        for item in last.results:
            report = studio.report(own or "batch", item.run_id) or {}
            gallery.append((str(item.result_path), item.label))
            notes.append(f"- **{item.label}**: {report.get('summary', 'no report')}")
        rows = [[i.index, i.label, i.stage, i.error or i.text, i.task_id] for i in last.items]
        yield f"✅ {last.text()}", rows, gallery, "\n".join(notes)

    ev = ui.run_btn.click(
        on_run,
        [ui.images, ui.videos, *settings_inputs, owner],
        [ui.status, ui.table, ui.gallery, ui.reports],
        api_visibility="private",
    )
    ui.stop_btn.click(
        lambda: "⏹️ Batch stopped: items not started were not sent.",
        None,
        ui.status,
        cancels=[ev],
        api_visibility="private",
    )

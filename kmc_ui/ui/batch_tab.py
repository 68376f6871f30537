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

from kmc_ui.batch import BatchError, BatchPlan, BatchProgress, ItemProgress, plan_batch, run_batch
from kmc_ui.messages import Msg
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui import render
from kmc_ui.ui.access import served, visitor
from kmc_ui.ui.i18n import t
from kmc_ui.ui.runtime_text import lang_of, pick, say
from kmc_ui.ui.stops import Stops, session_of, stop_answer

BATCH_STOPPED = Msg("batch.stopped_all")
REPORT_RUNNING = Msg("batch.report_running")
COLUMNS = ["#", "Item", "Stage", "Details", "Task id"]
COLUMNS_ZH = ["#", "项目", "阶段", "详情", "任务 ID"]


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
    gr.Markdown(t("batch_intro"))
    with gr.Row():
        images = gr.File(label=t("batch_images"), file_count="multiple", file_types=["image"], elem_id="kmc-b-img")
        videos = gr.File(label=t("batch_videos"), file_count="multiple", file_types=["video"], elem_id="kmc-b-vid")
    plan_btn = gr.Button(t("batch_plan"), elem_id="kmc-b-plan")
    plan_md = gr.HTML(elem_id="kmc-b-plan-out")
    with gr.Row():
        run_btn = gr.Button(t("batch_run"), variant="primary", elem_id="kmc-b-run")
        stop_btn = gr.Button(t("stop"), variant="stop", elem_id="kmc-b-stop")
    status = gr.Markdown(elem_id="kmc-b-status")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, elem_id="kmc-b-table")
    gallery = gr.Gallery(label=t("batch_results"), columns=3, height="auto", elem_id="kmc-b-gallery")
    reports = gr.Markdown(elem_id="kmc-b-reports")
    return BatchUI(images, videos, plan_btn, plan_md, run_btn, stop_btn, status, table, gallery, reports)


def _paths(files: Any) -> list[str]:
    if not files:
        return []
    return [str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files])]


def plan_html(plan: BatchPlan, lang: str = "en") -> str:
    rows = []
    for item in plan.items:
        est = say(item.estimate.msg(), item.estimate.text(), lang) if item.estimate else ""
        reason = html.escape(say(item.skip_msg, item.skip_reason, lang))
        if lang == "zh":
            state = f"⛔ 已跳过：{reason}" if item.skip_reason else "✅ 将会运行"
            head = f"<b>{html.escape(say(item.label_msg, item.label, lang))}</b>：{state}。{html.escape(est)}"
        else:
            state = f"⛔ skipped: {reason}" if item.skip_reason else "✅ will run"
            head = f"<b>{html.escape(item.label)}</b>: {state}. {html.escape(est)}"
        findings = render.findings_html([f for f in item.report.findings if f.level != "hint"], lang=lang)
        rows.append(f"<li>{head}{findings}</li>")
    shared = render.findings_html(plan.shared_findings, lang=lang) if plan.shared_findings else ""
    total = say(plan.total_msg(), plan.total_text(), lang)
    return f"<p><b>{html.escape(total)}</b></p>{shared}<ol>{''.join(rows)}</ol>"


def table_value(progress: BatchProgress, lang: str = "en", reports: dict[int, str] | None = None) -> Any:
    """The item table: English rows as they always were; for "zh" translated rows and headers.
    `reports`: per finished item (by index), where its motion report stands ("" while it runs)."""
    reports = reports if reports is not None else {}
    rows = []
    for i in progress.items:
        details = say(*i.said(), lang)
        if i.stage == "done" and i.result_path is not None and i.index in reports:
            details = reports[i.index] or say(REPORT_RUNNING, REPORT_RUNNING.en(), lang)
        stage = render.stage_word(i.stage, lang) if lang == "zh" else i.stage
        rows.append([i.index, say(i.label_msg, i.label, lang), stage, details, i.task_id])
    return {"data": rows, "headers": COLUMNS_ZH} if lang == "zh" else rows


def gallery_caption(item: ItemProgress, report: dict[str, Any] | None, lang: str = "en") -> str:
    """A result's caption in the grid: which item, and its motion score once the report is ready."""
    score = (report or {}).get("score")
    if report is None:
        state = pick(lang, "result ready, motion report still running", "结果已就绪，动作报告仍在生成")
    elif isinstance(score, int | float):
        state = pick(lang, f"motion agreement {score:.0f}/100", f"动作一致度 {score:.0f}/100")
    else:
        state = pick(lang, "result ready", "结果已就绪")
    return f"{say(item.label_msg, item.label, lang)} · {state}"


def reports_status(progress: BatchProgress, ready: int, total: int, lang: str = "en") -> str:
    """The batch's status while its results' motion reports are made: never 'done' before they are."""
    runs = say(progress.text_msg(), progress.text(), lang)
    if ready < total:
        return pick(
            lang,
            f"⏳ {runs}. Motion reports still running: {ready} of {total} ready.",
            f"⏳ {runs}。动作报告仍在生成：已完成 {ready}/{total}。",
        )
    return pick(lang, f"✅ {runs}. Every motion report is ready.", f"✅ {runs}。所有动作报告均已完成。")


def common_inputs(prompt: str, orientation: str, tier: str, keep_sound: bool, model: str, backend: str) -> Inputs:
    """The settings every item shares, from the Studio tab's widgets."""
    return Inputs(
        prompt=prompt or "",
        orientation=orientation,
        tier=tier,
        keep_sound=bool(keep_sound),
        model=model,
        backend=backend,
    )


def shown_results(
    results: list[ItemProgress], ready: dict[int, dict[str, Any]], lang: str
) -> tuple[list[tuple[Any, str]], dict[int, str], str]:
    """The finished items as shown: the labelled gallery, where each item's report stands (for the
    table) and the reports' summaries; `ready` holds the reports made so far, by item index."""
    gallery = [(served(i.result_path), gallery_caption(i, ready.get(i.index), lang)) for i in results]
    sep = pick(lang, ": ", "：")
    states, notes = {}, []
    for i in results:
        report = ready.get(i.index)
        if report is None:
            states[i.index] = ""
            continue
        summary = render.report_summary(report, lang) if "summary" in report else pick(lang, "no report", "没有报告")
        states[i.index] = pick(lang, "Result and motion report ready.", "结果和动作报告均已就绪。")
        notes.append(f"- **{html.escape(say(i.label_msg, i.label, lang))}**{sep}{summary}")
    return gallery, states, "\n".join(notes)


class BatchHandlers:
    """The Batch tab's event handlers for one studio (methods, so Gradio sees their gr.Request;
    a test calls them directly). `batches`: each page's running batch, so Stop ends it."""

    def __init__(self, studio: Studio, batches: Stops | None = None) -> None:
        self.studio = studio
        self.batches = batches or Stops()

    def make_plan(self, images: Any, videos: Any, *settings: Any) -> BatchPlan:
        """settings: prompt, orientation, tier, keep_sound, model, backend."""
        return plan_batch(self.studio, _paths(images), _paths(videos), common_inputs(*settings))

    def on_plan(self, request: gr.Request, images: Any, videos: Any, *settings: Any) -> str:
        lang = lang_of(request)
        try:
            return plan_html(self.make_plan(images, videos, *settings), lang)
        except BatchError as exc:
            return f"<p>⛔ {html.escape(say(exc.msg, str(exc), lang))}</p>"

    def on_run(self, request: gr.Request, images: Any, videos: Any, *settings: Any) -> Iterator[tuple[Any, ...]]:
        own = visitor(self.studio, request)
        lang = lang_of(request)
        try:
            plan = self.make_plan(images, videos, *settings)
            last = None
            for p, closed in self.batches.run(
                session_of(request),
                lambda stop: run_batch(self.studio, plan, own, cancel=stop),
                # a batch whose items Stop ended has not ended by itself: Stop's closing text stands
                lambda p: p.finished and not any(i.stage == "stopped" for i in p.items),
                lambda _p: f"⏹️ {say(BATCH_STOPPED, BATCH_STOPPED.en(), lang)}",
            ):
                if closed:
                    yield closed, gr.skip(), gr.skip(), gr.skip()
                    return
                last = p
                yield f"⏳ {say(p.text_msg(), p.text(), lang)}", table_value(p, lang), gr.skip(), gr.skip()
        except BatchError as exc:
            yield f"⛔ {say(exc.msg, str(exc), lang)}", gr.skip(), gr.skip(), gr.skip()
            return
        if last is None:
            return
        # The results show at once, labelled; each report then arrives in turn, and the batch says it
        # is complete only when the last one has.
        results = last.results
        if not results:
            icon = "⛔" if last.count("failed") else "✅"
            yield f"{icon} {say(last.text_msg(), last.text(), lang)}", table_value(last, lang), [], ""
            return
        ready: dict[int, dict[str, Any]] = {}
        gallery, states, notes = shown_results(results, ready, lang)
        yield reports_status(last, 0, len(results), lang), table_value(last, lang, states), gallery, notes
        for item in results:
            ready[item.index] = self.studio.report(own, item.run_id) or {}
            gallery, states, notes = shown_results(results, ready, lang)
            status = reports_status(last, len(ready), len(results), lang)
            yield status, table_value(last, lang, states), gallery, notes

    def queued(self, request: gr.Request, *values: Any) -> list[dict[str, Any]]:
        self.batches.expect(session_of(request))  # accepted into the queue: Stop can end it before it starts
        return [gr.validate(True, "")] * len(values)  # one per input: the plan reports what is wrong

    def stopped(self, request: gr.Request) -> Any:
        return stop_answer(self.batches.stop(session_of(request)), lang_of(request))


def wire_batch(
    studio: Studio, ui: BatchUI, *, settings_inputs: list[Any], handlers: BatchHandlers | None = None
) -> None:
    """settings_inputs: prompt, orientation, tier, keep_sound, model, backend (the Studio tab's widgets)."""
    handlers = handlers or BatchHandlers(studio)
    ui.plan_btn.click(handlers.on_plan, [ui.images, ui.videos, *settings_inputs], ui.plan_md, api_visibility="private")
    ui.run_btn.click(
        handlers.on_run,
        [ui.images, ui.videos, *settings_inputs],
        [ui.status, ui.table, ui.gallery, ui.reports],
        validator=handlers.queued,
        api_visibility="private",
    )
    ui.stop_btn.click(handlers.stopped, None, ui.status, api_visibility="private")

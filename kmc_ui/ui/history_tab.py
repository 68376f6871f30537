"""The History tab: this browser's runs, re-opened, resumed, re-run, downloaded or deleted.

Runs are scoped to the visitor id in the browser's signed cookie (kmc_ui/identity.py), so on a
shared Space nobody sees anyone else's runs: every handler finds its visitor on the server and
looks a run up by the id the page names within that visitor's History only.
Widgets and wiring only; the records live in kmc_ui.history.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from kmc_ui.cost import charge_text
from kmc_ui.history import TIER_NAMES, provider_name, run_actions, status_sentence, when_text
from kmc_ui.jobs import Progress
from kmc_ui.messages import Msg
from kmc_ui.studio import Studio
from kmc_ui.ui import render
from kmc_ui.ui.access import served, visitor
from kmc_ui.ui.i18n import t
from kmc_ui.ui.player import player_value, sync_player
from kmc_ui.ui.runtime_text import lang_of, page_text, pick, say, translate
from kmc_ui.ui.stops import Stops, ended_by_itself, session_of, stop_answer
from kmc_ui.ui.studio_tab import INPUT_NAMES

COLUMNS = ["When", "Status", "Backend", "Settings", "Cost (USD)", "Task id", "Run id"]
COLUMNS_ZH = ["时间", "状态", "后端", "设置", "费用（美元）", "任务 ID", "运行 ID"]
ORIENTATION_ZH = {"video": "跟随视频", "image": "保持图片朝向"}
RERUN_INPUTS = len(INPUT_NAMES)  # Re-run fills the Studio tab's inputs, in that order


@dataclass
class HistoryUI:
    refresh: gr.Button
    table: gr.Dataframe
    pick: gr.Dropdown
    player: gr.HTML
    image: gr.Image
    record: gr.Markdown
    report: gr.Markdown
    plot: gr.Image
    download: gr.File
    resume: gr.Button
    stop: gr.Button
    rerun: gr.Button
    delete: gr.Button
    status: gr.Markdown
    cards: gr.HTML  # the runs as a list, shown instead of the table on a narrow screen (CSS in render.py)


def build_history_tab(studio: Studio) -> HistoryUI:
    gr.Markdown(t("history_intro"))
    with gr.Row():
        refresh = gr.Button(t("refresh"), size="sm", elem_id="kmc-history-refresh")
        pick = gr.Dropdown([], label=t("open_run"), elem_id="kmc-history-pick", scale=4)
    # Widths as shares of the table's: all seven columns fit the page's width, each cell wrapping.
    table = gr.Dataframe(
        headers=COLUMNS,
        interactive=False,
        elem_id="kmc-history-table",
        wrap=True,
        column_widths=["11%", "27%", "12%", "13%", "7%", "15%", "15%"],
    )
    cards = gr.HTML(elem_id="kmc-history-list")
    status = gr.Markdown(elem_id="kmc-history-status")
    with gr.Row():
        # Shown by the run picked: Resume only for a hosted task that can still be fetched, Stop only
        # while a resume started here goes on (kmc_ui.history.run_actions).
        resume = gr.Button(t("resume"), elem_id="kmc-history-resume", visible=False)
        stop = gr.Button(t("stop"), variant="stop", size="sm", elem_id="kmc-history-stop", visible=False)
        rerun = gr.Button(t("rerun"), elem_id="kmc-history-rerun", visible=False)
        delete = gr.Button(t("delete"), variant="stop", elem_id="kmc-history-delete", visible=False)
    player = sync_player(elem_id="kmc-history-player")
    report = gr.Markdown(elem_id="kmc-history-report")
    plot = gr.Image(label=render.PLOT_LABEL, visible=False, interactive=False, elem_id="kmc-history-plot")
    with gr.Row():
        image = gr.Image(label=t("sent_image"), interactive=False, height=200, elem_id="kmc-history-image")
        download = gr.File(label=t("result"), interactive=False, elem_id="kmc-history-download", height=80)
        record = gr.Markdown(elem_id="kmc-history-record")
    return HistoryUI(
        refresh, table, pick, player, image, record, report, plot, download, resume, stop, rerun, delete, status, cards
    )


def _row(r: dict[str, Any], lang: str = "en", live: str = "") -> list[Any]:
    """One History row; `live`: what the run's worker is doing now (a run still going), in `lang`."""
    s = r.get("settings") or {}
    summary = f"{s.get('orientation', '')} · {s.get('tier', '')} · {s.get('model', '')}"
    usd = r.get("estimate_usd")
    return [
        when_text(r.get("created_at"), lang),
        sentence(r, lang) + (f" · {live}" if live else ""),
        provider_name(r, lang),
        summary,
        "" if usd is None else f"{usd:.2f}",
        r.get("task_id", ""),
        r.get("run_id", ""),
    ]


def _live(studio: Studio, r: dict[str, Any], lang: str) -> str:
    """What the worker of a run still going last said, rendered from its message in `lang`."""
    step = studio.live_step(r)
    return say(step.msg, step.text, lang) if step is not None else ""


def sentence(r: dict[str, Any], lang: str = "en") -> str:
    """The status sentence, with the reason a failed run recorded (in the reader's language)."""
    said = status_sentence(r, lang)
    if r.get("status") in ("failed", "submit_failed") and r.get("error"):
        error, msg = str(r["error"]), Msg.from_dict(r.get("error_msg"))
        if msg is not None and msg.en() != error:  # an error recorded later without its message
            msg = None
        said += pick(lang, ": ", "：") + say(msg, error, lang)
    return said


def described(r: dict[str, Any], lang: str = "en") -> str:
    """The player's words for a run: its status sentence, and what its backend said of the result."""
    return " ".join(filter(None, (sentence(r, lang), render.run_notes(r, lang))))


def _label(r: dict[str, Any], lang: str = "en") -> str:
    return f"{when_text(r.get('created_at'), lang)} · {status_sentence(r, lang)} · {r.get('run_id', '')}"


def summary_md(r: dict[str, Any], lang: str = "en") -> str:
    """A reopened run in words: what was asked, what it cost, which files; never paths or raw fields."""
    s = r.get("settings") or {}
    inputs = r.get("inputs") or {}
    rows: list[tuple[str, str]] = []
    orientation = str(s.get("orientation") or "")
    rows.append(
        (
            pick(lang, "Settings", "设置"),
            " · ".join(
                x
                for x in (
                    pick(lang, f"orientation {orientation}", ORIENTATION_ZH.get(orientation, orientation)),
                    pick(lang, *TIER_NAMES.get(str(s.get("tier") or ""), (str(s.get("tier") or ""),) * 2)),
                    f"{pick(lang, 'model', '模型')} {s.get('model', '')}",
                    pick(lang, "with its sound", "保留声音") if s.get("keep_sound") else pick(lang, "silent", "无声"),
                )
                if x.strip()
            ),
        )
    )
    if s.get("prompt"):
        rows.append((pick(lang, "Prompt", "提示词"), html.escape(str(s["prompt"]))))
    rows.append((pick(lang, "Backend", "后端"), provider_name(r, lang)))
    usd = r.get("estimate_usd")
    if isinstance(usd, int | float):
        rows.append((pick(lang, "Estimate", "估算费用"), f"${usd:.2f}"))
    if charge_text(r):
        rows.append((pick(lang, "Charge", "实际费用"), html.escape(translate(charge_text(r), lang))))
    names = [Path(str(inputs.get(k))).name for k in ("image", "video") if inputs.get(k)]
    if r.get("output"):
        names.append(Path(str(r["output"])).name)
    if names:
        rows.append((pick(lang, "Files", "文件"), ", ".join(html.escape(n) for n in names)))
    if r.get("task_id"):
        rows.append((pick(lang, "Task id", "任务 ID"), f"`{html.escape(str(r['task_id']))}`"))
    rows.append((pick(lang, "Run id", "运行 ID"), f"`{html.escape(str(r.get('run_id', '')))}`"))
    started = when_text(r.get("created_at"), lang)
    if started:
        rows.append((pick(lang, "Started", "开始时间"), started))
    sep = pick(lang, ": ", "：")
    return "  \n".join(f"**{k}**{sep}{v}" for k, v in rows)


def report_text(r: dict[str, Any], lang: str = "en") -> str:
    """The motion-agreement report of a reopened run, or what became of it."""
    report = r.get("report") if isinstance(r.get("report"), dict) else None
    if report and report.get("summary"):
        return render.report_summary(report, lang)
    if r.get("status") == "succeeded" and r.get("output"):
        return page_text("page.report_pending", lang)
    return ""


def result_player(r: dict[str, Any], description: str, report: dict[str, Any] | None, lang: str = "en") -> Any:
    """The sent reference beside the result, aligned by the report's offset when there is one."""
    labels = (pick(lang, "Reference", "参考视频"), pick(lang, "Result", "结果"))
    return player_value(
        (r.get("inputs") or {}).get("video"),
        r.get("output"),
        offset=float((report or {}).get("offset_s") or 0.0),
        description=description,
        labels=labels,
        lang=lang,
    )


def _buttons(r: dict[str, Any] | None, resuming: bool = False) -> tuple[Any, ...]:
    """Resume, Stop, Re-run, Delete: only those that make sense for this run now."""
    can = run_actions(r)
    return (
        gr.update(visible=can["resume"] and not resuming),
        gr.update(visible=resuming),
        gr.update(visible=can["rerun"] and not resuming),
        gr.update(visible=can["delete"] and not resuming),
    )


def _table(rows: list[list[Any]], lang: str) -> Any:
    return {"data": rows, "headers": COLUMNS_ZH} if lang == "zh" else rows


def cards_html(rows: list[list[Any]], lang: str = "en") -> str:
    """The runs (History rows) as a list for a narrow screen: when and the status sentence, then the
    backend, the settings and the cost, each wrapping within the screen's width (no ids: the picker
    above names each run)."""
    if not rows:
        return "<p class='kmc-runs-none'>" + pick(lang, "No runs yet.", "还没有运行记录。") + "</p>"
    items = []
    for when, status, backend, settings, usd, _task, _run in rows:
        cost = f" · ${html.escape(str(usd))}" if usd != "" else ""
        items.append(
            f"<li><b>{html.escape(str(when))}</b> · {html.escape(str(status))}"
            f"<br><small>{html.escape(str(backend))} · {html.escape(str(settings))}{cost}</small></li>"
        )
    label = pick(lang, "Runs", "运行记录")
    return f"<ul class='kmc-runs' aria-label='{label}'>{''.join(items)}</ul>"


class HistoryHandlers:
    """The History tab's event handlers for one studio (methods, so Gradio sees their gr.Request;
    a test calls them directly). `resuming`: each page's running resume, so Stop ends it from the
    server side. Every method finds its visitor on the server and looks a run up by the id the page
    names within that visitor's History only."""

    def __init__(self, studio: Studio, resuming: Stops | None = None) -> None:
        self.studio = studio
        self.resuming = resuming or Stops()

    def listing(self, request: gr.Request) -> tuple[Any, str, Any]:
        studio = self.studio
        lang = lang_of(request)
        runs = studio.history.list(visitor(studio, request))
        choices = [(_label(r, lang), r["run_id"]) for r in runs]
        rows = [_row(r, lang, _live(studio, r, lang)) for r in runs]
        picked = gr.update(choices=choices, value=choices[0][1] if choices else None)
        return _table(rows, lang), cards_html(rows, lang), picked

    def open_run(self, run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        lang = lang_of(request)
        r = self.studio.history.get(visitor(self.studio, request), run_id) if run_id else None
        if not r:
            return player_value(None, None), None, "", None, "", "", gr.update(visible=False), *_buttons(None)
        inputs = r.get("inputs") or {}
        out = r.get("output")
        report = r.get("report") if isinstance(r.get("report"), dict) else {}
        said = sentence(r, lang)
        value = (
            result_player(r, described(r, lang), report, lang=lang)
            if out
            else player_value(inputs.get("video"), None, lang=lang)
        )
        note = f"**{html.escape(said)}**"
        if run_actions(r)["resume"]:
            note += pick(lang, " · this task can be resumed without paying again.", " · 此任务可以继续，无需再次付费。")
        plot = render.plot_update(served(report.get("plot_path")), lang)
        return (
            value,
            served(inputs.get("image")),
            summary_md(r, lang),
            served(out),
            note,
            report_text(r, lang),
            plot,
            *_buttons(r),
        )

    def open_report(self, run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """A reopened finished run whose report was never made (closed page, batch): made now, on the
        report slot, beside the player that already plays."""
        studio = self.studio
        lang = lang_of(request)
        own = visitor(studio, request)
        r = studio.history.get(own, run_id) if run_id else None
        if not r or r.get("report") or r.get("status") != "succeeded" or not r.get("output"):
            return gr.skip(), gr.skip(), gr.skip()
        report = studio.report(own, str(run_id)) or {}
        fresh = studio.history.get(own, str(run_id)) or r
        value = result_player(fresh, described(fresh, lang), report, lang=lang)
        plot = render.plot_update(served(report.get("plot_path")), lang)
        return value, report_text(fresh, lang), plot

    def resume(self, run_id: str | None, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        studio = self.studio
        lang = lang_of(request)
        own = visitor(studio, request)
        if not run_id:
            yield page_text("page.pick_run", lang), gr.skip(), gr.skip(), *_buttons(None)
            return
        going = _buttons(studio.history.get(own, run_id), resuming=True)

        def closing(p: Progress | None) -> str:
            record = studio.history.get(own, run_id)
            backend = studio.backends.get(str((record or {}).get("provider") or ""))
            return render.stopped_md(record, backend.label if backend else "", p, lang)

        last = None
        for p, closed in self.resuming.run(
            session_of(request), lambda stop: studio.resume(own, run_id, cancel=stop), ended_by_itself, closing
        ):
            if closed:
                yield closed, gr.skip(), gr.skip(), *_buttons(studio.history.get(own, run_id))
                return
            last = p
            yield render.progress_md(p, lang), gr.skip(), gr.skip(), *going
        r = studio.history.get(own, run_id) or {}
        report = r.get("report") if isinstance(r.get("report"), dict) else None
        value = result_player(r, described(r, lang), report, lang)
        yield (render.progress_md(last, lang) if last else ""), value, served(r.get("output")), *_buttons(r)

    def queued(self, run_id: str | None, request: gr.Request) -> list[dict[str, Any]]:
        self.resuming.expect(session_of(request))  # accepted into the queue: Stop can end it before it starts
        return [gr.validate(True, "")]  # one per input: nothing here can be wrong

    def stopped(self, request: gr.Request) -> Any:
        return stop_answer(self.resuming.stop(session_of(request)), lang_of(request))

    def rerun(self, run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """The run's inputs and settings back on the Studio tab (its inputs, INPUT_NAMES), then that tab."""
        r = self.studio.history.get(visitor(self.studio, request), run_id) if run_id else None
        if not r:
            return (*(gr.skip() for _ in range(RERUN_INPUTS)), gr.skip())
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

    def delete(self, run_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        deleted = bool(run_id) and self.studio.history.delete(visitor(self.studio, request), run_id)
        rows, cards, choices = self.listing(request)
        said = page_text("page.run_deleted" if deleted else "page.pick_run", lang_of(request))
        return rows, cards, choices, said


def wire_history(
    studio: Studio,
    ui: HistoryUI,
    *,
    tabs: gr.Tabs,
    studio_inputs: list[gr.components.Component],
    after_run: Any,
    handlers: HistoryHandlers | None = None,
) -> None:
    h = handlers or HistoryHandlers(studio)
    listing = h.listing  # one function for its three triggers: one concurrency group, as before
    detail = [ui.player, ui.image, ui.record, ui.download, ui.status, ui.report, ui.plot]
    buttons = [ui.resume, ui.stop, ui.rerun, ui.delete]
    for trigger in (ui.refresh.click, after_run.then):
        trigger(listing, None, [ui.table, ui.cards, ui.pick], api_visibility="private")
    ui.pick.change(h.open_run, [ui.pick], [*detail, *buttons], api_visibility="private").then(
        h.open_report,
        [ui.pick],
        [ui.player, ui.report, ui.plot],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="report",
    )
    ui.resume.click(
        h.resume,
        [ui.pick],
        [ui.status, ui.player, ui.download, *buttons],
        validator=h.queued,
        api_visibility="private",
    )
    ui.stop.click(h.stopped, None, ui.status, api_visibility="private")
    ui.rerun.click(h.rerun, [ui.pick], [*studio_inputs, tabs], api_visibility="private")
    ui.delete.click(h.delete, [ui.pick], [ui.table, ui.cards, ui.pick, ui.status], api_visibility="private")
    tabs.select(listing, None, [ui.table, ui.cards, ui.pick], api_visibility="private")

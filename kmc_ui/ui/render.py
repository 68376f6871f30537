"""Pure rendering helpers: findings, probe facts, progress and costs as HTML/Markdown.

Every helper takes `lang` ("en" by default, byte-for-byte the English the tests and the API
know; "zh" for a Chinese page): words composed here come in both languages, and the text the
checks, jobs and backends composed goes through kmc_ui.ui.runtime_text.translate.
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

import gradio as gr

from kmc_ui.findings import LEVEL_ICON, Finding
from kmc_ui.jobs import Progress, record_notes, stopped_msg
from kmc_ui.media.probe import ImageInfo, VideoInfo
from kmc_ui.messages import Msg
from kmc_ui.ui.runtime_text import finding_said, page_text, pick, say, say_all, translate, word

PLOT_LABEL = "Agreement per frame"  # a plain string: the /report API's description stays as it was
_LEVEL_CLASS = {"error": "kmc-error", "warning": "kmc-warning", "hint": "kmc-hint"}
_LEVEL_WORD = {"error": "Error", "warning": "Warning", "hint": "Hint"}
_COUNT_ZH = {"error": "个错误", "warning": "个警告", "hint": "个提示"}

CSS = """
.kmc-findings {margin: 4px 0 8px 0; padding: 0; list-style: none; font-size: 0.92em;}
.kmc-findings li {margin: 3px 0; padding: 6px 8px; border-radius: 6px; border-left: 4px solid;
  overflow-wrap: anywhere;}
.kmc-error {background: #fdecec; border-color: #d93025 !important; color: #5c1410;}
.kmc-warning {background: #fff6e0; border-color: #e8a400 !important; color: #4d3800;}
.kmc-hint {background: #eaf3fd; border-color: #1a73e8 !important; color: #0b2f5c;}
.kmc-ok {color: #1e7e34; font-size: 0.92em; margin: 4px 0 8px 0;}
.kmc-fix {opacity: 0.9; display: block; margin-top: 2px;}
.kmc-auto {font-style: italic;}
.kmc-jump {margin: 0 0 6px 0; padding-left: 4px; list-style: none; font-size: 0.92em;}
#kmc-count {text-align: right; font-size: 0.85em; margin-top: -6px;}
/* Gradio's container hides its overflow, which would make it the sticky bar's scroller: clip instead. */
.gradio-container {overflow-x: clip !important; overflow-y: visible !important;}
#kmc-actions {position: sticky; bottom: 0; z-index: 30; padding: 6px 8px;
  background: var(--background-fill-primary); box-shadow: 0 -2px 10px rgba(0, 0, 0, 0.12);}
#kmc-action-row {align-items: center; flex-wrap: nowrap;}
#kmc-action-row button {max-height: 46px;}
/* Stop is there whenever a run may be going, but calm: an outlined button, not a second loud one. */
#kmc-stop {background: var(--background-fill-primary); border: 1px solid var(--border-color-primary);}
#kmc-cost {font-size: 0.85em; min-width: 0;}
#kmc-cost p {margin: 0;}
@media (max-width: 640px) {
  #kmc-action-row {flex-wrap: wrap;}
  #kmc-action-row > #kmc-cost {flex: 1 1 100%; order: -1;}
}
#kmc-status:empty {display: none;}
/* History: the table on a wide screen, the same runs as a list on a narrow one (seven columns do not
   fit 390 px; the list wraps within the screen). */
#kmc-history-list {display: none !important;}
#kmc-history-list .kmc-runs {list-style: none; margin: 0 !important; padding: 0 !important;}
#kmc-history-list .kmc-runs li {margin: 0 0 6px 0 !important; padding: 8px 10px;
  border: 1px solid var(--border-color-primary); border-radius: 8px; overflow-wrap: anywhere;}
#kmc-history-table [role=gridcell], #kmc-history-table td {overflow-wrap: anywhere;}
@media (max-width: 640px) {
  #kmc-history-table {display: none !important;}
  #kmc-history-list {display: block !important;}
}
/* The findings are redrawn on every input change and again by the body check: Gradio still mounts its
   status tracker ("processing | 0.5/1.1s") in each box, only faded out, where a screen reader and a
   page's text still find it. Never a timer there, at any opacity. */
#kmc-image-findings [data-testid=status-tracker], #kmc-video-findings [data-testid=status-tracker],
#kmc-prompt-findings [data-testid=status-tracker], #kmc-findings [data-testid=status-tracker]
  {display: none !important;}
/* The motion video box: Gradio gives a loaded clip the box's whole height and puts the upload/webcam
   toolbar under it, half cut off by the box. The clip takes what the toolbar leaves, as a picture does. */
#kmc-video [data-testid=video] {display: flex; flex-direction: column; justify-content: flex-start; min-height: 0;}
#kmc-video [data-testid=video] > .wrap {flex: 1 1 0; min-height: 0; height: auto !important;}
#kmc-video [data-testid=video] video {max-height: 100%; height: 100%;}
#kmc-video [data-testid=source-select] {flex: none;}
"""


def findings_html(findings: list[Finding], empty: str = "", lang: str = "en") -> str:
    """`empty`: what to say when there is no finding, a code of kmc_ui/catalogue/page.py ("" = nothing)."""
    if not findings:
        return f'<div class="kmc-ok">✅ {html.escape(page_text(empty, lang))}</div>' if empty else ""
    items = []
    fix_word = pick(lang, "Fix: ", "修复：")
    auto_text = pick(
        lang,
        'The app can do this for you: see "What will be sent".',
        "应用可以替你完成：见“将要发送的内容”。",
    )
    for f in findings:
        message, fix_text = finding_said(f, lang)  # from its code and parameters in Chinese
        fix = f'<span class="kmc-fix">{fix_word}{html.escape(fix_text)}</span>' if f.fix else ""
        auto = f'<span class="kmc-fix kmc-auto">{auto_text}</span>' if f.auto_fix else ""
        level = pick(lang, _LEVEL_WORD[f.level], word(f.level, "zh"))
        sep = pick(lang, ": ", "：")
        items.append(
            f'<li class="{_LEVEL_CLASS[f.level]}" data-code="{f.code}" data-level="{f.level}">'
            f"{LEVEL_ICON[f.level]} <b>{level}</b>{sep}{html.escape(message)}{fix}{auto}</li>"
        )
    return f'<ul class="kmc-findings">{"".join(items)}</ul>'


# Where each input's findings are shown on the page (the summary links there instead of repeating them).
INPUT_ANCHOR = {
    "image": "kmc-image",
    "video": "kmc-video",
    "pair": "kmc-video",
    "prompt": "kmc-prompt",
    "element": "kmc-lock",
}
INPUT_NAME = {
    "image": ("the character image", "角色图片"),
    "video": ("the motion video", "动作视频"),
    "pair": ("the image and video together", "图片与视频的搭配"),
    "prompt": ("the prompt", "提示词"),
    "element": ("the identity lock", "身份锁定"),
}


def summary_html(findings: list[Finding], lang: str = "en") -> str:
    """The count of findings and, per input, a link to where its findings are shown (each finding is
    shown once: under its input)."""
    if not findings:
        return ""
    counts = {lvl: sum(1 for f in findings if f.level == lvl) for lvl in ("error", "warning", "hint")}
    links = []
    for name in INPUT_ANCHOR:
        mine = [f for f in findings if f.input == name]
        if not mine:
            continue
        worst = min((f.level for f in mine), key=lambda lvl: ("error", "warning", "hint").index(lvl))
        en, zh = INPUT_NAME[name]
        what = pick(lang, f"{len(mine)} on {en}", f"{zh}：{len(mine)} 项")
        links.append(f'<li>{LEVEL_ICON[worst]} <a href="#{INPUT_ANCHOR[name]}">{what}</a></li>')
    if lang == "zh":
        head = "，".join(f"{n} {_COUNT_ZH[lvl]}" for lvl, n in counts.items() if n)
        return f"<p><b>检查结果</b>：{head}。</p><ul class='kmc-jump'>{''.join(links)}</ul>"
    head = ", ".join(f"{n} {lvl}{'s' if n != 1 else ''}" for lvl, n in counts.items() if n)
    return f"<p><b>Findings</b>: {head}.</p><ul class='kmc-jump'>{''.join(links)}</ul>"


def image_facts(info: ImageInfo | None, lang: str = "en") -> str:
    if info is None:
        return ""
    if not info.ok:
        why = say(info.error_msg, info.error, lang)
        return pick(lang, f"Image: {why}", f"图片：{why}")
    if lang == "zh":
        rot = f"，EXIF 方向 {info.exif_orientation}" if info.exif_orientation not in (0, 1) else ""
        frames = f"，{info.frames} 帧" if info.frames > 1 else ""
        size = f"{info.size_bytes / 1048576:.2f} MB"
        return f"{info.format} {info.width}x{info.height} 像素，{info.mode}，{size}{rot}{frames}"
    rot = f", EXIF orientation {info.exif_orientation}" if info.exif_orientation not in (0, 1) else ""
    frames = f", {info.frames} frames" if info.frames > 1 else ""
    return f"{info.format} {info.width}x{info.height} px, {info.mode}, {info.size_bytes / 1048576:.2f} MB{rot}{frames}"


def video_facts(info: VideoInfo | None, lang: str = "en") -> str:
    if info is None:
        return ""
    if not info.ok:
        why = say(info.error_msg, info.error, lang)
        return pick(lang, f"Video: {why}", f"视频：{why}")
    if lang == "zh":
        return _video_facts_zh(info)
    if not info.has_video:
        return f"{info.container.split(',')[0]} file, no video stream, {info.duration:.2f} s"
    audio = f"audio {info.audio_codec}" if info.has_audio else "no audio"
    rot = f", rotation {info.rotation}°" if info.rotation else ""
    vfr = ", variable frame rate" if info.variable_fps else ""
    return (
        f"{info.codec.upper()} {info.width}x{info.height} px, {info.fps:g} fps{vfr}, {info.duration:.2f} s, "
        f"{info.size_bytes / 1048576:.2f} MB, {audio}{rot}"
    )


def _video_facts_zh(info: VideoInfo) -> str:
    if not info.has_video:
        return f"{info.container.split(',')[0]} 文件，没有视频流，{info.duration:.2f} 秒"
    audio = f"音频 {info.audio_codec}" if info.has_audio else "无音频"
    rot = f"，旋转 {info.rotation}°" if info.rotation else ""
    vfr = "，可变帧率" if info.variable_fps else ""
    return (
        f"{info.codec.upper()} {info.width}x{info.height} 像素，{info.fps:g} fps{vfr}，{info.duration:.2f} 秒，"
        f"{info.size_bytes / 1048576:.2f} MB，{audio}{rot}"
    )




def actions_md(
    label: str,
    actions: list[str],
    facts: str,
    lang: str = "en",
    blocked: bool = False,
    msgs: list[Msg] | None = None,
) -> str:
    """`label` and `facts` are given in `lang` already; the actions are the preparation's English,
    `msgs` the same as messages (rendered in `lang`; without them, or not one each, translate).
    `blocked`: an error no preparation fixes remains on this input, so it is not "sent as it is"."""
    if blocked and not actions:
        what = page_text("page.blocked", lang)
        return pick(lang, f"**{label}**: {what}.  \n*Now:* {facts}", f"**{label}**：{what}。  \n*当前：* {facts}")
    if lang == "zh":
        what = "；".join(actions_said(actions, msgs, lang)) if actions else "无需修改：文件将原样发送"
        sent = "*修复后（尚不能发送）：*" if blocked else "*发送：*"
        return f"**{label}**：{what}。  \n{sent} {facts}"
    what = "; ".join(actions) if actions else "no changes needed: the file is sent as it is"
    sent = "*After the fixes (not sendable yet):*" if blocked else "*Sent:*"
    return f"**{label}**: {what}.  \n{sent} {facts}"


def actions_said(actions: list[str], msgs: list[Msg] | None, lang: str) -> list[str]:
    """Each action in `lang`: from its message when there is one for each, else its English translated."""
    if msgs is not None and len(msgs) == len(actions):
        return [say(m, a, lang) for m, a in zip(msgs, actions, strict=True)]
    return [translate(a, lang) for a in actions]


def stage_word(stage: str, lang: str = "en") -> str:
    """The progress stage as a heading: "Queued" / "排队中"."""
    return word(stage, lang) if lang == "zh" else stage.capitalize()


def _events(p: Progress) -> list[tuple[str, Msg | None]]:
    """The retry notes with their messages (None for a note stored without one)."""
    msgs = p.event_msgs if len(p.event_msgs) == len(p.events) else [None] * len(p.events)
    return list(zip(p.events, msgs, strict=True))


def progress_md(p: Progress, lang: str = "en") -> str:
    """A run's step for the page: in Chinese from its code and parameters when it has them. A result
    ready is said without the notes beside it (the player says them under the result, run_notes:
    in the sticky bar they covered half a phone's screen)."""
    if p.msg is not None and p.msg.code == "progress.ready_notes":
        p = replace(p, text=Msg("progress.ready"))  # type: ignore[arg-type]  # a Msg becomes p.msg
    icon = {"done": "✅", "failed": "⛔", "stopped": "⏹️", "retrying": "🔁"}.get(p.stage, "⏳")
    if lang == "zh":
        lines = [f"{icon} **{stage_word(p.stage, lang)}**：{say(p.msg, p.text, lang)}", f"已用时间：{p.elapsed:.0f} 秒"]
        if p.queue_position is not None:
            lines.append(f"排队位置：{p.queue_position}")
        if p.task_id:
            lines.append(f"任务 ID：`{p.task_id}`")
        if p.events:
            lines.append("重试：" + " · ".join(say(m, e, lang) for e, m in _events(p)[-3:]))
        return "  \n".join(lines)
    lines = [f"{icon} **{p.stage.capitalize()}**: {translate(p.text, lang)}", f"Elapsed: {p.elapsed:.0f} s"]
    if p.queue_position is not None:
        lines.append(f"Queue position: {p.queue_position}")
    if p.task_id:
        lines.append(f"Task id: `{p.task_id}`")
    if p.events:
        lines.append("Retries: " + " · ".join(translate(e, lang) for e in p.events[-3:]))
    return "  \n".join(lines)


def run_notes(record: dict[str, Any], lang: str = "en") -> str:
    """What the backend said of a run's result (the offline engine's notes: an arm held, a cut side
    faded), in `lang`; "" for nothing said."""
    kept = record_notes(record)
    if isinstance(kept, Msg):
        return say(kept, kept.en(), lang)
    return translate(kept, lang) if kept else ""


def stopped_md(record: dict[str, Any] | None, label: str, last: Progress | None, lang: str = "en") -> str:
    """The status of a run ended by Stop: what happened to its task (see jobs.stopped_text)."""
    elapsed, task_id, run_id = (last.elapsed, last.task_id, last.run_id) if last else (0.0, "", "")
    return progress_md(Progress("stopped", stopped_msg(record, label), elapsed, task_id, run_id), lang)  # type: ignore[arg-type]


def plot_update(plot: str | None, lang: str = "en") -> Any:
    """The motion-agreement plot shown (or hidden); for "zh" with its label in Chinese."""
    label = {"label": say(Msg("report.plot_label"), PLOT_LABEL, lang)} if lang == "zh" else {}
    return gr.update(value=plot, visible=bool(plot), **label)


def report_summary(report: Any, lang: str = "en") -> str:
    """A motion-agreement report's summary in `lang`: an AgreementReport, or the dict a run keeps
    (Studio.report: its `summary` in English and `summary_msgs`, the same sentences as messages).
    A kept report from before `summary_msgs` is rendered from its own fields when they give its
    summary word for word, else its English goes through translate."""
    from kmc_ui.engine.agreement import AgreementReport

    if isinstance(report, AgreementReport):
        return say_all(report.summary_msgs(), report.summary(), lang)
    if not isinstance(report, dict) or not report.get("summary"):
        return ""
    stored = str(report["summary"])
    msgs = [Msg.from_dict(d) for d in report.get("summary_msgs") or []]
    if not msgs or None in msgs:
        try:
            msgs = AgreementReport.from_dict(report).summary_msgs()
        except Exception:  # a record written by other code: its English, translated
            msgs = []
        if " ".join(m.en() for m in msgs) != stored:
            msgs = []
    return say_all([m for m in msgs if m is not None], stored, lang)

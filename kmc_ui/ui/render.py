"""Pure rendering helpers: findings, probe facts, progress and costs as HTML/Markdown."""

from __future__ import annotations

import html

from kmc_ui.findings import LEVEL_ICON, Finding
from kmc_ui.jobs import Progress
from kmc_ui.media.probe import ImageInfo, VideoInfo

_LEVEL_CLASS = {"error": "kmc-error", "warning": "kmc-warning", "hint": "kmc-hint"}
_LEVEL_WORD = {"error": "Error", "warning": "Warning", "hint": "Hint"}

CSS = """
.kmc-findings {margin: 4px 0 8px 0; padding: 0; list-style: none; font-size: 0.92em;}
.kmc-findings li {margin: 3px 0; padding: 6px 8px; border-radius: 6px; border-left: 4px solid;}
.kmc-error {background: #fdecec; border-color: #d93025 !important; color: #5c1410;}
.kmc-warning {background: #fff6e0; border-color: #e8a400 !important; color: #4d3800;}
.kmc-hint {background: #eaf3fd; border-color: #1a73e8 !important; color: #0b2f5c;}
.kmc-ok {color: #1e7e34; font-size: 0.92em; margin: 4px 0 8px 0;}
.kmc-fix {opacity: 0.9; display: block; margin-top: 2px;}
.kmc-auto {font-style: italic;}
#kmc-count {text-align: right; font-size: 0.85em; margin-top: -6px;}
"""


def findings_html(findings: list[Finding], empty: str = "") -> str:
    if not findings:
        return f'<div class="kmc-ok">✅ {html.escape(empty)}</div>' if empty else ""
    items = []
    for f in findings:
        fix = f'<span class="kmc-fix">Fix: {html.escape(f.fix)}</span>' if f.fix else ""
        auto = (
            '<span class="kmc-fix kmc-auto">The app can do this for you: see "What will be sent".</span>'
            if f.auto_fix
            else ""
        )
        items.append(
            f'<li class="{_LEVEL_CLASS[f.level]}" data-code="{f.code}" data-level="{f.level}">'
            f"{LEVEL_ICON[f.level]} <b>{_LEVEL_WORD[f.level]}</b>: {html.escape(f.message)}{fix}{auto}</li>"
        )
    return f'<ul class="kmc-findings">{"".join(items)}</ul>'


def summary_html(findings: list[Finding]) -> str:
    if not findings:
        return ""
    counts = {lvl: sum(1 for f in findings if f.level == lvl) for lvl in ("error", "warning", "hint")}
    head = ", ".join(f"{n} {lvl}{'s' if n != 1 else ''}" for lvl, n in counts.items() if n)
    return f"<p><b>Findings</b>: {head}.</p>" + findings_html(findings)


def image_facts(info: ImageInfo | None) -> str:
    if info is None:
        return ""
    if not info.ok:
        return f"Image: {info.error}"
    rot = f", EXIF orientation {info.exif_orientation}" if info.exif_orientation not in (0, 1) else ""
    frames = f", {info.frames} frames" if info.frames > 1 else ""
    return f"{info.format} {info.width}x{info.height} px, {info.mode}, {info.size_bytes / 1048576:.2f} MB{rot}{frames}"


def video_facts(info: VideoInfo | None) -> str:
    if info is None:
        return ""
    if not info.ok:
        return f"Video: {info.error}"
    if not info.has_video:
        return f"{info.container.split(',')[0]} file, no video stream, {info.duration:.2f} s"
    audio = f"audio {info.audio_codec}" if info.has_audio else "no audio"
    rot = f", rotation {info.rotation}°" if info.rotation else ""
    vfr = ", variable frame rate" if info.variable_fps else ""
    return (
        f"{info.codec.upper()} {info.width}x{info.height} px, {info.fps:g} fps{vfr}, {info.duration:.2f} s, "
        f"{info.size_bytes / 1048576:.2f} MB, {audio}{rot}"
    )


def actions_md(label: str, actions: list[str], facts: str) -> str:
    what = "; ".join(actions) if actions else "no changes needed: the file is sent as it is"
    return f"**{label}**: {what}.  \n*Sent:* {facts}"


def progress_md(p: Progress) -> str:
    icon = {"done": "✅", "failed": "⛔", "stopped": "⏹️", "retrying": "🔁"}.get(p.stage, "⏳")
    lines = [f"{icon} **{p.stage.capitalize()}**: {p.text}", f"Elapsed: {p.elapsed:.0f} s"]
    if p.queue_position is not None:
        lines.append(f"Queue position: {p.queue_position}")
    if p.task_id:
        lines.append(f"Task id: `{p.task_id}`")
    if p.events:
        lines.append("Retries: " + " · ".join(p.events[-3:]))
    return "  \n".join(lines)

"""The identity lock on the Studio tab: 1-3 more pictures of the character (other angles) that Kling 3.0
binds as an Element (kmc_ui/elements.py), the visitor's Elements with a Delete, and the watermark option.

Decisions live in the studio service; these handlers only show them. Every handler reads the visitor
from the signed cookie (kmc_ui/ui/access.py): an Element id typed by a stranger through the raw queue
finds nothing, because only the caller's own Elements are looked up.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kmc_ui.findings import LEVEL_ICON
from kmc_ui.studio import Inputs, Studio, element_findings
from kmc_ui.ui.access import visitor
from kmc_ui.ui.i18n import t
from kmc_ui.ui.runtime_text import finding_said, lang_of, pick, translate


@dataclass
class IdentityUI:
    angles: gr.File
    findings: gr.Markdown
    elements: gr.Dropdown
    delete: gr.Button
    answer: gr.Markdown
    accordion: gr.Accordion
    # The pictures Generate uses: kept on the server for the session, set only by an upload here (an
    # API caller cannot hand /generate a path, and /generate's signature stays what scripts know).
    chosen: gr.State


def build_identity_lock() -> IdentityUI:
    with gr.Accordion(t("lock_title"), open=False, elem_id="kmc-lock") as accordion:
        gr.Markdown(t("lock_note"))
        angles = gr.File(
            label=t("lock_pictures"),
            file_count="multiple",
            file_types=[".jpg", ".jpeg", ".png"],
            type="filepath",
            height=110,
            elem_id="kmc-lock-pictures",
        )
        findings = gr.Markdown(elem_id="kmc-lock-findings")
        with gr.Row():
            # Any value is taken (a raw-queue caller sends what it likes): only the caller's own Elements match.
            elements = gr.Dropdown(
                [], label=t("lock_mine"), allow_custom_value=True, scale=3, elem_id="kmc-lock-elements"
            )
            delete = gr.Button(t("lock_delete"), size="sm", scale=1, elem_id="kmc-lock-delete")
        answer = gr.Markdown(elem_id="kmc-lock-answer")
    return IdentityUI(angles, findings, elements, delete, answer, accordion, gr.State(()))


def pictures_of(files: Any) -> tuple[str, ...]:
    """The uploaded pictures' paths (Gradio's own copies of the uploads)."""
    if not files:
        return ()
    items = files if isinstance(files, list) else [files]
    return tuple(str(getattr(f, "name", f)) for f in items if f)


def angles_changed(files: Any, orientation: str, model: str, backend: str, request: gr.Request) -> tuple[Any, ...]:
    """Findings for the extra pictures, orientation `video` while any are given (Kling's rule), and the
    pictures for Generate."""
    lang = lang_of(request)
    pictures = pictures_of(files)
    if not pictures:
        return "", gr.skip(), ()
    inputs = Inputs(orientation=orientation, model=model, backend=backend, extra_pictures=pictures)
    lines = [
        f"- {LEVEL_ICON[f.level]} {html.escape(message)} {html.escape(fix)}"
        for f in element_findings(inputs)
        for message, fix in [finding_said(f, lang)]
    ]
    return "\n".join(lines), gr.update(value="video"), pictures


def element_choices(studio: Studio, own: str, lang: str) -> list[tuple[str, str]]:
    out = []
    for e in studio.my_elements(own):
        made = time.strftime("%d %b %H:%M", time.gmtime(float(e["created_at"])))
        state = {"ready": pick(lang, "ready", "可用"), "creating": pick(lang, "being made", "创建中")}.get(
            str(e["status"]), pick(lang, "failed", "失败")
        )
        pictures = pick(lang, f"{e['pictures']} pictures", f"{e['pictures']} 张图片")
        out.append((f"{e['ref']} · {pictures} · {made} UTC · {state}", str(e["element_id"] or e["ref"])))
    return out


def wire_identity_lock(studio: Studio, ui: IdentityUI, orientation: Any, model: Any, backend: Any) -> None:
    def listed(request: gr.Request) -> Any:
        choices = element_choices(studio, visitor(studio, request), lang_of(request))
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def deleted(element_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        own, lang = visitor(studio, request), lang_of(request)
        if not element_id:
            return pick(lang, "Choose one of your identity Elements first.", "请先选择一个身份元素。"), gr.skip()
        said = studio.delete_element(own, str(element_id))
        choices = element_choices(studio, own, lang)
        return html.escape(translate(said, lang)), gr.update(choices=choices, value=choices[0][1] if choices else None)

    def changed(files: Any, orientation_: str, model_: str, backend_: str, request: gr.Request) -> tuple[Any, ...]:
        return angles_changed(files, orientation_, model_, backend_, request)

    ui.angles.change(
        changed,
        [ui.angles, orientation, model, backend],
        [ui.findings, orientation, ui.chosen],
        api_visibility="private",
    )
    ui.accordion.expand(listed, None, ui.elements, api_visibility="private")
    ui.delete.click(deleted, ui.elements, [ui.answer, ui.elements], api_visibility="private")

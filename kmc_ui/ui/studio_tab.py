"""The Studio tab: the inputs, their findings, what will be sent, Generate, the result and its report.

`build_studio_tab(studio) -> StudioTab` lays the widgets out; `wire_studio(demo, ui, handlers)`
connects them to the methods of a `StudioHandlers`, which holds the studio and the pages' running
generations. The handlers are plain methods, so a test can call them directly with a fake request
(anything with `headers` and `session_hash`). Widgets, wiring and wording only: every decision
(blocked, what will change, the trim window) is the studio's Verdict (kmc_ui/verdict.py).
"""

from __future__ import annotations

import html
import inspect
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from kmc_ui.backends.registry import KEY_ENV_NAMES
from kmc_ui.cost import BILLING_NOTE, BILLING_NOTE_MSG, charge_text
from kmc_ui.findings import Finding, for_input
from kmc_ui.history import public_view
from kmc_ui.jobs import Progress
from kmc_ui.limits import LIMITS, MODEL_LABELS, ORIENTATION_LABELS, TIER_LABELS
from kmc_ui.messages import Msg
from kmc_ui.studio import ExportRefused, Inputs, Studio
from kmc_ui.ui import render, text
from kmc_ui.ui.access import address, served, visitor
from kmc_ui.ui.i18n import t
from kmc_ui.ui.identity_lock import IdentityUI, build_identity_lock
from kmc_ui.ui.keyed import POSITIONAL, Call, keyed
from kmc_ui.ui.latest import MAX_PAGES, Latest
from kmc_ui.ui.player import player_value, sync_player
from kmc_ui.ui.runtime_text import finding_said, lang_of, page_text, pick, say, say_all, translate, word
from kmc_ui.ui.scrub import visitor_text
from kmc_ui.ui.stops import Stops, ended_by_itself, session_of, stop_answer
from kmc_ui.verdict import Verdict

F = TypeVar("F", bound=Callable[..., Any])


def raw_upload(component: gr.Image) -> gr.Image:
    """Make gr.Image hand over the uploaded file untouched (no Pillow decode before our checks).

    The stock preprocess opens every upload with Pillow, which raises on broken files and on
    decompression-bomb sizes before our own checks can explain the problem. (Set on the instance:
    a gr.Image subclass would make Gradio write a .pyi stub next to this module.)
    """
    stock = component.preprocess

    def preprocess(payload: Any) -> Any:
        path = getattr(payload, "path", None)
        return str(path) if path else stock(payload)

    component.preprocess = preprocess  # type: ignore[method-assign]
    return component


def result_player(
    record: dict[str, Any],
    description: str,
    report: dict[str, Any] | None = None,
    skeleton: dict[str, Any] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The side-by-side player for a run record: the sent reference beside the result."""
    labels_in = RESULT_LABELS_ZH if lang == "zh" else RESULT_LABELS
    result = labels_in.get(record.get("provider", ""), pick(lang, "Result", "结果"))
    return player_value(
        (record.get("inputs") or {}).get("video"),
        record.get("output"),
        offset=(report or {}).get("offset_s", 0.0),
        skeleton=skeleton,
        description=description,
        labels=(pick(lang, "Reference", "参考视频"), result),
        lang=lang,
    )


RESULT_LABELS = {"local": "Result · offline engine, preview-quality puppet (the prompt is not used)"}

RESULT_LABELS_ZH = {"local": "结果 · 离线引擎，预览级木偶动画（不使用提示词）"}


def describe_result(inputs: Inputs, seconds: float | None, lang: str = "en") -> str:
    """A text description of what was generated (for screen readers and the page)."""
    tier = TIER_LABELS.get(inputs.tier, inputs.tier)
    if lang == "zh":
        length = f" {seconds:.1f} 秒的" if seconds else ""
        scene = f"场景：{inputs.prompt[:160]}。" if inputs.prompt else ""
        return (
            f"一段{length}视频：上传图片中的角色在表演参考视频中的动作"
            f"（{word(tier, lang)}，朝向“{inputs.orientation}”）。{scene}"
        )
    length = f"{seconds:.1f} s " if seconds else ""
    scene = f" Scene: {inputs.prompt[:160]}." if inputs.prompt else ""
    return (
        f"A {length}video of the character from the uploaded image performing the motion of the reference video "
        f"({tier}, orientation '{inputs.orientation}').{scene}"
    )


def described_run(record: dict[str, Any], seconds: float | None, lang: str) -> str:
    """describe_result for a run record's settings, and what its backend said of the result."""
    settings = record.get("settings") or {}
    shown = Inputs(
        prompt=settings.get("prompt", ""),
        orientation=settings.get("orientation", "video"),
        tier=settings.get("tier", "std"),
    )
    return " ".join(filter(None, (describe_result(shown, seconds, lang), render.run_notes(record, lang))))


_BACKEND_STATE_ZH = {"ready (session key)": "就绪（会话密钥）", "ready": "就绪", "not configured": "未配置"}


def backend_choices(studio: Studio, keys: dict[str, str] | None = None, lang: str = "en") -> list[tuple[str, str]]:
    out = []
    for name, configured in studio.backends.items():
        with studio.session_backend(name, keys) as built:
            backend = built or configured
            ok, _why = backend.ready()
        typed = backend is not configured
        state = ("ready (session key)" if typed else "ready") if ok else "not configured"
        if lang == "zh":
            out.append((f"{word(configured.label, lang)} · {_BACKEND_STATE_ZH[state]}", name))
        else:
            out.append((f"{configured.label} · {state}", name))
    return out


def backend_note(
    studio: Studio, name: str, keys: dict[str, str] | None = None, video_url: str = "", lang: str = "en"
) -> str:
    with studio.session_backend(name, keys) as backend:
        if backend is None:
            return ""
        ok, why = backend.ready()
        note = f"{'✅' if ok else '⚙️'} {translate(why, lang) if why else page_text('page.ready', lang)}"
        if ok and backend.name != "local":  # (the offline engine reads the file itself)
            t = backend.video_transport(video_url)
            how = pick(lang, "**How the video gets there**: ", "**视频如何送达**：")
            note += f"  \n{'📦' if t.ok else '⛔'} {how}{translate(t.text, lang)}"
    return note


def run_id_of(run: Any) -> str:
    """The run id in what a caller sent: the id itself, or a record /generate returned (only its
    `run_id` is read; the record itself is looked up on the server)."""
    value = run.get("run_id") if isinstance(run, dict) else run
    return value if isinstance(value, str) else ""


# The Studio tab's inputs, in the order its events take them (/generate's first parameters).
INPUT_NAMES = ("image", "video", "prompt", "orientation", "tier", "keep_sound", "model", "backend", "trim")


def inputs_of(image, video, prompt, orientation, tier, keep_sound, model, backend, trim_start) -> Inputs:
    """The Studio tab's input values (INPUT_NAMES, as the page sends them) as the studio's Inputs."""
    return Inputs(
        image=image or None,
        video=video or None,
        prompt=prompt or "",
        orientation=orientation or "video",
        tier=tier or "std",
        model=model or "v2.6",
        keep_sound=bool(keep_sound),
        backend=backend or "local",
        trim_start=float(trim_start or 0.0),
    )


def prepared_key(*values: Any) -> str:
    """What a preparation was made for (the inputs but the backend): Generate reuses it when they still hold."""
    return repr(inputs_of(*values).__dict__ | {"backend": ""})


def validations(blocking: list[Finding], lang: str = "en") -> dict[str, Any]:
    """One gr.validate per input: the errors that block Generate (Verdict.blocking: Generate prepares
    the others away by itself), drawn on the input they belong to."""
    out = {}
    for name in ("image", "video", "prompt"):
        errors = for_input(blocking, name)
        said = visitor_text(" ".join(f.message + " " + f.fix for f in errors))
        if lang == "zh":
            said = "".join("".join(finding_said(f, lang)) for f in errors)
        out[name] = gr.validate(not errors, said)
    return out


def _msg_of(finding: dict[str, Any], code: str, params: str) -> Msg | None:
    """The message a Finding.to_dict() carries under these keys (None: an English-only finding)."""
    return Msg.from_dict({"code": finding.get(code), "params": finding.get(params)})


def check_answer(report: dict[str, Any], lang: str = "en", said: dict[str, Msg | None] | None = None) -> dict[str, Any]:
    """/check's answer. English unless the request asks for Chinese; `code` never changes. Either
    way no errno text, exception name or server path (translate's last guard): a probed file is
    named by its base name ("name"), never by its path on the server. `said`: the messages of the
    report's texts ("image", "video": why a file cannot be read; "estimate_text"), by key."""
    said = said or {}
    for name in ("image", "video"):
        facts = report.get(name)
        if isinstance(facts, dict):
            shown = {k: v for k, v in facts.items() if k != "path"}  # (a "path" key would be fetched as a file)
            shown["name"] = Path(str(facts.get("path") or "")).name
            shown["error"] = say(said.get(name), str(facts.get("error") or ""), lang)
            report = report | {name: shown}
    findings = [
        f
        | {
            "message": say(_msg_of(f, "message_code", "params"), str(f["message"]), lang),
            "fix": say(_msg_of(f, "fix_code", "fix_params"), str(f["fix"]), lang),
        }
        for f in report["findings"]
    ]
    billing_msg = BILLING_NOTE_MSG if report["billing_note"] == BILLING_NOTE else None
    return report | {
        "findings": findings,
        "estimate_text": say(said.get("estimate_text"), str(report["estimate_text"]), lang),
        "billing_note": say(billing_msg, str(report["billing_note"]), lang),
    }


# ------------------------------------------------------------------------------------ layout
@dataclass
class StudioTab:
    image: gr.Image
    image_findings: gr.HTML
    video: gr.Video
    video_url: gr.Textbox
    fetch_btn: gr.Button
    video_findings: gr.HTML
    prompt: gr.Textbox
    count: gr.Markdown
    prompt_findings: gr.HTML
    orientation: gr.Radio
    tier: gr.Radio
    model: gr.Radio
    keep_sound: gr.Checkbox
    watermark: gr.Checkbox
    backend: gr.Dropdown
    backend_info: gr.Markdown
    lock: IdentityUI
    key_boxes: list[gr.Textbox]
    panel: gr.HTML
    character_preview: gr.Image
    motion_preview: gr.Video
    sent_box: gr.Accordion
    trim_start: gr.Slider
    prepare_btn: gr.Button
    prepared_image: gr.Image
    prepared_video: gr.Video
    prepared_info: gr.Markdown
    generate_btn: gr.Button
    stop_btn: gr.Button
    cost: gr.Markdown
    status: gr.Markdown
    player: gr.HTML
    report_md: gr.Markdown
    report_plot: gr.Image
    download: gr.File
    run_record: gr.JSON
    export_audio: gr.Radio
    export_skeleton: gr.Checkbox
    export_btn: gr.Button
    export_file: gr.File
    prepared_key: gr.State  # the inputs the shown preparation was made for (prepared_key())
    pasted_url: gr.State  # the URL the current video was fetched from, if any

    @property
    def inputs(self) -> list[Any]:
        """The widgets of INPUT_NAMES, in that order."""
        return [
            self.image,
            self.video,
            self.prompt,
            self.orientation,
            self.tier,
            self.keep_sound,
            self.model,
            self.backend,
            self.trim_start,
        ]


def build_studio_tab(studio: Studio) -> StudioTab:
    """The Studio tab's widgets (call inside its gr.Tab)."""
    default_backend = studio.settings.backend if studio.settings.backend in studio.backends else "local"
    prepared = gr.State("")
    pasted_url = gr.State("")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            with gr.Row(equal_height=False):
                with gr.Column():
                    image = raw_upload(
                        gr.Image(
                            label=t("image_label"),
                            type="filepath",
                            sources=["upload", "clipboard", "webcam"],
                            height=360,
                            elem_id="kmc-image",
                        )
                    )
                    image_findings = gr.HTML(elem_id="kmc-image-findings")
                with gr.Column():
                    video = gr.Video(
                        label=t("video_label"),
                        sources=["upload", "webcam"],
                        height=360,
                        elem_id="kmc-video",
                    )
                    with gr.Row():
                        video_url = gr.Textbox(
                            label=t("video_url_label"),
                            placeholder=t("video_url_placeholder"),
                            info=t("video_url_info"),
                            max_lines=1,
                            scale=4,
                            elem_id="kmc-video-url",
                        )
                        # a narrow Fetch (not Gradio's 160 px least width): the URL box gets the row
                        fetch_btn = gr.Button(t("fetch"), size="sm", scale=1, min_width=80, elem_id="kmc-fetch")
                    video_findings = gr.HTML(elem_id="kmc-video-findings")
            prompt = gr.Textbox(
                label=t("prompt_label"),
                placeholder=t("prompt_placeholder"),
                lines=3,
                elem_id="kmc-prompt",
            )
            count = gr.Markdown(f"0 / {LIMITS.prompt_max_chars}", elem_id="kmc-count")
            prompt_findings = gr.HTML(elem_id="kmc-prompt-findings")
        with gr.Column(scale=2):
            orientation = gr.Radio(
                [(t(f"orientation_{key}"), key) for key in ORIENTATION_LABELS],
                value="video",
                label=t("orientation_label"),
                elem_id="kmc-orientation",
            )
            tier = gr.Radio(
                [(t(f"tier_{key}"), key) for key in TIER_LABELS],
                value="std",
                label=t("tier_label"),
                elem_id="kmc-tier",
            )
            model = gr.Radio(
                [(t(f"model_{key}"), key) for key in MODEL_LABELS],
                value="v2.6",
                label=t("model_label"),
                elem_id="kmc-model",
            )
            keep_sound = gr.Checkbox(value=True, label=t("keep_sound"), elem_id="kmc-sound")
            watermark = gr.Checkbox(False, label=t("watermark"), elem_id="kmc-watermark")
            backend = gr.Dropdown(
                backend_choices(studio),
                value=default_backend,
                label=t("backend_label"),
                elem_id="kmc-backend",
            )
            backend_info = gr.Markdown(backend_note(studio, default_backend), elem_id="kmc-backend-info")
            lock_ui = build_identity_lock()
            with gr.Accordion(t("keys_title"), open=False):
                gr.Markdown(t("keys_note"))
                key_boxes = [
                    gr.Textbox("", label=env, type="password", max_lines=1, elem_id=f"kmc-key-{field}")
                    for field, env in KEY_ENV_NAMES.items()
                ]
            panel = gr.HTML(text.NO_INPUTS, elem_id="kmc-findings")
            with (
                gr.Accordion(t("skeleton_title"), open=True),
                gr.Row(),
            ):
                character_preview = gr.Image(
                    label=t("character_skeleton"),
                    interactive=False,
                    height=220,
                    elem_id="kmc-character-skeleton",
                )
                motion_preview = gr.Video(
                    label=t("motion_skeleton"),
                    interactive=False,
                    height=220,
                    autoplay=True,
                    loop=True,
                    elem_id="kmc-motion-skeleton",
                )
    # Shown only when preparing will change a file (Generate prepares by itself either way).
    with gr.Accordion(t("sent_title"), open=True, visible=False, elem_id="kmc-sent") as sent_box:
        gr.Markdown(t("sent_intro"))
        trim_start = gr.Slider(0, 1, value=0, step=0.1, label=t("trim_label"), visible=False, elem_id="kmc-trim")
        prepare_btn = gr.Button(t("prepare"), elem_id="kmc-prepare")
        with gr.Row():
            prepared_image = gr.Image(label=t("prepared_image"), interactive=False, height=240)
            prepared_video = gr.Video(label=t("prepared_video"), interactive=False, height=240)
        prepared_info = gr.Markdown(elem_id="kmc-prepared-info")
    # The action bar stays in view (sticky at the bottom): Generate, Stop, the cost and the run's status.
    with gr.Group(elem_id="kmc-actions"):
        with gr.Row(equal_height=False, elem_id="kmc-action-row"):
            generate_btn = gr.Button(t("generate"), variant="primary", scale=2, elem_id="kmc-generate")
            stop_btn = gr.Button(t("stop"), variant="secondary", scale=1, min_width=90, elem_id="kmc-stop")
            cost = gr.Markdown(elem_id="kmc-cost")
        status = gr.Markdown(elem_id="kmc-status")
    player = sync_player(elem_id="kmc-player")
    with gr.Row(equal_height=False):
        report_md = gr.Markdown(elem_id="kmc-report")
        report_plot = gr.Image(
            label=render.PLOT_LABEL,
            interactive=False,
            visible=False,
            height=260,  # the plot (600x330) at 0.79 here; a phone shows it at its width, about 0.6
            min_width=340,  # on a phone it goes under the report's words, not beside them
            elem_id="kmc-report-plot",
        )
    with gr.Row():
        download = gr.File(label=t("download"), interactive=False, elem_id="kmc-download", height=80)
        run_record = gr.JSON(label=t("run_record"), visible=False)
    with gr.Accordion(t("export_title"), open=False), gr.Row():
        export_audio = gr.Radio(
            [(t("audio_reference"), "reference"), (t("audio_output"), "output"), (t("audio_none"), "none")],
            value="output",
            label=t("export_audio"),
            elem_id="kmc-export-audio",
        )
        export_skeleton = gr.Checkbox(False, label=t("export_skeleton"), elem_id="kmc-export-skeleton")
        export_btn = gr.Button(t("export"), elem_id="kmc-export")
        export_file = gr.File(label=t("export_file"), interactive=False, elem_id="kmc-export-file")

    return StudioTab(
        image=image,
        image_findings=image_findings,
        video=video,
        video_url=video_url,
        fetch_btn=fetch_btn,
        video_findings=video_findings,
        prompt=prompt,
        count=count,
        prompt_findings=prompt_findings,
        orientation=orientation,
        tier=tier,
        model=model,
        keep_sound=keep_sound,
        watermark=watermark,
        backend=backend,
        backend_info=backend_info,
        lock=lock_ui,
        key_boxes=key_boxes,
        panel=panel,
        character_preview=character_preview,
        motion_preview=motion_preview,
        sent_box=sent_box,
        trim_start=trim_start,
        prepare_btn=prepare_btn,
        prepared_image=prepared_image,
        prepared_video=prepared_video,
        prepared_info=prepared_info,
        generate_btn=generate_btn,
        stop_btn=stop_btn,
        cost=cost,
        status=status,
        player=player,
        report_md=report_md,
        report_plot=report_plot,
        download=download,
        run_record=run_record,
        export_audio=export_audio,
        export_skeleton=export_skeleton,
        export_btn=export_btn,
        export_file=export_file,
        prepared_key=prepared,
        pasted_url=pasted_url,
    )


# ------------------------------------------------------------------------------------ checks
def render_checks(verdict: Verdict, body_done: bool, lang: str = "en") -> tuple[Any, ...]:
    """The findings shown for a verdict (REFRESH_OUTPUTS): under each input, in the panel, the cost,
    the trim slider, whether Generate may be pressed and whether "What will be sent" shows.
    `body_done`: the body check has run (else the panel says it is on its way)."""
    report, f = verdict.report, verdict.findings
    img_html = render.findings_html(for_input(f, "image"), "page.image_ok" if report.image else "", lang)
    vid_html = render.findings_html(
        for_input(f, "video") + for_input(f, "pair"), "page.video_ok" if report.video else "", lang
    )
    if report.image or report.video:
        facts = [render.image_facts(report.image, lang), render.video_facts(report.video, lang)]
        no_findings = pick(
            lang,
            "<p>✅ No findings: both inputs fit every limit.</p>",
            "<p>✅ 没有发现问题：两个输入都符合所有限制。</p>",
        )
        panel_html = render.summary_html(f, lang) or no_findings
        panel_html += "<p><small>" + html.escape(" · ".join(x for x in facts if x)) + "</small></p>"
        if not body_done and report.image and report.video:
            panel_html += f"<p class='kmc-pending'>⏳ {page_text('page.body_pending', lang)}</p>"
    else:
        panel_html = page_text("page.no_inputs", lang)
    cost_md = ""
    if report.estimate:
        head = pick(lang, "**Cost estimate**: ", "**费用估算**：")
        cost_md = f"{head}{say(report.estimate.msg(), report.estimate.text(), lang)}"
        # The billing rule goes with the findings: the action bar stays one line high.
        panel_html += f"<p><small>{html.escape(say(BILLING_NOTE_MSG, BILLING_NOTE, lang))}</small></p>"
    slider = gr.update(visible=verdict.trim.shown, maximum=verdict.trim.max_start)
    if verdict.trim.start is not None:  # the suggested start as the default
        slider["value"] = verdict.trim.start
        slider["info"] = say_all(verdict.trim.reason_msgs, verdict.trim.reason, lang)
    gen = gr.update(interactive=not verdict.blocked)
    prompt_html = render.findings_html(for_input(f, "prompt"), lang=lang)
    # "What will be sent" only when something will change
    return img_html, vid_html, prompt_html, panel_html, cost_md, slider, gen, gr.update(visible=verdict.changes)


REFRESH_OUTPUTS = 8  # render_checks' answers; the body check adds the two skeleton previews
BODY_OUTPUTS = REFRESH_OUTPUTS + 2

# /generate and its validator: the Studio inputs and the URL, one box per provider key, then these
GENERATE_HEAD = (*INPUT_NAMES, "url")


def keyed_method(head: Sequence[str], tail: Sequence[str], injected: dict[str, Any]) -> Callable[[F], F]:
    """keyed() (kmc_ui/ui/keyed.py) for a method: the same named signature after `self`, which a
    bound method drops."""

    def wrap(fn: F) -> F:
        keyed(head, tail, injected)(fn)
        params = [inspect.Parameter("self", POSITIONAL), *fn.__signature__.parameters.values()]  # type: ignore[attr-defined]
        fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return fn

    return wrap


class Characters:
    """Each page's last character skeleton preview and the picture it was drawn for, so replacing or
    removing only the motion clip keeps it on the page should a body check draw none."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._lock = threading.Lock()
        self._shown: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def keep(self, session: str, image: str, preview: str) -> None:
        if not session or not image:
            return
        with self._lock:
            self._shown[session] = (image, preview)
            self._shown.move_to_end(session)
            while len(self._shown) > self.max_pages:
                self._shown.popitem(last=False)

    def of(self, session: str, image: str) -> str | None:
        """The preview this page was last shown for `image`, if that is still its picture."""
        with self._lock:
            drawn, preview = self._shown.get(session, ("", ""))
        return preview if drawn == image and Path(preview).is_file() else None


class StudioHandlers:
    """The Studio tab's event handlers for one studio. Gradio calls the bound methods (it injects
    gr.Request by annotation, so these are methods, not functools.partial); a test calls them directly.

    generating: each page's running generation, so Stop ends it from the server side.
    latest: each page's latest inputs (seen by `refresh`), so an older body check's answer is dropped.
    """

    def __init__(self, studio: Studio, generating: Stops | None = None, latest: Latest | None = None) -> None:
        self.studio = studio
        self.generating = generating or Stops()
        self.latest = latest or Latest()
        self.characters = Characters()

    # -------------------------------------------------------------- checks
    # gr.Request first: Gradio hands it to a positional parameter annotated with it (never an API input)
    def refresh(self, request: gr.Request, *values: Any) -> tuple[Any, ...]:
        """The limit checks on every input change (and the last body check of these inputs, if any)."""
        inputs = inputs_of(*values)
        self.latest.seen(session_of(request), body_key(inputs))
        body = self.studio.body_cached(inputs)
        return render_checks(self.studio.verdict(inputs, body), body is not None, lang_of(request))

    def body(self, request: gr.Request, *values: Any) -> tuple[Any, ...]:
        """The slower body check, after `refresh`. Its answer is dropped (every output skipped) when
        the page's inputs have changed since: it would show findings about files no longer there."""
        inputs = inputs_of(*values)
        session, key = session_of(request), body_key(inputs)
        if not self.latest.holds(session, key):
            return skip_all(BODY_OUTPUTS)
        report = self.studio.body_check(inputs, visitor=visitor(self.studio, request))
        if not self.latest.holds(session, key):  # a newer refresh came while it ran
            return skip_all(BODY_OUTPUTS)
        character = served(report.character_preview)
        if character:
            self.characters.keep(session, inputs.image or "", character)
        elif inputs.image:
            # The clip alone changed or went and this check drew no character (it draws one for the
            # picture alone too, unless drawing failed): the character's skeleton still holds, so it stays.
            character = self.characters.of(session, inputs.image)
        previews = (character, served(report.motion_preview))
        return (*render_checks(self.studio.verdict(inputs, report), True, lang_of(request)), *previews)

    def on_backend(self, request: gr.Request, b: str, url: str, *keys: str) -> tuple[Any, str]:
        typed = dict(zip(KEY_ENV_NAMES, keys, strict=True))
        lang = lang_of(request)
        choices = backend_choices(self.studio, typed, lang)
        return gr.update(choices=choices), backend_note(self.studio, b, typed, url, lang)

    def fetch(self, url: str, request: gr.Request) -> tuple[Any, str, str]:
        from kmc_ui.media.remote import UrlRefused, download_url

        lang = lang_of(request)
        folder = Path(self.studio.settings.data_dir) / "downloads" / secrets.token_hex(8)
        try:
            path = download_url(
                url,
                folder,
                max_bytes=LIMITS.video_max_bytes * 3,
                allow_private=self.studio.settings.allow_private_urls,
                visitor=visitor(self.studio, request),
            )
        except UrlRefused as exc:
            said = html.escape(say(exc.msg, str(exc), lang))  # it quotes the URL the visitor typed
            return gr.skip(), "", pick(lang, f"⛔ Video URL: {said}", f"⛔ 视频链接：{said}")
        return served(path), url.strip(), page_text("page.fetched", lang)

    # ------------------------------------------------------- what is sent
    def do_prepare(self, request: gr.Request, *values: Any) -> tuple[Any, ...]:
        inputs = inputs_of(*values)
        lang = lang_of(request)
        if not inputs.image and not inputs.video:
            return None, None, page_text("page.upload_first", lang), ""
        rep = self.studio.prepare(inputs)
        lines = []
        if rep.error:
            lines.append(f"⛔ {say(rep.error_msg, rep.error, lang)}")
        remaining = [f for f in rep.findings if f.level == "error"]
        stuck = {f.input for f in remaining}  # inputs a preparation could not make sendable
        if rep.image:
            label = pick(lang, "Image", "图片")
            facts = render.image_facts(rep.image, lang)
            lines.append(
                render.actions_md(label, rep.image_actions, facts, lang, "image" in stuck, rep.image_action_msgs)
            )
        if rep.video:
            label = pick(lang, "Video", "视频")
            facts = render.video_facts(rep.video, lang)
            lines.append(
                render.actions_md(label, rep.video_actions, facts, lang, "video" in stuck, rep.video_action_msgs)
            )
        if remaining:
            blocked = Msg("finding.not_sent", {"parts": [f.text_msg() for f in remaining]})
            said = say(blocked, blocked.en(), lang)  # "Not sent until this is fixed: " + each f.text()
            lines.append(f"⛔ {said}")
        return served(rep.image_path), served(rep.video_path), "\n\n".join(lines), prepared_key(*values)

    # -------------------------------------------------------- generation
    @keyed_method(GENERATE_HEAD, ("key", "watermark_on", "angles"), {"request": gr.Request})
    def validate_generate(self, *args: Any) -> list[dict[str, Any]]:
        call = Call(self.validate_generate, args)
        request, image, video = call["request"], call["image"], call["video"]
        lang = lang_of(request)
        # Generate prepares what it needs by itself (and says what it changed): no Prepare needed first.
        v = validations(self.studio.verdict(inputs_of(*call.take(INPUT_NAMES))).blocking, lang)
        if not image:
            v["image"] = gr.validate(False, page_text("page.add_image", lang))
        if not video:
            v["video"] = gr.validate(False, page_text("page.add_video", lang))
        ok = gr.validate(True, "")
        others = len(args) - 1 - 3  # one answer per input (the request is not one)
        answer = [v["image"], v["video"], v["prompt"], *([ok] * others)]
        if all(a["is_valid"] for a in answer):
            self.generating.expect(session_of(request))  # queued: Stop can take it out before it starts
        return answer

    @keyed_method(
        GENERATE_HEAD,
        ("_key", "watermark_on", "angles"),
        {"request": gr.Request, "profile": gr.OAuthProfile | None},
    )
    def do_generate(self, *args: Any) -> Iterator[tuple[Any, ...]]:
        call = Call(self.do_generate, args)
        request, profile, url = call["request"], call["profile"], call["url"]
        inputs = inputs_of(*call.take(INPUT_NAMES))
        inputs = replace(inputs, watermark=bool(call["watermark_on"]), extra_pictures=tuple(call["angles"] or ()))
        own = visitor(self.studio, request)
        chosen = self.studio.backend_for(inputs.backend, call.keys)
        label = getattr(chosen, "label", "") or ""
        yield from self.shown_run(
            request,
            own,
            lambda stop: self.studio.generate(
                inputs,
                own,
                video_url=url or "",
                backend=chosen,
                cancel=stop,
                address=address(request),
                username=profile.username if profile is not None else None,  # Hugging Face sign-in
            ),
            label,
        )

    def shown_run(
        self, request: gr.Request, own: str, start: Callable[[Any], Iterator[Progress]], label: str
    ) -> Iterator[tuple[Any, ...]]:
        """A run's steps on the page: progress, then the result (or why there is none). Stop ends
        the run; a page that goes away only stops watching it (kmc_ui/worker.py)."""
        lang = lang_of(request)
        last = None
        shown: int | None = None  # the frame preview on the page (its file's mtime)
        for p, closing in self.generating.run(
            session_of(request), start, ended_by_itself, lambda p: self.stop_status(label, own, p, lang)
        ):
            if closing:  # Stopped: the run is closed (task cancelled or kept for resuming)
                yield closing, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            last = p
            player, shown = self.rendering_player(own, p, shown, lang)
            yield render.progress_md(p, lang), player, gr.skip(), gr.skip(), gr.skip()
        record = self.studio.history.get(own, last.run_id) if last and last.run_id else None
        status_md = render.progress_md(last, lang) if last else ""
        charge = charge_text(record or {})
        if charge:  # the real charge beside the estimate
            status_md += f"\n\n💳 {html.escape(translate(charge, lang))}"
        changes = (record or {}).get("prepared_changes") or []
        if changes:  # Generate prepared the files by itself: say what was sent
            msgs = [Msg.from_dict(d) for d in (record or {}).get("prepared_change_msgs") or []]
            kept = [m for m in msgs if m is not None] if all(msgs) else None
            said = "; ".join(render.actions_said([str(c) for c in changes], kept, lang))
            status_md += "\n\n📦 " + pick(lang, "Sent after preparing: ", "准备后发送：") + html.escape(said)
        if not (last and last.stage == "done" and last.result_path):
            # the final values stand alone for API clients
            yield status_md, gr.skip(), None, public_view(record), ""
            return
        value = result_player(record or {}, described_run(record or {}, last.result_duration, lang), lang=lang)
        yield status_md, value, served(last.result_path), public_view(record), page_text("page.report_pending", lang)

    def rendering_player(self, own: str, p: Progress, shown: int | None, lang: str) -> tuple[Any, int | None]:
        """While the offline engine renders: the player with the reference and the latest frame drawn
        in the result's place, when that frame changed since `shown`; else gr.skip()."""
        preview = self.studio.live_preview(own, p.run_id) if p.stage == "running" and p.run_id else None
        try:
            stamp = preview.stat().st_mtime_ns if preview is not None else None
        except OSError:  # replaced or removed meanwhile: the next step shows it
            stamp = None
        if preview is None or stamp is None or stamp == shown:
            return gr.skip(), shown
        record = self.studio.history.get(own, p.run_id) or {}
        labels = (pick(lang, "Reference", "参考视频"), pick(lang, "Rendering: the latest frame", "渲染中：最新一帧"))
        value = player_value((record.get("inputs") or {}).get("video"), None, labels=labels, lang=lang, poster=preview)
        return value, stamp

    def follow_run(self, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """A page opened (or reloaded) while one of this browser's runs goes on: show it live."""
        own = visitor(self.studio, request)
        runs = self.studio.active_runs(own)
        if not runs:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        run_id = str(runs[0]["run_id"])
        yield from self.shown_run(request, own, lambda stop: self.studio.watch(own, run_id, stop), "")

    def do_report(self, run: Any, request: gr.Request) -> tuple[Any, ...]:
        """Motion-agreement report for the run just finished: a follow-up event with its own
        concurrency, so it never holds a generation slot (API: /report with the run id, or the
        record /generate returned, of which only the run id is read). Only a run of this
        visitor's History is reported; anything else answers as if there were no run."""
        lang = lang_of(request)
        own, run_id = visitor(self.studio, request), run_id_of(run)
        record = self.studio.history.get(own, run_id) if run_id else None
        if not record or not record.get("output"):
            return gr.skip(), "", gr.update(visible=False), public_view(record)
        report = self.studio.report(own, run_id) or {}
        fresh = self.studio.history.get(own, run_id) or record
        description = described_run(fresh, fresh.get("result_duration"), lang)
        skeleton = self.studio.skeleton_track((fresh.get("inputs") or {}).get("video"), visitor=own)
        value = result_player(fresh, description, report, skeleton, lang)
        plot = served(report.get("plot_path"))
        summary = render.report_summary(report, lang)
        return value, summary, render.plot_update(plot, lang), public_view(fresh)

    def follow_report(self, run: Any, request: gr.Request) -> tuple[Any, ...]:
        """do_report after follow_run: every output skipped when no run was followed (the page's
        report, player and plot stay as they are: an example's report may be showing by then)."""
        if not run_id_of(run):
            return skip_all(4)
        return self.do_report(run, request)

    def stop_status(self, label: str, own: str, last: Progress | None, lang: str) -> str:
        record = self.studio.history.get(own, last.run_id) if last and last.run_id else None
        label = label or str((record or {}).get("provider") or "")
        return render.stopped_md(record, label, last, lang)

    def stopped(self, request: gr.Request) -> Any:
        return stop_answer(self.generating.stop(session_of(request)), lang_of(request))

    # --------------------------------------------------------------- API
    def api_check(
        self, image, video, prompt, orientation, tier, keep_sound, model, backend, request: gr.Request
    ) -> dict[str, Any]:
        report = self.studio.check(inputs_of(image, video, prompt, orientation, tier, keep_sound, model, backend, 0))
        said = {
            "image": report.image.error_msg if report.image else None,
            "video": report.video.error_msg if report.video else None,
            "estimate_text": report.estimate.msg() if report.estimate else None,
        }
        return check_answer(report.to_dict(), lang_of(request), said)

    def export(self, run: Any, audio: str, skeleton: bool, request: gr.Request) -> Any:
        try:
            path = self.studio.export_comparison(visitor(self.studio, request), run_id_of(run), audio, bool(skeleton))
        except ExportRefused as exc:
            raise gr.Error(say(exc.msg, str(exc), lang_of(request))) from None
        return served(path)


def body_key(inputs: Inputs) -> str:
    """Which inputs a body check is about, for `Latest`: all but the trim start (the body check's
    answer may move the slider, which starts no new check)."""
    return repr(replace(inputs, trim_start=0.0))


def skip_all(n: int) -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(n))


# ------------------------------------------------------------------------------------ wiring
def wire_studio(demo: gr.Blocks, ui: StudioTab, handlers: StudioHandlers) -> gr.events.Dependency:
    """Connect the Studio tab to `handlers` (call inside `demo`, after the tabs: the fetch note and
    the hidden /check button go below them). Returns the Generate event (History follows it)."""
    refresh_outputs = [
        ui.image_findings,
        ui.video_findings,
        ui.prompt_findings,
        ui.panel,
        ui.cost,
        ui.trim_start,
        ui.generate_btn,
        ui.sent_box,
    ]
    gr.on(
        [
            ui.image.change,
            ui.video.change,
            ui.orientation.change,
            ui.tier.change,
            ui.model.change,
            ui.keep_sound.change,
            ui.backend.change,
            ui.prompt.blur,
            demo.load,
        ],
        handlers.refresh,
        inputs=ui.inputs,
        outputs=refresh_outputs,
        show_progress="hidden",
        api_visibility="private",
        trigger_mode="always_last",
    ).then(
        handlers.body,
        inputs=ui.inputs,
        outputs=[*refresh_outputs, ui.character_preview, ui.motion_preview],
        show_progress="hidden",
        api_visibility="private",
        trigger_mode="always_last",
    )
    ui.prompt.input(
        None,
        inputs=ui.prompt,
        outputs=ui.count,
        js=f"(t) => `${{(t||'').length}} / {LIMITS.prompt_max_chars}` + "
        f"((t||'').length > {LIMITS.prompt_max_chars} ? "
        "((navigator.language||'').toLowerCase().startsWith('zh') ? ' ⛔ 太长' : ' ⛔ too long') : '')",
        api_visibility="private",
    )
    gr.on(
        [ui.backend.change, ui.pasted_url.change, *(box.change for box in ui.key_boxes), demo.load],
        handlers.on_backend,
        [ui.backend, ui.pasted_url, *ui.key_boxes],
        [ui.backend, ui.backend_info],
        show_progress="hidden",
        api_visibility="private",
    )

    fetch_note = gr.Markdown(visible=True, elem_id="kmc-fetch-note")
    ui.fetch_btn.click(handlers.fetch, [ui.video_url], [ui.video, ui.pasted_url, fetch_note], api_visibility="private")
    ui.video.upload(lambda: "", None, ui.pasted_url, api_visibility="private")

    ui.prepare_btn.click(
        handlers.do_prepare,
        inputs=ui.inputs,
        outputs=[ui.prepared_image, ui.prepared_video, ui.prepared_info, ui.prepared_key],
        api_visibility="private",
    )

    run_outputs = [ui.status, ui.player, ui.download, ui.run_record, ui.report_md]
    gen_event = ui.generate_btn.click(
        handlers.do_generate,
        inputs=[*ui.inputs, ui.pasted_url, *ui.key_boxes, ui.prepared_key, ui.watermark, ui.lock.chosen],
        outputs=run_outputs,
        validator=handlers.validate_generate,
        api_name="generate",
    )
    # Watching reads the store a few times a second: no slot limit, so a page reopened during a
    # long run never waits behind other visitors' pages.
    follow_event = demo.load(handlers.follow_run, None, run_outputs, api_visibility="private", concurrency_limit=None)
    report_outputs = [ui.player, ui.report_md, ui.report_plot, ui.run_record]
    # The report's progress shows on the report alone: the result plays (and is not greyed out) while it runs.
    gen_event.then(
        handlers.do_report,
        ui.run_record,
        report_outputs,
        api_name="report",
        concurrency_limit=1,
        concurrency_id="report",
        show_progress_on=[ui.report_md],
    )
    # Only for a run the page followed: on a plain page load there is no run, and answering anyway
    # would blank a report shown meanwhile (an example's, clicked while the load's events were queued).
    follow_event.then(
        handlers.follow_report,
        ui.run_record,
        report_outputs,
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="report",
        show_progress_on=[ui.report_md],
    )
    ui.stop_btn.click(handlers.stopped, None, ui.status, api_visibility="private")

    check_btn = gr.Button("Check", visible=False)
    check_json = gr.JSON(visible=False)
    check_btn.click(
        handlers.api_check,
        inputs=[ui.image, ui.video, ui.prompt, ui.orientation, ui.tier, ui.keep_sound, ui.model, ui.backend],
        outputs=check_json,
        api_name="check",
    )
    ui.export_btn.click(
        handlers.export,
        [ui.run_record, ui.export_audio, ui.export_skeleton],
        ui.export_file,
        api_visibility="private",
    )
    return gen_event

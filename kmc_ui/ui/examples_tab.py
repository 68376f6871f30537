"""The Examples tab: example pairs with pre-rendered results, the Motion Library and characters.

Clicking an example loads its inputs into the Studio and shows its pre-rendered result (made
with the offline engine by scripts/make_assets.py) with its motion-agreement report at once:
no backend is called and nothing is computed at launch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kmc_ui.examples import AssetsMissing, Character, Example, Motion, load_characters, load_examples, load_library
from kmc_ui.ui.i18n import t
from kmc_ui.ui.player import player_value
from kmc_ui.ui.render import plot_update, report_summary
from kmc_ui.ui.runtime_text import lang_of, pick
from kmc_ui.ui.scrub import visitor_text


@dataclass
class ExamplesUI:
    examples: list[Example]
    motions: list[Motion]
    characters: list[Character]
    example_pick: gr.Dataset | None
    motion_pick: gr.Dropdown
    use_motion: gr.Button
    character_pick: gr.Dropdown
    use_character: gr.Button


def _load() -> tuple[list[Example], list[Motion], list[Character], str]:
    try:
        return load_examples(), load_library(), load_characters(), ""
    except AssetsMissing as exc:
        return [], [], [], visitor_text(f"Examples are not available: {exc}")  # (it names a server path)


def build_examples_tab() -> ExamplesUI:
    examples, motions, characters, problem = _load()
    gr.Markdown(t("examples_intro"))
    if problem:
        gr.Markdown(f"⚠️ {problem}")
    pick = None
    if examples:
        pick = gr.Dataset(
            components=[gr.Image(visible=False), gr.Textbox(visible=False), gr.Textbox(visible=False)],
            samples=[[str(e.character.path), e.title, f"PCK {e.pck:.0%} · {e.orientation}"] for e in examples],
            headers=["Character", "Example", "Result"],
            label=t("examples_pick"),
            type="index",
            elem_id="kmc-examples",
        )
    gr.Markdown(t("library_title"))
    rows = [
        [
            m.title,
            f"{m.duration:.1f} s",
            m.framing.replace("_", " "),
            m.people,
            m.speed,
            f"{m.recommended_orientation} ({m.orientation_why})",
            m.shows,
        ]
        for m in motions
    ]
    gr.Dataframe(
        value=rows,
        headers=["Motion", "Length", "Framing", "People", "Speed", "Suits orientation", "What it shows"],
        interactive=False,
        wrap=True,
        elem_id="kmc-library",
    )
    with gr.Row():
        motion_pick = gr.Dropdown(
            [(m.title, m.id) for m in motions], label=t("library_motion"), elem_id="kmc-library-pick"
        )
        use_motion = gr.Button(t("use_motion"), elem_id="kmc-library-use")
        character_pick = gr.Dropdown(
            [(c.title, c.id) for c in characters], label=t("example_character"), elem_id="kmc-character-pick"
        )
        use_character = gr.Button(t("use_character"), elem_id="kmc-character-use")
    return ExamplesUI(examples, motions, characters, pick, motion_pick, use_motion, character_pick, use_character)


def wire_examples(
    ui: ExamplesUI,
    *,
    tabs: gr.Tabs,
    image: gr.Image,
    video: gr.Video,
    orientation: gr.Radio,
    tier: gr.Radio,
    keep_sound: gr.Checkbox,
    player: gr.HTML,
    status: gr.Markdown,
    report_md: gr.Markdown,
    report_plot: gr.Image,
) -> None:
    if ui.example_pick is not None:

        def open_example(index: int, request: gr.Request) -> tuple[Any, ...]:
            lang = lang_of(request)
            e = ui.examples[index]
            report = json.loads(e.report_path.read_text("utf-8")) if e.report_path.is_file() else {}
            value = player_value(
                e.motion.path,
                e.result,
                offset=float(report.get("offset_s", 0.0)),
                description=pick(
                    lang,
                    f"Example '{e.title}': a pre-rendered offline-engine result (no credits were spent).",
                    f"示例“{e.title}”：由离线引擎预先渲染的结果（没有消耗积分）。",
                ),
                labels=(
                    pick(lang, "Reference", "参考视频"),
                    pick(lang, "Result · pre-rendered example (offline engine)", "结果 · 预先渲染的示例（离线引擎）"),
                ),
                lang=lang,
            )
            summary = report_summary(e.report(), lang) if report else ""
            status = pick(
                lang,
                f"✅ **Example**: {e.title}. Pre-rendered, shown at once; press Generate to render it yourself.",
                f"✅ **示例**：{e.title}。预先渲染，立即显示；点击“生成”即可自己渲染。",
            )
            return (
                str(e.character.path),
                str(e.motion.path),
                e.orientation,
                e.tier,
                e.keep_sound,
                value,
                status,
                summary,
                plot_update(str(e.plot) if e.plot.is_file() else None, lang),
                gr.Tabs(selected="studio"),
            )

        ui.example_pick.click(
            open_example,
            ui.example_pick,
            [image, video, orientation, tier, keep_sound, player, status, report_md, report_plot, tabs],
            api_visibility="private",
        )

    def use_motion(motion_id: str | None) -> tuple[Any, Any, Any, Any]:
        m = next((m for m in ui.motions if m.id == motion_id), None)
        if m is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        # A silent clip has no sound to keep: "Keep the video's original sound" goes off with it.
        sound = gr.skip() if m.has_audio else False
        return str(m.path), m.recommended_orientation, sound, gr.Tabs(selected="studio")

    ui.use_motion.click(use_motion, ui.motion_pick, [video, orientation, keep_sound, tabs], api_visibility="private")

    def use_character(character_id: str | None) -> tuple[Any, Any]:
        c = next((c for c in ui.characters if c.id == character_id), None)
        return (str(c.path), gr.Tabs(selected="studio")) if c else (gr.skip(), gr.skip())

    ui.use_character.click(use_character, ui.character_pick, [image, tabs], api_visibility="private")

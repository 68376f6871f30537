"""build_demo(studio) -> gr.Blocks: the page, its tabs, and each tab built and wired by its own module.

Widgets and wiring only; decisions live in kmc_ui.studio (kmc_ui/verdict.py). The Studio tab is
kmc_ui/ui/studio_tab.py, whose handlers tests call directly.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import gradio as gr
from gradio.utils import get_space

from kmc_ui.studio import Studio
from kmc_ui.ui.batch_tab import build_batch_tab, wire_batch
from kmc_ui.ui.examples_tab import build_examples_tab, wire_examples
from kmc_ui.ui.history_tab import build_history_tab, wire_history
from kmc_ui.ui.i18n import t
from kmc_ui.ui.identity_lock import wire_identity_lock
from kmc_ui.ui.owner_tab import build_owner_tab, wire_owner
from kmc_ui.ui.studio_tab import StudioHandlers, build_studio_tab, wire_studio

log = logging.getLogger(__name__)


OAUTH_SETTINGS = ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "OAUTH_SCOPES", "OPENID_PROVIDER_URL")


def sign_in_available() -> bool:
    """Hugging Face sign-in can be offered: a Space with `hf_oauth: true` (which sets the OAuth settings).
    Anywhere else Gradio's sign-in would stop the app from starting, so it is left out, with a warning."""
    if get_space() and all(os.environ.get(name) for name in OAUTH_SETTINGS):
        return True
    log.warning(
        "KMC_REQUIRE_LOGIN is set but Hugging Face sign-in is unavailable (a Space with hf_oauth: true "
        "in its README metadata): runs on the owner's keys are refused until it is"
    )
    return False


def build_demo(studio: Studio) -> gr.Blocks:
    handlers = StudioHandlers(studio)
    with gr.Blocks(title="kmc · Kling Motion Control Studio") as demo:
        gr.Markdown(t("title"))
        if studio.settings.require_login and sign_in_available():
            # Hugging Face sign-in (a Space with `hf_oauth: true`); off a Space nobody can sign in,
            # so runs on the owner's keys are refused with SIGN_IN_FIRST (kmc_ui/studio.py).
            gr.LoginButton()
        gr.Markdown(t("intro"))
        with gr.Tabs() as tabs:
            with gr.Tab(t("tab_studio"), id="studio"):
                ui = build_studio_tab(studio)
            with gr.Tab(t("tab_history"), id="history"):
                history_ui = build_history_tab(studio)
            with gr.Tab(t("tab_batch"), id="batch"):
                batch_ui = build_batch_tab()
            with gr.Tab(t("tab_examples"), id="examples"):
                examples_ui = build_examples_tab()
            owner_ui = None
            if studio.settings.admin_password or studio.settings.admin_users:  # only where an owner is set
                # With a password anyone may try it; with owners' names only, the tab shows to them alone.
                with gr.Tab(t("tab_owner"), id="owner", visible=bool(studio.settings.admin_password)) as owner_tab:
                    owner_ui = build_owner_tab()

        gen_event = wire_studio(demo, ui, handlers)
        wire_examples(
            examples_ui,
            tabs=tabs,
            image=ui.image,
            video=ui.video,
            orientation=ui.orientation,
            tier=ui.tier,
            keep_sound=ui.keep_sound,
            player=ui.player,
            status=ui.status,
            report_md=ui.report_md,
            report_plot=ui.report_plot,
        )
        if owner_ui is not None:
            wire_owner(studio, owner_ui)

            def reveal(profile: gr.OAuthProfile | None) -> Any:
                named = profile is not None and studio.is_owner("", profile.username)
                return gr.Tab(visible=True) if named else gr.skip()

            demo.load(reveal, None, owner_tab, api_visibility="private")
        wire_identity_lock(studio, ui.lock, ui.orientation, ui.model, ui.backend)
        settings_inputs = [ui.prompt, ui.orientation, ui.tier, ui.keep_sound, ui.model, ui.backend]
        wire_batch(studio, batch_ui, settings_inputs=settings_inputs)
        wire_history(studio, history_ui, tabs=tabs, studio_inputs=ui.inputs, after_run=gen_event)
    return demo

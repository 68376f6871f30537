"""Build the studio from settings and serve it (Gradio + the media route providers fetch from)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from kmc_ui.backends.base import Backend
from kmc_ui.backends.registry import build_backends
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings, load_settings
from kmc_ui.studio import Studio

if TYPE_CHECKING:  # Gradio is imported only when a page is built: the CLI stays quick to start
    import gradio as gr

log = logging.getLogger("kmc")


def make_backends(settings: Settings, media_host: MediaHost | None = None) -> dict[str, Backend]:
    """Every backend, local first (the offline default), each saying whether it is ready."""
    return build_backends(settings, media_host)


def make_media_host(settings: Settings) -> MediaHost:
    return MediaHost.from_settings(settings, [settings.data_dir])


def build(settings: Settings | None = None) -> tuple[gr.Blocks, Studio, MediaHost]:
    from kmc_ui.ui.blocks import build_demo

    settings = settings or load_settings()
    host = make_media_host(settings)
    studio = Studio(settings, make_backends(settings, host), media_host=host)
    return build_demo(studio), studio, host


def launch(settings: Settings | None = None, *, block: bool = True, **kwargs: object) -> gr.Blocks:
    from kmc_ui.ui.render import CSS

    settings = settings or load_settings()
    demo, _studio, host = build(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    demo.queue(default_concurrency_limit=4)
    kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME") or None)
    demo.launch(
        prevent_thread_lock=True,
        allowed_paths=[str(settings.data_dir.resolve())],
        css=CSS,
        run_history=False,  # Gradio's own run log would keep users' photos: off
        footer_links=["api", "gradio", "settings"],
        **kwargs,  # type: ignore[arg-type]
    )
    add_media_routes(demo.app, host)  # type: ignore[arg-type]
    if block:
        demo.block_thread()
    return demo

"""Build the studio from settings and serve it (Gradio + the media route providers fetch from)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware

from kmc_ui import cleanup
from kmc_ui.backends.base import Backend
from kmc_ui.backends.registry import build_backends
from kmc_ui.identity import VisitorMiddleware
from kmc_ui.jobs import PollPolicy
from kmc_ui.limits import LIMITS
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings, load_settings
from kmc_ui.studio import Studio
from kmc_ui.webhooks import add_callback_routes

if TYPE_CHECKING:  # Gradio is imported only when a page is built: the CLI stays quick to start
    import gradio as gr

log = logging.getLogger("kmc")

# Events of one kind (one /generate, one /check, ...) running at once; more wait in Gradio's queue.
# Each generate prepares its files on this machine (2 CPU cores on a basic Space) and holds a
# provider task slot, which providers also limit per account.
QUEUE_CONCURRENCY = 4
# The largest upload accepted, before preparation. The providers' largest input is the 100 MB
# video (images: 10 MB); preparation transcodes an over-large video down to that, so a phone clip
# a few times bigger is still usable. 3x is also the cap on a video fetched from a pasted URL
# (kmc_ui/ui/blocks.py). Anything bigger is refused by Gradio before it is written to disk.
MAX_UPLOAD_BYTES = 3 * LIMITS.video_max_bytes


def make_backends(settings: Settings, media_host: MediaHost | None = None) -> dict[str, Backend]:
    """Every backend, local first (the offline default), each saying whether it is ready."""
    return build_backends(settings, media_host)


ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"


def make_media_host(settings: Settings) -> MediaHost:
    return MediaHost.from_settings(settings, [settings.data_dir])


def file_access(data_dir: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """(allowed_paths, blocked_paths) for Gradio's file route.

    Allowed: only the project's own examples (pre-rendered results, Motion Library). Blocked: the
    whole data folder (records, run folders, prepared files, downloads, the server secret, caches),
    which also stops a handler from handing out a path from it by mistake. What the page is shown
    of a run reaches it as a copy in Gradio's cache, named by its content's hash
    (kmc_ui/ui/access.py): no URL names a visitor, a run or a server path.
    """
    return [str(ASSETS_DIR)], [str(Path(data_dir).resolve())]


def build(settings: Settings | None = None, poll: PollPolicy | None = None) -> tuple[gr.Blocks, Studio, MediaHost]:
    """The Blocks, the Studio behind it and the media host. `poll`: how often running tasks are
    checked (default PollPolicy(); load tests and benchmarks pass a faster one)."""
    from kmc_ui.ui.blocks import build_demo

    settings = settings or load_settings()
    host = make_media_host(settings)
    studio = Studio(settings, make_backends(settings, host), media_host=host, poll=poll)
    return build_demo(studio), studio, host


def launch(
    settings: Settings | None = None, *, block: bool = True, poll: PollPolicy | None = None, **kwargs: Any
) -> gr.Blocks:
    """Build and serve the app. Binds where Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say
    (a Space sets 0.0.0.0:7860); `kwargs` go to gr.Blocks.launch and win over the defaults here."""
    from kmc_ui.ui.i18n import I18N
    from kmc_ui.ui.render import CSS

    settings = settings or load_settings()
    demo, studio, host = build(settings, poll=poll)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)
    allowed, blocked = file_access(settings.data_dir)
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    # Temporary files, ours and Gradio's (uploads, copies it serves), older than 6 h are deleted at
    # start and every hour (kmc_ui/cleanup.py says why this replaces Gradio's delete_cache).
    # Every request gets a signed visitor cookie before Gradio sees it (kmc_ui/identity.py).
    app_kwargs.setdefault("middleware", [Middleware(VisitorMiddleware, identity=studio.identity)])
    app_kwargs.setdefault(
        "lifespan", cleanup.lifespan(settings.data_dir, demo.GRADIO_CACHE, max_age=cleanup.MAX_AGE, every=cleanup.EVERY)
    )
    kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME") or None)
    # Read at launch, not at import: Gradio reads GRADIO_SERVER_PORT once, when it is first imported.
    port = os.environ.get("GRADIO_SERVER_PORT", "").strip()
    kwargs.setdefault("server_port", int(port) if port.isdigit() else None)
    kwargs.setdefault("max_file_size", MAX_UPLOAD_BYTES)
    kwargs.setdefault("allowed_paths", allowed)
    kwargs.setdefault("blocked_paths", blocked)
    demo.launch(
        prevent_thread_lock=True,
        css=CSS,
        i18n=I18N,
        run_history=False,  # Gradio's own run log would keep users' photos: off
        footer_links=["api", "gradio", "settings"],
        app_kwargs=app_kwargs,
        **kwargs,
    )
    add_media_routes(demo.app, host)  # type: ignore[arg-type]
    add_callback_routes(demo.app, studio)  # Kling's signed callbacks (KLING_WEBHOOK_SECRET; kmc_ui/webhooks.py)
    if settings.workers:  # unfinished runs continue by themselves (kmc_ui/worker.py)
        studio.start_workers()
    studio.warm_up()  # the models loaded in the background before the first visitor needs them
    if block:
        demo.block_thread()
    return demo

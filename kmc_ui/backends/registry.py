"""Every backend the app offers, built from settings. Adding a provider is one line here."""

from __future__ import annotations

from collections.abc import Callable

from kmc_ui.backends.base import Backend
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.media.hosting import MediaHost
from kmc_ui.settings import Settings

# name -> factory(settings, media_host). Order is the selector's order.
FACTORIES: dict[str, Callable[[Settings, MediaHost | None], Backend]] = {
    "kling": lambda settings, host: KlingLegacyBackend(settings, host),
}


def build_backends(settings: Settings, media_host: MediaHost | None) -> dict[str, Backend]:
    """All known backends, configured or not: each one's ready() says what it still needs."""
    return {name: factory(settings, media_host) for name, factory in FACTORIES.items()}

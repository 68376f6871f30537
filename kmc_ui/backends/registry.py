"""Every backend the app offers, built from settings and the provider rows (kmc_ui/providers.py).

Keys come from settings (.env / environment) or, for a public Space, from a per-session key box:
`build_backends(settings, host, overrides={"fal_key": typed})` builds backends that hold the typed
key in memory only (the settings object and the environment are not touched), so the UI can
make one per session and drop it after the run. Only the key fields in KEY_FIELDS may be
overridden: hosts stay what the operator configured.

Typed keys are stripped of surrounding whitespace here; a key that still cannot be one (a
character outside printable ASCII, absurd length: kmc_ui.settings.key_problem) makes the built
backend's ready() False with a reason naming the field, so a run ends with that reason instead
of an exception deep in the HTTP client. Keys from the environment get the same check.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import replace

from kmc_ui.backends.base import Backend
from kmc_ui.media.hosting import MediaHost
from kmc_ui.providers import KEY_ENV_NAMES, PROVIDERS, ProviderSpec
from kmc_ui.settings import Settings


def _factory(row: ProviderSpec) -> Callable[[Settings, MediaHost | None], Backend]:
    module, _, name = row.backend.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


# name -> factory(settings, media_host), from the provider rows (kmc_ui/providers.py). Order is the
# selector's order.
FACTORIES: dict[str, Callable[[Settings, MediaHost | None], Backend]] = {
    name: _factory(row) for name, row in PROVIDERS.items()
}
# name -> the Settings fields holding its keys (what a per-session key box may fill in).
KEY_FIELDS: dict[str, tuple[str, ...]] = {name: tuple(row.keys) for name, row in PROVIDERS.items() if row.keys}
__all__ = ["FACTORIES", "KEY_ENV_NAMES", "KEY_FIELDS", "build_backend", "build_backends", "with_keys"]


def with_keys(settings: Settings, overrides: Mapping[str, str] | None) -> Settings:
    """A copy of settings with the non-empty per-session keys filled in. Other fields are refused."""
    if not overrides:
        return settings
    allowed = set(KEY_ENV_NAMES)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"only key fields can be overridden per session, not {', '.join(unknown)}")
    keys = {name: value.strip() for name, value in overrides.items() if value and value.strip()}
    return replace(settings, **keys) if keys else settings


def build_backend(
    name: str, settings: Settings, media_host: MediaHost | None, overrides: Mapping[str, str] | None = None
) -> Backend:
    """One backend, with optional per-session keys (never stored beyond the returned object)."""
    return FACTORIES[name](with_keys(settings, overrides), media_host)


def build_backends(
    settings: Settings, media_host: MediaHost | None, overrides: Mapping[str, str] | None = None
) -> dict[str, Backend]:
    """All known backends, configured or not: each one's ready() says what it still needs."""
    effective = with_keys(settings, overrides)
    return {name: factory(effective, media_host) for name, factory in FACTORIES.items()}

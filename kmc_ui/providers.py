"""One row per provider: everything the app knows about it, as data.

A row names the provider's backend class, its keys (Settings field -> environment variable) and which
complete sets of them configure it, its base-URL setting, its prices, its status vocabulary mapped onto
ours, how many tasks one account may run at once, its model ids and what it supports. Settings, the
registry, the UI's key boxes, the cost estimate, a batch's concurrency and the contract tests all read
these rows: adding a provider is a row here, its backend file, and its settings fields.

Sources: ../shared/kling-motion-control-facts.md (the providers' documentation, late 2026).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kmc_ui.backends.base import Status


@dataclass(frozen=True)
class Price:
    usd_per_second: float
    units_per_second: float | None = None  # official resource-pack units; None elsewhere


@dataclass(frozen=True)
class Supports:
    cancel: bool = False  # the provider can stop a task it accepted
    lookup_by_our_id: bool = False  # a task can be found by our external id (a lost create is safe)
    elements: bool = False  # Kling identity Elements can be bound to a run (kmc_ui/elements.py)
    watermark: bool = False  # a watermarked copy can be asked for
    callbacks: bool = False  # signed status callbacks (kmc_ui/webhooks.py)
    files_by_url_only: bool = False  # the reference video must be a public URL


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # registry key
    label: str  # shown in the backend selector
    backend: str  # "module:Class" of its Backend
    keys: Mapping[str, str] = field(default_factory=dict)  # Settings field -> environment variable
    key_sets: tuple[tuple[str, ...], ...] = ()  # any complete set of these fields configures it
    base_field: str = ""  # Settings field holding its API base URL
    base_env: str = ""
    base_default: str = ""
    prices: Mapping[str, Mapping[str, Price | None]] = field(default_factory=dict)  # model -> tier -> price
    statuses: Mapping[str, Status] = field(default_factory=dict)  # provider status -> ours
    concurrency: int = 1  # tasks one account runs at once: a batch never submits more
    model_ids: Mapping[str, str] = field(default_factory=dict)  # "v2.6" or "v2.6/std" -> the provider's id
    supports: Supports = Supports()
    rounds_billed_seconds: bool = False  # bills output seconds rounded to the nearest whole second

    def model_id(self, model: str, tier: str = "") -> str:
        """The provider's id for a model (and tier, where the tier is part of the id)."""
        return self.model_ids.get(f"{model}/{tier}") or self.model_ids[model]


def _frozen(value: dict[str, object]) -> Mapping[str, object]:
    return MappingProxyType(value)


KLING_PRICES = {
    "v2.6": {"std": Price(0.07, 0.5), "pro": Price(0.112, 0.8)},
    "v3": {"std": Price(0.126, 0.9), "pro": Price(0.168, 1.2)},
}
KLING_BASE = ("kling_api_base", "KLING_API_BASE", "https://api-singapore.klingai.com")

ROWS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        name="local",
        label="Offline engine (CPU, preview quality)",
        backend="kmc_ui.backends.local:LocalBackend",
        key_sets=((),),
        prices={m: {"std": Price(0.0), "pro": Price(0.0)} for m in ("v2.6", "v3")},
        concurrency=1,  # the offline engine runs on this machine's CPU: one render at a time
        supports=Supports(cancel=True),
    ),
    ProviderSpec(
        name="kling",
        label="Kling official API (legacy design)",
        backend="kmc_ui.backends.kling:KlingLegacyBackend",
        keys={
            "kling_access_key": "KLING_ACCESS_KEY",
            "kling_secret_key": "KLING_SECRET_KEY",
            "kling_api_key": "KLING_API_KEY",
        },
        key_sets=(("kling_access_key", "kling_secret_key"), ("kling_api_key",)),  # AK/SK, or an API key (A3)
        base_field=KLING_BASE[0],
        base_env=KLING_BASE[1],
        base_default=KLING_BASE[2],
        prices=KLING_PRICES,
        statuses={"submitted": "queued", "processing": "running", "succeed": "succeeded", "failed": "failed"},
        # Concurrency is per account (resource pack); over it a create is refused with 1303. The number is
        # not published (1 for trial accounts, 3-5 for paid packs in third-party summaries): 1 is what every
        # account has, so a batch never pays retries or fails on 1303.
        concurrency=1,
        model_ids={"v2.6": "kling-v2-6", "v3": "kling-v3"},
        # The Element API works here, but the legacy request's field to bind one is not documented (A1).
        supports=Supports(lookup_by_our_id=True, watermark=True, callbacks=True, files_by_url_only=True),
        rounds_billed_seconds=True,
    ),
    ProviderSpec(
        name="kling2",
        label="Kling official API 2.0 (API key)",
        backend="kmc_ui.backends.kling2:Kling2Backend",
        keys={"kling_api_key": "KLING_API_KEY"},
        key_sets=(("kling_api_key",),),
        base_field=KLING_BASE[0],
        base_env=KLING_BASE[1],
        base_default=KLING_BASE[2],
        prices=KLING_PRICES,
        statuses={"submitted": "queued", "processing": "running", "succeeded": "succeeded", "failed": "failed"},
        concurrency=1,  # the same accounts and the same rule as the legacy design
        model_ids={"v2.6": "/motion-control/kling-2.6", "v3": "/motion-control/kling-3.0"},  # the create paths
        supports=Supports(lookup_by_our_id=True, elements=True, watermark=True, callbacks=True, files_by_url_only=True),
        rounds_billed_seconds=True,
    ),
    ProviderSpec(
        name="fal",
        label="fal.ai",
        backend="kmc_ui.backends.fal:FalBackend",
        keys={"fal_key": "FAL_KEY"},
        key_sets=(("fal_key",),),
        base_field="fal_queue_base",
        base_env="FAL_QUEUE_BASE",
        base_default="https://queue.fal.run",
        prices={"v2.6": {"std": Price(0.070), "pro": Price(0.112)}, "v3": {"std": Price(0.126), "pro": Price(0.168)}},
        statuses={"IN_QUEUE": "queued", "IN_PROGRESS": "running", "COMPLETED": "succeeded"},
        # fal FAQ: new accounts start at 2 concurrent requests (up to 40 as credits are bought); more are
        # queued by fal, never refused, so 2 only keeps our own queue readable.
        concurrency=2,
        model_ids={
            "v2.6/std": "fal-ai/kling-video/v2.6/standard/motion-control",
            "v2.6/pro": "fal-ai/kling-video/v2.6/pro/motion-control",
            "v3/std": "fal-ai/kling-video/v3/standard/motion-control",
            "v3/pro": "fal-ai/kling-video/v3/pro/motion-control",
        },
        supports=Supports(cancel=True),
    ),
    ProviderSpec(
        name="replicate",
        label="Replicate",
        backend="kmc_ui.backends.replicate:ReplicateBackend",
        keys={"replicate_api_token": "REPLICATE_API_TOKEN"},
        key_sets=(("replicate_api_token",),),
        base_field="replicate_api_base",
        base_env="REPLICATE_API_BASE",
        base_default="https://api.replicate.com",
        # Replicate's per-second price is not published by Replicate in our facts file: shown as unknown.
        prices={m: {"std": None, "pro": None} for m in ("v2.6", "v3")},
        statuses={
            "starting": "queued",
            "processing": "running",
            "succeeded": "succeeded",
            "failed": "failed",
            "canceled": "canceled",
        },
        # Replicate publishes a rate (600 creates a minute; 6 without a payment method), no concurrency
        # limit: 2 is our own choice, not the provider's.
        concurrency=2,
        model_ids={"v2.6": "kwaivgi/kling-v2.6-motion-control", "v3": "kwaivgi/kling-v3-motion-control"},
        supports=Supports(cancel=True),
    ),
)

PROVIDERS: Mapping[str, ProviderSpec] = _frozen({row.name: row for row in ROWS})  # type: ignore[assignment]
ALL_BACKENDS: tuple[str, ...] = tuple(PROVIDERS)
HOSTED_BACKENDS: tuple[str, ...] = tuple(name for name, row in PROVIDERS.items() if row.keys)
# Settings field holding a key -> its environment variable, over every provider (a key shared by two
# providers, KLING_API_KEY, appears once).
KEY_ENV_NAMES: Mapping[str, str] = _frozen({f: env for row in ROWS for f, env in row.keys.items()})  # type: ignore[assignment]

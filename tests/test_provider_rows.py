"""The provider rows (kmc_ui/providers.py) are what settings, the registry, the cost, the UI's key boxes and
batches read: each row agrees with its backend, its settings and its fake, and nothing else names a
provider's keys, prices or statuses."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from kmc_ui.backends.base import Backend, FindsTasks, Status
from kmc_ui.backends.registry import FACTORIES, KEY_FIELDS, build_backends
from kmc_ui.cost import estimate
from kmc_ui.limits import CONCURRENCY, ELEMENTS, MODELS, PRICES, STATUS_MAP, TIERS
from kmc_ui.providers import ALL_BACKENDS, HOSTED_BACKENDS, KEY_ENV_NAMES, PROVIDERS, ROWS
from kmc_ui.settings import Settings, load_settings
from kmc_ui.webhooks import CALLBACK_BACKENDS
from tests.fakes.providers import NAMES as FAKE_NAMES

pytest_plugins = ["tests.fakes.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
OURS = set(typing.get_args(Status))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_each_row_agrees_with_its_backend(row, tmp_path: Path) -> None:
    backend = FACTORIES[row.name](Settings(data_dir=tmp_path), None)
    assert isinstance(backend, Backend)  # the protocol's methods and attributes, poll_policy and close included
    assert (backend.name, backend.label) == (row.name, row.label)
    assert set(row.statuses.values()) <= OURS
    assert STATUS_MAP.get(row.name, {}) == row.statuses
    assert set(PRICES[row.name]) == set(MODELS) and all(set(PRICES[row.name][m]) == set(TIERS) for m in MODELS)
    assert CONCURRENCY[row.name] == row.concurrency >= 1
    for model in MODELS:
        for tier in TIERS:
            assert row.name == "local" or row.model_id(model, tier)
            est = estimate(row.name, model, tier, 5.0)
            price = row.prices[model][tier]
            assert (est.usd is None) == (price is None)
    assert isinstance(backend, FindsTasks) == row.supports.lookup_by_our_id
    assert getattr(backend, "supports_elements", False) == row.supports.elements == (row.name in ELEMENTS.backends)
    assert (row.name in CALLBACK_BACKENDS) == row.supports.callbacks
    assert backend.video_transport("https://example.com/clip.mp4").ok
    backend.close()


def test_settings_keys_and_bases_come_from_the_rows(tmp_path: Path) -> None:
    fields = set(Settings.__dataclass_fields__)
    for row in ROWS:
        assert set(row.keys) <= fields and (not row.base_field or row.base_field in fields)
        if row.base_field:
            assert getattr(Settings(), row.base_field) == row.base_default
    env = {env: f"value-of-{env.lower()}" for env in KEY_ENV_NAMES.values()}
    env |= {row.base_env: f"https://{row.name}.example/" for row in ROWS if row.base_env}
    settings = load_settings(env_file=None, environ=env)
    for field, name in KEY_ENV_NAMES.items():
        assert getattr(settings, field) == env[name]
        assert env[name] in settings.secrets()
    for row in ROWS:
        if row.base_field:
            assert getattr(settings, row.base_field) == env[row.base_env].rstrip("/")
    # A provider is configured by any complete key set of its row: an API key alone drives both Kling designs.
    only_api_key = load_settings(env_file=None, environ={"KLING_API_KEY": "k-123456789"}).configured()
    assert only_api_key == {"local": True, "kling": True, "kling2": True, "fal": False, "replicate": False}
    half = load_settings(env_file=None, environ={"KLING_ACCESS_KEY": "ak-123456789"}).configured()
    assert half["kling"] is False
    assert tuple(FACTORIES) == ALL_BACKENDS and HOSTED_BACKENDS == tuple(KEY_FIELDS) == FAKE_NAMES
    assert list(build_backends(Settings(data_dir=tmp_path), None)) == list(PROVIDERS)


def test_nothing_else_names_a_providers_keys(tmp_path: Path) -> None:
    """The key boxes on the page, /generate's key parameters and the registry's key fields are the rows'."""
    from kmc_ui.server import build

    demo, _studio, _host = build(Settings(data_dir=tmp_path))
    boxes = [
        c["props"]["elem_id"]
        for c in demo.config["components"]
        if str(c["props"].get("elem_id", "")).startswith("kmc-key-")
    ]
    assert boxes == [f"kmc-key-{field}" for field in KEY_ENV_NAMES]
    (generate,) = [d for d in demo.config["dependencies"] if d.get("api_name") == "generate"]
    ids = {c["id"]: c["props"].get("elem_id") for c in demo.config["components"]}
    assert [ids[i] for i in generate["inputs"] if str(ids[i]).startswith("kmc-key-")] == boxes
    # Only a provider's row and its own backend file (its messages) name its keys.
    files = [p for p in (ROOT / "kmc_ui").rglob("*.py") if p.name != "providers.py" and p.parent.name != "backends"]
    production = "\n".join(p.read_text() for p in files)
    for env in KEY_ENV_NAMES.values():
        assert f'"{env}"' not in production, f"{env} is named outside its row and its backend"


def test_a_visitors_own_key_backend_is_closed_when_its_run_ends(
    kling2_server, media_server, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    """Per-session backends (a visitor's pasted key) hold an HTTP client: closed after a note, and after
    the run they drove."""
    import time

    from kmc_ui.studio import Inputs, Studio
    from tests.fakes.kling import Scenario

    kling2_server.reset()
    kling2_server.scenario = Scenario(submitted_s=0.1, processing_s=0.2)
    settings = Settings(
        kling_api_base=kling2_server.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=tmp_path / "data",
    )
    studio = Studio(settings, build_backends(settings, media_server.host), media_host=media_server.host)
    keys = {"kling_api_key": kling2_server.api_key}
    with studio.session_backend("kling2", keys) as noted:
        assert noted is not None and noted is not studio.backends["kling2"] and noted.ready()[0]
    assert noted.client.is_closed
    with studio.session_backend("kling2", None) as shared:
        assert shared is studio.backends["kling2"]
    assert not shared.client.is_closed  # the configured backend is the process's: never closed here
    own = studio.backend_for("kling2", keys)
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling2")
    last = list(studio.generate(inputs, "ann", backend=own))[-1]
    assert last.stage == "done", last.text
    deadline = time.monotonic() + 10
    while not own.client.is_closed and time.monotonic() < deadline:  # the worker closes it as it lets go
        time.sleep(0.05)
    assert own.client.is_closed
    kling2_server.reset()

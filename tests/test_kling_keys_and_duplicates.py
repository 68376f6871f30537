"""Kling's late-2026 answers (facts addendum A3, A5) against the loopback fakes: an API key alone drives
the legacy design, and a create refused with 1201 "External_task_id ... already exists" means the
run's task exists: it is looked up by our id and used, never created (or paid for) twice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.backends.base import AuthError, InvalidRequest, JobRequest
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.registry import build_backends
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.fakes.kling import FakeKling
from tests.fakes.providers import Kit

pytest_plugins = ["tests.fakes.fixtures"]


def test_an_api_key_alone_drives_the_legacy_design(
    quick_kling: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    settings = Settings(
        kling_api_key=quick_kling.legacy_api_key,
        kling_api_base=quick_kling.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=tmp_path / "data",
    )
    assert settings.configured()["kling"] and settings.configured()["kling2"]
    studio = Studio(settings, build_backends(settings, media_server.host))
    assert studio.backends["kling"].ready() == (True, "")
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    last = list(studio.generate(inputs, "ivy"))[-1]
    assert last.stage == "done", last.text
    calls = quick_kling.requests_at("create") + quick_kling.requests_at("poll")
    assert calls and all(r.extra.get("api_key") and "jwt_claims" not in r.extra for r in calls)
    assert quick_kling.legacy_api_key not in str(studio.history.get("ivy", last.run_id))
    # A wrong key is Kling's 1002, said plainly and without the key.
    wrong = KlingLegacyBackend(replace(settings, kling_api_key="kling-key-wrong"), media_server.host)
    with pytest.raises(AuthError) as refused:
        wrong.poll("860000000000007919")
    assert refused.value.code == 1002 and "kling-key-wrong" not in refused.value.user_text()
    # Neither AK/SK nor an API key: the fix names both.
    ok, why = KlingLegacyBackend(replace(settings, kling_api_key=""), media_server.host).ready()
    assert not ok and "KLING_API_KEY" in why and "KLING_ACCESS_KEY" in why


@pytest.mark.parametrize("kit", ["kling", "kling2"], indirect=True)
def test_a_duplicate_external_id_finds_the_task_instead_of_failing(
    kit: Kit, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    kit.scenario(submitted_s=0.1, processing_s=0.2)
    backend = kit.backend(kit.settings(media_server.url, tmp_path / "data"), media_server.host)
    request = JobRequest(character_image, reference_video, run_id="run-lost-answer-1")
    first = backend.submit(request)  # reached the provider; its answer was lost on the way back
    again = backend.submit(request)  # the retry: 1201 "External_task_id ... already exists"
    assert again == first
    assert kit.create_count == 2 and kit.task_count == 1  # two creates sent, one task, paid once
    assert kit.requests("poll") or kit.requests("list")  # the task was looked up by our id
    # Any other 1201 is still the request's own fault, reported as it is.
    with pytest.raises(InvalidRequest):
        backend.submit(JobRequest(character_image, reference_video, run_id="run-2", orientation="sideways"))
    backend.close()

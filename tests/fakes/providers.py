"""One kit per hosted provider, so a single parametrized suite can run against all four.

A kit knows how to configure settings for its fake, build the backend, set a scenario, and how
each abstract fault of the issue looks on that provider's wire: Kling's error codes, fal's
`{"detail": ...}` bodies (422 with a list), Replicate's problem bodies. The suite asserts the
same typed outcome for every provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kmc_ui.backends.base import Backend
from kmc_ui.backends.fal import FalBackend
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.kling2 import Kling2Backend
from kmc_ui.backends.replicate import ReplicateBackend
from kmc_ui.settings import Settings
from tests.fakes import fal as fal_fake
from tests.fakes import kling as kling_fake
from tests.fakes import replicate as replicate_fake
from tests.fakes.faults import Fault
from tests.fakes.kling import kling_error
from tests.fakes.server import FakeProvider, Recorded

NAMES = ("kling", "kling2", "fal", "replicate")
INVALID_MSG = "video_url is not valid"
MODERATION_MSG = "Failure to pass the risk control system"

KLING_FAULTS: dict[str, Fault | None] = {
    "rate_limit": kling_error(1302),
    "concurrency": kling_error(1303),
    "server_error": kling_error(5000),
    "maintenance": kling_error(5001),
    "backlog": kling_error(5002),
    "no_units": kling_error(1102),
    "no_access": kling_error(1103),
    "invalid": kling_error(1201, INVALID_MSG),
    "content": kling_error(1301),
    "auth": Fault.http(401, code=1000, message="signature invalid"),
}
FAL_FAULTS: dict[str, Fault | None] = {
    "rate_limit": Fault.http(429, message="Rate limit exceeded"),
    "concurrency": Fault.http(429, message="Concurrent request limit reached for this user"),
    "server_error": Fault.http(500, message="Internal Server Error"),
    "maintenance": Fault.http(503, message="Service Unavailable"),
    "backlog": Fault.http(504, message="Gateway Timeout"),
    "no_units": Fault.http(
        403, message="User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
    ),
    "no_access": Fault.http(403, message="Access denied"),
    "invalid": Fault.json(422, {"detail": [{"loc": ["body", "video_url"], "msg": INVALID_MSG, "type": "value_error"}]}),
    "content": Fault.json(
        422,
        {
            "detail": [
                {
                    "loc": ["body", "image_url"],
                    "msg": "The content could not be processed because it contained material flagged by a content "
                    "checker.",
                    "type": "content_policy_violation",
                }
            ]
        },
    ),
    "auth": Fault.http(401, message="Invalid authentication credentials"),
}
REPLICATE_FAULTS: dict[str, Fault | None] = {
    "rate_limit": Fault.http(429, message="Request was throttled. Expected available in 1 second."),
    "concurrency": Fault.http(429, message="You have reached the limit of concurrent predictions."),
    "server_error": Fault.http(500, message="Internal Server Error"),
    "maintenance": Fault.http(503, message="Service Unavailable"),
    "backlog": Fault.http(504, message="Gateway Timeout"),
    "no_units": Fault.http(
        402,
        message="You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing "
        "to purchase credit.",
    ),
    "no_access": Fault.http(403, message="You do not have permission to run this model."),
    "invalid": Fault.json(
        422,
        {
            "title": "Input validation failed",
            "detail": f"- input.video: {INVALID_MSG}",
            "status": 422,
            "invalid_fields": [{"type": "format", "field": "input.video", "description": INVALID_MSG}],
        },
    ),
    # Replicate reports refused content on the prediction (status failed, error E005), not on
    # create: the failed-task test covers it.
    "content": None,
    "auth": Fault.http(401, message="You did not pass a valid authentication token"),
}


@dataclass
class Kit:
    name: str
    fake: Any  # FakeKling | FakeKling2 | FakeFal | FakeReplicate
    scenario_cls: type
    backend_cls: type
    faults: dict[str, Fault | None]
    key_settings: Callable[[Any], dict[str, str]]
    base_setting: str
    can_cancel: bool
    finds_tasks: bool

    def settings(self, public_base_url: str, data_dir: Path, **kw: Any) -> Settings:
        values: dict[str, Any] = {
            "backend": self.name,
            self.base_setting: self.fake.base_url,
            "public_base_url": public_base_url,
            "allow_private_urls": True,
            "data_dir": data_dir,
            **self.key_settings(self.fake),
        }
        values.update(kw)
        return Settings(**values)

    def backend(self, settings: Settings, media_host: Any, client: httpx.Client | None = None) -> Backend:
        return self.backend_cls(settings, media_host, client)  # type: ignore[no-any-return]

    def scenario(self, **kw: Any) -> None:
        """Set the provider's task timeline/outcome; field names are shared by every fake."""
        if "queue_position" in kw and "queue_position" not in self.scenario_cls.__dataclass_fields__:
            kw.pop("queue_position")
        self.fake.scenario = self.scenario_cls(**kw)

    @property
    def create_count(self) -> int:
        return int(self.fake.create_count)

    def requests(self, point: str) -> list[Recorded]:
        return self.fake.requests_at(point)  # type: ignore[no-any-return]

    @property
    def task_count(self) -> int:
        return len(self.fake.tasks)

    def video_fetch(self) -> dict[str, Any]:
        """What the fake found when it fetched the reference video of its only task."""
        (task,) = self.fake.tasks.values()
        return dict(task.fetch)

    @property
    def secrets(self) -> list[str]:
        return [v for v in self.key_settings(self.fake).values() if v]


KITS: dict[str, Callable[[FakeProvider], Kit]] = {
    "kling": lambda fake: Kit(
        "kling",
        fake,
        kling_fake.Scenario,
        KlingLegacyBackend,
        KLING_FAULTS,
        lambda f: {"kling_access_key": f.access_key, "kling_secret_key": f.secret_key},
        "kling_api_base",
        can_cancel=False,
        finds_tasks=True,
    ),
    "kling2": lambda fake: Kit(
        "kling2",
        fake,
        kling_fake.Scenario,
        Kling2Backend,
        KLING_FAULTS,
        lambda f: {"kling_api_key": f.api_key},
        "kling_api_base",
        can_cancel=False,
        finds_tasks=True,
    ),
    "fal": lambda fake: Kit(
        "fal",
        fake,
        fal_fake.Scenario,
        FalBackend,
        FAL_FAULTS,
        lambda f: {"fal_key": f.key},
        "fal_queue_base",
        can_cancel=True,
        finds_tasks=False,
    ),
    "replicate": lambda fake: Kit(
        "replicate",
        fake,
        replicate_fake.Scenario,
        ReplicateBackend,
        REPLICATE_FAULTS,
        lambda f: {"replicate_api_token": f.token},
        "replicate_api_base",
        can_cancel=True,
        finds_tasks=False,
    ),
}

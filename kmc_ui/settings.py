"""Settings: one dataclass read from the environment and an optional .env file.

Names are fixed by ../shared/interfaces.md. `moviepy` calls load_dotenv on import by itself,
so settings are loaded explicitly here and never depend on import order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

from kmc_ui.messages import Msg, Said
from kmc_ui.providers import ALL_BACKENDS, HOSTED_BACKENDS, KEY_ENV_NAMES, PROVIDERS, ROWS

log = logging.getLogger(__name__)
T = TypeVar("T", int, float)

# The providers' keys and base URLs come from their rows (kmc_ui/providers.py); KEY_ENV_NAMES maps a
# Settings field holding a key to the environment variable it comes from (for labels and messages).
MAX_KEY_CHARS = 4096  # no provider key comes near this: a longer one is a wrong paste


def key_problem(env_name: str, value: str) -> str:
    """Why `value` (already stripped) cannot be the key named `env_name`, or "" when it can.

    A key is printable ASCII without spaces: anything else (a pasted "ключ", a curly quote, a
    zero-width space, a newline) could not even be put into an HTTP header. The text names the
    setting, a position or a length, and never the key or any of its characters.
    """
    if len(value) > MAX_KEY_CHARS:
        return Said(Msg("setup.key_too_long", {"env": env_name, "n": len(value), "m": MAX_KEY_CHARS}))
    bad = next((i for i, char in enumerate(value, 1) if not "!" <= char <= "~"), 0)
    if bad:
        return Said(Msg("setup.key_bad_char", {"env": env_name, "n": bad}))
    return ""


@dataclass(frozen=True)
class Settings:
    backend: str = "local"
    kling_access_key: str = field(default="", repr=False)
    kling_secret_key: str = field(default="", repr=False)
    kling_api_key: str = field(default="", repr=False)
    kling_api_base: str = "https://api-singapore.klingai.com"
    fal_key: str = field(default="", repr=False)
    fal_queue_base: str = "https://queue.fal.run"
    replicate_api_token: str = field(default="", repr=False)
    replicate_api_base: str = "https://api.replicate.com"
    public_base_url: str = ""
    kling_webhook_secret: str = field(default="", repr=False)  # whsec_...: signed callbacks (kmc_ui/webhooks.py)
    allow_private_urls: bool = False
    data_dir: Path = Path("data")
    database_url: str = field(default="", repr=False)  # the run store; "" = SQLite in data_dir (may hold a password)
    queue_url: str = field(default="", repr=False)  # the run queue; "" = SQLite in data_dir, else Redis (secret)
    workers: int = 8  # runs this process drives at once (in-process workers; 0: none, a web-only app)
    lease_seconds: float = 30.0  # a worker that stops renewing its hold on a run for this long lost it
    # The owner's money (kmc_ui/spend.py): caps per UTC day on runs that use the owner's keys; None: no cap.
    daily_budget_usd: float | None = None
    visitor_daily_usd: float | None = None
    visitor_daily_runs: int | None = None
    require_login: bool = False  # Hugging Face sign-in before generating (a Space's OAuth)
    admin_users: tuple[str, ...] = ()  # signed-in names that see the owner's tab
    admin_password: str = field(default="", repr=False)  # or this password opens it

    def configured(self) -> dict[str, bool]:
        """Which backends have what they need (keys are never returned, only a yes/no): any complete
        key set of a provider's row."""
        return {
            name: any(all(getattr(self, f) for f in keys) for keys in row.key_sets)
            for name, row in PROVIDERS.items()
        }

    def key_problems(self) -> dict[str, str]:
        """Environment variable name -> why its value cannot be a key (set keys only; see key_problem)."""
        problems = {env: key_problem(env, getattr(self, field)) for field, env in KEY_ENV_NAMES.items()}
        return {env: text for env, text in problems.items() if text}

    def secrets(self) -> list[str]:
        """Every secret value, for redaction."""
        values = [getattr(self, f) for f in KEY_ENV_NAMES]
        values += [self.admin_password, self.kling_webhook_secret]
        return [v for v in values if v]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _number(value: str, default: T, kind: Callable[[str], T], low: T, high: T) -> T:
    """A number setting within [low, high]; the default (with a warning) for anything else."""
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:  # type: ignore[operator]
        log.warning("ignoring the setting value %r: expected a number from %s to %s", value, low, high)
        return default
    return number


def _cap(value: str, kind: Callable[[str], T]) -> T | None:
    """A spending cap: unset is no cap; a number >= 0 (0 refuses every paid run). A value that is not
    a number refuses everything too (with a warning): a typo must not leave the owner's keys open."""
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number < 0:  # type: ignore[operator]
        log.warning("the spending cap %r is not a number >= 0: paid runs on the owner's keys are refused", value)
        return kind("0")
    return number


def space_url(values: Mapping[str, str]) -> str:
    """The app's own public URL when it runs as a Hugging Face Space, else "".

    Spaces set SPACE_ID (owner/name) and SPACE_HOST (e.g. owner-name.hf.space) in the
    environment. With no KMC_PUBLIC_BASE_URL, https://<SPACE_HOST> is where providers can
    fetch the prepared video from (the official Kling API takes the video only by URL). This
    only works for a public Space: a private Space's URL needs a login the providers do not
    have, so set KMC_PUBLIC_BASE_URL (or use fal's upload or a pasted URL) there.
    """
    host = (values.get("SPACE_HOST") or "").strip().strip("/")
    if not (values.get("SPACE_ID") or "").strip() or not host:
        return ""
    return host if host.startswith(("http://", "https://")) else f"https://{host}"


def load_settings(env_file: str | os.PathLike[str] | None = ".env", environ: dict[str, str] | None = None) -> Settings:
    """Environment variables win over the .env file; the .env file never changes os.environ."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return (values.get(name) or default).strip()

    base = Settings()
    keys = {f: get(env) for f, env in KEY_ENV_NAMES.items()}
    bases = {row.base_field: get(row.base_env, row.base_default).rstrip("/") for row in ROWS if row.base_field}
    settings = Settings(
        **keys,
        **bases,
        # unset on a Hugging Face Space: the Space's own https://<SPACE_HOST> (see space_url)
        public_base_url=(get("KMC_PUBLIC_BASE_URL") or space_url(values)).rstrip("/"),
        allow_private_urls=_truthy(get("KMC_ALLOW_PRIVATE_URLS")),
        kling_webhook_secret=get("KLING_WEBHOOK_SECRET"),
        data_dir=Path(get("KMC_DATA_DIR", "data")),
        database_url=get("KMC_DATABASE_URL"),
        queue_url=get("KMC_QUEUE_URL"),
        workers=_number(get("KMC_WORKERS"), base.workers, int, 0, 256),
        lease_seconds=_number(get("KMC_LEASE_SECONDS"), base.lease_seconds, float, 1.0, 3600.0),
        daily_budget_usd=_cap(get("KMC_DAILY_BUDGET_USD"), float),
        visitor_daily_usd=_cap(get("KMC_VISITOR_DAILY_USD"), float),
        visitor_daily_runs=_cap(get("KMC_VISITOR_DAILY_RUNS"), int),
        require_login=_truthy(get("KMC_REQUIRE_LOGIN")),
        admin_users=tuple(name.strip() for name in get("KMC_ADMIN_USERS").split(",") if name.strip()),
        admin_password=get("KMC_ADMIN_PASSWORD"),
    )
    for problem in settings.key_problems().values():
        log.warning("%s", problem)  # names the variable, never the value
    wanted = get("KMC_BACKEND").lower()
    if wanted not in ALL_BACKENDS:
        ready = [name for name in HOSTED_BACKENDS if settings.configured()[name]]
        wanted = ready[0] if ready else "local"
    return replace(settings, backend=wanted)

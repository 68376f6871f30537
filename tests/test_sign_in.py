"""Hugging Face sign-in on a Space (KMC_REQUIRE_LOGIN, KMC_ADMIN_USERS), through the real app.

The app runs as a Space would (SPACE_ID and OAuth settings in its environment, so Gradio installs
its sign-in routes and session middleware). Nobody can reach hf.co here, so the test signs a visitor
in the way Gradio's own callback does: a session cookie holding `oauth_info`, signed with the key
Gradio derives from OAUTH_CLIENT_SECRET. Everything after that is the app's real code path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner

from tests.fakes.kling import FakeKling, Scenario
from tests.raw_queue import call, config, generate_values
from tests.runstore import free_port
from tests.test_multi_machine import process, wait_up

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def signed_in(oauth_secret: str, username: str) -> str:
    """The `session` cookie Gradio's sign-in callback leaves for `username`."""
    info = {
        "access_token": "hf_oauth_" + secrets.token_hex(8),
        "token_type": "bearer",
        "scope": "openid profile",
        "expires_at": int(time.time()) + 3600,
        "userinfo": {"preferred_username": username, "name": username.title(), "profile": "", "picture": ""},
    }
    key = hashlib.sha256((oauth_secret + "-v4").encode()).hexdigest()
    return TimestampSigner(key).sign(base64.b64encode(json.dumps({"oauth_info": info}).encode())).decode()


def test_sign_in_gates_the_owners_keys_and_opens_the_owner_tab(
    kling_server: FakeKling, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    kling_server.reset()
    kling_server.scenario = Scenario(submitted_s=0.2, processing_s=0.5)
    port, oauth_secret = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMC_", "FAL_", "KLING_", "REPLICATE_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "SYSTEM": "spaces",  # what a Space sets: Gradio's real sign-in routes, not its local stand-in
        "SPACE_ID": "someone/kmc-demo",
        "OAUTH_CLIENT_ID": "kmc-test-client",
        "OAUTH_CLIENT_SECRET": oauth_secret,
        "OAUTH_SCOPES": "openid profile",
        "OPENID_PROVIDER_URL": "http://127.0.0.1:9",  # never reached: nobody signs in through hf.co here
        "KMC_DATA_DIR": str(tmp_path / "data"),
        "KMC_PUBLIC_BASE_URL": url,
        "KMC_ALLOW_PRIVATE_URLS": "1",
        "KLING_ACCESS_KEY": kling_server.access_key,
        "KLING_SECRET_KEY": kling_server.secret_key,
        "KLING_API_BASE": kling_server.base_url,
        "KMC_REQUIRE_LOGIN": "1",
        "KMC_VISITOR_DAILY_RUNS": "1",
        "KMC_ADMIN_USERS": "hal9000",
    }
    log = tmp_path / "app.log"
    with process(["serve", "--port", str(port)], env, log) as app:
        wait_up(url, app, log)
        with httpx.Client(base_url=url, timeout=60) as anonymous:
            gen, values = generate_values(anonymous, character_image, reference_video, "kling")
            status = call(anonymous, gen, values, timeout=120).outputs[0]
            assert "Sign in with Hugging Face" in status and kling_server.create_count == 0
            owner_box = [
                c for c, v in config(anonymous).components.items() if v["props"].get("elem_id") == "kmc-owner-password"
            ]
            (owner_view,) = [d for d in config(anonymous).dependencies if d["inputs"] == owner_box]
            assert "for the studio's owner" in call(anonymous, owner_view, [""]).outputs[0]
            # Owners by name only (no password): the tab is hidden, and shown to a signed-in owner alone.
            components = config(anonymous).components
            (tab,) = [c for c, v in components.items() if v["type"] == "tabitem" and v["props"].get("id") == "owner"]
            assert components[tab]["props"]["visible"] is False
            (reveal,) = [d for d in config(anonymous).dependencies if d["outputs"] == [tab]]
            assert call(anonymous, reveal, []).outputs[0].get("visible") is not True
        with httpx.Client(base_url=url, timeout=60, cookies={"session": signed_in(oauth_secret, "hal9000")}) as hal:
            gen, values = generate_values(hal, character_image, reference_video, "kling")
            status = call(hal, gen, values, timeout=120).outputs[0]
            assert "Done" in status, status
            assert kling_server.create_count == 1
            again = call(hal, gen, values, timeout=120).outputs[0]  # the quota follows the account
            assert "You have used your 1 run(s)" in again and kling_server.create_count == 1
            assert call(hal, reveal, []).outputs[0].get("visible") is True
            shown = call(hal, owner_view, [""]).outputs[0]  # an owner by name: no password needed
            assert "Budget left: no cap" in shown and "runs: 1" in shown
        forged = signed_in("not-the-secret", "hal9000")
        with httpx.Client(base_url=url, timeout=60, cookies={"session": forged}) as mallory:
            assert "for the studio's owner" in call(mallory, owner_view, [""]).outputs[0]
    # The only traceback allowed is Gradio's Spaces code reloader, which needs the `spaces` package a
    # real Space has (it is not on this machine); none may come from the app.
    text = log.read_text(errors="replace")
    assert text.count("Traceback") == text.count("`spaces` package is required to run hot-reloading"), text[-3000:]

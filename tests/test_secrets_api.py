"""Secrets and isolation over the Gradio API: the app launched with known keys for every provider,
driven with gradio_client, and everything it says or serves scanned for the keys.

tests/test_secrets.py scans the backends and the Studio (every fault of the contract); this file
covers what only the launched app adds: the page and its config, the API schema, /check and
/generate answers (success, failed tasks, echoing providers, wrong per-session keys), Gradio's
and uvicorn's log lines, the files it serves and every file under the data folder. Then what a
browser may fetch through /gradio_api/file=.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from starlette.types import Receive, Scope, Send

from kmc_ui.server import MAX_UPLOAD_BYTES, launch
from kmc_ui.settings import Settings
from tests.fakes import Fault
from tests.fakes.fal import FakeFal
from tests.fakes.kling import FakeKling
from tests.fakes.kling2 import FakeKling2
from tests.fakes.providers import KITS, Kit
from tests.fakes.replicate import FakeReplicate
from tests.fakes.server import ServerThread
from tests.load import FAST_POLL
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]

# Known values, each long and unique enough that finding one anywhere is a real leak.
KEYS = {
    "kling": {"access_key": "AKapiKnownKlingAccess0123456789", "secret_key": "SKapiKnownKlingSecret0123456789abcdef"},
    "kling2": {"api_key": "K2apiKnownKlingApiKey0123456789abcdef"},
    "fal": {"key": "fa1a1b2c-1d00-4c2b-9e1f-0123456789ab:fa1apiKnownSecret0123456789abcdef"},
    "replicate": {"token": "r8_apiKnownReplicateToken0123456789ab"},
}
TYPED = "typedSessionKey0123456789abcdefXYZ"  # a per-session key typed into the API's key fields
KEY_PARAMS = ("kling_access_key", "kling_secret_key", "kling_api_key", "fal_key", "replicate_api_token")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def all_secrets() -> list[str]:
    values = [v for keys in KEYS.values() for v in keys.values()] + [TYPED]
    return values + [part for v in values for part in v.split(":") if part != v]


@dataclass
class Fakes:
    kling: FakeKling
    kling2: FakeKling2
    fal: FakeFal
    replicate: FakeReplicate
    both_kling: ServerThread  # one host for the official API: legacy paths (/v1/...) and API 2.0 paths

    def kit(self, name: str) -> Kit:
        return KITS[name](getattr(self, name))

    def all(self) -> list[Any]:
        return [self.kling, self.kling2, self.fal, self.replicate]


@pytest.fixture(scope="module")
def fakes(
    kling_server: FakeKling, kling2_server: FakeKling2, fal_server: FakeFal, replicate_server: FakeReplicate
) -> Iterator[Fakes]:
    """The session's fakes, given the known keys for this module (restored afterwards)."""
    saved = {}
    for name, fake in (("kling", kling_server), ("kling2", kling2_server), ("fal", fal_server)):
        saved[name] = {k: getattr(fake, k) for k in KEYS[name]}
    saved["replicate"] = {"token": replicate_server.token}
    servers = {"kling": kling_server, "kling2": kling2_server, "fal": fal_server, "replicate": replicate_server}
    for name, fake in servers.items():
        for attr, value in KEYS[name].items():
            setattr(fake, attr, value)
        fake.reset()  # accounts are rebuilt from these attributes

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        legacy = scope["type"] == "http" and scope["path"].startswith("/v1/")
        await (kling_server if legacy else kling2_server)._asgi(scope, receive, send)

    both = ServerThread(dispatch).start()
    yield Fakes(kling_server, kling2_server, fal_server, replicate_server, both)
    both.stop()
    for name, fake in servers.items():
        for attr, value in saved[name].items():
            setattr(fake, attr, value)
        fake.reset()


def settings_for(fakes: Fakes, port: int, data_dir: Path) -> Settings:
    return Settings(
        backend="kling",
        kling_access_key=KEYS["kling"]["access_key"],
        kling_secret_key=KEYS["kling"]["secret_key"],
        kling_api_key=KEYS["kling2"]["api_key"],
        kling_api_base=fakes.both_kling.url,
        fal_key=KEYS["fal"]["key"],
        fal_queue_base=fakes.fal.base_url,
        replicate_api_token=KEYS["replicate"]["token"],
        replicate_api_base=fakes.replicate.base_url,
        public_base_url=f"http://127.0.0.1:{port}",
        allow_private_urls=True,
        data_dir=data_dir,
    )


def echo(kit: Kit) -> Fault:
    """An error answer in the provider's own shape that repeats the caller's key."""
    said = " / ".join(f"bad credentials {s}" for s in kit.secrets)
    if kit.name in ("kling", "kling2"):
        from tests.fakes.kling import kling_error

        return kling_error(1201, said)
    return Fault.http(400, message=said)


# ------------------------------------------------------------------------------------ secrets
def test_no_key_in_any_answer_log_record_or_served_file(
    fakes: Fakes,
    character_image: Path,
    reference_video: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    noisy = ("httpx", "httpcore", "gradio", "gradio_client", "kmc", "kmc_ui", "uvicorn", "uvicorn.error")
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG)
    port = free_port()
    data_dir = tmp_path / "data"
    demo = launch(
        settings_for(fakes, port, data_dir),
        block=False,
        poll=FAST_POLL,
        server_name="127.0.0.1",
        server_port=port,
        quiet=False,
    )
    # uvicorn's loggers do not propagate: listen to them directly, access log included.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(caplog.handler)
    texts: list[str] = []
    served: list[bytes] = []
    try:
        base = demo.local_url.rstrip("/")
        with httpx.Client(timeout=30) as http:
            for path in ("/", "/config", "/gradio_api/info", "/gradio_api/info?all_endpoints=true", "/theme.css"):
                r = http.get(base + path)
                assert r.status_code == 200, path
                texts.append(r.text)
        client = Client(demo.local_url, verbose=False, download_files=str(tmp_path / "client"))
        texts.append(json.dumps(client.view_api(print_info=False, return_format="dict")))
        image, video = handle_file(str(character_image)), handle_file(str(reference_video))

        def generate(backend: str, **keys: str) -> Any:
            job = client.submit(
                image=image, video=video, prompt="p", backend=backend, **keys, api_name="/generate"
            )
            try:
                result = job.result(timeout=120)
            except Exception as exc:  # a refused request: its text is scanned too
                texts.append(f"{type(exc).__name__}: {exc}")
                result = None
            texts.append(json.dumps(job.outputs(), default=str))
            return result

        outcomes: dict[str, list[str]] = {}
        for name in ("kling", "kling2", "fal", "replicate"):
            kit = fakes.kit(name)
            kit.fake.reset()
            texts.append(
                json.dumps(
                    client.predict(image, video, "", "video", "std", True, "v2.6", name, api_name="/check"), default=str
                )
            )
            ok = generate(name)  # success
            assert ok is not None and "Done" in ok[0], (name, ok and ok[0])
            for url in (ok[1]["ref"], ok[1]["out"]):  # the files the page is given, over HTTP
                r = httpx.get(base + url, timeout=30)
                assert r.status_code == 200
                served.append(r.content)
            kit.scenario(outcome="failed", failure_msg=f"refused for Key {kit.secrets[0]} ({kit.secrets[-1]})")
            failed = generate(name)  # a failed task whose reason repeats the key
            kit.scenario()
            kit.fake.inject("create", echo(kit), times=None)
            echoed = generate(name)  # a provider that repeats the key in its error answer
            kit.fake.faults.clear()
            typed = generate(name, **dict.fromkeys(KEY_PARAMS, TYPED))  # wrong keys typed for this session
            outcomes[name] = [
                str(x[3].get("status")) if x and isinstance(x[3], dict) else "-" for x in (failed, echoed, typed)
            ]
        # every failure really reached the provider and came back as a failed run
        assert all(o[0] == "failed" for o in outcomes.values()), outcomes
        assert all(o[1] in ("submit_failed", "failed") for o in outcomes.values()), outcomes
        assert all(o[2] == "submit_failed" for o in outcomes.values()), outcomes  # the typed keys were refused
        assert "refused for Key" in "\n".join(texts)  # the failure reasons did reach the answers
        client.close()
        # History, prepared files, caches: every file the app wrote
        files = [p for p in data_dir.rglob("*") if p.is_file()]
        assert len(stored_records(data_dir)) >= 16 and any(p.name == "kmc.db" for p in files)
        served.extend(p.read_bytes() for p in files)
    finally:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).removeHandler(caplog.handler)
        demo.close()
    out, err = capfd.readouterr()
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /gradio_api/info" in logs or "/gradio_api/info" in logs  # the access log was heard
    assert "HTTP Request" in logs  # httpx's own logger was heard
    everything = "\n".join(texts) + logs + out + err
    headers = {r.headers.get("authorization", "") for f in fakes.all() for r in f.requests} - {""}
    sent = {h.split(" ", 1)[-1] for h in headers}  # Bearer keys and the JWTs signed with the Kling pair
    assert any(KEYS["fal"]["key"] in h for h in headers)  # the keys really were used
    for secret in [*all_secrets(), *sent]:
        assert secret not in everything, f"a secret leaked into an answer or a log: {secret[:6]}…"
        assert not any(secret.encode() in blob for blob in served), f"a secret is in a served file: {secret[:6]}…"


# ------------------------------------------------------------------------------------ isolation
@pytest.fixture(scope="module")
def app(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Settings]]:
    port = free_port()
    settings = settings_for(fakes, port, tmp_path_factory.mktemp("iso") / "data")
    demo = launch(settings, block=False, poll=FAST_POLL, server_name="127.0.0.1", server_port=port, quiet=True)
    yield demo, settings
    demo.close()


def test_a_session_reaches_only_files_it_was_given(
    app: tuple[Any, Settings], fakes: Fakes, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    demo, settings = app
    fakes.kling.reset()
    base = demo.local_url.rstrip("/")
    alice = Client(demo.local_url, verbose=False, download_files=str(tmp_path / "a"))
    out = alice.predict(
        image=handle_file(str(character_image)), video=handle_file(str(reference_video)), prompt="",
        backend="kling", api_name="/generate",
    )  # fmt: skip
    player, record = out[1], out[3]  # (status, player, download, record, ...): later outputs may be added
    owner = alice.cookies["kmc_visitor"].split(".")[1]  # the visitor id in alice's signed cookie
    alice.close()
    data = settings.data_dir.resolve()
    run = data / "runs" / owner / record["run_id"]
    assert (run / "output.mp4").is_file() and "owner" not in record
    # the player's links are copies named by a hash of their content: no owner, no run, no data path
    assert owner not in str(player) and record["run_id"] not in str(player) and str(data) not in str(player)
    (data / "cache/pose").mkdir(parents=True, exist_ok=True)
    (data / "cache/pose/x.npz").write_bytes(b"private")
    (data / ".env").write_text("FAL_KEY=x")
    (data / "stray.txt").write_text("not for the page")
    file_url = base + "/gradio_api/file="

    def code(path: str | Path) -> int:
        return httpx.get(file_url + str(path), timeout=30).status_code

    with httpx.Client(timeout=30) as bob:  # another browser: no session, no cookies, just paths
        assert bob.get(base + player["out"]).status_code == 200  # a link it was given works
        refused = [
            data / "cache/pose/x.npz",
            data / ".env",
            data / ".server-secret",
            data / "stray.txt",
            data,
            data / "runs",
            run.parent,  # folders are never listed
            run,
            run / "output.mp4",  # a run's own files: never by path, only as the copies a page was given
            data / "kmc.db",  # the run store
            f"{run}/../../../cache/pose/x.npz",  # traversal
            f"{run}/../../../.env",
            Path.cwd() / "app.py",
            Path.cwd() / "README.md",
            "/etc/passwd",
        ]
        assert {str(p): code(p) for p in refused} == {str(p): 403 for p in refused}


def test_uploads_are_capped_at_the_largest_input_we_accept(app: tuple[Any, Settings]) -> None:
    demo, _ = app
    assert demo.max_file_size == MAX_UPLOAD_BYTES == 300 * 1024 * 1024
    size = MAX_UPLOAD_BYTES + 1
    boundary = "kmcboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        chunk = b"\0" * (1 << 20)
        left = size
        while left > 0:
            yield chunk[: min(left, len(chunk))]
            left -= len(chunk)
        yield tail

    try:
        r = httpx.post(
            demo.local_url.rstrip("/") + "/gradio_api/upload",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=120,
        )
    except httpx.HTTPError as exc:  # the server may hang up once the cap is passed: also a refusal
        pytest.fail(f"expected a 413 answer, the connection ended instead: {exc!r}")
    assert r.status_code == 413, r.text[:200]
    assert "maximum allowed size" in r.text

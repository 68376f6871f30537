"""No key ever leaves the Authorization header: not into a log line, an error, a history record,
a repr, or what the Studio hands the UI and the API.

Every hosted backend runs with known fake keys through success and every error path of the
contract (a hostile provider even echoes the key back in its error texts and failure messages);
every log record (DEBUG, httpx and httpcore included), every error text, every history file and
the Studio's check / generate / resume output is scanned for the key strings.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmc_ui.backends.base import BackendError, JobRequest
from kmc_ui.backends.registry import KEY_FIELDS, build_backends
from kmc_ui.history import History
from kmc_ui.jobs import run_job
from kmc_ui.studio import Inputs, Studio
from tests.fakes import FakeClock, Fault
from tests.fakes.providers import Kit
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "secrets"
KNOWN = {
    "kling": {"access_key": "AKknownKlingAccess0123456789", "secret_key": "SKknownKlingSecret0123456789abcdef"},
    "kling2": {"api_key": "K2knownKlingApiKey0123456789abcdef"},
    "fal": {"key": "fa1known-1d00-4c2b-9e1f-0123456789ab:fa1knownsecret0123456789abcdef"},
    "replicate": {"token": "r8_knownReplicateToken0123456789abcd"},
}


@pytest.fixture
def known_keys(kit: Kit) -> Iterator[list[str]]:
    """Give the kit's fake these known keys for the test (restored afterwards)."""
    fake = kit.fake
    saved = {name: getattr(fake, name) for name in KNOWN[kit.name]}
    for name, value in KNOWN[kit.name].items():
        setattr(fake, name, value)
    fake.reset()  # the fakes rebuild their accounts from these attributes
    values = list(KNOWN[kit.name].values())
    yield values + [part for v in values for part in v.split(":") if part != v]
    for name, value in saved.items():
        setattr(fake, name, value)
    fake.reset()


def echo_faults(kit: Kit, secret: str) -> list[Fault]:
    """Error answers a hostile provider might give: its own shapes, with the key inside."""
    said = f"bad credentials Key {secret} / Bearer {secret} / {secret}"
    if kit.name in ("kling", "kling2"):
        from tests.fakes.kling import kling_error

        return [kling_error(code, said) for code in (1000, 1102, 1103, 1201, 1301, 1302, 5000)]
    faults = [Fault.http(status, message=said) for status in (401, 402, 403, 404, 405, 429, 500, 503)]
    if kit.name == "fal":
        faults.append(Fault.json(422, {"detail": [{"loc": ["body", "prompt"], "msg": said, "type": "value_error"}]}))
    else:
        faults.append(
            Fault.json(
                422, {"detail": said, "invalid_fields": [{"field": "input.x", "description": said}], "status": 422}
            )
        )
    return faults


def test_no_key_in_logs_errors_history_or_studio_output(
    kit: Kit,
    known_keys: list[str],
    media_server,
    character_image: Path,
    reference_video: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "kmc_ui", "uvicorn"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    clock = FakeClock()
    kit.fake.clock = clock.now
    data_dir = tmp_path / "data"
    settings = kit.settings(media_server.url, data_dir)
    # a roomy timeout for the runs that must succeed on a loaded machine; a short one only where
    # the fake holds a request on purpose (the network faults below)
    backend = kit.backend(settings, media_server.host, httpx.Client(timeout=httpx.Timeout(10.0)))
    hurried = kit.backend(settings, media_server.host, httpx.Client(timeout=httpx.Timeout(0.4)))
    history = History(data_dir)
    texts: list[str] = [repr(backend), repr(settings), str(backend.ready()), repr(backend.video_transport())]
    n = iter(range(10_000))

    def request() -> JobRequest:
        return JobRequest(character_image, reference_video, prompt="p", run_id=f"s{next(n)}")

    def collect(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__), repr(exc.args)])
        if isinstance(exc, BackendError):
            texts.extend([exc.user_text(), exc.fix, exc.message])

    def attempt(fn: Callable[[], Any]) -> None:
        try:
            texts.append(repr(fn()))
        except BackendError as exc:
            collect(exc)

    def whole_run(**kw: Any) -> None:
        job = request()
        history.create(OWNER, {"run_id": job.run_id, "provider": kit.name})
        steps = list(run_job(backend, job, history, OWNER, clock=clock.clock(), rng=random.Random(1), **kw))
        texts.extend(repr(s) for s in steps)

    # success
    whole_run()
    task_id = backend.submit(request())
    state = backend.poll(task_id)
    texts.append(repr(state))
    # every error answer, echoing the key, on create and on status checks
    for secret in known_keys[:1]:
        for fault in echo_faults(kit, secret):
            kit.fake.inject("create", fault)
            attempt(lambda: backend.submit(request()))
            kit.fake.inject("poll", fault)
            attempt(lambda: backend.poll(task_id))
            kit.fake.inject("create", fault, times=None)
            whole_run()
            kit.fake.faults.clear()
    # network faults
    for fault in (Fault.reset(), Fault.reset(after=True), Fault.timeout(3.0), Fault.malformed(), Fault.http(502)):
        for point, call in (("create", lambda: hurried.submit(request())), ("poll", lambda: hurried.poll(task_id))):
            kit.fake.inject(point, fault)
            attempt(call)
    # a failed task whose reason echoes the key
    kit.scenario(outcome="failed", failure_msg=f"refused for Key {known_keys[0]} ({known_keys[0]})")
    whole_run()
    attempt(lambda: backend.poll(backend.submit(request())))
    kit.scenario()
    # download faults and an expired link
    for fault in (Fault.truncate(), Fault.http(403), Fault.reset()):
        kit.fake.inject("result", fault)
        attempt(lambda: backend.download(state, tmp_path / "x.mp4"))
    kit.fake.inject("result", Fault.http(404), times=None)
    whole_run()
    kit.fake.faults.clear()
    # Stop (cancel where the provider can) and a spurious-401 run
    kit.scenario(submitted_s=2, processing_s=100)
    job = request()
    history.create(OWNER, {"run_id": job.run_id, "provider": kit.name})
    gen = run_job(backend, job, history, OWNER, clock=clock.clock())
    for step in gen:
        texts.append(repr(step))
        if step.stage == "running":
            break
    gen.close()
    kit.scenario()
    kit.fake.inject("poll", kit.faults["auth"], times=5)
    whole_run()
    kit.fake.faults.clear()
    # wrong keys
    wrong = {field: "wrong-" + known_keys[0] for field in KEY_FIELDS[kit.name]}
    attempt(lambda: kit.backend(kit.settings(media_server.url, data_dir, **wrong), media_server.host).submit(request()))

    # The Studio, as the UI and the API use it: keys from settings, and keys from a session box
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend=kit.name)
    texts.append(json.dumps(studio.check(inputs).to_dict(), default=str))
    texts.append(repr(studio.backend_status()))
    texts.extend(repr(p) for p in studio.generate(inputs, owner=OWNER))
    keyless = kit.settings(media_server.url, data_dir, **dict.fromkeys(KEY_FIELDS[kit.name], ""))
    session = build_backends(
        keyless, media_server.host, overrides={f: getattr(settings, f) for f in KEY_FIELDS[kit.name]}
    )
    session_studio = Studio(keyless, session)
    texts.append(repr(session_studio.backend_status()) + repr(keyless) + repr(session))
    steps = list(session_studio.generate(inputs, owner=OWNER))
    assert steps[-1].stage == "done", steps[-1].text  # the session keys really work
    texts.extend(repr(p) for p in steps)
    texts.extend(repr(p) for p in session_studio.resume(OWNER, steps[-1].run_id))
    texts.append(repr(session_studio.pending(OWNER)))
    # every history record in the run store, and the database's own files
    records = stored_records(data_dir)
    assert len(records) >= 10
    texts.extend(json.dumps(record) for record in records)
    texts.extend(path.read_bytes().decode("utf-8", "replace") for path in data_dir.glob("kmc.db*"))

    everything = "\n".join(texts) + "\n" + caplog.text + "\n" + "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in caplog.text  # httpx's own logger was captured
    assert len(kit.fake.requests) > 60
    sent = {r.headers.get("authorization", "") for r in kit.fake.requests} - {""}
    assert any(known_keys[0] in h for h in sent) or kit.name == "kling"  # (kling sends JWTs signed with them)
    for secret in [*known_keys, *{h.split(" ", 1)[-1] for h in sent}]:
        assert secret not in everything, f"a secret leaked: {secret[:6]}…"

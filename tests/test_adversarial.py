"""The app attacked the way a stranger would: every event of the running app called through the
raw queue (hidden or not), with forged run ids, records, owner ids and paths.

The events are enumerated from `/config`, not picked by hand, so a new event is attacked too.
A victim's run is planted in the data folder, and a secret file lies outside it. The attacker
must never see the victim's data or the secret (in any answer or any file an answer links to),
never tell an existing path from a missing one, never write into the victim's History or
anywhere but its own, and never make the server serve a record, a run folder or its secret.
Positive controls prove each detector: the victim's own cookie does see the victim's run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmc_ui.history import History
from kmc_ui.identity import COOKIE, Identity, server_secret
from kmc_ui.settings import Settings
from tests.browser import free_port
from tests.conftest import MediaCache
from tests.raw_queue import Answer, Config, call, config
from tests.runstore import stored_records

VICTIM_PROMPT = "victim-prompt-7f3a9c"
VICTIM_TASK = "victim-task-51e08d"
SECRET_TEXT = "top-secret-2b6f1e4d"
XSS = '<img src=x onerror="window.__kmc_xss=1">'
FILE_KINDS = {"image", "video", "file", "gallery"}
TEXT_KINDS = {"textbox", "json", "dropdown", "state", "markdown", "html"}


def stored(data: Path, owner: str) -> bytes:
    """An owner's records as the run store holds them."""
    return json.dumps(stored_records(data, owner), sort_keys=True).encode()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Target:
    base: str
    data: Path
    cfg: Config
    victim: str
    victim_cookie: str
    run_id: str
    run_dir: Path
    record_bytes: bytes
    secret_dir: Path
    secret_video: Path
    secret_text: Path
    protected: dict[str, str]  # sha256 -> what it is: bytes no answer may link to

    def client(self, cookie: str | None = None) -> httpx.Client:
        cookies = {COOKIE: cookie} if cookie else None
        return httpx.Client(base_url=self.base, cookies=cookies, timeout=60)


@pytest.fixture(scope="module")
def target(media: MediaCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    from kmc_ui.server import launch

    root = tmp_path_factory.mktemp("adversarial")
    data = root / "data"
    secret_dir = root / "outside"
    secret_dir.mkdir()
    secret_video = shutil.copy(media.video("adv_secret.mp4", seconds=3, source="mandelbrot"), secret_dir / "secret.mp4")
    secret_text = secret_dir / "secret.txt"
    secret_text.write_text(SECRET_TEXT)

    # The victim: a visitor with a finished run, planted as the app itself would have written it.
    identity = Identity(server_secret(data))
    victim, victim_cookie = identity.issue()
    history = History(data)
    run_id = "20261202-101010-v1c71m00"
    run_dir = history.run_dir(victim, run_id)
    (run_dir / "inputs").mkdir(parents=True)
    image = shutil.copy(media.image("adv_char.png"), run_dir / "inputs" / "character.png")
    reference = shutil.copy(media.video("adv_ref.mp4", seconds=3), run_dir / "inputs" / "reference.mp4")
    output = shutil.copy(media.video("adv_out.mp4", seconds=3, source="rgbtestsrc"), run_dir / "output.mp4")
    history.create(
        victim,
        {
            "run_id": run_id,
            "provider": "local",
            "settings": {"prompt": VICTIM_PROMPT, "orientation": "video", "tier": "std", "model": "v2.6"},
            "inputs": {"image": str(image), "video": str(reference)},
        },
    )
    history.update(victim, run_id, status="succeeded", task_id=VICTIM_TASK, output=str(output))
    protected = {sha(Path(p)): name for p, name in [(secret_video, "secret"), (output, "victim's result")]}
    protected |= {sha(Path(image)): "victim's image", sha(Path(reference)): "victim's reference"}

    port = free_port()
    demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base) as c:
        cfg = config(c)
    try:
        yield Target(
            base,
            data,
            cfg,
            victim,
            victim_cookie,
            run_id,
            run_dir,
            stored(data, victim),
            secret_dir,
            Path(secret_video),
            secret_text,
            protected,
        )
    finally:
        demo.close()


def file_data(path: str | Path) -> dict[str, Any]:
    return {"path": str(path), "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def forged_texts(t: Target) -> list[Any]:
    """What a stranger puts where the page would send text, an id or a record."""
    record = {
        "owner": t.victim,
        "run_id": t.run_id,
        "output": str(t.secret_video),
        "inputs": {"video": str(t.secret_video), "image": str(t.secret_text)},
    }
    return [
        t.run_id,
        record,
        {"run_id": t.run_id, "owner": t.victim},
        str(t.run_dir / "output.mp4"),
        t.victim,
        f"../../{t.victim}/{t.run_id}",
        str(t.secret_video),
    ]


def default_value(component: dict[str, Any]) -> Any:
    return component.get("props", {}).get("value")


def payloads(t: Target, dep: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    """Hostile input lists for one event: forged texts with no files (so the handler runs), then
    forged files (server paths the visitor never uploaded)."""
    kinds = [t.cfg.kind(i) for i in dep["inputs"]]
    comps = [t.cfg.components[i] for i in dep["inputs"]]

    def fill(text: Any, files: Any) -> list[Any]:
        out = []
        for kind, comp in zip(kinds, comps, strict=True):
            if kind in FILE_KINDS:
                out.append(files)
            elif kind in TEXT_KINDS:
                out.append(text)
            else:
                out.append(default_value(comp))
        return out

    for k, text in enumerate(forged_texts(t)):
        yield f"text#{k}", fill(text, None)
    for path in (t.secret_video, t.run_dir / "output.mp4", t.data / "kmc.db"):
        yield f"file:{path.name}", fill(None, file_data(path))
    yield "xss", fill(XSS, None)


FILE_URL = re.compile(r"/gradio_api/file=([^\"'\s)]+)")


def linked_files(answer: Answer) -> set[str]:
    """Every file an answer hands out: /gradio_api/file= links and FileData paths."""
    text = answer.text()
    found = set(FILE_URL.findall(text))

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("path"), str):
                found.add(value["path"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(answer.outputs)
    return found


def leaks(t: Target, client: httpx.Client, answer: Answer, sent: list[Any]) -> list[str]:
    problems = []
    text = answer.text()
    markers = [VICTIM_PROMPT, VICTIM_TASK, SECRET_TEXT]
    if str(t.data.resolve()) not in json.dumps(sent):  # the server's own paths, unless the caller named one
        markers.append(str(t.data.resolve()))
    for marker in markers:
        if marker in text:
            problems.append(f"answer shows {marker!r}")
    for path in linked_files(answer):
        from urllib.parse import unquote

        response = client.get("/gradio_api/file=" + unquote(path))
        if response.status_code == 200:
            digest = hashlib.sha256(response.content).hexdigest()
            if digest in t.protected:
                problems.append(f"answer links to the {t.protected[digest]}: {path}")
    return problems


def html_outputs(t: Target, dep: dict[str, Any], answer: Answer) -> list[str]:
    kinds = [t.cfg.kind(i) for i in dep["outputs"]]
    return [json.dumps(v) for kind, v in zip(kinds, answer.outputs, strict=False) if kind == "html"]


def test_every_event_is_enumerated_including_hidden_ones(target: Target) -> None:
    deps = target.cfg.dependencies
    hidden = [d for d in deps if d.get("api_visibility") == "private"]
    assert len(deps) >= 20 and len(hidden) >= 15, (len(deps), len(hidden))
    # Nothing in the page's config is a key to anyone's History.
    page = json.dumps(target.cfg.raw)
    assert target.victim not in page and "browserstate" not in page.lower()
    assert server_secret(target.data).decode() not in page


def test_no_event_reaches_another_visitors_run_or_a_server_file(target: Target) -> None:
    problems: list[str] = []
    calls = 0
    with target.client() as attacker:
        attacker.get("/config")  # a stranger's own cookie
        for dep in target.cfg.dependencies:
            for label, data in payloads(target, dep):
                answer = call(attacker, dep, data)
                calls += 1
                where = f"event {dep['id']} ({dep.get('api_name')}) {label}"
                if not answer.completed and not answer.error:
                    problems.append(f"{where}: no answer within {answer.seconds:.0f} s")
                problems += [f"{where}: {p}" for p in leaks(target, attacker, answer, data)]
                if label == "xss":
                    problems += [f"{where}: raw HTML in output {h[:120]}" for h in html_outputs(target, dep, answer)
                                 if "<img src=x onerror" in h]
        attacker_id = attacker.cookies.get(COOKIE, "").split(".")[1]
    assert calls >= 200
    assert problems == [], "\n".join(problems)
    # The victim's run is untouched, and nothing was written anywhere but the attacker's own History.
    assert stored(target.data, target.victim) == target.record_bytes
    assert sorted(p.name for p in target.run_dir.iterdir()) == ["inputs", "output.mp4"]
    owners = {p.name for p in (target.data / "runs").iterdir() if p.is_dir()}
    assert owners <= {target.victim, attacker_id}, owners
    assert sorted(p.name for p in target.secret_dir.iterdir()) == ["secret.mp4", "secret.txt"]


def test_existing_and_missing_paths_answer_alike(target: Target) -> None:
    """No event tells an existing server path from a missing one (no file-existence oracle)."""
    missing = target.secret_dir / "no-such-file.mp4"
    differ = []
    with target.client() as attacker:
        for dep in target.cfg.dependencies:
            if not any(target.cfg.kind(i) in TEXT_KINDS for i in dep["inputs"]):
                continue
            texts = []
            for path in (target.secret_video, missing):
                forged = {"run_id": "x", "owner": "y", "output": str(path), "inputs": {"video": str(path)}}
                data = [forged if target.cfg.kind(i) in TEXT_KINDS else None for i in dep["inputs"]]
                answer = call(attacker, dep, data)
                texts.append(outcome(answer, str(path)))
            if texts[0] != texts[1]:
                differ.append(f"event {dep['id']} ({dep.get('api_name')}): {texts[0][:300]} | {texts[1][:300]}")
    assert differ == [], "\n".join(differ)


def outcome(answer: Answer, path: str) -> str:
    """What an answer says, without the path it was sent, its event ids, session ids and timings."""
    done = answer.completed or {}
    said = {"success": done.get("success"), "output": done.get("output"), "error": answer.error[:40]}
    text = json.dumps(said, default=str).replace(path, "PATH")
    return re.sub(r"[0-9a-f]{8,}|\d+(\.\d+)?", "N", text)


def history_listing(t: Target) -> dict[str, Any]:
    """The History tab's listing event (a hand-picked event, for the positive control)."""
    table = next(c["id"] for c in t.cfg.raw["components"] if c.get("props", {}).get("elem_id") == "kmc-history-table")
    return next(d for d in t.cfg.dependencies if table in d["outputs"] and not d["inputs"])


def test_the_victims_own_cookie_sees_the_run_and_nobody_else_does(target: Target) -> None:
    listing = history_listing(target)
    with target.client(target.victim_cookie) as victim:
        seen = call(victim, listing, [])
    assert target.run_id in seen.text()  # the detector works: the owner sees the run
    forged = f"v1.{target.victim}.{'A' * 43}"  # the victim's id with a signature the attacker made up
    with target.client(forged) as attacker:
        answer = call(attacker, listing, [])
        assert target.run_id not in answer.text() and VICTIM_TASK not in answer.text()
    with target.client(forged) as attacker:
        issued = attacker.get("/config").headers.get("set-cookie", "")
    assert issued.startswith(COOKIE + "=v1.") and target.victim not in issued  # a fresh identity instead


def test_records_run_folders_and_the_secret_are_never_served(target: Target) -> None:
    paths = [
        target.data / "kmc.db",  # the run store
        target.run_dir / "output.mp4",
        target.data / ".server-secret",
        target.secret_video,
        target.secret_text,
    ]
    with target.client(target.victim_cookie) as victim:
        for path in paths:
            for form in (str(path), str(path).replace("/", "%2F")):
                response = victim.get("/gradio_api/file=" + form)
                assert response.status_code in (403, 404), (path, response.status_code)


def test_the_identity_cookie_is_httponly_and_signed(target: Target) -> None:
    with target.client() as c:
        response = c.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=v1.") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with target.client() as c:
        secure = c.get("/", headers={"x-forwarded-proto": "https"}).headers["set-cookie"]
    assert "Secure" in secure and "SameSite=None" in secure and "Partitioned" in secure
    identity = Identity(server_secret(target.data))
    value = cookie.split(";")[0].split("=", 1)[1]
    visitor = identity.verify(value)
    assert visitor and identity.verify(value[:-1] + ("A" if value[-1] != "A" else "B")) is None
    assert identity.verify(f"v1.{visitor}.") is None and identity.verify(value + ".x") is None

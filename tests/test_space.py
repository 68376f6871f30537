"""A Hugging Face Space that deploys as it is: front matter, Debian packages, binding, the public
URL derived from the Space's host, keys from the environment, and temporary files pruned."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest
import yaml

from kmc_ui import cleanup
from kmc_ui.backends.registry import KEY_ENV_NAMES, KEY_FIELDS, build_backends
from kmc_ui.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def front_matter() -> dict[str, object]:
    text = (ROOT / "README.md").read_text("utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with the Space's YAML front matter"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data


def test_readme_front_matter_describes_the_space() -> None:
    meta = front_matter()
    pinned = re.search(r"^gradio==([\d.]+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned, "requirements.txt must pin gradio"
    assert meta["sdk"] == "gradio"
    assert str(meta["sdk_version"]) == pinned.group(1)  # the Space runs the version the tests ran
    assert meta["python_version"] == "3.11"  # a string: YAML would read 3.10 as 3.1
    assert meta["app_file"] == "app.py" and (ROOT / "app.py").is_file()
    assert meta["pinned"] is False
    assert meta["title"] and meta["emoji"]
    colors = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}  # what the Hub accepts
    assert meta["colorFrom"] in colors and meta["colorTo"] in colors
    assert 0 < len(str(meta["short_description"])) <= 60  # the Hub's limit


def test_packages_txt_lists_what_runs_on_the_space() -> None:
    names = [line.strip() for line in (ROOT / "packages.txt").read_text().splitlines() if line.strip()]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", n) for n in names), names
    assert "ffmpeg" in names  # transcodes and the side-by-side filter graph
    assert "chromium" not in names  # only the browser tests need it, never the Space


def test_public_url_comes_from_the_space_host() -> None:
    space = {"SPACE_ID": "someone/kmc", "SPACE_HOST": "someone-kmc.hf.space"}
    assert load_settings(None, space).public_base_url == "https://someone-kmc.hf.space"
    # an explicit URL wins; outside a Space SPACE_HOST alone means nothing
    mine = {**space, "KMC_PUBLIC_BASE_URL": "https://kmc.example.org/"}
    assert load_settings(None, mine).public_base_url == "https://kmc.example.org"
    assert load_settings(None, {"SPACE_HOST": "someone-kmc.hf.space"}).public_base_url == ""
    assert load_settings(None, {"SPACE_ID": "someone/kmc"}).public_base_url == ""


def test_missing_keys_say_which_variable_to_set() -> None:
    backends = build_backends(Settings(), None)
    for name, fields in KEY_FIELDS.items():
        ok, why = backends[name].ready()
        assert not ok
        for field in fields:
            assert KEY_ENV_NAMES[field] in why, (name, why)


def test_keys_come_from_the_environment() -> None:
    env = {"FAL_KEY": "fk", "KLING_API_KEY": "kk", "REPLICATE_API_TOKEN": "rt"}
    env |= {"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"}
    settings = load_settings(None, env)
    assert all(settings.configured().values())
    assert all(build_backends(settings, None)[name].ready()[0] for name in ("kling2", "fal", "replicate"))


# ------------------------------------------------------------------------------ temporary files
def tree(data: Path) -> dict[str, Path]:
    files = {
        "prepared": data / "prepared" / "clip-0123456789abcdef.mp4",
        "preview": data / "prepared" / "previews" / "skeleton.png",
        "download": data / "downloads" / "0123456789abcdef" / "clip.mp4",
        "pose": data / "cache" / "pose" / "vid-0123-4567.npz",
        "model": data / "cache" / "pose_landmarker_full.task",
        "engine": data / "engine" / "local-1-2-3.mp4",
        "record": data / "runs" / "api-abc" / "20260101-000000-abcd1234" / "record.json",
        "run_input": data / "runs" / "api-abc" / "20260101-000000-abcd1234" / "inputs" / "clip.mp4",
        "other": data / "notes.txt",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
    return files


def test_prune_deletes_old_temporary_files_and_never_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = tree(data)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (data / "prepared" / "link").symlink_to(outside)
    (data / "downloads" / "dirlink").symlink_to(tmp_path, target_is_directory=True)

    young = cleanup.prune(data, max_age=3600)  # everything was just written
    assert young.files == 0 and all(p.exists() for p in files.values())

    report = cleanup.prune(data, max_age=3600, now=time.time() + 7200)  # two hours later
    gone = {"prepared", "preview", "download", "pose", "engine"}
    assert {k for k, p in files.items() if not p.exists()} == gone
    assert report.files == len(gone) + 2 and report.errors == 0  # + the two links, removed as links
    assert outside.read_text() == "keep" and (tmp_path / "data").is_dir()  # links were not followed
    assert not (data / "downloads" / "0123456789abcdef").exists()  # emptied old folders go too
    assert (data / "prepared").is_dir() and (data / "cache").is_dir()  # the top folders stay


def test_prune_folder_spares_young_files_and_just_made_folders(tmp_path: Path) -> None:
    gradio = tmp_path / "gradio"
    (gradio / "fresh").mkdir(parents=True)  # a folder Gradio just made, about to be written to
    (gradio / "abc").mkdir()
    (gradio / "abc" / "upload.mp4").write_bytes(b"x")
    assert cleanup.prune_folder(gradio, max_age=60).files == 0
    assert (gradio / "fresh").is_dir()
    report = cleanup.prune_folder(gradio, max_age=60, now=time.time() + 120)
    assert report.files == 1 and not (gradio / "abc" / "upload.mp4").exists()


def test_lifespan_prunes_at_start_and_then_periodically(tmp_path: Path) -> None:
    data, gradio = tmp_path / "data", tmp_path / "gradio"
    files = tree(data)
    (gradio / "h").mkdir(parents=True)
    seen: list[cleanup.PruneReport] = []

    async def serve() -> None:
        async with cleanup.lifespan(data, gradio, max_age=0.0, every=0.05, on_prune=seen.append)(None):
            while len(seen) < 3:
                await asyncio.sleep(0.01)
            (gradio / "late.bin").write_bytes(b"x")  # a file made while the server runs
            await asyncio.sleep(0.3)

    asyncio.run(asyncio.wait_for(serve(), timeout=20))
    assert seen[0].files >= 5  # at start
    assert not (gradio / "late.bin").exists()  # and later
    assert files["record"].exists() and files["run_input"].exists() and files["model"].exists()


def test_launch_binds_where_gradio_env_says_and_prunes_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a Space starts it: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT from the environment."""
    from kmc_ui.server import launch

    port = _free_port()
    monkeypatch.setenv("GRADIO_SERVER_NAME", "127.0.0.1")
    monkeypatch.setenv("GRADIO_SERVER_PORT", str(port))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # this app's own Gradio folder
    monkeypatch.setattr(cleanup, "MAX_AGE", 0.0)  # everything temporary counts as old
    data = tmp_path / "data"
    files = tree(data)
    demo = launch(Settings(data_dir=data), block=False, quiet=True)
    try:
        assert demo.local_url.rstrip("/") == f"http://127.0.0.1:{port}"
        assert httpx.get(demo.local_url, timeout=30).status_code == 200
        deadline = time.monotonic() + 20
        while files["prepared"].exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not files["prepared"].exists() and not files["download"].exists()
        assert files["record"].exists() and files["run_input"].exists() and files["model"].exists()
    finally:
        demo.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

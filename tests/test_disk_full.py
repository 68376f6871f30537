"""A full disk, for real: the data folder is a small tmpfs the test mounts, filled up to a chosen
number of free bytes. Each run must end with the cause named, its partial files removed and its
record saying why, never with an exception, a run left "running" or a half-written record; a
task the provider accepted stays resumable (its result is paid for)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.local import LocalBackend
from kmc_ui.jobs import PollPolicy, Progress
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.fakes.kling import FakeKling
from tests.figures import make_character, make_dance

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "disk-owner"
FAST = PollPolicy(first=0.05, running=0.05, warmup=0.0, warmup_interval=0.05, queued=0.05, queued_far=0.05)


class Disk:
    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler.bin"

    def free(self) -> int:
        st = os.statvfs(self.mount)
        return st.f_bavail * st.f_frsize

    def leave(self, free_bytes: int) -> None:
        """Fill the disk so that about `free_bytes` stay free (tmpfs counts whole 4 kB pages)."""
        self.filler.unlink(missing_ok=True)
        size = max(0, self.free() - free_bytes)
        with self.filler.open("wb") as fh:
            chunk = b"\0" * (1 << 20)
            while size > 0:
                size -= fh.write(chunk[: min(size, len(chunk))])
        assert self.free() <= free_bytes + 8192

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    """tmp_path/data on a 24 MB tmpfs (needs root, as CI and the dev machines run)."""
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def run(studio: Studio, image: Path, video: Path, backend: str) -> list[Progress]:
    inputs = Inputs(image=str(image), video=str(video), backend=backend, tier="std", model="v2.6")
    return list(studio.generate(inputs, OWNER))


def leftovers(root: Path) -> list[str]:
    """Partial files: a record being written, a download, a cache entry, a render."""
    partial = [p for p in root.rglob("*") if p.suffix in (".tmp", ".part") or p.name.startswith(".tmp-")]
    return sorted(str(p.relative_to(root)) for p in partial + list(root.glob("engine/*")))


def on_disk(disk: Disk, source: Path) -> Path:
    """A copy of an input on the small disk (as an upload would be), so the run links it, not copies it."""
    dest = disk.mount / "uploads" / source.name
    dest.parent.mkdir(exist_ok=True)
    dest.write_bytes(source.read_bytes())
    return dest


def records(studio: Studio) -> list[dict[str, Any]]:
    return studio.history.list(OWNER)


def test_no_room_for_the_record_ends_the_run_before_anything_is_sent(
    disk: Disk, fake_kling: FakeKling, kling_settings: Settings, media_server: Any, character_image: Path,
    reference_video: Path,
) -> None:  # fmt: skip
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    studio = Studio(kling_settings, {"kling": backend}, poll=FAST)
    disk.leave(0)
    steps = run(studio, character_image, reference_video, "kling")
    last = steps[-1]
    assert last.stage == "failed" and "disk is full" in last.text and "nothing was sent" in last.text
    assert fake_kling.requests_at("create") == []
    assert records(studio) == [] and leftovers(disk.mount) == []
    backend.close()


def test_a_result_that_does_not_fit_is_removed_and_the_paid_task_stays_resumable(
    disk: Disk, fake_kling: FakeKling, kling_settings: Settings, media_server: Any, character_image: Path,
    reference_video: Path, result_video: Path,
) -> None:  # fmt: skip
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    studio = Studio(kling_settings, {"kling": backend}, poll=FAST)
    image, video = on_disk(disk, character_image), on_disk(disk, reference_video)  # hard-linked into the run
    media_server.host.allow_dirs.append(disk.mount.resolve())
    assert result_video.stat().st_size > 40 * 1024
    disk.leave(24 * 1024)  # the records fit, the result does not
    steps = run(studio, image, video, "kling")
    last = steps[-1]
    assert last.stage == "failed", [s.text for s in steps]
    assert "disk is full" in last.text and last.task_id in last.text and "resume" in last.text
    (record,) = records(studio)
    assert record["status"] == "download_failed" and "disk is full" in record["error"]
    assert record["task_id"] == last.task_id and not record.get("output")
    assert leftovers(disk.mount) == []
    assert not (studio.history.run_dir(OWNER, record["run_id"]) / "output.mp4").exists()
    # Room again: the run is resumed from History without a second create.
    disk.empty()
    assert studio.pending(OWNER)[0]["run_id"] == record["run_id"]
    resumed = list(studio.resume(OWNER, record["run_id"]))
    assert resumed[-1].stage == "done" and len(fake_kling.requests_at("create")) == 1
    backend.close()


def test_the_offline_render_stops_cleanly_when_the_disk_fills(disk: Disk, tmp_path: Path) -> None:
    settings = Settings(data_dir=disk.mount)
    studio = Studio(settings, {"local": LocalBackend(settings)})
    character = make_character(tmp_path / "character.png", 360, 640)
    dance = make_dance(tmp_path / "dance.mp4", 360, 640, seconds=8, fps=24, audio=True)  # renders to ~0.5 MB
    image, video = on_disk(disk, character), on_disk(disk, dance)
    disk.leave(16 * 1024)  # the record fits (and the space held back for records); the render does not
    steps = run(studio, image, video, "local")
    last = steps[-1]
    assert last.stage == "failed" and "disk is full" in last.text, [s.text for s in steps][-3:]
    (record,) = records(studio)
    files = sorted((p.stat().st_size, p.name) for p in disk.mount.rglob("*") if p.is_file())[-6:-1]
    assert record["status"] == "failed" and "disk is full" in record["error"], (last.text, files, disk.free())
    assert leftovers(disk.mount) == [] and list((disk.mount / "engine").glob("*.mp4")) == []
    assert studio.pending(OWNER) == []  # nothing to resume: History does not offer it

"""The offline engine: end to end on a synthetic pair, retargeting, smoothing, cancel, backend.

The pair is made here (tests/figures.py): a drawn character and a drawn dancer clip that
mediapipe's bundled pose model detects. Results are probed as a browser would need them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.backends.base import JobRequest
from kmc_ui.backends.local import READY_TEXT, LocalBackend
from kmc_ui.engine import EngineCancelled, EngineError, EngineJob, pipeline, run_engine
from kmc_ui.engine.encode import VideoWriter
from kmc_ui.engine.pipeline import output_size
from kmc_ui.engine.smoothing import OneEuro, fill_gaps, jitter, smooth_offline
from kmc_ui.history import History
from kmc_ui.jobs import run_job
from kmc_ui.media.probe import probe_video
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import bone_lengths, retarget
from tests.figures import make_character, make_dance, standing_skeleton
from tests.media_factory import make_image

SECONDS = 1.5
FPS = 24


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("engine-pair")
    character = make_character(d / "character.png", 360, 640)
    dance = make_dance(d / "dance.mp4", 360, 640, seconds=SECONDS, fps=FPS, audio=True)
    silent = make_dance(d / "dance_silent.mp4", 360, 640, seconds=SECONDS, fps=FPS, audio=False)
    return character, dance, silent


@pytest.fixture(scope="module")
def rendered(pair: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory):
    character, dance, _ = pair
    out = tmp_path_factory.mktemp("engine-out") / "result.mp4"
    seen: list[float] = []
    result = run_engine(EngineJob(character, dance, "video", "std", True), out, progress=lambda f, _t: seen.append(f))
    return result, seen


def _moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


# ---------------------------------------------------------------- end to end


def test_result_is_a_browser_ready_mp4_with_the_reference_timing(rendered) -> None:
    result, _ = rendered
    info = probe_video(result.path)
    assert info.ok, info.error
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert (info.width, info.height) == (720, 1280)  # std tier, the 9:16 video's framing
    assert info.fps == pytest.approx(FPS, abs=0.01)
    assert info.duration == pytest.approx(SECONDS, abs=1.0 / FPS + 0.01)
    assert info.has_audio and info.audio_codec == "aac"  # kept when asked
    assert _moov_before_mdat(result.path)  # +faststart
    assert result.frames == round(SECONDS * FPS)
    assert result.torn_frames == 0
    assert len(result.stretch) == result.frames  # the body's distortion, measured on every frame
    assert 0.0 < result.artefacts()["stretch"]["mean"] < 0.5


def test_progress_is_reported_per_frame_and_ends_at_the_end(rendered) -> None:
    result, seen = rendered
    assert len(seen) >= result.frames  # at least one call per rendered frame
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(0.995, abs=0.01)


def test_no_audio_when_not_asked_and_image_orientation_keeps_the_picture_frame(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    character, dance, _ = pair
    result = run_engine(EngineJob(character, dance, "image", "std", keep_sound=False), tmp_path / "out.mp4")
    info = probe_video(result.path)
    assert not info.has_audio
    assert (info.width, info.height) == output_size(360 / 640, "std") == (720, 1280)
    # `image` keeps the character where the picture has it: its hips start where they are drawn
    hips = L.midpoint(result.targets[0], *L.HIPS)
    assert hips[0] == pytest.approx(720 / 2, abs=0.08 * 720)


def test_silent_reference_gives_a_silent_result_and_says_so(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    character, _, silent = pair
    result = run_engine(EngineJob(character, silent, "video", "std", keep_sound=True), tmp_path / "out.mp4")
    assert not probe_video(result.path).has_audio
    assert any("no sound" in note for note in result.notes)


def test_output_size_is_even_and_follows_the_tier() -> None:
    assert output_size(16 / 9, "std") == (1280, 720)
    assert output_size(9 / 16, "pro") == (1080, 1920)
    w, h = output_size(704 / 1216, "std")
    assert (w, h) == (720, 1244) and w % 2 == 0 and h % 2 == 0


def test_encoder_refuses_odd_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "x.mp4", 721, 1280, "24/1", 1.0)


def test_encoded_colours_are_the_drawn_ones(tmp_path: Path) -> None:
    """Frames go down the encoder's pipe as yuv420p converted by OpenCV: flat patches of strong
    and pale colours come back (decoded by PyAV) within a few levels, in a file that plays
    everywhere."""
    import av

    colours = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (40, 180, 220), (200, 200, 200), (20, 20, 20), (255, 255, 255)]
    w, h = 64 * len(colours), 64
    frame = np.zeros((h, w, 3), np.uint8)
    for i, bgr in enumerate(colours):
        frame[:, 64 * i : 64 * (i + 1)] = bgr
    out = tmp_path / "colours.mp4"
    writer = VideoWriter(out, w, h, "24/1", 0.5)
    for _ in range(12):
        writer.write(frame)
    writer.close()
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        got = next(container.decode(stream)).to_ndarray(format="bgr24")
    for i, bgr in enumerate(colours):
        patch = got[16:48, 64 * i + 16 : 64 * i + 48].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - np.array(bgr)).max() < 6, (bgr, patch.round(1))


def test_the_encoder_runs_superfast_and_keeps_the_detail(tmp_path: Path) -> None:
    """x264 runs its superfast preset (its own settings, written into the stream, say subme=1
    and the CRF): CRF 22 at 720p, 20 at 1080p. A grey texture moving across 720p frames comes back
    (decoded by PyAV) at over 40 dB PSNR: 41.3 dB measured, veryfast at CRF 20 gave 41.6, superfast
    at CRF 30 35.9."""
    import av

    rng = np.random.default_rng(3)
    texture = cv2.resize(rng.integers(0, 256, (45, 100), np.uint8), (800, 360), interpolation=cv2.INTER_CUBIC)
    texture = cv2.cvtColor(cv2.GaussianBlur(texture, (0, 0), 2.0), cv2.COLOR_GRAY2BGR)
    for (w, h), crf in (((720, 1280), 22), ((1920, 1080), 20)):
        out = tmp_path / f"{w}x{h}.mp4"
        writer = VideoWriter(out, w, h, "24/1", 0.5)
        frames = []
        for i in range(12):
            frame = cv2.resize(np.roll(texture, 4 * i, axis=1), (w, h), interpolation=cv2.INTER_LINEAR)
            frames.append(frame)
            writer.write(frame)
        writer.close()
        data = out.read_bytes()
        assert b"x264 - core" in data and b"subme=1 " in data, "not the superfast preset"
        assert f"crf={crf}.0".encode() in data
        if h == 1280:
            with av.open(str(out)) as container:
                got = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
            assert len(got) == 12
            psnr = [cv2.PSNR(a, b) for a, b in zip(frames, got, strict=True)]
            assert min(psnr) > 40.0, psnr


def test_picture_without_a_person_is_a_clear_error(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, dance, _ = pair
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (400, 600), (120, 160, 200)).save(blank)
    with pytest.raises(EngineError, match="No person was found in the character picture"):
        run_engine(EngineJob(blank, dance), tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_unreadable_video_is_a_clear_error(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    character, _, _ = pair
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(EngineError, match="motion video cannot be"):
        run_engine(EngineJob(character, junk), tmp_path / "out.mp4")


# ---------------------------------------------------------------- retargeting


def _rotate_limbs(lm: np.ndarray, angle: float) -> np.ndarray:
    """Rotate each forearm and lower leg about its elbow/knee (2D lengths unchanged)."""
    out = lm.copy()
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    for joint, children in ((13, (15, 17, 19, 21)), (14, (16, 18, 20, 22)), (25, (27, 29, 31)), (26, (28, 30, 32))):
        for ch in children:
            out[ch, :2] = lm[joint, :2] + rot @ (lm[ch, :2] - lm[joint, :2])
    return out


def test_retargeting_keeps_the_characters_bone_lengths() -> None:
    dancer = standing_skeleton(100.0, 200.0, 400.0)
    source = np.stack([_rotate_limbs(dancer, a) for a in np.linspace(-1.2, 1.2, 30)])
    character = standing_skeleton(160.0, 200.0, 400.0, arm=1.3, leg=0.8)  # bigger, longer arms, shorter legs
    out = retarget(source, character)
    want = bone_lengths(character)
    body = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
    for t in range(len(out)):
        got = bone_lengths(out[t])
        for joint in body:
            assert got[joint] == pytest.approx(want[joint], rel=0.01), (t, joint)
    # ... while the directions are the motion's: the forearm turns with the source
    src_dir = source[:, 15, :2] - source[:, 13, :2]
    out_dir = out[:, 15, :2] - out[:, 13, :2]
    cos = (src_dir * out_dir).sum(1) / np.linalg.norm(src_dir, axis=1) / np.linalg.norm(out_dir, axis=1)
    assert cos.min() > 0.999


def test_engine_targets_have_the_characters_proportions(rendered, pair: tuple[Path, Path, Path]) -> None:
    """Through detection, smoothing and placement: the drawn frames have the character's limb
    proportions (forearm / upper arm, shin / thigh), not the dancer's."""
    from kmc_ui.engine.pipeline import load_picture
    from kmc_ui.engine.segment import cut_out

    result, _ = rendered
    character, _, _ = pair
    detected = bone_lengths(cut_out(load_picture(character)).landmarks)
    rest = bone_lengths(result.bind_pose)  # the bind pose after calibration (kmc_ui/engine/bind.py)
    drawn = [bone_lengths(t) for t in result.targets]
    for fore, upper in ((15, 13), (16, 14), (27, 25), (28, 26)):
        want = rest[fore] / rest[upper]
        got = float(np.median([d[fore] / d[upper] for d in drawn]))
        assert got == pytest.approx(want, rel=0.05), (fore, upper)
        # calibration moves joints by at most a few hundredths of the torso per round
        assert want == pytest.approx(detected[fore] / detected[upper], rel=0.25), (fore, upper)


# ---------------------------------------------------------------- smoothing


def test_one_euro_bounds_jitter_without_lag() -> None:
    from kmc_ui.engine.pipeline import SMOOTHING

    rng = np.random.default_rng(3)
    fps = 24.0
    t = np.arange(0, 8, 1 / fps)
    for freq, amp in ((0.3, 1.0), (0.8, 1.0), (1.5, 0.6)):  # slow sway .. quick arm swing (torso units)
        clean = np.stack([amp * np.sin(2 * np.pi * freq * t), 0.5 * np.cos(2 * np.pi * 0.5 * t)], axis=1)
        noisy = clean + rng.normal(0, 0.03, clean.shape)  # detector jitter: 3% of a torso
        smooth = smooth_offline(noisy, t, SMOOTHING)
        # jitter: frame-to-frame acceleration of the error (the motion's own acceleration left out)
        assert jitter(smooth - clean) < jitter(noisy - clean) / 2.5, freq
        assert np.abs(smooth - clean).mean() < np.abs(noisy - clean).mean(), freq  # closer than the raw track
        assert np.abs(smooth - clean).max() < 0.12, freq  # within 4 sigma everywhere: reach kept, ends included
        lags = range(-4, 5)
        errors = [np.abs(np.roll(smooth, k, axis=0)[8:-8] - clean[8:-8]).mean() for k in lags]
        assert list(lags)[int(np.argmin(errors))] == 0, freq  # zero lag (forward + backward)
    causal = OneEuro(min_cutoff=3.0, beta=1.0).filter(noisy, t)
    assert jitter(causal - clean) < jitter(noisy - clean) / 1.5  # the live (causal) filter helps too


def test_gaps_are_filled_between_detections() -> None:
    track = np.array([[0.0, 0.0], [np.nan, np.nan], [2.0, 4.0], [np.nan, np.nan]])
    filled, measured = fill_gaps(track)
    assert filled.tolist() == [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [2.0, 4.0]]
    assert measured.tolist() == [True, False, True, False]


# ---------------------------------------------------------------- cancel


def test_cancel_stops_rendering_within_one_frame(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    character, dance, _ = pair
    cancel = threading.Event()
    drawn: list[int] = []

    def on_frame(i: int, _frame: np.ndarray, _stats: object) -> None:
        drawn.append(i)
        if i == 5:
            cancel.set()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(EngineCancelled):
        run_engine(EngineJob(character, dance), out, cancel=cancel, on_frame=on_frame)
    assert drawn == list(range(6))  # frame 5 set the flag; no later frame was shown or written
    assert not out.exists()  # the partial file is removed


def test_frames_drawn_on_several_threads_are_the_frames_drawn_on_one(
    pair: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render loop draws RENDER_THREADS frames at once, each on its own renderer: the same
    frames, in order, with the same figures as one renderer drawing them one after the other."""
    character, dance, _ = pair
    default = pipeline.RENDER_THREADS
    assert default > 1  # the engine draws on several threads
    runs = []
    for threads in (1, default):
        monkeypatch.setattr(pipeline, "RENDER_THREADS", threads)
        monkeypatch.setattr(pipeline, "FRAME_BUFFERS", threads + 2)
        shown: list[tuple[int, str]] = []

        def on_frame(i: int, frame: np.ndarray, _stats: object, shown: list[tuple[int, str]] = shown) -> None:
            shown.append((i, hashlib.sha256(frame).hexdigest()))

        job = EngineJob(character, dance, "video", "std", keep_sound=False)
        result = run_engine(job, tmp_path / f"threads-{threads}.mp4", on_frame=on_frame)
        assert [i for i, _ in shown] == list(range(result.frames))  # every frame shown once, in order
        runs.append((shown, result.tears.tolist(), result.stretch.tolist(), result.holes.tolist()))
    assert len({digest for _, digest in runs[0][0]}) > 10  # the dancer moves: the frames differ
    assert runs[0] == runs[1]


def test_cancel_while_the_motion_is_read_stops_that_reading(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The motion is read on its own thread while the picture is cut out: a stop (or a picture
    with nobody in it) ends that reading too, so nothing is left running inside mediapipe."""
    character, dance, _ = pair
    from kmc_ui.engine import pipeline

    said: list[str] = []

    def progress(_fraction: float, text: str) -> None:
        said.append(text)
        if text.startswith("Reading the motion"):
            cancel.set()

    cancel = threading.Event()
    with pytest.raises(EngineCancelled):
        run_engine(EngineJob(character, dance), tmp_path / "stopped.mp4", cancel=cancel, progress=progress)
    reading_steps = [t for t in said if t.startswith("Reading the motion")]
    assert reading_steps and not any(t.startswith("Rendering") for t in said)
    idle = pipeline._MOTION.submit(lambda: "idle")  # the reading thread is free at once
    assert idle.result(timeout=5) == "idle"
    assert len([t for t in said if t.startswith("Reading the motion")]) == len(reading_steps)  # it stopped


# ---------------------------------------------------------------- the backend


def test_local_backend_is_ready_without_keys_and_says_what_it_cannot_do(tmp_path: Path) -> None:
    ok, text = LocalBackend(work_dir=tmp_path).ready()
    assert ok
    assert "prompt" in text and "ignored" in text and "preview-quality" in text
    assert text == READY_TEXT


def test_local_backend_runs_through_the_job_runner(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    character, dance, _ = pair
    backend = LocalBackend(work_dir=tmp_path / "work")
    history = History(tmp_path / "data")
    request = JobRequest(character, dance, orientation="video", tier="std", keep_sound=True, run_id="run-local-1")
    history.create("me", {"run_id": request.run_id, "status": "created"})
    steps = list(run_job(backend, request, history, "me"))
    assert steps[-1].stage == "done", steps[-1].text
    info = probe_video(steps[-1].result_path)
    assert info.codec == "h264" and info.has_audio
    assert any(s.stage == "running" and "%" in s.text for s in steps)  # progress shown while rendering
    assert steps[-1].result_duration == pytest.approx(SECONDS, abs=0.05)


def test_local_backend_shows_the_latest_frame_while_rendering(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A JPEG of the frame just drawn, replaced as the render goes on, gone once the render ends;
    the first ones already while the puppet's joints are calibrated, before the render starts."""
    character, dance, _ = pair
    backend = LocalBackend(work_dir=tmp_path / "work")
    task_id = backend.submit(JobRequest(character, dance, orientation="video", tier="std", run_id="run-preview"))
    preview = backend.preview_path(task_id)
    seen: set[bytes] = set()
    before_render = 0  # pictures read while the task still said it was calibrating (read after them)
    while not backend.poll(task_id).done:
        try:
            data = preview.read_bytes()
        except FileNotFoundError:
            data = b""
        if data:
            assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"  # whole JPEGs only
            seen.add(data)
            before_render += "Calibrating" in str(backend.poll(task_id).message)
        time.sleep(0.02)
    assert backend.poll(task_id).status == "succeeded"
    assert len(seen) >= 2, len(seen)  # it moves on while rendering
    assert before_render >= 1  # the puppet shows moving before the first frame is rendered
    assert not preview.exists()
    frame = cv2.imdecode(np.frombuffer(sorted(seen, key=len)[-1], np.uint8), cv2.IMREAD_COLOR)
    assert frame is not None and frame.shape[0] <= 480
    assert backend.preview_path("../../etc/passwd").name == "none.preview.jpg"  # only its own task ids


def test_local_backend_cancel_stops_the_render(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    character, dance, _ = pair
    backend = LocalBackend(work_dir=tmp_path / "work")
    task = backend.submit(JobRequest(character, dance, run_id="run-local-2"))
    deadline = time.monotonic() + 60
    while backend.poll(task).progress is not None and backend.poll(task).progress < 0.45:  # rendering frames
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert backend.cancel(task)
    asked = time.monotonic()
    state = backend.wait(task, timeout=30)
    assert state.status == "canceled"
    assert time.monotonic() - asked < 1.0  # a frame takes ~30 ms; the encoder is killed at once
    assert not list((tmp_path / "work").glob("*.mp4"))


def test_local_backend_failure_is_a_readable_task_state(tmp_path: Path) -> None:
    backend = LocalBackend(work_dir=tmp_path / "work")
    picture = make_image(tmp_path / "blank.png", 400, 600)
    video = tmp_path / "junk.mp4"
    video.write_bytes(b"\x00" * 2048)
    state = backend.wait(backend.submit(JobRequest(picture, video)), timeout=60)
    assert state.status == "failed"
    assert "Traceback" not in state.message and state.message
    assert backend.poll("local-unknown").status == "failed"


# ---------------------------------------------------------------- the shared sample


@pytest.mark.slow
def test_sample_pair_renders_without_tears(shared_media: Path, tmp_path: Path) -> None:
    character = shared_media / "character_anime_fullbody.jpg"
    dance = shared_media / "dance_fullbody_12s.mp4"
    result = run_engine(EngineJob(character, dance, "image", "std", True), tmp_path / "sample.mp4")
    info = probe_video(result.path)
    assert (info.codec, info.pix_fmt, info.has_audio) == ("h264", "yuv420p", True)
    assert info.duration == pytest.approx(10.0, abs=0.05)  # `image` caps the motion at 10 s
    assert result.torn_frames <= 0.01 * result.frames
    assert any("first 10.0 s" in note for note in result.notes)

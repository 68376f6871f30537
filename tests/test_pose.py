"""Pose pre-flight: detection on real media, exact findings, thresholds, cache, previews.

Real media: ../shared/media (skipped with a reason when absent) and clips made here from it
with ffmpeg (crops, side-by-side copies, a spliced cut, a panned window, a sped-up take, a
rotated file). Threshold logic is tested on synthetic landmark arrays, one case just above
and one just below every threshold in kmc_ui.limits.PoseThresholds.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import threading
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kmc_ui.checks.pose import (
    camera_travel,
    detect_cuts,
    findings_from,
    image_facts,
    pose_findings,
    video_facts,
)
from kmc_ui.limits import POSE
from kmc_ui.pose import cache as pose_cache
from kmc_ui.pose import landmarks as L
from kmc_ui.pose import model as pose_model
from kmc_ui.pose.detect import ImageAnalysis, Pose, VideoAnalysis, VideoSampling, analyse_image, analyse_video
from kmc_ui.pose.preview import skeleton_preview
from kmc_ui.pose.retarget import NECK, PARENT, ROOT, bone_lengths, retarget
from tests.media_factory import ffmpeg_exe

CHARACTER = "character_anime_fullbody.jpg"
DANCE = "dance_fullbody_12s.mp4"


def codes(findings) -> list[tuple[str, str, str]]:
    return [(f.level, f.input, f.code) for f in findings]


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, capture_output=True)


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
SIDE_BY_SIDE = "[0:v]scale=270:480,split[a][b];[a][b]hstack"  # two dancers, one frame
PAN = "scale=720:1280,crop=480:1280:x='min(240,80*t)':y=0"  # a 480 px window sliding 80 px/s


# ---------------------------------------------------------------- fixtures: real media


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pose-cache")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> dict[str, Path]:
    """Every derived picture and clip, made once for the module."""
    root = tmp_path_factory.mktemp("pose-media")
    char = Image.open(shared_media / CHARACTER).convert("RGB")
    w, h = char.size
    out: dict[str, Path] = {}

    def save(name: str, im: Image.Image) -> None:
        out[name] = root / name
        im.save(out[name])

    save("upper.png", char.crop((0, 0, w, h // 2)))
    save("close.png", char.crop((int(w * 0.15), int(h * 0.08), int(w * 0.85), int(h * 0.35))))
    save("upside_down.png", char.transpose(Image.Transpose.ROTATE_180))
    save("lying.png", char.rotate(90, expand=True))
    save("empty.png", Image.linear_gradient("L").resize((600, 800)).convert("RGB"))
    dance = shared_media / DANCE
    with av.open(str(dance)) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 30).to_image()
    # the dancer (a real person: detected reliably) small on a large canvas: ~3% of the area
    canvas = Image.new("RGB", (1600, 1600), (120, 190, 220))
    canvas.paste(frame.resize((216, 384)), (530, 400))
    save("small_subject.png", canvas)
    # the dancer's frame cut to her torso's width: her hands leave the picture
    save("narrow_dancer.png", frame.crop((270, 0, 810, 1920)))

    small = root / "small.mp4"  # the whole dance at 360x640: the cheap source of most clips
    ffmpeg("-i", str(dance), "-vf", "scale=360:640", *X264, "-an", str(small))
    clips = {
        "clean.mp4": ["-i", str(small), "-t", "4", *X264],
        "two_people.mp4": ["-i", str(small), "-t", "3", "-filter_complex", SIDE_BY_SIDE, *X264],
        "cut.mp4": [
            "-i",
            str(small),
            "-filter_complex",
            "[0:v]trim=0:2,setpts=PTS-STARTPTS[a];"
            "[0:v]trim=6:8,setpts=PTS-STARTPTS,hflip,hue=h=120[b];[a][b]concat=n=2:v=1[v]",
            "-map",
            "[v]",
            *X264,
        ],
        "pan.mp4": ["-i", str(dance), "-t", "4", "-vf", PAN, *X264, "-an"],
        # the dance looped three times and played 8x faster (4.5 s)
        "fast.mp4": ["-stream_loop", "2", "-i", str(small), "-vf", "setpts=PTS/8", "-r", "30", *X264],
        "nobody.mp4": ["-f", "lavfi", "-i", "testsrc2=size=480x640:rate=24", "-t", "3", *X264],
        "junk.mp4": [],
    }
    for name, args in clips.items():
        out[name] = root / name
        if args:
            ffmpeg(*args, str(out[name]))
    out["junk.mp4"].write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40)
    # odd size, 4:4:4 chroma: the slow (swscale) conversion path
    out["odd444.mp4"] = root / "odd444.mp4"
    ffmpeg(
        "-i",
        str(out["clean.mp4"]),
        "-t",
        "2",
        "-vf",
        "scale=361:641",
        *X264[:4],
        "-pix_fmt",
        "yuv444p",
        str(out["odd444.mp4"]),
    )
    # a portrait clip stored landscape (coded 640x360) with a display rotation back to portrait
    ffmpeg("-i", str(out["clean.mp4"]), "-vf", "transpose=2", *X264, str(root / "stored.mp4"))
    out["rotated.mp4"] = root / "rotated.mp4"
    ffmpeg("-i", str(root / "stored.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=270", str(out["rotated.mp4"]))
    out["character"] = shared_media / CHARACTER
    out["dance"] = dance
    return out


# ---------------------------------------------------------------- the model bundle


def test_bundle_is_built_offline_from_the_wheel_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pose_model, "_BUNDLE", None)
    data = pose_model.bundle_bytes(tmp_path)
    cached = tmp_path / pose_model.bundle_name()
    assert cached.read_bytes() == data
    with zipfile.ZipFile(cached) as zf:
        assert sorted(zf.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        for name in zf.namelist():
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED  # mmap-able, as mediapipe wants
    # a second process-wide call comes from memory, a fresh process from the file
    monkeypatch.setattr(pose_model, "_BUNDLE", None)
    monkeypatch.setattr(pose_model, "build_bundle", lambda: pytest.fail("rebuilt although cached"))
    assert pose_model.bundle_bytes(tmp_path) == data


# ---------------------------------------------------------------- real media: exact findings


def test_matching_full_body_pair_has_no_findings(made: dict[str, Path], cache_dir: Path) -> None:
    image = analyse_image(made["character"], cache_dir=cache_dir)
    video = analyse_video(made["dance"], cache_dir=cache_dir)
    img, vid = image_facts(image), video_facts(video)
    assert (image.width, image.height, len(image.people)) == (704, 1216, 1)
    assert img.framing == "full_body" and img.angle < 10 and img.area > 0.5
    assert (video.width, video.height) == (1080, 1920)
    assert video.frames_looked_at >= 140  # every reference frame of 288 (B-frames skipped)
    assert vid.framing == "full_body" and vid.found.all()
    assert vid.cuts == () and vid.pan < 0.02 and vid.people_fraction == 0.0 and vid.fast_fraction == 0.0
    for orientation in ("video", "image"):
        assert pose_findings(made["character"], made["dance"], orientation, cache_dir=cache_dir) == []


def test_upper_body_crop_against_full_body_motion(made: dict[str, Path], cache_dir: Path) -> None:
    findings = pose_findings(made["upper.png"], made["dance"], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "pair", "pose_framing_mismatch")]
    assert "upper body" in findings[0].message and "full body" in findings[0].message
    assert image_facts(analyse_image(made["upper.png"], cache_dir=cache_dir)).framing == "upper_body"


def test_close_up_crop_is_found_by_its_face(made: dict[str, Path], cache_dir: Path) -> None:
    facts = image_facts(analyse_image(made["close.png"], cache_dir=cache_dir))
    assert (facts.found, facts.face_only, facts.framing) == (True, True, "close_up")
    findings = pose_findings(made["close.png"], made["dance"], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "pair", "pose_framing_mismatch")]
    assert "close-up" in findings[0].message


def test_upside_down_and_lying_pictures(made: dict[str, Path], cache_dir: Path) -> None:
    upside = pose_findings(made["upside_down.png"], None, cache_dir=cache_dir)
    assert codes(upside) == [("warning", "image", "pose_extreme_orientation")]
    assert "upside down" in upside[0].message
    lying = pose_findings(made["lying.png"], None, cache_dir=cache_dir)
    assert codes(lying) == [("warning", "image", "pose_extreme_orientation")]
    assert "lying down" in lying[0].message


def test_small_subject_is_found_in_tiles_and_flagged(made: dict[str, Path], cache_dir: Path) -> None:
    facts = image_facts(analyse_image(made["small_subject.png"], cache_dir=cache_dir))
    assert facts.framing == "full_body" and 0.02 < facts.area < POSE.image_subject_min_area
    findings = pose_findings(made["small_subject.png"], None, cache_dir=cache_dir)
    assert codes(findings) == [("warning", "image", "pose_subject_small_image")]


def test_narrow_picture_hides_the_hands_and_clips_the_motion(made: dict[str, Path], cache_dir: Path) -> None:
    findings = pose_findings(made["narrow_dancer.png"], made["dance"], cache_dir=cache_dir)
    assert codes(findings) == [
        ("warning", "image", "pose_image_hidden_limbs"),
        ("warning", "pair", "pose_motion_clipping"),
    ]
    assert "both hands" in findings[0].message
    assert "left and right edges" in findings[1].message or "right and left edges" in findings[1].message


def test_nobody_in_picture_or_video(made: dict[str, Path], cache_dir: Path) -> None:
    assert codes(pose_findings(made["empty.png"], made["nobody.mp4"], cache_dir=cache_dir)) == [
        ("warning", "image", "pose_image_no_person"),
        ("warning", "video", "pose_video_no_person"),
    ]


def test_two_people_side_by_side(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["two_people.mp4"], cache_dir=cache_dir)
    assert list(video.people_counts) == [2, 2]
    findings = pose_findings(made["character"], made["two_people.mp4"], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "video", "pose_video_people")]
    assert "2 people" in findings[0].message


def test_hard_cut_is_found_at_its_time(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["cut.mp4"], cache_dir=cache_dir)
    cuts = detect_cuts(video)
    assert len(cuts) == 1 and abs(cuts[0] - 2.0) <= 0.05
    findings = pose_findings(made["character"], made["cut.mp4"], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "video", "pose_video_cut")]
    assert "at 2.0 s" in findings[0].message


def test_clean_clip_has_no_cut_and_no_camera_motion(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["clean.mp4"], cache_dir=cache_dir)
    assert detect_cuts(video) == ()
    pan, _, zoom, known = camera_travel(video)
    assert pan < 0.01 and zoom < 0.01 and known == 1.0
    assert pose_findings(made["character"], made["clean.mp4"], cache_dir=cache_dir) == []


def test_panned_clip_is_camera_motion_and_advises_video_orientation(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["pan.mp4"], cache_dir=cache_dir)
    pan, dx, _, known = camera_travel(video)
    assert abs(pan - 0.5) < 0.05 and dx < 0 and known == 1.0  # 240 px of 480, content moving left
    assert codes(pose_findings(made["character"], made["pan.mp4"], "video", cache_dir=cache_dir)) == [
        ("warning", "video", "pose_camera_motion")
    ]
    with_image = pose_findings(made["character"], made["pan.mp4"], "image", cache_dir=cache_dir)
    assert codes(with_image) == [
        ("warning", "video", "pose_camera_motion"),
        ("hint", "pair", "pose_orientation_advice"),
    ]
    assert "panning right" in with_image[0].message and "'video'" in with_image[1].fix


def test_sped_up_dance_is_fast_motion(made: dict[str, Path], cache_dir: Path) -> None:
    findings = pose_findings(made["character"], made["fast.mp4"], cache_dir=cache_dir)
    assert codes(findings) == [("warning", "video", "pose_fast_motion")]
    assert "shorter" in findings[0].fix and "bills" in findings[0].fix


def test_rotated_video_is_analysed_as_displayed(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["rotated.mp4"], cache_dir=cache_dir)
    plain = analyse_video(made["clean.mp4"], cache_dir=cache_dir)
    assert (video.width, video.height) == (360, 640)
    assert video_facts(video).framing == "full_body"
    ok = np.isfinite(video.landmarks[:, 0, 0]) & np.isfinite(plain.landmarks[:, 0, 0])
    # same person in the same place as in the unrotated clip (within a few pixels)
    assert (
        np.nanmedian(np.abs(video.landmarks[ok][:, L.BODY_JOINTS, :2] - plain.landmarks[ok][:, L.BODY_JOINTS, :2])) < 6
    )
    assert pose_findings(made["character"], made["rotated.mp4"], cache_dir=cache_dir) == []


def test_odd_sized_444_video_takes_the_slow_conversion_path(made: dict[str, Path], cache_dir: Path) -> None:
    video = analyse_video(made["odd444.mp4"], cache_dir=cache_dir)
    assert (video.width, video.height, video.error) == (361, 641, "")
    assert video_facts(video).framing == "full_body" and video_facts(video).found.all()
    assert pose_findings(made["character"], made["odd444.mp4"], cache_dir=cache_dir) == []


def test_stream_with_no_reference_frames_is_decoded_in_full(
    made: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmc_ui.pose import detect

    real = detect._VideoPass._decode

    def nothing_with_skipping(self: object, container: object, skip_nonref: bool) -> None:
        if skip_nonref:  # what a stream whose frames are all flagged non-reference gives
            raise detect._NothingDecoded
        return real(self, container, skip_nonref)

    monkeypatch.setattr(detect._VideoPass, "_decode", nothing_with_skipping)
    video = analyse_video(made["clean.mp4"], cache_dir=tmp_path, use_cache=False)
    assert video.error == "" and video.frames_looked_at == 96  # every frame of 4 s at 24 fps
    assert video_facts(video).framing == "full_body"


def test_cancel_stops_the_analysis_and_caches_nothing(made: dict[str, Path], tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    pose_cache.clear_memory()
    video = analyse_video(made["cut.mp4"], cache_dir=tmp_path, cancel=cancel)
    assert video.error == "cancelled" and len(video.times) == 0
    assert not list(tmp_path.glob("pose/vid-*.npz"))
    assert pose_findings(made["character"], made["cut.mp4"], cache_dir=tmp_path, cancel=cancel) == []
    assert analyse_video(made["cut.mp4"], cache_dir=tmp_path).error == ""  # the next, uncancelled run works


def test_bad_files_give_a_hint_never_a_traceback(made: dict[str, Path], cache_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"
    findings = pose_findings(missing, made["junk.mp4"], cache_dir=cache_dir)
    assert codes(findings) == [("hint", "image", "pose_check_skipped"), ("hint", "video", "pose_check_skipped")]
    assert "cannot read the file" in findings[0].message
    assert "cannot be" in findings[1].message
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    assert codes(pose_findings(not_an_image, None, cache_dir=cache_dir)) == [("hint", "image", "pose_check_skipped")]
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(made["clean.mp4"].read_bytes()[:60_000])
    result = pose_findings(None, truncated, cache_dir=cache_dir)  # moov at the end: unreadable
    assert codes(result) in ([("hint", "video", "pose_check_skipped")], [])


# ---------------------------------------------------------------- cache and threads


def test_cache_by_content_in_memory_and_on_disk(made: dict[str, Path], tmp_path: Path) -> None:
    cdir = tmp_path / "cache"
    pose_cache.clear_memory()  # other tests analysed this clip with another cache dir
    first = analyse_video(made["clean.mp4"], cache_dir=cdir)
    assert analyse_video(made["clean.mp4"], cache_dir=cdir) is first  # memory hit
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(made["clean.mp4"].read_bytes())
    renamed = analyse_video(copy, cache_dir=cdir)  # same content, other name: hit, path updated
    assert renamed.path == str(copy) and renamed.elapsed == first.elapsed
    assert len(list((cdir / "pose").glob("vid-*.npz"))) == 1
    pose_cache.clear_memory()
    from_disk = analyse_video(made["clean.mp4"], cache_dir=cdir)
    assert from_disk is not first and from_disk.elapsed == first.elapsed  # not recomputed
    for name in ("times", "landmarks", "people_counts", "frame_diff", "hist_diff", "bg_motion"):
        np.testing.assert_array_equal(getattr(from_disk, name), getattr(first, name))
    other = analyse_video(made["clean.mp4"], VideoSampling(sample_fps=2.0), cache_dir=cdir)  # other parameters: miss
    assert other.elapsed != first.elapsed and len(other.times) < len(first.times)
    assert len(list((cdir / "pose").glob("vid-*.npz"))) == 2


def test_detection_is_thread_safe(made: dict[str, Path], cache_dir: Path) -> None:
    results: dict[int, list[np.ndarray]] = {}

    def work(i: int) -> None:
        results[i] = [analyse_image(made["character"], cache_dir, use_cache=False).pose.landmarks for _ in range(3)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reference = results[0][0]
    for found in results.values():
        for lm in found:
            np.testing.assert_allclose(lm, reference, atol=1e-3)


# ---------------------------------------------------------------- skeleton preview


def test_skeleton_preview_png_and_mp4(made: dict[str, Path], cache_dir: Path, tmp_path: Path) -> None:
    png, mp4 = skeleton_preview(made["character"], made["clean.mp4"], tmp_path, cache_dir=cache_dir)
    with Image.open(png) as im:
        assert im.size == (704, 1216)  # the character at its own size, skeleton drawn on it
        assert (
            np.asarray(im.convert("RGB")).astype(int).sum()
            != np.asarray(Image.open(made["character"]).convert("RGB")).astype(int).sum()
        )
    assert mp4 is not None
    data = mp4.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart
    with av.open(str(mp4)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert s.codec_context.width % 2 == 0 and s.codec_context.height % 2 == 0
        assert max(s.codec_context.width, s.codec_context.height) <= 640
        assert abs(float(s.duration * s.time_base) - 4.0) < 0.2
        assert not c.streams.audio
    _, strip = skeleton_preview(made["character"], made["clean.mp4"], tmp_path, cache_dir=cache_dir, kind="strip")
    assert strip is not None and strip.suffix == ".png"
    with Image.open(strip) as im:
        frame_w = round(360 * 704 / 1216) // 2 * 2
        assert im.size == (6 * (frame_w + 4), 360)  # six frames side by side
    png2, none = skeleton_preview(made["empty.png"], made["clean.mp4"], tmp_path, cache_dir=cache_dir)
    assert png2.is_file() and none is None  # nobody to retarget onto


# ---------------------------------------------------------------- retargeting


def standing(cx: float = 500.0, top: float = 100.0, h: float = 800.0, arms: float = 0.15) -> np.ndarray:
    """A synthetic upright, front-facing body of height h (top of head to feet)."""
    lm = np.zeros((33, 4), dtype=np.float32)
    lm[:, 3] = 1.0

    def put(i: int, dx: float, dy: float) -> None:
        lm[i, :2] = (cx + dx * h, top + dy * h)

    put(0, 0, 0.06)
    for i, dx in zip(range(1, 7), (0.01, 0.02, 0.03, -0.01, -0.02, -0.03), strict=True):
        put(i, dx, 0.045)
    put(7, 0.04, 0.05)
    put(8, -0.04, 0.05)
    put(9, 0.015, 0.08)
    put(10, -0.015, 0.08)
    for side in (1, -1):  # +: the body's left, on the picture's right (facing the camera)
        o = 0 if side == 1 else 1
        put(11 + o, side * 0.11, 0.18)
        put(13 + o, side * (0.11 + arms * 0.3), 0.33)
        put(15 + o, side * (0.11 + arms), 0.46)
        for j in (17, 19, 21):
            put(j + o, side * (0.11 + arms), 0.49)
        put(23 + o, side * 0.07, 0.5)
        put(25 + o, side * 0.07, 0.72)
        put(27 + o, side * 0.07, 0.93)
        put(29 + o, side * 0.07, 0.95)
        put(31 + o, side * 0.09, 0.97)
    return lm


def test_retarget_keeps_directions_takes_character_lengths_and_scales_the_root() -> None:
    src0 = standing(cx=300, top=50, h=400, arms=0.15)
    hand = [L.L_WRIST, 17, 19, 21]
    forearm0 = src0[L.L_WRIST, :2] - src0[L.L_ELBOW, :2]
    length = float(np.linalg.norm(forearm0))
    src1 = src0.copy()
    src1[:, 0] += 40  # the whole body steps 40 px right ...
    up_right = np.array([1.0, -1.0]) / math.sqrt(2) * length  # ... and raises the forearm (same length)
    src1[hand, :2] += up_right - forearm0
    src2 = src0.copy()
    src2[hand, :2] -= forearm0 / 2  # the forearm points at the camera: it looks half as long
    character = standing(cx=600, top=100, h=1000, arms=0.05)  # taller, arms closer in
    out = retarget(np.stack([src0, src1, src2, L.empty()]), character)
    assert out.shape == (4, 33, 4) and np.isnan(out[3]).all()
    c_len = bone_lengths(character)
    scale = c_len[NECK] / bone_lengths(src0)[NECK]  # torso ratio: 2.5
    assert scale == pytest.approx(2.5, rel=1e-4)
    root = (out[:, L.L_HIP, :2] + out[:, L.R_HIP, :2]) / 2
    np.testing.assert_allclose(root[0], (character[L.L_HIP, :2] + character[L.R_HIP, :2]) / 2, atol=1e-3)
    np.testing.assert_allclose(root[1] - root[0], (40 * scale, 0), atol=1e-3)  # root displacement, scaled
    forearm = out[1, L.L_WRIST, :2] - out[1, L.L_ELBOW, :2]
    assert np.linalg.norm(forearm) == pytest.approx(c_len[L.L_WRIST], rel=1e-4)  # the character's length ...
    np.testing.assert_allclose(forearm / np.linalg.norm(forearm), up_right / length, atol=1e-5)  # source's direction
    short = np.linalg.norm(out[2, L.L_WRIST, :2] - out[2, L.L_ELBOW, :2])
    assert short == pytest.approx(c_len[L.L_WRIST] / 2, rel=1e-4)  # ... foreshortened as in the source
    for child, parent in PARENT.items():  # every bone of the first frame has the character's length
        if child < 33 and parent < 33:
            got = np.linalg.norm(out[0, child, :2] - out[0, parent, :2])
            assert got == pytest.approx(c_len[child], rel=1e-3, abs=1e-3), L.NAMES[child]
    assert ROOT not in PARENT


def test_retarget_rooted_at_the_nose_puts_the_face_where_the_motion_moves_it() -> None:
    """A head and shoulders is retargeted from its nose (root=NOSE): the character's nose starts at
    its own and follows the source's nose, scaled, whatever the guessed torsos between hips and
    shoulders say. Rooted at the hips, a torso leaning 8 degrees more in the source puts the
    nose tens of px off the character's."""
    src0 = standing(cx=300, top=50, h=400)
    hips = (src0[L.L_HIP, :2] + src0[L.R_HIP, :2]) / 2
    turn = np.radians(8.0)
    lean = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    src0[:, :2] = (src0[:, :2] - hips) @ lean.T + hips  # the whole body leans about its hips
    src1 = src0.copy()
    src1[:, :2] += (25.0, -10.0)  # the head and shoulders move up and to the right
    src1[L.NOSE, :2] += (6.0, 0.0)  # and the head turns a little
    character = standing(cx=600, top=100, h=1000)
    scale = bone_lengths(character)[NECK] / bone_lengths(src0)[NECK]
    at_nose = retarget(np.stack([src0, src1]), character, root=L.NOSE)
    np.testing.assert_allclose(at_nose[0, L.NOSE, :2], character[L.NOSE, :2], atol=1e-3)
    moved = at_nose[1, L.NOSE, :2] - at_nose[0, L.NOSE, :2]
    np.testing.assert_allclose(moved, (31.0 * scale, -10.0 * scale), atol=1e-3)
    at_hips = retarget(np.stack([src0, src1]), character)
    shift = at_nose - at_hips  # the same pose, moved as a whole
    np.testing.assert_allclose(shift[:, :, :2], np.broadcast_to(shift[:, :1, :2], shift[:, :, :2].shape), atol=1e-3)
    assert np.linalg.norm(at_hips[0, L.NOSE, :2] - character[L.NOSE, :2]) > 50.0  # the lean, at a torso's length


# ---------------------------------------------------------------- thresholds: synthetic cases

W, H = 1000, 1000


def img_analysis(lm: np.ndarray | None, w: int = W, h: int = H, face=None) -> ImageAnalysis:
    people = (Pose(lm.astype(np.float32), w, h),) if lm is not None else ()
    return ImageAnalysis("synthetic.png", w, h, people, face)


def vid_analysis(lms: list[np.ndarray], times: np.ndarray | None = None, w: int = W, h: int = H, **kw) -> VideoAnalysis:
    k = len(lms)
    if times is None:  # pairs: 0, 0.04, 0.667, 0.707, ...
        times = np.array([(i // 2) * (2 / 3) + (i % 2) * 0.04 for i in range(k)])
    m = 100
    base = {
        "times": np.asarray(times, dtype=np.float64),
        "landmarks": np.stack(lms).astype(np.float32),
        "people_times": np.arange(5, dtype=np.float64),
        "people_counts": np.ones(5, dtype=np.int32),
        "frame_times": np.arange(m) / 25.0,
        "frame_diff": np.full(m, 0.01, dtype=np.float32),
        "hist_diff": np.full(m, 0.01, dtype=np.float32),
        "bg_motion": np.zeros((k, 3), dtype=np.float32),
    }
    base.update(kw)
    return VideoAnalysis("synthetic.mp4", w, h, 25.0, float(base["times"][-1]) + 0.5, **base)


def still(n: int = 20) -> list[np.ndarray]:
    return [standing() for _ in range(n)]


def check(image: ImageAnalysis | None, video: VideoAnalysis | None, orientation: str = "video") -> list[str]:
    return [f.code for f in findings_from(image, video, orientation)]


def test_synthetic_baseline_has_no_findings() -> None:
    assert check(img_analysis(standing()), vid_analysis(still())) == []
    assert check(img_analysis(standing()), vid_analysis(still()), "image") == []


def rotated(lm: np.ndarray, degrees: float) -> np.ndarray:
    """The body turned in the picture plane about its hip midpoint (torso_angle == degrees)."""
    out = lm.copy()
    c = L.midpoint(lm, *L.HIPS)
    a = math.radians(degrees)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out[:, :2] = (lm[:, :2] - c) @ r.T + c
    return out


def centred(lm: np.ndarray, cx: float = 500, cy: float = 500) -> np.ndarray:
    out = lm.copy()
    out[:, :2] += np.array([cx, cy]) - (lm[:, :2].min(axis=0) + lm[:, :2].max(axis=0)) / 2
    return out


@pytest.mark.parametrize(
    ("angle", "expected"), [(59.5, []), (60.5, ["lying"]), (134.5, ["lying"]), (135.5, ["upside"])]
)
def test_image_orientation_thresholds(angle: float, expected: list[str]) -> None:
    lm = centred(rotated(standing(h=600), angle))
    assert L.torso_angle(lm) == pytest.approx(angle, abs=1e-3)
    found = findings_from(img_analysis(lm), None)
    found = [f for f in found if f.code == "pose_extreme_orientation"]
    assert len(found) == len(expected)
    if expected:
        assert ("upside down" if expected[0] == "upside" else "lying down") in found[0].message


def box_area(lm: np.ndarray, w: int, h: int) -> float:
    seen = L.seen(lm, w, h, POSE.min_visibility)
    return L.box_area_fraction(L.subject_box(lm, seen, w, h, POSE.subject_box_pad), w, h)


@pytest.mark.parametrize("factor", [0.99, 1.01])
def test_image_subject_area_threshold(factor: float) -> None:
    lm = standing(cx=2000, top=1000, h=400)
    # the same body on a canvas sized so its box covers threshold x factor of the area
    side = round(4000 * math.sqrt(box_area(lm, 4000, 4000) / (POSE.image_subject_min_area * factor)))
    lm = centred(lm, side / 2, side / 2)
    assert box_area(lm, side, side) == pytest.approx(POSE.image_subject_min_area * factor, rel=0.002)
    got = check(img_analysis(lm, side, side), None)
    assert got == ([] if factor > 1 else ["pose_subject_small_image"])


def test_subject_box_is_the_landmarks_box_grown_by_the_pad() -> None:
    lm = standing(cx=500, top=100, h=800)
    x0, y0, x1, y1 = lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()
    grow = POSE.subject_box_pad * max(x1 - x0, y1 - y0)
    box = L.subject_box(lm, np.ones(33, bool), 10_000, 10_000, POSE.subject_box_pad)
    np.testing.assert_allclose(box, (x0 - grow, y0 - grow, x1 + grow, y1 + grow), rtol=1e-5)


@pytest.mark.parametrize("factor", [0.99, 1.01])
def test_video_subject_area_threshold(factor: float) -> None:
    lm = standing(cx=2000, top=1000, h=400)
    side = round(4000 * math.sqrt(box_area(lm, 4000, 4000) / (POSE.video_subject_min_area * factor)))
    lm = centred(lm, side / 2, side / 2)
    assert box_area(lm, side, side) == pytest.approx(POSE.video_subject_min_area * factor, rel=0.002)
    got = check(None, vid_analysis([lm] * 10, w=side, h=side))
    assert got == ([] if factor > 1 else ["pose_subject_small_video"])


@pytest.mark.parametrize("factor", [0.98, 1.02])
def test_face_close_up_threshold(factor: float) -> None:
    fh = POSE.face_close_up_min_height * H * factor
    got = check(img_analysis(None, face=(400, 100, 400 + fh, 100 + fh)), None)
    assert got == ([] if factor > 1 else ["pose_image_no_person"])


@pytest.mark.parametrize(("vis", "expected"), [(0.49, ["pose_image_subject_hidden"]), (0.51, [])])
def test_min_visibility_threshold(vis: float, expected: list[str]) -> None:
    lm = standing()
    lm[list(L.HEAD), 3] = vis  # the whole face just under / over the visibility threshold
    assert check(img_analysis(lm), None) == expected


@pytest.mark.parametrize(("extreme", "expected"), [(24, []), (25, ["pose_extreme_orientation"])])
def test_video_extreme_fraction_threshold(extreme: int, expected: list[str]) -> None:
    lms = [centred(rotated(standing(h=500), 90.0 if i < extreme else 0.0)) for i in range(100)]
    assert check(None, vid_analysis(lms)) == expected  # threshold 0.25 of 100 samples


@pytest.mark.parametrize(("two", "expected"), [(29, []), (30, ["pose_video_people"])])
def test_people_fraction_threshold(two: int, expected: list[str]) -> None:
    counts = np.array([2] * two + [1] * (100 - two), dtype=np.int32)
    video = vid_analysis(still(), people_counts=counts, people_times=np.arange(100, dtype=np.float64))
    assert check(None, video) == expected


@pytest.mark.parametrize(("lost", "expected"), [(24, []), (25, ["pose_video_person_lost"])])
def test_person_lost_threshold(lost: int, expected: list[str]) -> None:
    lms = [L.empty() if 40 <= i < 40 + lost else standing() for i in range(100)]
    assert check(None, vid_analysis(lms)) == expected


def cut_video(score: float, neighbour: float) -> VideoAnalysis:
    fd = np.full(100, neighbour / 2, dtype=np.float32)
    hd = np.full(100, neighbour / 2, dtype=np.float32)
    fd[50], hd[50] = score / 2, score / 2
    return vid_analysis(still(), frame_diff=fd, hist_diff=hd)


@pytest.mark.parametrize(("score", "cut"), [(POSE.cut_min_score - 0.002, False), (POSE.cut_min_score + 0.002, True)])
def test_cut_min_score_threshold(score: float, cut: bool) -> None:
    video = cut_video(score, 0.02)  # ratio ~7.5: only the floor decides
    assert (detect_cuts(video) == (2.0,)) is cut
    assert check(None, video) == (["pose_video_cut"] if cut else [])


@pytest.mark.parametrize(("ratio", "cut"), [(POSE.cut_ratio * 0.98, False), (POSE.cut_ratio * 1.02, True)])
def test_cut_ratio_threshold(ratio: float, cut: bool) -> None:
    video = cut_video(0.4, 0.4 / ratio)
    assert (detect_cuts(video) == (2.0,)) is cut


def pan_video(total: float, axis: int = 0) -> VideoAnalysis:
    lms = still(20)
    bg = np.zeros((20, 3), dtype=np.float32)
    bg[1:, axis] = total / 19
    return vid_analysis(lms, bg_motion=bg)


@pytest.mark.parametrize("factor", [0.98, 1.02])
def test_camera_pan_threshold(factor: float) -> None:
    assert check(None, pan_video(POSE.camera_pan * factor)) == ([] if factor < 1 else ["pose_camera_motion"])


@pytest.mark.parametrize("factor", [0.98, 1.02])
def test_camera_zoom_threshold(factor: float) -> None:
    got = check(None, pan_video(POSE.camera_zoom * factor, axis=2))
    assert got == ([] if factor < 1 else ["pose_camera_motion"])


def test_camera_steps_across_a_cut_are_left_out() -> None:
    video = pan_video(0.5)
    times = video.times
    cut_at = float(times[10])
    fd = np.full(100, 0.005, dtype=np.float32)
    video = dataclasses.replace(video, frame_diff=fd, hist_diff=fd.copy())
    only_cut_step = np.zeros_like(video.bg_motion)
    only_cut_step[10, 0] = 0.5  # the whole "pan" happens across the cut
    video = dataclasses.replace(video, bg_motion=only_cut_step)
    assert camera_travel(video, (cut_at,))[0] == 0.0
    assert camera_travel(video, ())[0] == pytest.approx(0.5)


def moving_wrists(speed: float, fast_pairs: int, pairs: int = 20) -> list[np.ndarray]:
    """Speed pairs (dt 0.04 s) where both wrists move at `speed` torso lengths/s in fast_pairs of them."""
    out = []
    for p in range(pairs):
        a = standing()
        b = a.copy()
        if p < fast_pairs:
            d = speed * L.body_scale(a) * 0.04
            b[[L.L_WRIST, L.R_WRIST], 1] -= d
        out += [a, b]
    return out


@pytest.mark.parametrize(("factor", "expected"), [(0.98, []), (1.02, ["pose_fast_motion"])])
def test_fast_speed_threshold(factor: float, expected: list[str]) -> None:
    assert check(None, vid_analysis(moving_wrists(POSE.fast_speed * factor, 10))) == expected


@pytest.mark.parametrize(("fast_pairs", "expected"), [(2, []), (3, ["pose_fast_motion"])])
def test_fast_fraction_threshold(fast_pairs: int, expected: list[str]) -> None:
    # 2/20 = 0.10 < 0.15 <= 3/20
    assert check(None, vid_analysis(moving_wrists(POSE.fast_speed * 2, fast_pairs))) == expected


def clip_case(overshoot: float, shifted: int, n: int = 20) -> tuple[ImageAnalysis, VideoAnalysis]:
    """Character at the picture's right; the motion steps right so the right-most joint passes the
    edge by `overshoot` (share of the picture) in `shifted` of n samples."""
    char = standing(cx=700, top=100, h=800)
    right = max(char[j, 0] for j in L.BODY_JOINTS)
    step = (W - 1) + overshoot * W - right
    src = standing(cx=1000, top=100, h=800)  # same size, in a wider video frame (2000 px)
    lms = []
    for i in range(n):
        lm = src.copy()
        if i >= n - shifted:
            lm[:, 0] += step
        lms.append(lm)
    times = np.arange(n) * 0.5  # no speed pairs
    return img_analysis(char), vid_analysis(lms, times, w=2000, h=H)


@pytest.mark.parametrize(("factor", "expected"), [(0.9, []), (1.1, ["pose_motion_clipping"])])
def test_clip_margin_threshold(factor: float, expected: list[str]) -> None:
    image, video = clip_case(POSE.clip_margin * factor, shifted=10)
    assert check(image, video) == expected


@pytest.mark.parametrize(("shifted", "expected"), [(1, []), (2, ["pose_motion_clipping"])])
def test_clip_fraction_threshold(shifted: int, expected: list[str]) -> None:
    image, video = clip_case(POSE.clip_margin * 3, shifted=shifted)  # 1/20 = 0.05 < 0.10 <= 2/20
    found = findings_from(image, video)
    assert [f.code for f in found] == expected
    if expected:
        assert "right edge" in found[0].message


def hidden_hand_case(seen_fraction: float, travel: float, n: int = 100) -> tuple[ImageAnalysis, VideoAnalysis]:
    char = standing()
    char[[L.L_WRIST, 17, 19, 21], 3] = 0.1  # the left hand is hidden
    lms = []
    shown = round(seen_fraction * n)
    for i in range(n):
        lm = standing()
        scale = L.body_scale(lm)
        lm[L.L_WRIST, 0] += travel * scale * (i % 2)  # back and forth by `travel` torso lengths
        if i >= shown:
            lm[L.L_WRIST, 3] = 0.1
        lms.append(lm)
    return img_analysis(char), vid_analysis(lms, np.arange(n) * 0.5)


@pytest.mark.parametrize(("fraction", "expected"), [(0.29, []), (0.31, ["pose_image_hidden_limbs"])])
def test_limb_seen_fraction_threshold(fraction: float, expected: list[str]) -> None:
    assert check(*hidden_hand_case(fraction, 1.0)) == expected


@pytest.mark.parametrize(("factor", "expected"), [(0.98, []), (1.02, ["pose_image_hidden_limbs"])])
def test_limb_motion_threshold(factor: float, expected: list[str]) -> None:
    found = findings_from(*hidden_hand_case(1.0, POSE.limb_motion * factor))
    assert [f.code for f in found] == expected
    if expected:
        assert "the left hand" in found[0].message


def facing(value: float) -> np.ndarray:
    """A body whose signed shoulder width / torso is `value` (negative: back to the camera)."""
    lm = standing(h=800)
    torso = L.torso_length(lm)
    mid = L.midpoint(lm, *L.SHOULDERS)
    lm[L.L_SHOULDER, 0] = mid[0] + value * torso / 2
    lm[L.R_SHOULDER, 0] = mid[0] - value * torso / 2
    assert L.facing(lm) == pytest.approx(value, abs=1e-4)
    return lm


@pytest.mark.parametrize(("value", "expected"), [(-0.24, []), (-0.26, ["pose_orientation_advice"])])
def test_back_facing_threshold(value: float, expected: list[str]) -> None:
    lms = [facing(value) if i < 50 else facing(0.5) for i in range(100)]
    video = vid_analysis(lms, np.arange(100) * 0.5)
    assert check(None, video, "image") == expected
    assert check(None, video, "video") == []  # advice only when orientation 'image' is chosen


@pytest.mark.parametrize(("turned", "expected"), [(14, []), (15, ["pose_orientation_advice"])])
def test_turn_fraction_threshold(turned: int, expected: list[str]) -> None:
    lms = [facing(-0.6) if i < turned else facing(0.5) for i in range(100)]
    assert check(None, vid_analysis(lms, np.arange(100) * 0.5), "image") == expected


def test_framing_classes_from_visible_landmarks() -> None:
    lm = standing()
    seen = np.ones(33, dtype=bool)
    assert L.framing(seen) == "full_body"
    seen[list(L.FEET)] = False
    assert L.framing(seen) == "three_quarter"  # knees up
    seen[list(L.KNEES) + list(L.HIPS)] = False
    assert L.framing(seen) == "upper_body"  # elbows still show
    seen[list(L.ELBOWS)] = False
    assert L.framing(seen) == "close_up"
    upper = lm.copy()
    upper[[*L.KNEES, *L.FEET], 3] = 0.0
    assert check(img_analysis(upper), vid_analysis(still())) == ["pose_framing_mismatch"]

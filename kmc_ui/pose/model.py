"""mediapipe models, built offline from the installed wheel, one graph per thread.

Why the Tasks API: the legacy `mp.solutions.pose` finds ONE person, so it cannot count
people. The Tasks `PoseLandmarker` can (`num_poses` > 1) but wants a `.task` bundle that
mediapipe 0.10.21 does not ship and would normally be downloaded. The wheel does ship the
two models inside it (`pose_detection.tflite`, `pose_landmark_full.tflite`, the ones the legacy
solution runs with model_complexity=1), so the bundle is assembled here at first use with the
wheel's own metadata writer: input normalisation metadata is added to each model, both are
zipped, and the result is cached under the cache dir (and kept in memory). Nothing is
downloaded and no binary lives in the repository.

Input normalisation: the legacy graphs feed the detector with pixels mapped to [-1, 1]
(mean 127.5, std 127.5) and the landmark model with [0, 1] (mean 0, std 255). Measured on the
sample media: with [0, 1] for the detector too, the side-by-side pair and padded images were
missed (0 people); with [-1, 1] it matches the legacy solution on every test picture.

mediapipe graphs are not thread-safe: every thread gets its own (threading.local), and the
bundle is built under a lock, written atomically.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
_BUNDLE: bytes | None = None
MAX_PEOPLE = 4  # poses asked of the multi-person landmarker (people counting)


def mediapipe_dir() -> Path:
    import mediapipe

    return Path(mediapipe.__file__).parent


def _wheel_models() -> tuple[Path, Path]:
    root = mediapipe_dir() / "modules"
    return root / "pose_detection" / "pose_detection.tflite", root / "pose_landmark" / "pose_landmark_full.tflite"


def _with_image_metadata(model: bytes, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info("kmc pose", "mediapipe pose model from the installed wheel")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in writer_utils.get_output_tensor_types(bytearray(model)):
        writer.add_feature_output()
    content, _ = writer.populate()
    return bytes(content)


def build_bundle() -> bytes:
    """The PoseLandmarker `.task` bundle, made from the wheel's own files (about 0.3 s)."""
    import io

    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    detector_path, landmarks_path = _wheel_models()
    detector = _with_image_metadata(detector_path.read_bytes(), 127.5, 127.5)
    landmarks = _with_image_metadata(landmarks_path.read_bytes(), 0.0, 255.0)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pose.task"
        model_asset_bundle_utils.create_model_asset_bundle(
            {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": landmarks}, str(out)
        )
        data = out.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # sanity check of what we wrote
        assert set(zf.namelist()) == {"pose_detector.tflite", "pose_landmarks_detector.tflite"}
    return data


def bundle_name() -> str:
    """Cache file name: changes when the wheel's models (or this recipe) change."""
    import mediapipe

    digest = hashlib.sha256(b"kmc-pose-bundle-v1")
    for path in _wheel_models():
        st = path.stat()
        digest.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return f"pose_landmarker_full_mp{mediapipe.__version__}_{digest.hexdigest()[:12]}.task"


def bundle_bytes(cache_dir: Path | str | None = None) -> bytes:
    """The bundle from memory, else from the cache dir, else built (and cached when writable)."""
    global _BUNDLE
    with _LOCK:
        if _BUNDLE is not None:
            return _BUNDLE
        path = (Path(cache_dir) / bundle_name()) if cache_dir else None
        data = b""
        if path is not None and path.is_file() and zipfile.is_zipfile(path):  # aligned: may not start with PK
            data = path.read_bytes()
        if not data:
            data = build_bundle()
            if path is not None:
                _write_atomic(path, data)
        _BUNDLE = data
        return data


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:  # a read-only or full cache dir only costs the rebuild next time
        if tmp:
            Path(tmp).unlink(missing_ok=True)


class _ThreadModels(threading.local):
    def __init__(self) -> None:
        self.image: Any = None
        self.single: Any = None
        self.video: Any = None
        self.video_ts_ms = 0
        self.faces: dict[int, Any] = {}
        self.hands: Any = None
        self.face_mesh: Any = None


_LOCAL = _ThreadModels()


def _options(cache_dir: Path | str | None, video: bool, num_poses: int) -> Any:
    from mediapipe.tasks.python import BaseOptions, vision

    return vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=bundle_bytes(cache_dir)),
        running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
        num_poses=num_poses,
        min_pose_detection_confidence=0.5,
        min_pose_presence_confidence=0.5,
        min_tracking_confidence=0.5,
    )


def image_landmarker(cache_dir: Path | str | None = None) -> Any:
    """This thread's multi-person landmarker (IMAGE mode, up to MAX_PEOPLE poses)."""
    if _LOCAL.image is None:
        from mediapipe.tasks.python import vision

        _LOCAL.image = vision.PoseLandmarker.create_from_options(_options(cache_dir, False, MAX_PEOPLE))
    return _LOCAL.image


def single_image_landmarker(cache_dir: Path | str | None = None) -> Any:
    """This thread's one-person landmarker (IMAGE mode: no tracking state between frames)."""
    if _LOCAL.single is None:
        from mediapipe.tasks.python import vision

        _LOCAL.single = vision.PoseLandmarker.create_from_options(_options(cache_dir, False, 1))
    return _LOCAL.single


def video_landmarker(cache_dir: Path | str | None = None) -> tuple[Any, int]:
    """This thread's tracking landmarker (VIDEO mode, one person) and a fresh timestamp base.

    The graph is reused between videos (creating one costs ~0.1 s): timestamps keep growing,
    and a blank frame is fed first so the tracker lets go of the previous video's person.
    """
    import mediapipe as mp
    import numpy as np

    if _LOCAL.video is None:
        from mediapipe.tasks.python import vision

        _LOCAL.video = vision.PoseLandmarker.create_from_options(_options(cache_dir, True, 1))
    base = _LOCAL.video_ts_ms + 10_000
    blank = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), dtype=np.uint8))
    _LOCAL.video.detect_for_video(blank, base)
    _LOCAL.video_ts_ms = base + 1_000
    return _LOCAL.video, _LOCAL.video_ts_ms


def note_video_timestamp(ts_ms: int) -> None:
    _LOCAL.video_ts_ms = max(_LOCAL.video_ts_ms, ts_ms)


def face_detector(model_selection: int) -> Any:
    """mediapipe's face detector (short range 0, full range 1), both shipped in the wheel."""
    if model_selection not in _LOCAL.faces:
        import mediapipe as mp

        _LOCAL.faces[model_selection] = mp.solutions.face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=0.5
        )
    return _LOCAL.faces[model_selection]


def face_mesher() -> Any:
    """mediapipe's face mesh (468 points with depth; its face detector and landmark models are
    shipped in the wheel), in static-image mode."""
    if _LOCAL.face_mesh is None:
        import mediapipe as mp

        _LOCAL.face_mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, min_detection_confidence=0.5
        )
    return _LOCAL.face_mesh


def hand_detector(model_complexity: int = 1) -> Any:
    """mediapipe's hand detector (palm detection + hand landmarks, the full models shipped in the
    wheel, or the lite ones with model_complexity=0; nothing is downloaded), in static-image mode:
    every crop is judged on its own."""
    if _LOCAL.hands is None:
        _LOCAL.hands = {}
    if model_complexity not in _LOCAL.hands:
        import mediapipe as mp

        _LOCAL.hands[model_complexity] = mp.solutions.hands.Hands(
            static_image_mode=True, max_num_hands=2, model_complexity=model_complexity, min_detection_confidence=0.3
        )
    return _LOCAL.hands[model_complexity]

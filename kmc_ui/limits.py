"""Every provider limit, price and error-code meaning, as data, in one place.

Source: ../shared/kling-motion-control-facts.md (stored copies of the providers'
public documentation, late 2026). Where the sources conflict the safe value is used and
the conflict is noted next to it. The checks, the preparation step, the cost estimate and
the backends all read these tables; nothing else should hold a limit as a literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kmc_ui.backends.base import Status
from kmc_ui.providers import PROVIDERS, Price

MB = 1024 * 1024

ORIENTATIONS = ("video", "image")
TIERS = ("std", "pro")
MODELS = ("v2.6", "v3")

ORIENTATION_LABELS = {
    "video": "video: follow the video, up to 30 s",
    "image": "image: keep the picture's orientation, up to 10 s",
}
TIER_LABELS = {"std": "Standard 720p", "pro": "Pro 1080p"}
TIER_RESOLUTION = {"std": "720p", "pro": "1080p"}
TIER_HEIGHT = {"std": 720, "pro": 1080}
MODEL_LABELS = {"v2.6": "Kling 2.6 Motion Control", "v3": "Kling 3.0 Motion Control"}


@dataclass(frozen=True)
class InputLimits:
    """Input limits of the official API (the strictest provider; aggregators accept more)."""

    image_extensions: tuple[str, ...] = (".jpg", ".jpeg", ".png")
    image_formats: tuple[str, ...] = ("JPEG", "PNG")  # PIL format names accepted as-is
    # conflict: legacy v1 doc says 10 MB, API 2.0 doc says 50 MB -> 10 MB is safe.
    image_max_bytes: int = 10 * MB
    image_min_side: int = 300
    # conflict: ComfyUI's node and Runway demand >= 340 px -> 300..339 is a warning.
    image_warn_below_side: int = 340
    image_hint_below_short_side: int = 720  # quality hint only
    image_max_side: int = 65536
    image_aspect_min: float = 0.4  # 1:2.5
    image_aspect_max: float = 2.5  # 2.5:1
    # Our own safety limit, not the provider's: Pillow refuses to open more pixels than this
    # (2 x Image.MAX_IMAGE_PIXELS), so such a picture cannot be converted or previewed.
    image_max_pixels: int = 178_956_970
    # Also ours: a picture that must be converted (not a JPEG, which decodes reduced) is decoded
    # whole in memory; above this (about 150 MB as RGB) it is refused rather than converted.
    image_convert_max_pixels: int = 50_000_000
    video_extensions: tuple[str, ...] = (".mp4", ".mov")
    video_codecs: tuple[str, ...] = ("h264",)  # what we send; others are transcoded
    video_max_bytes: int = 100 * MB
    video_min_side: int = 340
    video_max_side: int = 3850
    video_min_seconds: float = 3.0
    video_max_seconds: dict[str, float] = field(default_factory=lambda: {"video": 30.0, "image": 10.0})
    prompt_max_chars: int = 2500
    # Our own soft thresholds (not provider limits), used for warnings and hints.
    pair_aspect_warn_ratio: float = 1.5  # image vs video aspect differ by more than this
    video_fps_min_hint: float = 15.0
    # Under 1 frame a second the index's timing is broken (all frame durations 0, a zero
    # timescale), not a slow clip: players and the provider cannot time the motion -> error.
    video_fps_min_valid: float = 1.0
    video_fps_max_hint: float = 60.0


LIMITS = InputLimits()


# Prices, statuses, model ids and concurrency are per provider: one row each in kmc_ui/providers.py.
# These names are read from the rows (provider -> model -> tier -> price per second of *output*;
# None = not published).
PRICES: dict[str, Mapping[str, Mapping[str, Price | None]]] = {name: row.prices for name, row in PROVIDERS.items()}
USD_PER_UNIT = 0.14
# Providers that bill output seconds rounded to the nearest whole second (facts addendum A4).
ROUNDS_BILLED_SECONDS = frozenset(name for name, row in PROVIDERS.items() if row.rounds_billed_seconds)

# Provider-specific request vocabularies (from the rows).
KLING_MODEL_NAMES = dict(PROVIDERS["kling"].model_ids)
KLING2_PATHS = dict(PROVIDERS["kling2"].model_ids)
FAL_MODEL_IDS = {tuple(key.split("/")): value for key, value in PROVIDERS["fal"].model_ids.items()}
REPLICATE_MODELS = dict(PROVIDERS["replicate"].model_ids)

@dataclass(frozen=True)
class ElementLimits:
    """Kling's identity Elements (facts addendum A1): one frontal picture (the character image) and 1-3
    more angles, each within the character image's own limits (JPEG/PNG, <= 10 MB, >= 300 px, 1:2.5 to
    2.5:1: LIMITS above). Created asynchronously; 0 units in the one live test (not on the price page).
    Bound only on Kling 3.0 through API 2.0: the legacy design's request field is not documented."""

    min_extra: int = 1
    max_extra: int = 3
    name_max_chars: int = 20
    description_max_chars: int = 100
    character_tag: str = "o_102"  # tag_list id for "Character"
    models: tuple[str, ...] = ("v3",)  # 2.6's contents[] has no element type
    backends: tuple[str, ...] = tuple(n for n, row in PROVIDERS.items() if row.supports.elements)  # kling2
    create_timeout_s: float = 300.0  # an Element not ready in this long fails the run (nothing paid)
    poll_interval_s: float = 2.0
    units: float = 0.0  # what the live test was charged


ELEMENTS = ElementLimits()
ELEMENT_PATH = "/v1/general/advanced-custom-elements"
ELEMENT_DELETE_PATH = "/v1/general/delete-advanced-elements"
ELEMENT_STATUS = {"submitted": "queued", "processing": "running", "succeed": "succeeded", "failed": "failed"}

# Status vocabularies, mapped onto our own: queued / running / succeeded / failed / canceled.
STATUS_MAP: dict[str, Mapping[str, Status]] = {name: row.statuses for name, row in PROVIDERS.items() if row.statuses}


@dataclass(frozen=True)
class ErrorCode:
    http: int
    meaning: str
    advice: str
    retry: bool = False  # transient: retry with backoff


# Official Kling error codes (both API designs).
KLING_ERRORS: dict[int, ErrorCode] = {
    1000: ErrorCode(401, "authentication failed", "Check KLING_ACCESS_KEY / KLING_SECRET_KEY (or KLING_API_KEY)."),
    1001: ErrorCode(401, "authorization header is empty", "Set the API keys in .env or the key box."),
    1002: ErrorCode(401, "authorization is invalid", "Check the keys; regenerate them in the Kling console if needed."),
    1003: ErrorCode(401, "token not yet valid", "This machine's clock is ahead or behind: sync it (NTP) and retry."),
    1004: ErrorCode(401, "token expired", "The token expired; it is re-signed on the next request. Check the clock."),
    1100: ErrorCode(429, "account exception", "Check the account status in the Kling console."),
    1101: ErrorCode(429, "account in arrears", "Top up the account, then retry."),
    1102: ErrorCode(429, "resource pack exhausted or expired", "Buy more units (resource pack) in the Kling console."),
    1103: ErrorCode(
        403,
        "no access to this API or model",
        "Check the account's permissions for Motion Control and the chosen model.",
    ),
    1200: ErrorCode(400, "invalid request parameters", "Fix the input named in the message."),
    1201: ErrorCode(400, "invalid request parameters", "Fix the input named in the message."),
    1202: ErrorCode(404, "wrong request method", "Report this: the app used a wrong method."),
    1203: ErrorCode(404, "requested resource (e.g. model) does not exist", "Pick another model or check the API host."),
    1300: ErrorCode(400, "platform policy triggered", "Change the inputs (image, video or prompt)."),
    1301: ErrorCode(
        400, "content safety check failed", "Change the image, the video or the prompt; the content was refused."
    ),
    1302: ErrorCode(429, "rate limit", "Too many requests: retried automatically with backoff.", retry=True),
    1303: ErrorCode(
        429,
        "concurrency over the resource-pack limit",
        "Wait for running tasks to finish: retried with backoff.",
        retry=True,
    ),
    1304: ErrorCode(429, "IP not in the whitelist", "Add this server's IP to the account's whitelist."),
    5000: ErrorCode(500, "provider internal error", "Retried automatically with backoff.", retry=True),
    5001: ErrorCode(503, "provider under maintenance", "Retried automatically; try later if it persists.", retry=True),
    5002: ErrorCode(504, "provider backlog timeout", "Retried automatically; try later if it persists.", retry=True),
}

# Known task_status_msg texts (failed tasks) -> what to do.
TASK_FAILURE_HINTS: tuple[tuple[str, str], ...] = (
    ("moderation", "The content was refused by moderation: change the image, video or prompt."),
    ("risk", "The content was refused by moderation: change the image, video or prompt."),
    ("image pixel", "The provider rejected the image size: use an image with each side 340 px or more."),
    ("aspect", "The provider rejected the aspect ratio: crop the image to between 1:2.5 and 2.5:1."),
    ("duration", "The provider rejected the video length: trim it to 3 s .. the orientation's maximum."),
    ("person", "No usable person was found: use a clear, unobstructed single person in image and video."),
    ("human", "No usable person was found: use a clear, unobstructed single person in image and video."),
)

# Provider result links expire (Kling: deleted after 30 days): always download at once.
RESULT_URL_LIFETIME_DAYS = 30


@dataclass(frozen=True)
class PoseThresholds:
    """Thresholds of the body pre-flight checks (kmc_ui/checks/pose.py).

    Provider guidance (../shared/kling-motion-control-facts.md) says *what* ruins a result;
    the numbers are ours. "Measured" values were set between what the sample media gave for
    good clips and for the broken ones made in tests/test_pose.py (figures in docs/pose.md).
    Each threshold has a test just above and just below it.
    """

    # mediapipe's own default for drawing a landmark as visible (solutions.drawing_utils).
    min_visibility: float = 0.5
    # Landmarks sit inside the body's outline (hair, clothes, the top of the head reach past
    # them): the subject's box is the landmarks' box grown by this share of its size.
    subject_box_pad: float = 0.1
    # fal's guidance: the character should cover more than 5% of the image area.
    image_subject_min_area: float = 0.05
    # The same guidance for the person in the video (median over the samples).
    video_subject_min_area: float = 0.05
    # With no body found, a face at least this tall (share of the picture's height) makes the
    # picture a close-up rather than "no person" (the body detector misses close-ups).
    face_close_up_min_height: float = 0.15
    # Torso (hips -> shoulders) this many degrees from upright: lying flat / upside down.
    lying_angle: float = 60.0
    upside_down_angle: float = 135.0
    # Share of video samples in an extreme orientation before the motion is flagged
    # (a short roll or cartwheel is fine, a floor routine is not).
    video_extreme_fraction: float = 0.25
    # Share of people-counted frames showing 2+ people (measured: side-by-side copies give
    # 100%, the single dancer 0%); a passer-by in one frame is not worth a warning.
    people_fraction: float = 0.3
    # Share of pose samples with nobody found before "the person is lost" is reported.
    person_lost_fraction: float = 0.25
    # Cuts: change score (grey frame difference + colour histogram distance, each 0..1)
    # above an absolute floor AND this many times the mean of its neighbours. Measured: the
    # sample dance peaks at 0.10 (a caption change), a spliced hard cut scores 0.44 and 20x
    # its neighbours. The ratio test follows PySceneDetect's AdaptiveDetector (default 3.0).
    cut_min_score: float = 0.15
    cut_ratio: float = 4.0
    cut_window_s: float = 0.5  # neighbours: frames within this many seconds either side
    # Camera: travel of the background (range of the accumulated shift) as a share of the
    # frame, and zoom (range of accumulated log scale). Measured: static clips < 0.01, a
    # 80 px/s pan over 480 px reaches 0.5 in 3 s.
    camera_pan: float = 0.10
    camera_zoom: float = 0.10
    # Speed: the second-fastest body joint (one glitchy landmark cannot trigger it) in torso
    # lengths per second, measured over one frame step. Measured p90: sample dance 2.0,
    # the same 4x faster 5.2, 8x faster 9.7. A torso is ~0.5 m: 4 torso/s ~ 2 m/s.
    fast_speed: float = 4.0
    fast_fraction: float = 0.15  # share of speed pairs above fast_speed
    # Clipping: a retargeted joint beyond the picture's edge by more than this share of the
    # picture, in at least clip_fraction of the samples.
    clip_margin: float = 0.02
    clip_fraction: float = 0.10
    # Hidden limbs: an arm the picture hides matters when the motion shows that wrist in this
    # share of the samples and moves it by this many torso lengths (range relative to the neck).
    limb_seen_fraction: float = 0.3
    limb_motion: float = 0.5
    # Turning: signed shoulder width / torso below this = back to the camera; in this share
    # of the samples = "the subject turns around" (sample dance: always >= 0.5, front on).
    back_facing: float = -0.25
    turn_fraction: float = 0.15


POSE = PoseThresholds()


# Tasks one account may have running at once, per backend: a batch never submits more than this
# at a time (an explicit `concurrency=` to kmc_ui.batch.run_batch overrides it). Each running item
# also prepares its files on this machine, so a lower number is also kinder to 2 CPU cores.
CONCURRENCY: dict[str, int] = {name: row.concurrency for name, row in PROVIDERS.items()}

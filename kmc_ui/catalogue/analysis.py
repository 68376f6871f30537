"""Why a body check could not look at a file (kmc_ui/pose/detect.py, kmc_ui/pose/picture.py: the
analyses' `error`, quoted by the pose.skipped_* findings). Code -> (English, Chinese). Slot syntax:
kmc_ui/messages.py. They travel as Said strings (an analysis with an error is never cached)."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "analysis.cannot_read": ("cannot read the file ({w_why})", "无法读取文件（{w_why}）"),
    "analysis.picture_undecodable": ("the picture cannot be decoded ({exc})", "图片无法解码（{exc}）"),
    "analysis.not_rgb": ("the picture is not an RGB image of at least 8x8 px", "该图片不是至少 8x8 像素的 RGB 图片"),
    "analysis.detection_failed": ("pose detection failed ({exc})", "姿态检测失败（{exc}）"),
    "analysis.video_unopenable": ("the video cannot be opened ({exc})", "视频无法打开（{exc}）"),
    "analysis.no_video_stream": ("the file has no video stream", "文件没有视频流"),
    "analysis.video_failed": ("the video could not be analysed ({exc})", "无法分析视频（{exc}）"),
    "analysis.cancelled": ("cancelled", "已取消"),
    "analysis.video_undecodable": ("the video cannot be decoded ({exc})", "视频无法解码（{exc}）"),
    "analysis.too_many_pixels": (
        "the picture is {size} px ({mp} megapixels), more than the {cap} megapixels decoded here",
        "图片为 {size} 像素（{mp} 百万像素），超过了此处可解码的 {cap} 百万像素",
    ),
    "analysis.too_much_memory": (
        "the {fmt} is {size} px ({mp} megapixels): decoding it would take more than {m} MB of memory",
        "该 {fmt} 图片为 {size} 像素（{mp} 百万像素）：解码需要超过 {m} MB 内存",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

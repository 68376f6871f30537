"""Body pose: detection (mediapipe, offline), retargeting and skeleton previews."""

from kmc_ui.pose.detect import (
    ImageAnalysis,
    Pose,
    VideoAnalysis,
    VideoSampling,
    analyse_image,
    analyse_video,
    detect_image,
    warm_up,
)

__all__ = [
    "ImageAnalysis",
    "Pose",
    "VideoAnalysis",
    "VideoSampling",
    "analyse_image",
    "analyse_video",
    "detect_image",
    "warm_up",
]

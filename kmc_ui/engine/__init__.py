"""The offline motion-transfer engine (CPU, no downloads) and the motion-agreement report.

    run_engine(EngineJob(image, video, orientation, tier, keep_sound), out_path,
               progress=fn(fraction, text), cancel=threading.Event()) -> EngineResult
    agreement_report(reference_video, output_video, character_image=None, plot_path=...) -> AgreementReport

Modules, in the order a frame travels: segment (cut-out), motion (pose of every frame),
smoothing (One Euro), kmc_ui/pose/retarget (bone lengths), rig (layers, mesh, weights),
deform (skinning, dense warp, compositing), encode (ffmpeg stream), pipeline (all of it).
"""

from kmc_ui.engine.agreement import AgreementReport, agreement_report, draw_plot
from kmc_ui.engine.common import EngineCancelled, EngineError
from kmc_ui.engine.pipeline import EngineJob, EngineResult, run_engine

__all__ = [
    "AgreementReport",
    "EngineCancelled",
    "EngineError",
    "EngineJob",
    "EngineResult",
    "agreement_report",
    "draw_plot",
    "run_engine",
]

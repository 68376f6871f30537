"""Sentences the page itself writes (kmc_ui/ui/*.py, kmc_ui/ui/text.py): placeholders, notes and
answers to a button. Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "page.no_inputs": (
        "Upload a character image and a motion video to see the checks.",
        "上传角色图片和动作视频即可查看检查结果。",
    ),
    "page.body_pending": (
        "Body checks (pose, framing, cuts, speed) are running; they appear here in a few seconds.",
        "身体检查（姿态、取景、镜头切换、速度）正在进行；几秒后会显示在这里。",
    ),
    "page.report_pending": (
        "⏳ Measuring how closely the result follows the reference (motion-agreement report)…",
        "⏳ 正在测量结果与参考视频的吻合程度（动作一致度报告）…",
    ),
    "page.image_ok": ("Image fits every limit.", "图片符合所有限制。"),
    "page.video_ok": ("Video fits every limit.", "视频符合所有限制。"),
    "page.upload_first": ("Upload the inputs first.", "请先上传输入文件。"),
    "page.add_image": ("Add a character image.", "请添加角色图片。"),
    "page.add_video": ("Add a motion video.", "请添加动作视频。"),
    "page.fetched": ("Fetched: the checks below are on the downloaded copy.", "已获取：下方的检查针对下载的副本。"),
    "page.ready": ("Ready.", "就绪。"),
    "page.blocked": (
        "nothing here can be fixed for you: it cannot be sent until the problem below is fixed",
        "这里无法替你修复：在解决下面的问题之前无法发送",
    ),
    "page.stopped_queued": ("Stopped before it started: nothing was sent.", "在开始之前已停止：没有发送任何内容。"),
    "page.stopping": (
        "Stopping: the current step finishes first, then the run is recorded as stopped (see History).",
        "正在停止：当前步骤完成后，这次运行会记录为已停止（见历史记录）。",
    ),
    "page.pick_run": ("Pick a run first.", "请先选择一次运行。"),
    "page.run_deleted": ("Deleted the run and its files.", "已删除该运行及其文件。"),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

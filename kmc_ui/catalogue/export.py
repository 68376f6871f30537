"""The side-by-side comparison export refused or failed (kmc_ui/media/compose.py ComposeError,
kmc_ui/studio.py ExportRefused). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py;
`{w_name}` is the file's role ("Reference video", "Result video", "Skeleton video")."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "export.no_result": (
        "Generate a result first: the export puts the reference and the result side by side.",
        "请先生成结果：导出时会把参考视频和结果并排放在一起。",
    ),
    "export.audio": ("Audio must be one of {l}, not {a}.", "声音必须是 {l} 之一，而不是 {a}。"),
    "export.folder": ("The export folder cannot be created ({w_why}).", "无法创建导出文件夹（{w_why}）。"),
    "export.fix_folder": ("choose a writable folder.", "请选择可写入的文件夹。"),
    "export.stopped": ("The comparison export was stopped.", "对比视频导出已停止。"),
    "export.took_too_long": (
        "The comparison export took longer than {s} s and was stopped.",
        "对比视频导出耗时超过 {s} 秒，已被停止。",
    ),
    "export.fix_lower": (
        "export at a lower height, or try again when the machine is less busy.",
        "请以更低的高度导出，或在机器不太忙时重试。",
    ),
    "export.failed": ("The comparison export failed ({why}).", "对比视频导出失败（{why}）。"),
    "export.fix_failed": (
        "check that both videos play; re-export a damaged one as an H.264 MP4.",
        "请确认两段视频都能播放；将损坏的那段重新导出为 H.264 MP4。",
    ),
    "export.input_unreadable": ("{w_name}: {t_err} ({f}).", "{w_name}：{t_err}（{f}）。"),
    "export.fix_missing": (
        "choose the file again; a run deleted from History takes its files with it.",
        "请重新选择文件；从历史记录中删除的运行会一并删除其文件。",
    ),
    "export.fix_unreadable": (
        "use an MP4, MOV or WebM video; re-export it if it is damaged.",
        "请使用 MP4、MOV 或 WebM 视频；如已损坏请重新导出。",
    ),
    "export.no_picture": (
        "{w_name}: the file has no picture ({f} holds no video stream).",
        "{w_name}：文件没有画面（{f} 不含视频流）。",
    ),
    "export.fix_video_file": ("choose a video file.", "请选择视频文件。"),
}

# The files' roles in Chinese (`w_name`).
WORDS_ZH: dict[str, str] = {"Reference video": "参考视频", "Result video": "结果视频", "Skeleton video": "骨架视频"}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

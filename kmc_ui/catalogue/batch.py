"""Batch (kmc_ui/batch.py, kmc_ui/ui/batch_tab.py): why a batch cannot be planned, each item's label
and state, the plan's total and the run's tally. Code -> (English, Chinese). Slot syntax:
kmc_ui/messages.py. Amounts and seconds are passed written as the English writes them ("1.50")."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # BatchError: the batch as a whole cannot be planned or run
    "batch.add_image": ("Add at least one character image.", "请至少添加一个角色图片。"),
    "batch.add_video": ("Add at least one motion video.", "请至少添加一个动作视频。"),
    "batch.both_lists": (
        "A batch is one motion with several characters, or one character with several motions (got {a:int} "
        "characters and {b:int} motions).",
        "一个批次是一个动作配多个角色，或一个角色配多个动作（当前有 {a} 个角色和 {b} 个动作）。",
    ),
    "batch.fix_one_list": ("keep one of the two lists to one file.", "请把其中一个列表减少到只有一个文件。"),
    "batch.too_many": ("A batch holds at most {m:int} items (got {c:int}).", "一个批次最多 {m} 项（当前有 {c} 项）。"),
    "batch.fix_split": ("split it into smaller ones.", "请拆分成更小的批次。"),
    "batch.url_several": (
        "A pasted video URL stands for one motion, and this batch has several.",
        "粘贴的视频链接只代表一个动作，而这个批次有多个动作。",
    ),
    "batch.fix_url": (
        "leave the URL empty (the app serves each motion itself), or run one motion at a time.",
        "请将链接留空（应用会自行提供每个动作），或一次只运行一个动作。",
    ),
    # an item
    "batch.label_character": ("Character {n:int}: {f}", "角色 {n}：{f}"),
    "batch.label_motion": ("Motion {n:int}: {f}", "动作 {n}：{f}"),
    "batch.duplicate": (
        "The same file as item {n:int}: it would pay twice for the same result.",
        "与第 {n} 项是同一个文件：会为相同的结果付两次费用。",
    ),
    "batch.fix_remove_one": ("remove one of them.", "请删除其中一个。"),
    "batch.waiting": ("Waiting for a free slot…", "正在等待空闲名额…"),
    "batch.preparing_shared": ("Preparing the motion video shared by every item…", "正在准备所有项共用的动作视频…"),
    "batch.not_started": ("Not started: the batch was stopped.", "未开始：批次已停止。"),
    "batch.unexpected": ("This item stopped on an unexpected error ({exc}).", "此项因意外错误而停止（{exc}）。"),
    "batch.stopped_resumable": (
        "Stopped: the task stays in History, where it can be resumed.",
        "已停止：任务保留在历史记录中，可以继续。",
    ),
    "batch.stopped": ("Stopped.", "已停止。"),
    "batch.report_running": ("Result ready; its motion report is still running…", "结果已就绪；动作报告仍在生成…"),
    # the plan's total
    "batch.nothing": (
        "Nothing to generate: every item has a problem to fix first.",
        "没有可生成的内容：每一项都有需要先修复的问题。",
    ),
    "batch.total": ("{n:int} video{n:pl}, {s} s in all: {cost}", "{n} 个视频，共 {s} 秒：{cost}"),
    "batch.total_skipped": (
        "{n:int} video{n:pl}, {s} s in all ({k:int} skipped): {cost}",
        "{n} 个视频，共 {s} 秒（跳过 {k} 个）：{cost}",
    ),
    "batch.cost_free": ("free (offline engine).", "免费（离线引擎）。"),
    "batch.cost_unknown": (
        "price not published for this provider; see its pricing page.",
        "该服务商未公布价格；请查看其价格页面。",
    ),
    "batch.cost_units": ("${usd} ({u} units) at most.", "最多 ${usd}（{u} 单位）。"),
    "batch.cost_usd": ("${usd} at most.", "最多 ${usd}。"),
    # the run's tally: "2 done, 1 running (of 3; at most 2 at a time)"
    "batch.tally": (
        "{parts:tally} (of {n:int}; at most {c:int} at a time)",
        "{parts:tally}（共 {n} 个；最多同时运行 {c} 个）",
    ),
    "batch.stopped_all": ("Batch stopped: items not started were not sent.", "批次已停止：尚未开始的项没有发送。"),
}

# The tally's words ({parts:tally}: [[word, count], ...]).
TALLY_ZH: dict[str, str] = {
    "done": "完成",
    "failed": "失败",
    "stopped": "已停止",
    "skipped": "已跳过",
    "running": "运行中",
    "waiting": "等待中",
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

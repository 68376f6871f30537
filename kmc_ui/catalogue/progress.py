"""Progress steps: what a run is doing, and how it ended (kmc_ui/jobs.py, kmc_ui/studio.py,
kmc_ui/worker.py, Progress). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py.

`{w_label}` is the backend's label as the code names it (the glossary has each one in Chinese).
A Progress stored by a worker keeps its code and parameters (kmc_ui.worker.progress_json), so a
page renders it in its language after a restart too.
"""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # kmc_ui/jobs.py: submit, wait, poll, download
    "progress.submitting": ("Submitting to {w_label}…", "正在提交到 {w_label}…"),
    "progress.retry": (
        "{w_what}: {t_reason}; retry {n:int}/{m:int} in {d} s",
        "{w_what}：{t_reason}；{d} 秒后进行第 {n}/{m} 次重试",
    ),
    "progress.re_signing": ("{t_msg} (re-signing)", "{t_msg}（正在重新签名）"),
    "progress.waiting": ("Waiting for {w_label}…", "正在等待 {w_label}…"),
    "progress.queued_at": ("Queued at {w_label} (position {n:int})…", "正在 {w_label} 排队（第 {n} 位）…"),
    "progress.queued": ("Queued at {w_label}…", "正在 {w_label} 排队…"),
    "progress.generating_pct_detail": ("Generating {p} ({t_detail})…", "正在生成 {p}（{t_detail}）…"),
    "progress.generating_pct": ("Generating {p}…", "正在生成 {p}…"),
    "progress.generating_detail": ("Generating ({t_detail})…", "正在生成（{t_detail}）…"),
    "progress.generating": ("Generating…", "正在生成…"),
    "progress.task_ended": ("The task ended '{w_s}': {t_reason}", "任务以“{w_s}”结束：{t_reason}"),
    "progress.downloading": ("Downloading the result…", "正在下载结果…"),
    "progress.downloading_watermarked": ("Downloading the watermarked copy…", "正在下载带水印的副本…"),
    "progress.download_failed": ("The result could not be downloaded: {t_msg}", "无法下载结果：{t_msg}"),
    "progress.download_failed.fix": (
        "Resume the run from History to download it again.",
        "请在历史记录中继续这次运行，重新下载。",
    ),
    "progress.ready": ("The result is ready.", "结果已就绪。"),
    # what the backend said of its result (the offline engine's notes: an arm held, a cut side faded)
    "progress.ready_notes": ("The result is ready. {t_notes}", "结果已就绪。{t_notes}"),
    "progress.submit_uncertain": (
        "{t_msg}: the request may have reached {w_label} and created a paid task",
        "{t_msg}：请求可能已到达 {w_label} 并创建了付费任务",
    ),
    "progress.submit_uncertain.fix": (
        "It was not sent again, so you are not charged twice. Check your {w_label} dashboard for a new task before "
        "you press Generate again.",
        "请求没有重复发送，因此不会被重复收费。再次点击“生成”之前，请先在 {w_label} 控制台查看是否有新任务。",
    ),
    # kmc_ui/jobs.py stopped_text: what Stop did
    "progress.stopped_cancelled": (
        "{w_label} cancelled task {task}: it stops there, and no result will come.",
        "{w_label} 已取消任务 {task}：任务就此停止，不会有结果。",
    ),
    "progress.stopped_waiting": (
        "No longer waiting; task {task} keeps running at {w_label}. "
        "It stays in History, where it can be resumed without paying again.",
        "已停止等待；任务 {task} 仍在 {w_label} 运行。它保留在历史记录中，可以继续，无需再次付费。",
    ),
    "progress.nothing_sent": ("Nothing was sent, so nothing was charged.", "没有发送任何内容，因此没有产生费用。"),
    # kmc_ui/storage.py: a full disk
    "progress.disk_full": (
        "The server's disk is full, so the run could not be saved: nothing was sent, and the partial files were "
        "removed. Free some space (on a public Space, tell its owner) and try again.",
        "服务器磁盘已满，无法保存这次运行：没有发送任何内容，不完整的文件已删除。"
        "请腾出空间（公共 Space 请告知其所有者）后重试。",
    ),
    "progress.disk_full_result": (
        "The server's disk is full, so the result of task {task} could not be saved; the partial file was "
        "removed. The task stays in History: free some space, then resume it there without paying again.",
        "服务器磁盘已满，无法保存任务 {task} 的结果；不完整的文件已删除。"
        "该任务保留在历史记录中：请腾出空间，然后在那里继续，无需再次付费。",
    ),
    # kmc_ui/studio.py: generate, resume, watch
    "progress.unknown_backend": ("Unknown backend '{b}'.", "未知的后端“{b}”。"),
    "progress.url_not_sent": (
        "The video had to be changed before sending ({a:clauses}), so the URL you gave is not what would be sent. "
        "{t_rest}",
        "发送前必须修改视频（{a:clauses}），因此你给出的 URL 不是将要发送的文件。{t_rest}",
    ),
    "progress.add_image": ("Add a character image first.", "请先添加角色图片。"),
    "progress.add_video": ("Add a motion video first.", "请先添加动作视频。"),
    "progress.sign_in_first": (
        "This studio asks visitors to sign in before they spend its provider credit: press "
        "'Sign in with Hugging Face' at the top of the page, or paste your own provider key under Keys.",
        "本工作室要求访客先登录，才能使用它的服务商额度：请点击页面顶部的“Sign in with Hugging Face”，"
        "或在“密钥”中粘贴你自己的服务商密钥。",
    ),
    "progress.preparing": ("Checking and preparing the files…", "正在检查并准备文件…"),
    "progress.no_such_run": ("There is no run '{r}' in your History.", "你的历史记录中没有运行“{r}”。"),
    "progress.never_accepted": (
        "The provider never accepted this run (it has no task id), so nothing can be resumed: generate again.",
        "服务商从未接受这次运行（没有任务 ID），因此无法继续：请重新生成。",
    ),
    "progress.done": ("Done.", "完成。"),
    "progress.canceled_no_result": (
        "This run was canceled at the provider, so it has no result: generate again.",
        "这次运行已在服务商处取消，没有结果：请重新生成。",
    ),
    "progress.backend_unavailable": (
        "This run was made with the '{b}' backend, which is not available here now.",
        "这次运行使用的是“{b}”后端，当前在这里不可用。",
    ),
    "progress.waiting_for_worker": ("Waiting for a free worker…", "正在等待空闲的工作进程…"),
    "progress.run_ended": ("The run ended '{w_s}'.", "运行已结束（{w_s}）。"),
    # kmc_ui/worker.py: the identity Element before the create
    "progress.element_creating": ("Creating the identity Element at Kling…", "正在可灵创建身份元素…"),
    "progress.element_stopped": (
        "Stopped while the identity Element was being made: nothing was charged.",
        "在创建身份元素时已停止：未产生费用。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

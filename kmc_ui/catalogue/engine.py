"""The offline engine's steps, notes and reasons (kmc_ui/engine/*, kmc_ui/backends/local.py). Code ->
(English, Chinese). Slot syntax: kmc_ui/messages.py. They travel as Said strings (EngineError's text,
a task's message), so the engine's signatures stay str."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # steps (a task's message while it runs)
    "engine.reading_motion": ("Reading the motion: frame {i} of {n}", "正在读取动作：第 {i}/{n} 帧"),
    "engine.building": ("Building the puppet…", "正在构建木偶…"),
    "engine.calibrating": ("Calibrating the puppet's joints…", "正在校准木偶的关节…"),
    "engine.ready": ("Puppet ready.", "木偶已就绪。"),
    "engine.rendering": ("Rendering frame {i} of {n}", "正在渲染第 {i}/{n} 帧"),
    # notes on a finished render
    "engine.no_sound": (
        "The motion video has no sound, so the result is silent.",
        "动作视频没有声音，因此结果是无声的。",
    ),
    "engine.first_seconds": (
        "Only the first {d} s of the motion are used (the limit for '{o}').",
        "只使用动作的前 {d} 秒（“{o}”朝向的上限）。",
    ),
    "engine.arm_held": (
        "The character picture cuts the {w_arm} off at its edge, so the offline preview holds it as the picture "
        "shows it.",
        "角色图片在边缘截断了{w_arm}，因此离线预览让它保持图片中的样子。",
    ),
    "engine.arms_held": (
        "The character picture cuts both arms off at its edge, so the offline preview holds them as the picture "
        "shows them.",
        "角色图片在边缘截断了双臂，因此离线预览让它们保持图片中的样子。",
    ),
    "engine.side_shown": (
        "The character picture cuts the character off at its side, and the offline preview fades that side out "
        "where it shows in the frame: keeping it out would move the character far from where the video's person "
        "is. A picture with room beside the shoulders avoids this.",
        "角色图片在侧边截断了角色，离线预览会在这条截断边露出画面的地方把它淡出：若要把它移出画面，角色就会远离视频中人物的位置。"
        "使用肩膀旁边留有空间的图片即可避免。",
    ),
    "engine.top_shown": (
        "The character picture cuts the character off at its top, and the offline preview fades that edge out "
        "where it shows in the frame: keeping it out would move the character far from where the video's person "
        "is. A picture with room above the head avoids this.",
        "角色图片在顶部截断了角色，离线预览会在这条截断边露出画面的地方把它淡出：若要把它移出画面，角色就会远离视频中人物的位置。"
        "使用头顶上方留有空间的图片即可避免。",
    ),
    "engine.prompt_unused": (
        "Offline engine: the prompt is not used; this is a preview-quality 2D puppet.",
        "离线引擎：不使用提示词；这是预览级的 2D 木偶动画。",
    ),
    # stopped
    "engine.stopped": ("Rendering was stopped.", "渲染已停止。"),
    "engine.stopped_reading": ("stopped while reading the motion", "读取动作时已停止"),
    "engine.stopped_before": ("Stopped before it started.", "在开始之前已停止。"),
    # why a render cannot be made
    "engine.unexpected": ("The offline engine failed unexpectedly ({exc}).", "离线引擎意外失败（{exc}）。"),
    "engine.picture_undecodable": ("The character picture cannot be decoded ({exc}).", "角色图片无法解码（{exc}）。"),
    "engine.person_share": (
        "A person was found in only {p}% of the motion video's frames. Use a clip where one person is fully "
        "visible most of the time.",
        "只在 {p}% 的动作视频帧中找到了人物。请使用一个人在大部分时间里完整可见的片段。",
    ),
    "engine.orientation": ("Unknown orientation '{o}' (use one of {l}).", "未知的朝向“{o}”（请使用 {l} 之一）。"),
    "engine.no_person_picture": (
        "No person was found in the character picture. Use a picture where the character's head, body and limbs "
        "are clearly visible.",
        "角色图片中没有找到人物。请使用角色的头部、身体和四肢都清晰可见的图片。",
    ),
    "engine.too_small": (
        "The character is too small in the picture to be animated (its torso is a few pixels).",
        "角色在图片中太小，无法制作动画（躯干只有几个像素）。",
    ),
    "engine.no_mask": (
        "The character could not be cut out of the picture (its mask is empty).",
        "无法从图片中抠出角色（蒙版为空）。",
    ),
    "engine.video_unreadable": ("The motion video cannot be read ({w_why}).", "无法读取动作视频（{w_why}）。"),
    "engine.video_unopenable": ("The motion video cannot be opened ({why}).", "无法打开动作视频（{why}）。"),
    "engine.no_video_stream": ("The motion video has no video stream.", "动作视频没有视频流。"),
    "engine.no_frame": ("No frame of the motion video could be decoded.", "动作视频中没有任何一帧可以解码。"),
    "engine.video_undecodable": ("The motion video cannot be decoded ({why}).", "无法解码动作视频（{why}）。"),
    "engine.encoder_start": (
        "The video encoder (ffmpeg) could not be started ({why}).",
        "无法启动视频编码器（ffmpeg）（{why}）。",
    ),
    "engine.encoder_early": ("The video encoder stopped early ({why}).", "视频编码器提前停止（{why}）。"),
    "engine.encoder_timeout": ("The video encoder did not finish in time.", "视频编码器没有按时完成。"),
    "engine.encoder_failed": ("The video encoder failed ({why}).", "视频编码器失败（{why}）。"),
    "engine.disk_full": (
        "The server's disk is full, so the offline render could not be written; the partial file was removed. "
        "Free some space (on a public Space, tell its owner) and try again.",
        "服务器磁盘已满，无法写入离线渲染结果；不完整的文件已删除。请腾出空间（公共 Space 请告知其所有者）后重试。",
    ),
    # why a motion-agreement report could not be made (quoted by report.failed)
    "engine.no_person_result": ("no person was found anywhere in the result", "结果中任何位置都没有找到人物"),
    "engine.no_person_reference": ("no person was found in the reference video", "参考视频中没有找到人物"),
    "engine.plot_unwritable": ("the plot could not be written to {f}", "无法将图表写入 {f}"),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

"""English and Chinese UI text through Gradio's i18n (the browser's language picks one).

Static labels, buttons, tabs and help texts are translated here (gr.I18n, resolved in the
browser). Text composed at run time (findings, probe facts, "What will be sent", progress,
provider messages, costs, the result's description, the motion-agreement report, History and
Batch texts, validation messages) is translated on the server by kmc_ui/ui/runtime_text.py:
each handler reads the language from the request's Accept-Language header and the English
sentences are mapped through the catalogue in kmc_ui/ui/zh_catalogue.py, keeping measured
values, file names and provider reasons verbatim. The CLI and the API stay in English unless
a request asks for Chinese; finding codes never change.
"""

from __future__ import annotations

import gradio as gr

from kmc_ui.ui import text

# key -> (English, 中文)
STRINGS: dict[str, tuple[str, str]] = {
    "title": (text.TITLE, "# 🕺 kmc · 可灵动作控制工作室"),
    "intro": (
        text.INTRO,
        "上传一张**角色图片**（谁）、一段**动作参考视频**（做什么：骨架、节奏、物理），以及可选的**提示词**"
        "（场景、光线、风格、镜头；不要描述动作）。上传时即按服务商的每一项限制检查，付费之前就知道输入能否使用。",
    ),
    "tab_studio": ("Studio", "工作室"),
    "tab_history": ("History", "历史记录"),
    "tab_batch": ("Batch", "批量"),
    "tab_examples": ("Examples & Motion Library", "示例与动作库"),
    "tab_owner": ("Owner", "所有者"),
    "owner_password": ("Owner's password", "所有者密码"),
    "owner_open": ("Show spending", "查看花费"),
    "owner_csv": ("The ledger (CSV)", "账目（CSV）"),
    "export_title": ("Export a comparison video", "导出对比视频"),
    "audio_reference": ("reference", "参考视频"),
    "audio_output": ("result", "结果"),
    "audio_none": ("none", "无"),
    "export_audio": ("Sound of the export", "导出视频的声音"),
    "export_skeleton": ("Add the skeleton panel", "加入骨架画面"),
    "export": ("Export reference | result", "导出 参考 | 结果"),
    "export_file": ("Comparison video", "对比视频"),
    "image_label": (text.IMAGE_LABEL, "角色图片（谁）"),
    "video_label": (text.VIDEO_LABEL, "动作参考视频（做什么）"),
    "video_url_label": ("…or a public video URL", "……或公开视频链接"),
    # The placeholder stays short enough for the box's width on a desktop and a phone
    # (tests/test_browser_layout.py); what becomes of the URL is said in the box's info line.
    "video_url_placeholder": ("https://…/clip.mp4", "https://…/clip.mp4"),
    "video_url_info": ("Checked here, then sent to the provider as it is.", "先在这里检查，再原样发送给服务商。"),
    "fetch": ("Fetch", "获取"),
    "prompt_label": ("Prompt (optional, up to 2500 characters)", "提示词（可选，最多 2500 字符）"),
    "prompt_placeholder": (
        text.PROMPT_PLACEHOLDER,
        "描述场景、光线、风格和镜头，例如“夜晚霓虹灯下的屋顶，电影感，浅景深”。不要描述动作：动作来自视频。",
    ),
    "orientation_label": ("Character orientation", "角色朝向"),
    "orientation_video": ("video: follow the video, up to 30 s", "video：跟随视频，最长 30 秒"),
    "orientation_image": ("image: keep the picture's orientation, up to 10 s", "image：保持图片朝向，最长 10 秒"),
    "tier_label": ("Tier", "档位"),
    "tier_std": ("Standard 720p", "标准 720p"),
    "tier_pro": ("Pro 1080p", "专业 1080p"),
    "model_label": ("Model", "模型"),
    "model_v2.6": ("Kling 2.6 Motion Control", "可灵 2.6 动作控制"),
    "model_v3": ("Kling 3.0 Motion Control", "可灵 3.0 动作控制"),
    "keep_sound": ("Keep the video's original sound", "保留视频原声"),
    "watermark": ("Also keep a watermarked copy (Kling official API)", "另存一份带水印的版本（可灵官方 API）"),
    "lock_title": ("Identity lock (Kling 3.0, API 2.0)", "身份锁定（可灵 3.0，API 2.0）"),
    "lock_note": (
        "Add 1-3 more pictures of the same character from other angles. Kling makes an identity Element from "
        "them and the character image, so the face and clothes hold through the motion. It works with model "
        "v3 on 'Kling official API 2.0'; the result then follows the video's orientation. The Element is made "
        "once (0 units in a live test; not on Kling's price page) and reused for the same pictures.",
        "再添加 1-3 张同一角色其他角度的图片。可灵会用它们和角色图片生成一个身份元素，使面部和服装在动作中保持一致。"
        "仅适用于“可灵官方 API 2.0”上的 v3 模型；此时结果按视频的朝向生成。"
        "元素只生成一次（实测 0 单位；可灵价目表未列出），相同图片会复用。",
    ),
    "lock_pictures": ("More pictures of the character (1-3, other angles)", "角色的更多图片（1-3 张，其他角度）"),
    "lock_mine": ("Your identity Elements", "你的身份元素"),
    "lock_delete": ("Delete", "删除"),
    "backend_label": ("Backend", "后端"),
    "keys_title": ("API keys for this session (optional, never stored)", "本次会话的 API 密钥（可选，从不保存）"),
    "keys_note": (
        text.KEYS_NOTE,
        "这里输入的密钥只用于当前浏览器会话：仅在运行时保存在内存中，从不写入磁盘、记录日志或再次显示。"
        "留空则使用服务器配置的密钥。",
    ),
    "skeleton_title": ("Skeleton preview: how the motion will sit on the body", "骨架预览：动作将如何落在角色身上"),
    "character_skeleton": ("Character's detected skeleton", "检测到的角色骨架"),
    "motion_skeleton": ("Motion retargeted onto the character", "重定向到角色上的动作"),
    "sent_title": ("What will be sent", "将要发送的内容"),
    "sent_intro": (
        text.PREPARE_INTRO,
        "当输入超出某项可以无需猜测即可修复的限制（格式、大小、时长、编码）时，应用会在这里修复，"
        "并展示将要发送的确切文件。已经符合要求的文件原样发送，不会重新编码。",
    ),
    "trim_label": (text.TRIM_LABEL, "裁剪起点（秒）：从这里开始截取该朝向允许的最大时长"),
    "prepare": ("Prepare files (apply fixes and show them)", "准备文件（应用修复并展示）"),
    "prepared_image": ("Image that will be sent", "将要发送的图片"),
    "prepared_video": ("Video that will be sent", "将要发送的视频"),
    "generate": ("Generate", "生成"),
    "stop": ("Stop", "停止"),
    "download": ("Download the result", "下载结果"),
    "run_record": ("Run record", "运行记录"),
    "history_intro": (
        "Every run is recorded before it is submitted. Runs belong to this browser only; results are "
        "downloaded at once (provider links expire after 30 days).",
        "每次运行在提交前都会记录。记录只属于当前浏览器；结果会立即下载（服务商链接 30 天后失效）。",
    ),
    "refresh": ("Refresh", "刷新"),
    "open_run": ("Open a run", "打开一次运行"),
    "resume": ("Resume (poll again and download)", "继续（重新查询并下载）"),
    "rerun": ("Re-run with changes", "修改后重新运行"),
    "delete": ("Delete run and files", "删除运行及文件"),
    "sent_image": ("Character image sent", "已发送的角色图片"),
    "result": ("Result", "结果"),
    # Batch tab
    "batch_intro": (
        "Run **one motion with several characters**, or **one character with several motions**, as one "
        "request. Every item is checked first and the cost is shown for the whole batch; items run within "
        "the provider's concurrency, and one failure does not stop the others. Orientation, tier, model, "
        "sound, backend and prompt come from the Studio tab.",
        "以一次请求运行**一个动作配多个角色**，或**一个角色配多个动作**。每一项都会先检查，并显示整个批次的费用；"
        "各项在服务商允许的并发数内运行，一项失败不会影响其他项。朝向、档位、模型、声音、后端和提示词沿用工作室标签页的设置。",
    ),
    "batch_images": ("Character images", "角色图片"),
    "batch_videos": ("Motion videos", "动作视频"),
    "batch_plan": ("Check the batch and show its cost", "检查批次并显示费用"),
    "batch_run": ("Run the batch", "运行批次"),
    "batch_results": ("Results", "结果"),
    # Examples tab
    "examples_intro": (
        "Pick an example to load its character and motion into the Studio and see a **pre-rendered** result "
        "(made with the offline engine) at once: no credits, no waiting. Or take a motion from the Motion Library "
        "or one of the example characters. Everything here was made by this project (scripts/make_assets.py).",
        "选择一个示例，即可把它的角色和动作载入工作室，并立即看到**预先渲染**的结果（由离线引擎制作）："
        "不消耗积分，无需等待。也可以从动作库中选一个动作，或选用一个示例角色。这里的所有内容都由本项目制作"
        "（scripts/make_assets.py）。",
    ),
    "examples_pick": ("Examples (click one)", "示例（点击一个）"),
    "library_title": ("### Motion Library", "### 动作库"),
    "library_motion": ("Motion", "动作"),
    "use_motion": ("Use this motion", "使用这个动作"),
    "example_character": ("Example character", "示例角色"),
    "use_character": ("Use this character", "使用这个角色"),
}

I18N = gr.I18n(en={k: v[0] for k, v in STRINGS.items()}, zh={k: v[1] for k, v in STRINGS.items()})


def t(key: str) -> gr.i18n.I18nData:  # type: ignore[name-defined]
    """The translatable text for `key` (rendered in the browser's language)."""
    if key not in STRINGS:
        raise KeyError(f"no UI text named {key!r}")
    return I18N(key)

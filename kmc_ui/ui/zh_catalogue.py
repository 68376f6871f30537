"""The Chinese catalogue of run-time text: (English template, Chinese template) pairs.

What the app says now is a structured message (kmc_ui/messages.py, kmc_ui/catalogue) and is not read
back from English. This file serves the English sentences that records written by earlier versions
keep (a run's error, its progress, its report; a cached body check cut short). Its glossary
(WORDS) also serves the messages' `w_` slots.

Read by kmc_ui/ui/runtime_text.py, which explains the slot syntax. In short: `{name}` is a value
carried over as it is (a number, a file name, a provider's own words), `{t_name}` is translated
in turn, `{w_name}` goes through WORDS, and `{name:kind}` uses one of the slot kinds below
(a regular expression and, for some, a rewrite: "12.0 s, 3.5 s and 2 more" -> "12.0 秒、3.5 秒，另外还有 2 处";
`gloss` matches only a WORDS entry).
Only an `{m_name}` slot (translated, like `t_`) may hold several sentences.

Entries are tried in order and the first whole-text match wins: put a specific entry before a
general one. Keep the English exactly as the code writes it (tests/test_runtime_text.py checks
that every finding, progress text and report sentence the app produces is covered).

Findings carry their own code and parameters (kmc_ui/messages.py, kmc_ui/catalogue/findings.py):
a page renders them from there, not through this file. What stays here for findings is what other
texts still quote in English: the error findings (and the video fixes Prepare checks again), inside
a Prepare error, a batch item's skip reason or "Not sent until this is fixed: ...". WORDS also serves
the `w_` slots of those message templates.

Terms: 分辨率 resolution, 帧率 frame rate, 时长 duration, 像素 px, 宽高比 aspect ratio,
码率 bit rate, 编码 codec, 封装格式 container, 关键帧 keyframe, 服务商 provider, 任务 ID task id,
朝向 orientation, 提示词 prompt, 角色图片 character image, 动作视频 motion video, 参考视频 reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NUM = r"[-+]?\d[\d,]*(?:\.\d+)?"


def _seconds(text: str) -> str:
    return re.sub(r"(\d) s\b", r"\1 秒", text)


def _times(text: str) -> str:
    """ "1.0 s, 2.5 s and 3 more" -> "1.0 秒、2.5 秒，另外还有 3 处"."""
    text = re.sub(r" and (\d+) more$", r"，另外还有 \1 处", text)
    return _seconds(text).replace(", ", "、")


_SIDES = {"left": "左", "right": "右", "top": "上", "bottom": "下"}


def _sides(text: str) -> str:
    """ "left and top" -> "左侧和上方"."""
    names = text.split(" and ")
    out = [_SIDES.get(n, n) + ("方" if n in ("top", "bottom") else "侧") for n in names]
    return "和".join(out)


def _edges(text: str) -> str:
    """ "right edge" / "left and top edges" -> "右边缘" / "左边缘和上边缘"."""
    names = re.sub(r" edges?$", "", text).split(" and ")
    return "和".join(_SIDES.get(n, n) + "边缘" for n in names)


_LIMBS = {"left arm": "左臂", "right arm": "右臂", "left leg": "左腿", "right leg": "右腿"}


def _limbs(text: str) -> str:
    """ "left arm in 3, right leg in 2" -> "左臂 3 帧，右腿 2 帧"."""
    out = []
    for part in text.split(", "):
        name, _, n = part.rpartition(" in ")
        out.append(f"{_LIMBS.get(name, name)} {n} 帧" if name else part)
    return "，".join(out)


def _size(text: str) -> str:
    return text.replace(" bytes", " 字节")


def _list(text: str) -> str:
    """An English list of values ("MP4, MOV or WebM") -> "MP4、MOV 或 WebM"."""
    return text.replace(", ", "、").replace(" or ", " 或 ").replace(" and ", " 和 ")


def slot_kinds() -> dict[str, tuple[str, Callable[[str], str] | None]]:
    """Slot kind -> (regular expression, rewrite or None)."""
    return {
        "num": (NUM, None),
        "int": (r"\d+", None),
        "pct": (r"\d+%", None),
        "pl": (r"s?", lambda _: ""),  # an English plural "s": nothing in Chinese
        "size": (NUM + r" (?:MB|KB|bytes)", _size),
        "times": (r".+?", _times),
        "spans": (r".+?", _times),
        "edges": (r"(?:left|right|top|bottom)(?: and (?:left|right|top|bottom))* edges?", _edges),
        "sides": (r"(?:left|right|top|bottom)(?: and (?:left|right|top|bottom))*", _sides),
        "limbs": (r".+?", _limbs),
        "list": (r".+?", _list),
        "gloss": ("|".join(re.escape(k) for k in sorted(WORDS, key=len, reverse=True)), WORDS.__getitem__),
    }


# ---------------------------------------------------------------- glossary (w_ slots, word())

WORDS: dict[str, str] = {
    # finding levels and inputs
    "error": "错误",
    "warning": "警告",
    "hint": "提示",
    "image": "图片",
    "video": "视频",
    "prompt": "提示词",
    "pair": "图片与视频",
    # progress stages
    "preparing": "准备中",
    "submitting": "提交中",
    "queued": "排队中",
    "running": "生成中",
    "retrying": "重试中",
    "downloading": "下载中",
    "done": "完成",
    "failed": "失败",
    "stopped": "已停止",
    "waiting": "等待中",
    "skipped": "已跳过",
    # history statuses
    "submitted": "已提交",
    "succeeded": "成功",
    "canceled": "已取消",
    "stopped_waiting": "已停止等待",
    "download_failed": "下载失败",
    "submit_failed": "提交失败",
    "submit_uncertain": "提交结果不明",
    # tiers, shapes, framings
    "Standard 720p": "标准 720p",
    "Pro 1080p": "专业 1080p",
    "portrait": "竖版",
    "landscape": "横版",
    "square": "方形",
    "close-up (head and shoulders)": "特写（头和肩）",
    "upper body": "上半身",
    "full body": "全身",
    "upside down": "倒立",
    "lying down or on the side": "躺卧或侧卧",
    "the face": "脸部",
    "a shoulder": "一侧肩膀",
    "the face and a shoulder": "脸部和一侧肩膀",
    "both hands": "双手",
    "the left hand": "左手",
    "the right hand": "右手",
    "it": "它",
    "them": "它们",
    # file facts
    "unknown": "未知",
    # operating-system reasons (strerror) inside "cannot read the file (...)"
    "No such file or directory": "没有该文件或目录",
    "Permission denied": "权限不足",
    "Is a directory": "这是一个目录",
    "Not a directory": "不是目录",
    "Input/output error": "输入/输出错误",
    "No space left on device": "设备上没有剩余空间",
    "Read-only file system": "文件系统为只读",
    "it cannot be opened": "无法打开",
    "(no extension)": "（无扩展名）",
    "character image": "角色图片",
    "motion video": "动作视频",
    "Character image": "角色图片",
    "Motion video": "动作视频",
    # backends and providers
    "Offline engine (CPU, preview quality)": "离线引擎（CPU，预览质量）",
    "Kling official API (legacy design)": "可灵官方 API（旧版设计）",
    "Kling official API 2.0 (API key)": "可灵官方 API 2.0（API 密钥）",
    "the Kling API": "可灵 API",
    "Kling": "可灵",
    "fal storage": "fal 存储",
    "The Kling API": "可灵 API",
    "the provider": "服务商",
    # retry steps
    "Submit": "提交",
    "Status check": "状态查询",
    "Download": "下载",
    # Kling error-code meanings (kmc_ui.limits.KLING_ERRORS)
    "authentication failed": "认证失败",
    "authorization header is empty": "授权头为空",
    "authorization is invalid": "授权无效",
    "token not yet valid": "令牌尚未生效",
    "token expired": "令牌已过期",
    "account exception": "账户异常",
    "account in arrears": "账户欠费",
    "resource pack exhausted or expired": "资源包已用完或已过期",
    "no access to this API or model": "无权使用此 API 或模型",
    "invalid request parameters": "请求参数无效",
    "wrong request method": "请求方法错误",
    "requested resource (e.g. model) does not exist": "请求的资源（如模型）不存在",
    "platform policy triggered": "触发了平台策略",
    "content safety check failed": "内容安全检查未通过",
    "rate limit": "请求频率超限",
    "concurrency over the resource-pack limit": "并发数超过资源包限制",
    "IP not in the whitelist": "IP 不在白名单中",
    "provider internal error": "服务商内部错误",
    "provider under maintenance": "服务商维护中",
    "provider backlog timeout": "服务商积压超时",
    # limbs (the motion-agreement report)
    "left arm": "左臂",
    "right arm": "右臂",
    "left leg": "左腿",
    "right leg": "右腿",
    # limb regions (the report's appearance checks)
    "left hand": "左手",
    "right hand": "右手",
    "left upper arm": "左上臂",
    "right upper arm": "右上臂",
    "left forearm": "左前臂",
    "right forearm": "右前臂",
    "left thigh": "左大腿",
    "right thigh": "右大腿",
    "left shin": "左小腿",
    "right shin": "右小腿",
}


# ---------------------------------------------------------------- entries

_PROBE = [
    # why a file cannot be read, inside "Character image: ..." / "Motion video: ...": the page renders the
    # probe's reasons from their messages (kmc_ui/catalogue/probe.py); these read the English an older
    # record or a quoted finding keeps (a run that failed before it was sent)
    ("the file does not exist (it may have been moved or deleted)", "文件不存在（可能已被移动或删除）"),
    ("cannot read the file ({w_why})", "无法读取文件（{w_why}）"),
    ("the path is not a regular file (a folder or a device)", "该路径不是普通文件（而是文件夹或设备）"),
    ("the file is empty (0 bytes)", "文件为空（0 字节）"),
    ("the file is not an image we can read (unknown or corrupt content)", "该文件不是可读取的图片（内容未知或已损坏）"),
    (
        "the PNG carries a text (metadata) chunk over the safe size (it inflates past 1 MB, like a decompression "
        "bomb), so it is not opened: re-save the picture without its metadata",
        "该 PNG 含有超过安全大小的文本（元数据）块（解压后超过 1 MB，类似解压炸弹），因此不会打开："
        "请去掉元数据后重新保存图片",
    ),
    (
        "the file is cut short or damaged (its header or data ends early; truncated or still uploading)",
        "文件不完整或已损坏（文件头或数据提前结束；可能被截断或仍在上传）",
    ),
    ("the image cannot be read ({exc})", "无法读取图片（{exc}）"),
    ("the video cannot be read ({exc})", "无法读取视频（{exc}）"),
    (
        "the image cannot be read (its data is damaged, or it is not really a picture)",
        "无法读取图片（数据已损坏，或它其实不是图片）",
    ),
    (
        "the video cannot be read (its data is damaged, or it is not really a video)",
        "无法读取视频（数据已损坏，或它其实不是视频）",
    ),
    (
        "the MP4 index (moov box) is missing or incomplete: the file was cut short (an interrupted download, "
        "upload or recording)",
        "MP4 索引（moov box）缺失或不完整：文件被截断了（下载、上传或录制中断）",
    ),
    (
        "the file is a HEIF/AVIF picture (an image format), not a video",
        "该文件是 HEIF/AVIF 图片（一种图片格式），不是视频",
    ),
    ("the file's index is damaged (it declares impossible sizes)", "文件索引已损坏（声明了不可能的尺寸）"),
    ("the file uses a variant of its format that FFmpeg cannot read", "文件使用了 FFmpeg 无法读取的格式变体"),
    (
        "the file is not in a video format we accept (MP4, MOV, WebM, MKV, AVI)",
        "文件不是可接受的视频格式（MP4、MOV、WebM、MKV、AVI）",
    ),
    ("the file is not a video we can read (invalid or corrupt data)", "该文件不是可读取的视频（数据无效或已损坏）"),
    ("the file ends too early (truncated or still uploading)", "文件提前结束（可能被截断或仍在上传）"),
    # kmc_ui.pose.detect: a body check cut short (a cached analysis keeps it as English)
    ("the time limit of one check ran out after {s:num} s of work", "单次检查的时间上限已用完（已工作 {s} 秒）"),
]

_IMAGE_RULES = [
    ("Character image: {t_err}.", "角色图片：{t_err}。"),
    ("Upload a JPEG or PNG picture of the character.", "请上传角色的 JPEG 或 PNG 图片。"),
    (
        "Character image is a {w_fmt} file; the official API takes only JPEG or PNG.",
        "角色图片是 {w_fmt} 文件；官方 API 只接受 JPEG 或 PNG。",
    ),
    (
        "Character image is a unknown file; the official API takes only JPEG or PNG.",
        "角色图片的格式未知；官方 API 只接受 JPEG 或 PNG。",
    ),
    ("Convert it to PNG or JPEG.", "请将其转换为 PNG 或 JPEG。"),
    ("Save it as JPEG or PNG in an image editor.", "请在图片编辑器中将其另存为 JPEG 或 PNG。"),
    (
        "Character image is animated (at least {n:int} frames); only one still picture is used.",
        "角色图片是动图（至少 {n} 帧）；只会使用一张静态图片。",
    ),
    (
        "Character image is a {w_fmt} file of {size} px ({mp:num} megapixels); the official API takes only JPEG "
        "or PNG, and this app converts pictures of at most {cap:num} megapixels.",
        "角色图片是 {w_fmt} 文件，{size} 像素（{mp} 百万像素）；官方 API 只接受 JPEG 或 PNG，而本应用最多只能转换 "
        "{cap} 百万像素的图片。",
    ),
    (
        "Downscale it to at most {cap:num} megapixels and save it as JPEG or PNG in an image editor.",
        "请在图片编辑器中将其缩小到最多 {cap} 百万像素，并另存为 JPEG 或 PNG。",
    ),
    ("Character image is {m:size}; the limit is {l:size}.", "角色图片大小为 {m}；上限为 {l}。"),
    (
        "Re-save it smaller (JPEG quality 90 or a smaller size).",
        "请重新保存为更小的文件（JPEG 质量 90 或更小的尺寸）。",
    ),
    (
        "Character image is {size} px; each side must be at most {max:int} px.",
        "角色图片为 {size} 像素；每边最多 {max} 像素。",
    ),
    ("Downscale it.", "请缩小尺寸。"),
    (
        "Character image is {size} px ({mp:num} megapixels); this app opens at most {max:num} megapixels safely.",
        "角色图片为 {size} 像素（{mp} 百万像素）；本应用最多只能安全打开 {max} 百万像素的图片。",
    ),
    (
        "Downscale it in an image editor (a few megapixels are plenty for the face and body).",
        "请在图片编辑器中缩小尺寸（几百万像素就足以表现脸部和身体）。",
    ),
    (
        "Character image is {size} px; each side must be at least {min:int} px.",
        "角色图片为 {size} 像素；每边至少需要 {min} 像素。",
    ),
    (
        "Use a larger picture (at least {a:int} px a side, ideally {b:int} px or more).",
        "请使用更大的图片（每边至少 {a} 像素，最好 {b} 像素或以上）。",
    ),
    (
        "Use a larger picture: at least {a:int} px a side ({c:int} px suits every provider; "
        "ideally {b:int} px or more).",
        "请使用更大的图片：每边至少 {a} 像素（{c} 像素适用于所有服务商；最好 {b} 像素或以上）。",
    ),
    (
        "Character image aspect ratio is {a:num} ({size}); it must be between {lo:num} (1:2.5) and {hi:num} (2.5:1).",
        "角色图片的宽高比为 {a}（{size}）；必须在 {lo}（1:2.5）到 {hi}（2.5:1）之间。",
    ),
    ("Crop the picture closer to the character.", "请裁剪图片，让角色占据更多画面。"),
]

_VIDEO_RULES = [
    ("Motion video: {t_err}.", "动作视频：{t_err}。"),
    ("Upload an MP4 or MOV video of one person moving.", "请上传一段单人运动的 MP4 或 MOV 视频。"),
    ("Motion video has no picture track ({codec} audio only).", "动作视频没有画面轨道（只有 {codec} 音频）。"),
    ("Motion video has no picture track.", "动作视频没有画面轨道。"),
    ("Upload a video that shows the person moving.", "请上传能看到人物动作的视频。"),
    (
        "Motion video's picture track uses a codec this app cannot decode (or its header is corrupt).",
        "动作视频的画面轨道使用了本应用无法解码的编码（或文件头已损坏）。",
    ),
    ("Convert it to an H.264 MP4 in a video editor or converter.", "请用视频编辑器或转换工具将其转换为 H.264 MP4。"),
    (
        "Motion video's video stream cannot be decoded (corrupt or truncated).",
        "动作视频的视频流无法解码（已损坏或被截断）。",
    ),
    (
        "Motion video's {codec} stream cannot be decoded (corrupt or truncated).",
        "动作视频的 {codec} 视频流无法解码（已损坏或被截断）。",
    ),
    ("Export or download the video again.", "请重新导出或下载视频。"),
    (
        "Motion video is cut short: its index describes {d:num} s of media in {l:size}, but the file holds only "
        "{m:size}.",
        "动作视频不完整：其索引记录了 {d} 秒的媒体、共 {l}，但文件只有 {m}。",
    ),
    (
        "Download or export the video again; the upload or recording was interrupted.",
        "请重新下载或导出视频；上传或录制过程被中断了。",
    ),
    (
        "Motion video is a {w_name} file; the official API takes only {allowed:list}.",
        "动作视频是 {w_name} 文件；官方 API 只接受 {allowed}。",
    ),
    ("Convert it to an H.264 MP4.", "请将其转换为 H.264 MP4。"),
    (
        "Motion video is named '{w_ext}'; the official API takes only {exts:list} files.",
        "动作视频的扩展名为“{w_ext}”；官方 API 只接受 {exts} 文件。",
    ),
    (
        "Motion video is named '(no extension)'; the official API takes only {exts:list} files.",
        "动作视频没有扩展名；官方 API 只接受 {exts} 文件。",
    ),
    ("It is sent as .mp4 (same content, new name).", "将以 .mp4 发送（内容不变，只改扩展名）。"),
    (
        "Motion video is encoded as {w_codec}; H.264 is the safe choice for every provider and browser.",
        "动作视频的编码为 {w_codec}；H.264 是所有服务商和浏览器都支持的稳妥选择。",
    ),
    (
        "Motion video is encoded as unknown; H.264 is the safe choice for every provider and browser.",
        "动作视频的编码未知；H.264 是所有服务商和浏览器都支持的稳妥选择。",
    ),
    (
        "Motion video is a unknown file; the official API takes only {allowed:list}.",
        "动作视频的封装格式未知；官方 API 只接受 {allowed}。",
    ),
    (
        "Motion video's H.264 uses the {pf} pixel format; browsers and some providers only play yuv420p.",
        "动作视频的 H.264 使用 {pf} 像素格式；浏览器和部分服务商只能播放 yuv420p。",
    ),
    ("Motion video is {m:size}; the limit is {l:size}.", "动作视频大小为 {m}；上限为 {l}。"),
    ("Re-encode it at a lower bit rate or trim it.", "请以更低的码率重新编码，或截短视频。"),
    (
        "Motion video is {size} px; each side must be at least {min:int} px.",
        "动作视频为 {size} 像素；每边至少需要 {min} 像素。",
    ),
    ("Use a higher-resolution recording (720p or more).", "请使用更高分辨率的录像（720p 或以上）。"),
    (
        "Motion video is {size} px; each side must be at most {max:int} px.",
        "动作视频为 {size} 像素；每边最多 {max} 像素。",
    ),
    ("Downscale it (to {p:int}p).", "请降低分辨率（到 {p}p）。"),
    (
        "Motion video lasts {d:num} s ({n:int} frame{pl:pl}); it must be at least {m:num} s.",
        "动作视频时长 {d} 秒（{n} 帧）；至少需要 {m} 秒。",
    ),
    ("Motion video lasts {d:num} s; it must be at least {m:num} s.", "动作视频时长 {d} 秒；至少需要 {m} 秒。"),
    (
        "Use a longer clip ({m:num} s or more of continuous motion).",
        "请使用更长的片段（至少 {m} 秒的连续动作）。",
    ),
    (
        "Motion video lasts {d:num} s; with orientation '{o}' the limit is {m:num} s.",
        "动作视频时长 {d} 秒；朝向为“{o}”时上限为 {m} 秒。",
    ),
    (
        "Trim it to {m:num} s (pick the window below), or switch orientation to 'video' (up to {v:num} s).",
        "请截取到 {m} 秒（在下方选择截取范围），或将朝向切换为“video”（最长 {v} 秒）。",
    ),
    ("Trim it to {m:num} s (pick the window below).", "请截取到 {m} 秒（在下方选择截取范围）。"),
    (
        "Motion video's index gives {f:num} fps (under {m:num}): its frame timing is broken (frames without "
        "durations or a zero timescale), so the motion cannot be timed.",
        "动作视频的索引给出的帧率为 {f} fps（低于 {m}）：帧时间信息已损坏（帧没有时长或时间基为零），"
        "无法确定动作的时间。",
    ),
    ("Export the video again from the camera or editor.", "请从相机或编辑软件重新导出视频。"),
    (
        "Motion video has a variable frame rate (average {f:num} fps); a constant rate is expected, or the timing "
        "may drift.",
        "动作视频为可变帧率（平均 {f} fps）；需要恒定帧率，否则时间可能会漂移。",
    ),
]

_PROMPT_AND_PAIR = [
    ("Prompt has {n:int} characters; the limit is {l:int}.", "提示词有 {n} 个字符；上限为 {l}。"),
    ("Shorten it by {n:int} characters.", "请删减 {n} 个字符。"),
]

_FINDING_TEXT = [
    # Finding.text() and PreparationError texts join a message and its fix
    ("Fix: {m_fix}", "修复：{m_fix}"),
    ("(the app can do this for you: see 'What will be sent')", "（应用可以替你完成：见“将要发送的内容”）"),
    ("Fix these first: {m_rest}", "请先修复这些问题：{m_rest}"),
    ("Still blocking: {m_rest}", "仍有阻止生成的问题：{m_rest}"),
    ("Not sent until this is fixed: {m_rest}", "修复以下问题之前不会发送：{m_rest}"),
]

_PREPARE = [
    # kmc_ui.media.prepare / image_convert / video_plan / video_encode: what was done, in words
    ("No changes needed: the file is sent as-is.", "无需修改：文件将原样发送。"),
    ("no changes needed: the file is sent as it is", "无需修改：文件将原样发送"),
]

_PROGRESS = [
    # kmc_ui.studio
    ("Unknown backend '{b}'.", "未知的后端“{b}”。"),
    ("Add a character image first.", "请先添加角色图片。"),
    ("Add a motion video first.", "请先添加动作视频。"),
    ("Checking and preparing the files…", "正在检查并准备文件…"),
    # kmc_ui.spend: the owner's money
    (
        "This studio asks visitors to sign in before they spend its provider credit: press "
        "'Sign in with Hugging Face' at the top of the page, or paste your own provider key under Keys.",
        "本工作室要求访客先登录，才能使用它的服务商额度：请点击页面顶部的“Sign in with Hugging Face”，"
        "或在“密钥”中粘贴你自己的服务商密钥。",
    ),
    # kmc_ui.studio / kmc_ui.worker: runs are server-side jobs
    ("Waiting for a free worker…", "正在等待空闲的工作进程…"),
    (
        "The run stopped on an unexpected error ({e}). Its task is kept: resume it from History.",
        "运行因意外错误（{e}）而停止。它的任务已保留：请在“历史记录”中继续。",
    ),
    (
        "The run stopped on an unexpected error ({e}). Nothing was sent: generate again.",
        "运行因意外错误（{e}）而停止。没有发送任何内容：请重新生成。",
    ),
    ("The run ended '{w_s}'.", "运行已结束（{w_s}）。"),
    (
        "This run was started with your own key, which this server never stores, and the app restarted "
        "while it ran. Open History and press Resume with your key to collect the result (it is not paid again).",
        "这次运行使用的是你自己的密钥，本服务器从不保存密钥，而应用在运行期间重启了。"
        "请打开“历史记录”，填入你的密钥后点击“继续”来取回结果（不会再次付费）。",
    ),
    (
        "The app stopped while it was sending this run to {label}, which cannot look a task up by our id: "
        "it was not sent again, so you are not charged twice. Check your {label2} dashboard for the task.",
        "应用在把这次运行发送给 {label} 时停止了，而该服务商无法按我们的 ID 查找任务："
        "因此没有再次发送，你不会被重复收费。请在 {label2} 的控制台中查看该任务。",
    ),
    ("There is no run '{r}' in your History.", "你的历史记录中没有运行“{r}”。"),
    (
        "The provider never accepted this run (it has no task id), so nothing can be resumed: generate again.",
        "服务商从未接受这次运行（没有任务 ID），因此无法继续：请重新生成。",
    ),
    ("Done.", "完成。"),
    (
        "This run was canceled at the provider, so it has no result: generate again.",
        "这次运行已在服务商处取消，没有结果：请重新生成。",
    ),
    (
        "This run was made with the '{b}' backend, which is not available here now.",
        "这次运行使用的是“{b}”后端，当前在这里不可用。",
    ),
    # kmc_ui.jobs
    ("Submitting to {w_label}…", "正在提交到 {w_label}…"),
    ("{w_what}: {m_reason}; retry {n:int}/{m:int} in {d:num} s", "{w_what}：{m_reason}；{d} 秒后进行第 {n}/{m} 次重试"),
    ("{m_msg} (re-signing)", "{m_msg}（正在重新签名）"),
    ("{w_what} kept failing", "{w_what}一直失败"),
    ("The task ended '{w_s}': {m_reason}", "任务以“{w_s}”结束：{m_reason}"),
    ("Downloading the result…", "正在下载结果…"),
    ("The result could not be downloaded: {m_msg}", "无法下载结果：{m_msg}"),
    ("Resume the run from History to download it again.", "请在历史记录中继续这次运行，重新下载。"),
    ("The result is ready.", "结果已就绪。"),
    (
        "{m_msg}: the request may have reached {w_label} and created a paid task",
        "{m_msg}：请求可能已到达 {w_label} 并创建了付费任务",
    ),
    (
        "It was not sent again, so you are not charged twice. Check your {w_label} dashboard for a new task before "
        "you press Generate again.",
        "请求没有重复发送，因此不会被重复收费。再次点击“生成”之前，请先在 {w_label} 控制台查看是否有新任务。",
    ),
    ("Waiting for {w_label}…", "正在等待 {w_label}…"),
    ("Queued at {w_label} (position {n:int})…", "正在 {w_label} 排队（第 {n} 位）…"),
    ("Queued at {w_label}…", "正在 {w_label} 排队…"),
    ("Generating {p:int}% ({t_detail})…", "正在生成 {p}%（{t_detail}）…"),
    ("Generating {p:int}%…", "正在生成 {p}%…"),
    ("Generating ({t_detail})…", "正在生成（{t_detail}）…"),
    ("Generating…", "正在生成…"),
    # kmc_ui.backends.base: BackendError.user_text()
    ("{m_msg} (code {c:int})", "{m_msg}（错误码 {c}）"),
    ("What to do: {m_fix}", "处理办法：{m_fix}"),
    (
        "Task id {task} is kept in History: it can be resumed later.",
        "任务 ID {task} 已保存在历史记录中：之后可以继续。",
    ),
    # UI messages
    # kmc_ui.jobs.stopped_text and kmc_ui.ui.stops: what Stop did
    ("{w_label} cancelled task {task}: it will not run.", "{w_label} 已取消任务 {task}：它不会再运行。"),
    (
        "{w_label} cancelled task {task}: it stops there, and no result will come.",
        "{w_label} 已取消任务 {task}：任务就此停止，不会有结果。",
    ),
    (
        "No longer waiting; task {task} keeps running at {w_label}. "
        "It stays in History, where it can be resumed without paying again.",
        "已停止等待；任务 {task} 仍在 {w_label} 运行。它保留在历史记录中，可以继续，无需再次付费。",
    ),
    ("Nothing was sent, so nothing was charged.", "没有发送任何内容，因此没有产生费用。"),
    ("Deleted run {r} and its files.", "已删除运行 {r} 及其文件。"),
]

_BACKENDS = [
    # kmc_ui.backends.common
    ("Could not connect to {w_p} ({exc})", "无法连接到 {w_p}（{exc}）"),
    ("Check the network and {s}; retried automatically.", "请检查网络和 {s}；会自动重试。"),
    ("{s} is not a usable URL", "{s} 不是可用的 URL"),
    ("Set {s} to an https:// URL.", "请将 {s} 设置为 https:// URL。"),
    ("{w_p} did not answer in time ({exc})", "{w_p} 没有及时响应（{exc}）"),
    ("The connection to {w_p} broke ({exc})", "与 {w_p} 的连接中断了（{exc}）"),
    ("The provider sent no result link", "服务商没有发送结果链接"),
    (
        "The result link answered HTTP {s:int}: it has expired or was refused",
        "结果链接返回 HTTP {s}：链接已过期或被拒绝",
    ),
    (
        "Results are kept by the provider for about {d:int} days; resume from History soon after the task ends.",
        "服务商只保留结果约 {d} 天；请在任务结束后尽快从历史记录中继续。",
    ),
    ("The result link answered HTTP {s:int}", "结果链接返回 HTTP {s}"),
    ("The download broke off ({exc})", "下载中断了（{exc}）"),
    ("The download was incomplete ({a:int} of {b:int} bytes)", "下载不完整（{a}/{b} 字节）"),
    ("The download was incomplete (an empty file)", "下载不完整（文件为空）"),
    (
        "Set {t_what} as environment variables (Space secrets on a Hugging Face Space), in .env, or in the key box.",
        "请设置 {t_what}：可设为环境变量（在 Hugging Face Space 上为 Space secrets）、写入 .env，或填入密钥框。",
    ),
    (
        "KLING_ACCESS_KEY and KLING_SECRET_KEY (from the Kling developer console)",
        "KLING_ACCESS_KEY 和 KLING_SECRET_KEY（在可灵开发者控制台获取）",
    ),
    (
        "KLING_API_KEY, or KLING_ACCESS_KEY and KLING_SECRET_KEY (from the Kling developer console)",
        "KLING_API_KEY，或 KLING_ACCESS_KEY 和 KLING_SECRET_KEY（在可灵开发者控制台获取）",
    ),
    (
        "KLING_API_KEY (an API 2.0 key from the Kling developer console)",
        "KLING_API_KEY（可灵开发者控制台中的 API 2.0 密钥）",
    ),
    ("FAL_KEY (from fal.ai/dashboard/keys)", "FAL_KEY（在 fal.ai/dashboard/keys 获取）"),
    (
        "REPLICATE_API_TOKEN (from replicate.com/account/api-tokens)",
        "REPLICATE_API_TOKEN（在 replicate.com/account/api-tokens 获取）",
    ),
    ("KMC_PUBLIC_BASE_URL is not set", "未设置 KMC_PUBLIC_BASE_URL"),
    (
        "KMC_PUBLIC_BASE_URL must be an http(s) URL such as https://you-app.hf.space",
        "KMC_PUBLIC_BASE_URL 必须是 http(s) URL，例如 https://you-app.hf.space",
    ),
    (
        "KMC_PUBLIC_BASE_URL points at a private address ({h}) that a provider cannot reach; use the public URL "
        "(set KMC_ALLOW_PRIVATE_URLS=1 only for tests and LAN demos)",
        "KMC_PUBLIC_BASE_URL 指向服务商无法访问的私有地址（{h}）；请使用公开网址（仅在测试和局域网演示时设置 "
        "KMC_ALLOW_PRIVATE_URLS=1）",
    ),
    ("{f} does not exist or is not a file", "{f} 不存在或不是文件"),
    ("{f} is outside the folders this app serves", "{f} 不在本应用提供的文件夹中"),
    ("{w_p} sent an unreadable answer (HTTP {s:int})", "{w_p} 返回了无法解析的响应（HTTP {s}）"),
    # official Kling API
    (
        "The Kling API reads the reference video only from a public URL.",
        "可灵 API 只能从公开链接读取参考视频。",
    ),
    ("Replicate reads the reference video from a URL.", "Replicate 从链接读取参考视频。"),
    (
        "Run the app where {w_p} can reach it and set KMC_PUBLIC_BASE_URL to that address (for example a public "
        "Hugging Face Space URL), or paste a public URL of the video.",
        "请在 {w_p} 能访问到的地方运行本应用，并将 KMC_PUBLIC_BASE_URL 设为该地址"
        "（例如公开的 Hugging Face Space 网址），"
        "或粘贴视频的公开链接。",
    ),
    ("The provider gave no reason", "服务商没有给出原因"),
    ("Replicate gave no reason", "Replicate 没有给出原因"),
    ("The provider reported success but sent no video.", "服务商报告成功，但没有发送视频。"),
    ("Replicate reported success but sent no video.", "Replicate 报告成功，但没有发送视频。"),
    ("Resume later or contact support.", "请稍后继续，或联系技术支持。"),
    (
        "{v} must be an http(s) URL, e.g. {url}.",
        "{v} 必须是 http(s) URL，例如 {url}。",
    ),
    ("The Kling API accepted the request but sent no task id", "可灵 API 接受了请求，但没有返回任务 ID"),
    ("The Kling API sent an unreadable task list", "可灵 API 返回了无法解析的任务列表"),
    ("The Kling API sent an unreadable task status", "可灵 API 返回了无法解析的任务状态"),
    ("The Kling API is not configured", "可灵 API 未配置"),
    ("The Kling API does not list task {task} (yet)", "可灵 API（暂时）没有列出任务 {task}"),
    ("The image {f} cannot be read", "无法读取图片 {f}"),
    ("Choose the character image again.", "请重新选择角色图片。"),
    ("The reference video has no public URL: {t_why}", "参考视频没有公开链接：{t_why}"),
    ("The character image has no public URL: {t_why}", "角色图片没有公开链接：{t_why}"),
    (
        "The image is over {k:int} kB, so Replicate needs it as a URL: set KMC_PUBLIC_BASE_URL, or use a smaller "
        "image.",
        "图片超过 {k} kB，因此 Replicate 需要以链接形式获取：请设置 KMC_PUBLIC_BASE_URL，或使用更小的图片。",
    ),
    ("The Kling API refused the keys (HTTP 401)", "可灵 API 拒绝了密钥（HTTP 401）"),
    ("The Kling API answered HTTP {s:int}", "可灵 API 返回 HTTP {s}"),
    ("Check KLING_API_BASE.", "请检查 KLING_API_BASE。"),
    ("Kling API: {meaning:gloss}: {reason}", "可灵 API：{meaning}：{reason}"),
    ("Kling API: {meaning:gloss}", "可灵 API：{meaning}"),
    ("Kling API error (HTTP {s:int}): {reason}", "可灵 API 错误（HTTP {s}）：{reason}"),
    ("Kling API error (HTTP {s:int})", "可灵 API 错误（HTTP {s}）"),
    # The HTTP ladder for an answer without a code of Kling's own (kmc_ui/backends/errors.py).
    ("The Kling API refused the keys (HTTP 401): {reason}", "可灵 API 拒绝了密钥（HTTP 401）：{reason}"),
    (
        "The Kling API refused the request: no credit left (HTTP {s:int}): {reason}",
        "可灵 API 拒绝了请求：余额不足（HTTP {s}）：{reason}",
    ),
    ("The Kling API refused the request: no credit left (HTTP {s:int})", "可灵 API 拒绝了请求：余额不足（HTTP {s}）"),
    ("The Kling API refused access (HTTP 403): {reason}", "可灵 API 拒绝访问（HTTP 403）：{reason}"),
    ("The Kling API refused access (HTTP 403)", "可灵 API 拒绝访问（HTTP 403）"),
    ("The Kling API is rate limiting (HTTP 429): {reason}", "可灵 API 正在限流（HTTP 429）：{reason}"),
    ("The Kling API is rate limiting (HTTP 429)", "可灵 API 正在限流（HTTP 429）"),
    ("The Kling API had a server error (HTTP {s:int}): {reason}", "可灵 API 服务器出错（HTTP {s}）：{reason}"),
    ("The Kling API had a server error (HTTP {s:int})", "可灵 API 服务器出错（HTTP {s}）"),
    ("The Kling API refused the inputs (HTTP {s:int}): {reason}", "可灵 API 拒绝了输入（HTTP {s}）：{reason}"),
    ("The Kling API refused the inputs (HTTP {s:int})", "可灵 API 拒绝了输入（HTTP {s}）"),
    ("The Kling API does not know this path (HTTP 404): {reason}", "可灵 API 不认识此路径（HTTP 404）：{reason}"),
    ("The Kling API does not know this path (HTTP 404)", "可灵 API 不认识此路径（HTTP 404）"),
    # The identity lock (kmc_ui/elements.py).
    ("Extra character picture {n:int}: {m_text}", "额外角色图片 {n}：{m_text}"),
    (
        "With an identity lock the result always follows the video's orientation (Kling's rule): "
        "orientation is set to 'video'.",
        "使用身份锁定时，结果总是按视频的朝向生成（可灵的规则）：朝向已设为“video”。",
    ),
    (
        "Creating the identity Element is not on Kling's price page; it was charged 0 units in a live test. "
        "It is made once per set of pictures and reused.",
        "可灵价目表未列出创建身份元素的费用；实测扣除 0 单位。每组图片只生成一次并会复用。",
    ),
    (
        "An identity lock works only with Kling 3.0 on the Kling official API 2.0 (chosen: {model} on '{backend}').",
        "身份锁定仅适用于可灵官方 API 2.0 上的可灵 3.0（当前：{model}，后端“{backend}”）。",
    ),
    (
        "Choose model v3 and the backend 'Kling official API 2.0', or remove the extra pictures.",
        "请选择 v3 模型和“可灵官方 API 2.0”后端，或移除额外的图片。",
    ),
    (
        "{n:int} extra character pictures; an identity lock takes 1 to 3 besides the character image.",
        "额外角色图片有 {n} 张；身份锁定除角色图片外需要 1 到 3 张。",
    ),
    (
        "Keep the 3 clearest pictures from other angles and remove the rest.",
        "保留其他角度最清晰的 3 张图片，移除其余的。",
    ),
    ("Creating the identity Element at Kling…", "正在可灵创建身份元素…"),
    ("Stopped while the identity Element was being made: nothing was charged.", "在创建身份元素时已停止：未产生费用。"),
    # what to do about a Kling error code (kmc_ui.limits.KLING_ERRORS)
    (
        "Check KLING_ACCESS_KEY / KLING_SECRET_KEY (or KLING_API_KEY).",
        "请检查 KLING_ACCESS_KEY / KLING_SECRET_KEY（或 KLING_API_KEY）。",
    ),
    ("Set the API keys in .env or the key box.", "请在 .env 或密钥框中设置 API 密钥。"),
    ("Check the keys; regenerate them in the Kling console if needed.", "请检查密钥；必要时在可灵控制台重新生成。"),
    (
        "This machine's clock is ahead or behind: sync it (NTP) and retry.",
        "本机时钟偏快或偏慢：请同步时间（NTP）后重试。",
    ),
    (
        "The token expired; it is re-signed on the next request. Check the clock.",
        "令牌已过期；下次请求时会重新签名。请检查时钟。",
    ),
    ("Check the account status in the Kling console.", "请在可灵控制台检查账户状态。"),
    ("Top up the account, then retry.", "请为账户充值，然后重试。"),
    ("Buy more units (resource pack) in the Kling console.", "请在可灵控制台购买更多资源包。"),
    (
        "Check the account's permissions for Motion Control and the chosen model.",
        "请检查账户是否有权使用动作控制和所选模型。",
    ),
    ("Fix the input named in the message.", "请修复消息中提到的输入。"),
    ("Report this: the app used a wrong method.", "请报告此问题：应用使用了错误的请求方法。"),
    ("Pick another model or check the API host.", "请选择其他模型，或检查 API 主机地址。"),
    ("Change the inputs (image, video or prompt).", "请更换输入（图片、视频或提示词）。"),
    (
        "Change the image, the video or the prompt; the content was refused.",
        "请更换图片、视频或提示词；内容被拒绝了。",
    ),
    ("Too many requests: retried automatically with backoff.", "请求过多：会以退避方式自动重试。"),
    ("Wait for running tasks to finish: retried with backoff.", "请等待运行中的任务结束：会以退避方式重试。"),
    ("Add this server's IP to the account's whitelist.", "请将本服务器的 IP 加入账户白名单。"),
    ("Retried automatically with backoff.", "会以退避方式自动重试。"),
    ("Retried automatically; try later if it persists.", "会自动重试；如果问题持续，请稍后再试。"),
    ("Retried automatically.", "会自动重试。"),
    # what to do about a failed task (kmc_ui.limits.TASK_FAILURE_HINTS)
    (
        "The content was refused by moderation: change the image, video or prompt.",
        "内容未通过审核：请更换图片、视频或提示词。",
    ),
    (
        "The provider rejected the image size: use an image with each side 340 px or more.",
        "服务商拒绝了图片尺寸：请使用每边 340 像素或以上的图片。",
    ),
    (
        "The provider rejected the aspect ratio: crop the image to between 1:2.5 and 2.5:1.",
        "服务商拒绝了宽高比：请将图片裁剪到 1:2.5 到 2.5:1 之间。",
    ),
    (
        "The provider rejected the video length: trim it to 3 s .. the orientation's maximum.",
        "服务商拒绝了视频时长：请截取到 3 秒至该朝向的上限之间。",
    ),
    (
        "No usable person was found: use a clear, unobstructed single person in image and video.",
        "没有找到可用的人物：请在图片和视频中使用清晰、无遮挡的单个人物。",
    ),
    # fal
    (
        "Check FAL_KEY: create a key at fal.ai/dashboard/keys and set FAL_KEY in .env (or paste it in the key box).",
        "请检查 FAL_KEY：在 fal.ai/dashboard/keys 创建密钥，并在 .env 中设置 FAL_KEY（或粘贴到密钥框）。",
    ),
    (
        "Top up the fal balance (fal.ai/dashboard/billing), then try again.",
        "请为 fal 余额充值（fal.ai/dashboard/billing），然后重试。",
    ),
    (
        "Check that this fal key may use the Kling Motion Control endpoints.",
        "请确认此 fal 密钥有权使用可灵动作控制接口。",
    ),
    (
        "Fix the input named in the message (the checks panel shows the limits).",
        "请修复消息中提到的输入（检查面板中列出了各项限制）。",
    ),
    (
        "fal accepted the request but its answer had no request id or links",
        "fal 接受了请求，但响应中没有请求 ID 或链接",
    ),
    ("fal sent an unknown status {s}", "fal 返回了未知状态 {s}"),
    ("fal is not configured", "fal 未配置"),
    ("The links of fal request {task} are not known", "fal 请求 {task} 的链接未知"),
    (
        "This run's record has no status link; generate again (fal's own dashboard lists the request).",
        "这次运行的记录中没有状态链接；请重新生成（fal 自己的控制台中可以看到该请求）。",
    ),
    ("fal refused the key (HTTP 401): {reason}", "fal 拒绝了密钥（HTTP 401）：{reason}"),
    ("fal refused the key (HTTP 401)", "fal 拒绝了密钥（HTTP 401）"),
    (
        "fal refused the request: no credit left (HTTP {s:int}): {reason}",
        "fal 拒绝了请求：余额不足（HTTP {s}）：{reason}",
    ),
    ("fal refused the request: no credit left (HTTP {s:int})", "fal 拒绝了请求：余额不足（HTTP {s}）"),
    ("fal refused access (HTTP {s:int}): {reason}", "fal 拒绝访问（HTTP {s}）：{reason}"),
    ("fal refused access (HTTP {s:int})", "fal 拒绝访问（HTTP {s}）"),
    ("fal is rate limiting (HTTP 429): {reason}", "fal 正在限流（HTTP 429）：{reason}"),
    ("fal is rate limiting (HTTP 429)", "fal 正在限流（HTTP 429）"),
    ("fal had a server error (HTTP {s:int}): {reason}", "fal 服务器出错（HTTP {s}）：{reason}"),
    ("fal had a server error (HTTP {s:int})", "fal 服务器出错（HTTP {s}）"),
    ("fal refused the content (HTTP {s:int}): {reason}", "fal 拒绝了内容（HTTP {s}）：{reason}"),
    ("fal refused the content (HTTP {s:int})", "fal 拒绝了内容（HTTP {s}）"),
    ("fal refused the inputs (HTTP {s:int}): {reason}", "fal 拒绝了输入（HTTP {s}）：{reason}"),
    ("fal refused the inputs (HTTP {s:int})", "fal 拒绝了输入（HTTP {s}）"),
    (
        "fal does not know this endpoint or request (HTTP 404): {reason}",
        "fal 不认识此接口或请求（HTTP 404）：{reason}",
    ),
    ("fal does not know this endpoint or request (HTTP 404)", "fal 不认识此接口或请求（HTTP 404）"),
    (
        "Check FAL_QUEUE_BASE; a request is kept by fal for a limited time only.",
        "请检查 FAL_QUEUE_BASE；fal 只会在有限时间内保留请求。",
    ),
    ("fal answered HTTP {s:int}: {reason}", "fal 返回 HTTP {s}：{reason}"),
    ("fal answered HTTP {s:int}", "fal 返回 HTTP {s}"),
    ("Report this: the app used a wrong URL or method.", "请报告此问题：应用使用了错误的 URL 或请求方法。"),
    ("fal reported COMPLETED but the result has no video", "fal 报告 COMPLETED，但结果中没有视频"),
    ("fal's result link answered HTTP {s:int}", "fal 的结果链接返回 HTTP {s}"),
    ("fal sent an unreadable result", "fal 返回了无法解析的结果"),
    ("{f} cannot be read", "无法读取 {f}"),
    ("Choose the file again.", "请重新选择文件。"),
    ("fal storage sent no upload link", "fal 存储没有返回上传链接"),
    ("fal storage answered HTTP {s:int} to the upload", "fal 存储对上传返回 HTTP {s}"),
    ("fal storage refused the upload of {f} (HTTP {s:int})", "fal 存储拒绝了 {f} 的上传（HTTP {s}）"),
    (
        "Try again; if it persists paste a public URL of the video instead.",
        "请重试；如果问题持续，请改为粘贴视频的公开链接。",
    ),
    # Replicate
    (
        "Check REPLICATE_API_TOKEN: create a token at replicate.com/account/api-tokens and set it in .env (or paste "
        "it in the key box).",
        "请检查 REPLICATE_API_TOKEN：在 replicate.com/account/api-tokens 创建令牌，"
        "并在 .env 中设置（或粘贴到密钥框）。",
    ),
    (
        "Add credit at replicate.com/account/billing, wait a few minutes, then try again.",
        "请在 replicate.com/account/billing 充值，等待几分钟后重试。",
    ),
    (
        "Check that this token's account may run the kwaivgi Kling Motion Control models.",
        "请确认此令牌所属账户有权运行 kwaivgi 的可灵动作控制模型。",
    ),
    ("Replicate accepted the request but sent no prediction id", "Replicate 接受了请求，但没有返回预测 ID"),
    ("Replicate sent an unknown status {s}", "Replicate 返回了未知状态 {s}"),
    ("The prediction was canceled.", "预测已取消。"),
    ("Replicate is not configured", "Replicate 未配置"),
    ("Replicate refused the token (HTTP 401): {reason}", "Replicate 拒绝了令牌（HTTP 401）：{reason}"),
    ("Replicate refused the token (HTTP 401)", "Replicate 拒绝了令牌（HTTP 401）"),
    (
        "Replicate refused the request: no credit left (HTTP {s:int}): {reason}",
        "Replicate 拒绝了请求：余额不足（HTTP {s}）：{reason}",
    ),
    ("Replicate refused the request: no credit left (HTTP {s:int})", "Replicate 拒绝了请求：余额不足（HTTP {s}）"),
    ("Replicate refused access (HTTP 403): {reason}", "Replicate 拒绝访问（HTTP 403）：{reason}"),
    ("Replicate refused access (HTTP 403)", "Replicate 拒绝访问（HTTP 403）"),
    ("Replicate is rate limiting (HTTP 429): {reason}", "Replicate 正在限流（HTTP 429）：{reason}"),
    ("Replicate is rate limiting (HTTP 429)", "Replicate 正在限流（HTTP 429）"),
    ("Replicate had a server error (HTTP {s:int}): {reason}", "Replicate 服务器出错（HTTP {s}）：{reason}"),
    ("Replicate had a server error (HTTP {s:int})", "Replicate 服务器出错（HTTP {s}）"),
    ("Replicate refused the inputs (HTTP {s:int}): {reason}", "Replicate 拒绝了输入（HTTP {s}）：{reason}"),
    ("Replicate refused the inputs (HTTP {s:int})", "Replicate 拒绝了输入（HTTP {s}）"),
    (
        "Replicate does not know this model or prediction (HTTP 404): {reason}",
        "Replicate 不认识此模型或预测（HTTP 404）：{reason}",
    ),
    ("Replicate does not know this model or prediction (HTTP 404)", "Replicate 不认识此模型或预测（HTTP 404）"),
    ("Check REPLICATE_API_BASE and the model name.", "请检查 REPLICATE_API_BASE 和模型名称。"),
    ("Replicate answered HTTP {s:int}: {reason}", "Replicate 返回 HTTP {s}：{reason}"),
    ("Replicate answered HTTP {s:int}", "Replicate 返回 HTTP {s}"),
    ("Report this: the app used a wrong URL.", "请报告此问题：应用使用了错误的 URL。"),
    # offline engine (kmc_ui.backends.local, kmc_ui.engine): its reasons and notes as older records keep them
    # (a new one is a message: kmc_ui/catalogue/engine.py)
    (
        "This offline render is no longer known (the app restarted while it ran or before it was saved).",
        "这次离线渲染已无记录（应用在渲染过程中或保存之前重启了）。",
    ),
    ("Run it again.", "请重新运行。"),
    ("The {w_what} is missing ({f}): prepare the inputs again.", "{w_what}缺失（{f}）：请重新准备输入。"),
    ("The offline engine cannot write its work folder ({w_why}).", "离线引擎无法写入工作文件夹（{w_why}）。"),
    ("The offline render's file is gone: run it again.", "离线渲染的文件已不存在：请重新运行。"),
    ("The offline engine failed unexpectedly ({exc}).", "离线引擎意外失败（{exc}）。"),
    ("The motion video has no sound, so the result is silent.", "动作视频没有声音，因此结果是无声的。"),
    (
        "Only the first {d:num} s of the motion are used (the limit for '{o}').",
        "只使用动作的前 {d} 秒（“{o}”朝向的上限）。",
    ),
    (
        "Offline engine: the prompt is not used; this is a preview-quality 2D puppet.",
        "离线引擎：不使用提示词；这是预览级的 2D 木偶动画。",
    ),
    ("The character picture cannot be decoded ({exc}).", "角色图片无法解码（{exc}）。"),
    (
        "A person was found in only {p:int}% of the motion video's frames.",
        "只在 {p}% 的动作视频帧中找到了人物。",
    ),
    (
        "Use a clip where one person is fully visible most of the time.",
        "请使用一个人在大部分时间里完整可见的片段。",
    ),
    ("Unknown orientation '{o}' (use one of {l}).", "未知的朝向“{o}”（请使用 {l} 之一）。"),
    ("No person was found in the character picture.", "角色图片中没有找到人物。"),
    (
        "Use a picture where the character's head, body and limbs are clearly visible.",
        "请使用角色的头部、身体和四肢都清晰可见的图片。",
    ),
    (
        "The character is too small in the picture to be animated (its torso is a few pixels).",
        "角色在图片中太小，无法制作动画（躯干只有几个像素）。",
    ),
    (
        "The character could not be cut out of the picture (its mask is empty).",
        "无法从图片中抠出角色（蒙版为空）。",
    ),
    ("The motion video cannot be read ({w_why}).", "无法读取动作视频（{w_why}）。"),
    ("The motion video cannot be opened ({why}).", "无法打开动作视频（{why}）。"),
    ("The motion video has no video stream.", "动作视频没有视频流。"),
    ("No frame of the motion video could be decoded.", "动作视频中没有任何一帧可以解码。"),
    ("The motion video cannot be decoded ({why}).", "无法解码动作视频（{why}）。"),
    ("The video encoder (ffmpeg) could not be started ({why}).", "无法启动视频编码器（ffmpeg）（{why}）。"),
    ("The video encoder stopped early ({why}).", "视频编码器提前停止（{why}）。"),
    ("The video encoder did not finish in time.", "视频编码器没有按时完成。"),
    ("The video encoder failed ({why}).", "视频编码器失败（{why}）。"),
]

_REPORT = [
    # why a motion-agreement report could not be made (the `t_err` of kmc_ui/catalogue/report.py's
    # report.failed; the summary itself is rendered from its messages)
    ("no person was found anywhere in the result", "结果中任何位置都没有找到人物"),
    ("no person was found in the reference video", "参考视频中没有找到人物"),
    ("the plot could not be written to {f}", "无法将图表写入 {f}"),
]

_COST = [
    # kmc_ui.cost: an estimate as the API report's estimate_text gives it (the page renders Estimate.msg())
    (
        "Offline engine: free ({s:num} s, runs on this machine).",
        "离线引擎：免费（{s} 秒，在本机运行）。",
    ),
    (
        "{s:num} s x {w_tier} on {p}: price not published in our facts; see the provider's pricing page.",
        "{s} 秒 × {w_tier}，服务商 {p}：我们的资料中没有该价格；请查看服务商的价格页面。",
    ),
    (
        "{s:num} s x {w_tier} ({model}) on {p}: ${usd:num} = {u:num} units, at most.",
        "{s} 秒 × {w_tier}（{model}），服务商 {p}：最多 ${usd} = {u} 单位。",
    ),
    (
        "{s:num} s x {w_tier} ({model}) on {p}: ${usd:num} (~{u:num} units), at most.",
        "{s} 秒 × {w_tier}（{model}），服务商 {p}：最多 ${usd}（约 {u} 单位）。",
    ),
]

_UI = [
    # messages composed by the page (kmc_ui/ui/*.py, kmc_ui/ui/text.py)
    (
        "This input needs a fix first: press 'Prepare files' to see what will be sent.",
        "此输入需要先修复：请点击“准备文件”查看将要发送的内容。",
    ),
    # a result download stopped (kmc_ui/backends/common.py), as an older record keeps it: the page renders
    # a new one from its message (kmc_ui/catalogue/remote.py's net.*)
    (
        "The result download was stopped: the transfer was too slow ({a} in {s:num} s; at least {r:num} kB/s is "
        "needed)",
        "结果下载已停止：传输太慢（{s} 秒内仅收到 {a}；至少需要 {r} kB/s）",
    ),
    (
        "The result download was stopped: the transfer did not finish within {s:num} s ({a} received)",
        "结果下载已停止：传输未能在 {s} 秒内完成（已收到 {a}）",
    ),
    (
        "It is retried automatically; if it keeps failing, resume from History later.",
        "会自动重试；如果一直失败，请稍后在历史记录中继续。",
    ),
    # kmc_ui.settings: a key that cannot be a key
    (
        "{env} contains a character that cannot be part of a key (position {n:int}): paste the key again from the "
        "provider's dashboard",
        "{env} 含有不能作为密钥一部分的字符（第 {n} 个字符）：请从服务商的控制台重新复制并粘贴密钥",
    ),
    (
        "{env} is too long to be a key ({n:int} characters, at most {m:int}): paste the key again from the "
        "provider's dashboard",
        "{env} 太长，不可能是密钥（{n} 个字符，最多 {m} 个）：请从服务商的控制台重新复制并粘贴密钥",
    ),
    # kmc_ui.storage: a full disk
    (
        "The server's disk is full, so the run could not be saved: nothing was sent, and the partial files were "
        "removed. Free some space (on a public Space, tell its owner) and try again.",
        "服务器磁盘已满，无法保存这次运行：没有发送任何内容，不完整的文件已删除。"
        "请腾出空间（公共 Space 请告知其所有者）后重试。",
    ),
    (
        "The server's disk is full, so the offline render could not be written; the partial file was removed. "
        "Free some space (on a public Space, tell its owner) and try again.",
        "服务器磁盘已满，无法写入离线渲染结果；不完整的文件已删除。请腾出空间（公共 Space 请告知其所有者）后重试。",
    ),
    (
        "The server's disk is full, so the result of task {task} could not be saved; the partial file was "
        "removed. The task stays in History: free some space, then resume it there without paying again.",
        "服务器磁盘已满，无法保存任务 {task} 的结果；不完整的文件已删除。"
        "该任务保留在历史记录中：请腾出空间，然后在那里继续，无需再次付费。",
    ),
    ("the server's disk is full", "服务器磁盘已满"),
]

ENTRIES: list[tuple[str, str]] = [
    *_FINDING_TEXT,
    *_IMAGE_RULES,
    *_VIDEO_RULES,
    *_PROMPT_AND_PAIR,
    *_PREPARE,
    *_PROGRESS,
    *_BACKENDS,
    *_REPORT,
    *_COST,
    *_UI,
    *_PROBE,
]

# ---------------------------------------------------------------- body checks: hidden hands, framing classes
# (kmc_ui/checks/pose.py: the hand detector's evidence, four framing classes)

WORDS.update(
    {
        "upper body (waist up)": "上半身（腰部以上）",
        "three-quarter (knees up)": "七分身（膝盖以上）",
        "a head-and-shoulders": "头肩特写",
        "an upper-body (waist-up)": "上半身（腰部以上）",
        "a three-quarter (knees-up)": "七分身（膝盖以上）",
        "a full-body": "全身",
        "the arms and the body below the chest": "手臂和胸部以下的身体",
        "the legs": "双腿",
        "the lower legs and feet": "小腿和脚",
        "the hand": "这只手",
        "the hands": "这双手",
        "hidden or outside the picture": "被遮挡或在画面之外",
        "no hand was found at the end of the arm: it rests against the body, as in a pocket, behind the back or "
        "under crossed arms": "手臂末端没有找到手：它贴在身体上，像是插在口袋里、背在身后或夹在交叉的手臂下",
        "no hand was found at the end of either arm: they rest against the body, as in pockets, behind the back "
        "or under crossed arms": "两条手臂末端都没有找到手：它们贴在身体上，像是插在口袋里、背在身后或夹在交叉的手臂下",
        "one is hidden or outside the picture, and no hand was found at the end of the other arm": (
            "一只被遮挡或在画面之外，另一条手臂末端没有找到手"
        ),
    }
)


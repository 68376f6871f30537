"""Preparation: what was done to an input before it is sent ("What will be sent"; kmc_ui/media/
video_plan.py, video_encode.py, prepare.py). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py.

Numbers are passed already written as the English writes them ("2.50", "100.0 MB"), so both
languages show the same digits; `{t_why}` is a conformance problem still in English (translated).
"""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # kmc_ui/media/video_plan.py: the plan's actions
    "prepare.trimmed_copy": (
        "trimmed to {a}-{b} s (cut at keyframes, no re-encode)",
        "截取到 {a}-{b} 秒（在关键帧处切分，未重新编码）",
    ),
    "prepare.trimmed_encoded": ("trimmed to {a}-{b} s (re-encoded)", "截取到 {a}-{b} 秒（已重新编码）"),
    "prepare.ended_before_cut": (
        "ended before the cut in the clip (a second shot would confuse the motion transfer)",
        "在视频的剪辑切换之前结束（第二个镜头会干扰动作迁移）",
    ),
    "prepare.remuxed": (
        "remuxed {c} to MP4 (H.264 kept, no re-encode)",
        "将 {c} 重新封装为 MP4（保留 H.264，未重新编码）",
    ),
    "prepare.transcoded_unknown": ("transcoded the video to H.264", "将视频转码为 H.264"),
    "prepare.transcoded": ("transcoded {c} to H.264", "将 {c} 转码为 H.264"),
    "prepare.pixel_format": ("converted pixel format {pf} to yuv420p", "将像素格式 {pf} 转换为 yuv420p"),
    "prepare.constant_rate": (
        "made the frame rate constant at {f} fps (the source varies, average {a} fps)",
        "将帧率固定为 {f} fps（源视频帧率不固定，平均 {a} fps）",
    ),
    "prepare.downscaled": ("downscaled {a} -> {b}", "从 {a} 缩小到 {b}"),
    "prepare.exact_start_key": (
        "re-encoded to start exactly at {s} s (the nearest keyframe is at {k} s)",
        "重新编码，以便精确地从 {s} 秒开始（最近的关键帧在 {k} 秒）",
    ),
    "prepare.exact_start_no_key": (
        "re-encoded to start exactly at {s} s (no keyframe was found)",
        "重新编码，以便精确地从 {s} 秒开始（没有找到关键帧）",
    ),
    "prepare.capped_rate": (
        "re-encoded at a capped bit rate to fit under {l:size}",
        "以限定的码率重新编码，使文件小于 {l:size}",
    ),
    "prepare.cropped": ("cropped {a} -> {b} (H.264 needs even sizes)", "从 {a} 裁切为 {b}（H.264 要求尺寸为偶数）"),
    "prepare.rotated": (
        "applied the {r:int}° rotation: the result is upright (rotation 0)",
        "应用了 {r}° 旋转：结果为正向（旋转 0）",
    ),
    "prepare.audio_left_out": (
        "left out the audio track ('Keep original sound' is off)",
        "去掉了音轨（“保留原声”已关闭）",
    ),
    "prepare.audio_track_aac": ("audio track -> AAC", "音轨 -> AAC"),
    "prepare.audio_aac": ("audio {c} -> AAC", "音频 {c} -> AAC"),
    # kmc_ui/media/video_encode.py: why a stream copy became a re-encode, a second encode
    "prepare.copy_too_large": (
        "re-encoded to fit under {l:size} (a stream copy was {c:size})",
        "重新编码以小于 {l:size}（直接复制流为 {c:size}）",
    ),
    "prepare.copy_not_conforming": (
        "re-encoded because a stream copy did not conform ({t_why})",
        "重新编码，因为直接复制流不符合要求（{t_why}）",
    ),
    "prepare.copy_too_long": (
        "re-encoded because a stream copy could not end within {s} s",
        "重新编码，因为直接复制流无法在 {s} 秒内结束",
    ),
    "prepare.encoded_again": (
        "the first encode was {s:size}: encoded again at {r} Mb/s",
        "第一次编码后为 {s:size}：以 {r} Mb/s 重新编码",
    ),
    # kmc_ui/media/prepare.py: what the probed result says
    "prepare.short_read": (
        "note: only {a} s of the expected {b} s could be read (the file may be damaged or truncated)",
        "注意：预期 {b} 秒中只能读取 {a} 秒（文件可能已损坏或被截断）",
    ),
    # kmc_ui/media/image_convert.py, prepare.py: the character image
    "prepare.image_renamed": (
        "sent as {ext}: the content is {fmt} but the name said '{said}' (not re-encoded)",
        "以 {ext} 发送：内容是 {fmt}，但文件名写的是“{said}”（未重新编码）",
    ),
    "prepare.image_resaved": (
        "re-saved as {fmt} ({a:size} -> {b:size}, under the {l:size} limit)",
        "重新保存为 {fmt}（{a:size} -> {b:size}，低于 {l:size} 的上限）",
    ),
    "prepare.image_flattened": (
        "flattened transparency onto white (JPEG has no alpha)",
        "将透明部分合成到白色背景上（JPEG 不支持透明通道）",
    ),
    "prepare.image_jpeg_over": (
        "saved as JPEG quality {q:int} (a {fmt} would be {s:size}, over the {l:size} limit)",
        "保存为质量 {q} 的 JPEG（保存为 {fmt} 将有 {s:size}，超过 {l:size} 的上限）",
    ),
    "prepare.image_jpeg_far": (
        "saved as JPEG quality {q:int} (a PNG would be far too large, over the {l:size} limit)",
        "保存为质量 {q} 的 JPEG（保存为 PNG 会大得多，超过 {l:size} 的上限）",
    ),
    "prepare.image_downscaled_fit": (
        "downscaled {a} -> {b} to fit under {l:size}",
        "从 {a} 缩小到 {b}，以低于 {l:size}",
    ),
    "prepare.image_first_mpo": (
        "kept the first of {n:int} pictures (a multi-picture camera JPEG)",
        "保留了 {n} 张图片中的第一张（相机多图 JPEG）",
    ),
    "prepare.image_first_animated": (
        "kept the first of {n:int} pictures (animated {fmt})",
        "保留了 {n} 张图片中的第一张（{fmt} 动图）",
    ),
    "prepare.image_converted": ("converted {a} to {b}", "将 {a} 转换为 {b}"),
    "prepare.image_exif": (
        "applied EXIF orientation {o:int} (the picture is sent upright)",
        "应用了 EXIF 方向 {o}（发送的图片是正向的）",
    ),
    "prepare.image_deep": ("converted {bits:int}-bit {mode} to 8-bit", "将 {bits} 位 {mode} 转换为 8 位"),
    "prepare.image_cmyk": ("converted CMYK colours to RGB", "将 CMYK 颜色转换为 RGB"),
    "prepare.image_grey16": ("converted 16-bit greyscale to 8-bit", "将 16 位灰度转换为 8 位"),
    "prepare.image_grey32": ("converted 32-bit greyscale to 8-bit", "将 32 位灰度转换为 8 位"),
    "prepare.image_grey_float": ("converted floating-point greyscale to 8-bit", "将浮点灰度转换为 8 位"),
    "prepare.image_palette": ("expanded the colour palette to {mode}", "将调色板展开为 {mode}"),
    "prepare.image_grey_alpha": ("converted grey + alpha to RGBA", "将灰度 + 透明通道转换为 RGBA"),
    "prepare.image_premultiplied": ("converted premultiplied alpha to RGBA", "将预乘透明通道转换为 RGBA"),
    "prepare.image_1bit": ("converted 1-bit black and white to 8-bit grey", "将 1 位黑白转换为 8 位灰度"),
    "prepare.image_mode": ("converted the {mode} colour mode to RGB", "将 {mode} 颜色模式转换为 RGB"),
    # what is still wrong with a prepared file (kmc_ui/media/video_encode.py video_problems, prepare.py)
    "prepare.problem_codec": ("the video is {c}, not H.264", "视频编码为 {c}，不是 H.264"),
    "prepare.problem_audio_lost": ("the audio track was lost", "音轨丢失了"),
    "prepare.problem_layout": ("got {pf} {size}, rotation {r}", "得到 {pf} {size}，旋转 {r}"),
    "prepare.problem_audio_codec": ("the audio is {c}, not AAC", "音频编码为 {c}，不是 AAC"),
    "prepare.problem_rotation": ("the rotation changed from {a}° to {b}°", "旋转从 {a}° 变成了 {b}°"),
    "prepare.problem_image": ("{fmt} {mode}, orientation {o}, {n} frames", "{fmt} {mode}，方向 {o}，{n} 帧"),
    # PreparationError (kmc_ui/media/prepare_common.py): what could not be done, then its fix
    "prepare.disk_full": (
        "The server's disk is full, so the files could not be prepared. Free some space (on a public Space, tell "
        "its owner) and try again.",
        "服务器磁盘已满，无法准备文件。请腾出空间（公共 Space 请告知其所有者）后重试。",
    ),
    "prepare.cannot_read": ("{w_what}: cannot read the file ({w_why}).", "{w_what}：无法读取文件（{w_why}）。"),
    "prepare.fix_upload_again": ("upload it again.", "请重新上传。"),
    "prepare.image_not_conform": (
        "Character image: the prepared file still does not conform ({t_why}).",
        "角色图片：准备后的文件仍不符合要求（{t_why}）。",
    ),
    "prepare.fix_rgb": (
        "convert it to an RGB JPEG or PNG in an image editor.",
        "请在图片编辑器中将其转换为 RGB 的 JPEG 或 PNG。",
    ),
    "prepare.image_cannot_shrink": (
        "Character image cannot be made smaller than {l:size} without going under {m} px a side.",
        "角色图片无法在每边不低于 {m} 像素的前提下缩小到 {l} 以内。",
    ),
    "prepare.fix_crop": ("crop it closer to the character.", "请裁剪图片，让角色占据更多画面。"),
    "prepare.image_too_many_pixels": (
        "Character image is {size} px: too large to convert safely here (at most {m} megapixels).",
        "角色图片为 {size} 像素：太大，无法在这里安全转换（最多 {m} 百万像素）。",
    ),
    "prepare.fix_downscale": ("downscale it in an image editor.", "请在图片编辑器中缩小尺寸。"),
    "prepare.image_too_large": (
        "Character image ({size}) is too large to convert here.",
        "角色图片（{size}）太大，无法在这里转换。",
    ),
    "prepare.image_undecodable": ("Character image could not be decoded ({why}).", "角色图片无法解码（{why}）。"),
    "prepare.image_truncated": ("the file is truncated", "文件被截断了"),
    "prepare.image_unknown": ("unknown or corrupt content", "内容未知或已损坏"),
    "prepare.image_damaged": (
        "its picture data is damaged or uses a feature we cannot read",
        "图片数据已损坏，或使用了无法读取的特性",
    ),
    "prepare.fix_export_image": ("export or download it again as a JPEG or PNG.", "请重新导出或下载为 JPEG 或 PNG。"),
    "prepare.video_cannot_fit": (
        "Motion video cannot fit in {l:size} at a watchable quality ({s} s).",
        "动作视频无法在保证可观看质量的前提下压缩到 {l} 以内（{s} 秒）。",
    ),
    "prepare.fix_trim_or_lower": ("trim it shorter or lower its resolution.", "请截短视频或降低分辨率。"),
    "prepare.video_short_read": (
        "Motion video: only {a} s of the {b} s its header announces could be read; the file is damaged or "
        "cut short.",
        "动作视频：文件头声明了 {b} 秒，但只能读取 {a} 秒；文件已损坏或被截断。",
    ),
    "prepare.fix_download_again": ("download or export it again.", "请重新下载或导出。"),
    "prepare.video_not_conform": (
        "Motion video: the converted file does not conform ({t_why}).",
        "动作视频：转换后的文件不符合要求（{t_why}）。",
    ),
    "prepare.fix_export_video": (
        "export the video again as an H.264 MP4, or try another file.",
        "请将视频重新导出为 H.264 MP4，或换一个文件。",
    ),
    "prepare.video_stopped": ("Motion video: preparing was stopped.", "动作视频：准备已停止。"),
    "prepare.video_converting": ("Motion video: converting {t_why}.", "动作视频：转换{t_why}。"),
    "prepare.video_took_too_long": (
        "Motion video: converting took longer than {s} s and was stopped.",
        "动作视频：转换耗时超过 {s} 秒，已被停止。",
    ),
    "prepare.fix_trim_clip": (
        "trim the clip or lower its resolution, then try again.",
        "请截短片段或降低分辨率，然后重试。",
    ),
    "prepare.video_failed": ("Motion video could not be converted ({why}).", "动作视频无法转换（{why}）。"),
    "prepare.fix_export_again": (
        "export it again as an H.264 MP4, or try another file.",
        "请重新导出为 H.264 MP4，或换一个文件。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

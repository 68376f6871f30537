"""Why an input file cannot be read (kmc_ui/media/probe.py: ImageInfo.error_msg / VideoInfo.error_msg,
quoted inside "Character image: ..." / "Motion video: ..." findings). Code -> (English, Chinese).
Slot syntax: kmc_ui/messages.py; `{w_why}` is the operating system's reason (strerror: the glossary
has the usual ones in Chinese)."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "probe.missing": (
        "the file does not exist (it may have been moved or deleted)",
        "文件不存在（可能已被移动或删除）",
    ),
    "probe.cannot_read": ("cannot read the file ({w_why})", "无法读取文件（{w_why}）"),
    "probe.not_regular": (
        "the path is not a regular file (a folder or a device)",
        "该路径不是普通文件（而是文件夹或设备）",
    ),
    "probe.empty": ("the file is empty (0 bytes)", "文件为空（0 字节）"),
    "probe.image_unknown": (
        "the file is not an image we can read (unknown or corrupt content)",
        "该文件不是可读取的图片（内容未知或已损坏）",
    ),
    "probe.png_text_bomb": (
        "the PNG carries a text (metadata) chunk over the safe size (it inflates past 1 MB, like a "
        "decompression bomb), so it is not opened: re-save the picture without its metadata",
        "该 PNG 含有超过安全大小的文本（元数据）块（解压后超过 1 MB，类似解压炸弹），因此不会打开："
        "请去掉元数据后重新保存图片",
    ),
    "probe.image_cut_short": (
        "the file is cut short or damaged (its header or data ends early; truncated or still uploading)",
        "文件不完整或已损坏（文件头或数据提前结束；可能被截断或仍在上传）",
    ),
    "probe.image_damaged": (
        "the image cannot be read (its data is damaged, or it is not really a picture)",
        "无法读取图片（数据已损坏，或它其实不是图片）",
    ),
    "probe.video_damaged": (
        "the video cannot be read (its data is damaged, or it is not really a video)",
        "无法读取视频（数据已损坏，或它其实不是视频）",
    ),
    "probe.moov_missing": (
        "the MP4 index (moov box) is missing or incomplete: the file was cut short (an interrupted "
        "download, upload or recording)",
        "MP4 索引（moov box）缺失或不完整：文件被截断了（下载、上传或录制中断）",
    ),
    "probe.heif_picture": (
        "the file is a HEIF/AVIF picture (an image format), not a video",
        "该文件是 HEIF/AVIF 图片（一种图片格式），不是视频",
    ),
    "probe.index_damaged": (
        "the file's index is damaged (it declares impossible sizes)",
        "文件索引已损坏（声明了不可能的尺寸）",
    ),
    "probe.ffmpeg_variant": (
        "the file uses a variant of its format that FFmpeg cannot read",
        "文件使用了 FFmpeg 无法读取的格式变体",
    ),
    "probe.not_accepted_format": (
        "the file is not in a video format we accept (MP4, MOV, WebM, MKV, AVI)",
        "文件不是可接受的视频格式（MP4、MOV、WebM、MKV、AVI）",
    ),
    "probe.invalid_data": (
        "the file is not a video we can read (invalid or corrupt data)",
        "该文件不是可读取的视频（数据无效或已损坏）",
    ),
    "probe.ends_early": (
        "the file ends too early (truncated or still uploading)",
        "文件提前结束（可能被截断或仍在上传）",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

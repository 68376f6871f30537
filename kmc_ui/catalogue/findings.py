"""Findings: what the checks say about an input and how to fix it (kmc_ui/checks/rules.py,
kmc_ui/checks/pose.py, kmc_ui/elements.py). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py.

The English is exactly what Finding.message / Finding.fix have always said (the CLI, the API's
JSON and the tests read it); a fix's code is its message's code with ".fix".
"""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- character image (rules)
    "image.error": ("Character image: {t_err}.", "角色图片：{t_err}。"),
    "image.error.fix": ("Upload a JPEG or PNG picture of the character.", "请上传角色的 JPEG 或 PNG 图片。"),
    "image.format_too_large": (
        "Character image is a {w_fmt} file of {size} px ({mp} megapixels); the official API takes only JPEG "
        "or PNG, and this app converts pictures of at most {cap} megapixels.",
        "角色图片是 {w_fmt} 文件，{size} 像素（{mp} 百万像素）；官方 API 只接受 JPEG 或 PNG，而本应用最多只能转换 "
        "{cap} 百万像素的图片。",
    ),
    "image.format_too_large.fix": (
        "Downscale it to at most {cap} megapixels and save it as JPEG or PNG in an image editor.",
        "请在图片编辑器中将其缩小到最多 {cap} 百万像素，并另存为 JPEG 或 PNG。",
    ),
    "image.format": (
        "Character image is a {w_fmt} file; the official API takes only JPEG or PNG.",
        "角色图片是 {w_fmt} 文件；官方 API 只接受 JPEG 或 PNG。",
    ),
    "image.format_unknown": (
        "Character image is a unknown file; the official API takes only JPEG or PNG.",
        "角色图片的格式未知；官方 API 只接受 JPEG 或 PNG。",
    ),
    "image.format_convert.fix": ("Convert it to PNG or JPEG.", "请将其转换为 PNG 或 JPEG。"),
    "image.format_editor.fix": (
        "Save it as JPEG or PNG in an image editor.",
        "请在图片编辑器中将其另存为 JPEG 或 PNG。",
    ),
    "image.extension_mismatch": (
        "The file is named '{w_ext}' but holds a {fmt} image.",
        "文件扩展名为“{w_ext}”，但内容是 {fmt} 图片。",
    ),
    "image.extension_missing": (
        "The file is named '(no extension)' but holds a {fmt} image.",
        "文件没有扩展名，但内容是 {fmt} 图片。",
    ),
    "image.extension_mismatch.fix": (
        "It is sent with the right type ({fmt}); rename it to avoid confusion elsewhere.",
        "发送时会使用正确的类型（{fmt}）；建议重命名，以免在别处造成混淆。",
    ),
    "image.animated": (
        "Character image is animated ({n:int} frames); only one still picture is used.",
        "角色图片是动图（{n} 帧）；只会使用一张静态图片。",
    ),
    "image.animated_many": (
        "Character image is animated (at least {n:int} frames); only one still picture is used.",
        "角色图片是动图（至少 {n} 帧）；只会使用一张静态图片。",
    ),
    "image.animated.fix": (
        "The first frame is sent as a still PNG; pick a still image if another frame shows the character better.",
        "将发送第一帧作为静态 PNG；如果其他帧更能展现角色，请改用一张静态图片。",
    ),
    "image.exif_rotated": (
        "The photo carries EXIF orientation {o:int}; it was measured as displayed ({size}, stored {stored}).",
        "照片带有 EXIF 方向标记 {o}；已按显示方向测量（{size}，存储为 {stored}）。",
    ),
    "image.exif_rotated.fix": (
        "The upright picture is sent, so the provider sees it as you do.",
        "发送的是摆正后的图片，服务商看到的与你看到的一致。",
    ),
    "image.color_mode_bits": (
        "Character image uses the {bits:int}-bit {mode} colour mode; providers expect 8-bit RGB and may reject it "
        "or show wrong colours.",
        "角色图片使用 {bits} 位 {mode} 颜色模式；服务商要求 8 位 RGB，可能会拒绝该图片或显示错误的颜色。",
    ),
    "image.color_mode": (
        "Character image uses the {mode} colour mode; providers expect 8-bit RGB and may reject it or show "
        "wrong colours.",
        "角色图片使用 {mode} 颜色模式；服务商要求 8 位 RGB，可能会拒绝该图片或显示错误的颜色。",
    ),
    "image.color_mode.fix": ("It is converted to 8-bit RGB before sending.", "发送前会转换为 8 位 RGB。"),
    "image.file_size": ("Character image is {m:size}; the limit is {l:size}.", "角色图片大小为 {m}；上限为 {l}。"),
    "image.file_size.fix": (
        "Re-save it smaller (JPEG quality 90 or a smaller size).",
        "请重新保存为更小的文件（JPEG 质量 90 或更小的尺寸）。",
    ),
    "image.too_large": (
        "Character image is {size} px; each side must be at most {max:int} px.",
        "角色图片为 {size} 像素；每边最多 {max} 像素。",
    ),
    "image.too_large.fix": ("Downscale it.", "请缩小尺寸。"),
    "image.too_many_pixels": (
        "Character image is {size} px ({mp} megapixels); this app opens at most {max} megapixels safely.",
        "角色图片为 {size} 像素（{mp} 百万像素）；本应用最多只能安全打开 {max} 百万像素的图片。",
    ),
    "image.too_many_pixels.fix": (
        "Downscale it in an image editor (a few megapixels are plenty for the face and body).",
        "请在图片编辑器中缩小尺寸（几百万像素就足以表现脸部和身体）。",
    ),
    "image.too_small": (
        "Character image is {size} px; each side must be at least {min:int} px.",
        "角色图片为 {size} 像素；每边至少需要 {min} 像素。",
    ),
    "image.too_small.fix": (
        "Use a larger picture: at least {a:int} px a side ({c:int} px suits every provider; "
        "ideally {b:int} px or more).",
        "请使用更大的图片：每边至少 {a} 像素（{c} 像素适用于所有服务商；最好 {b} 像素或以上）。",
    ),
    "image.small_side": (
        "Character image's short side is {s:int} px: the official API allows {a:int} px, but some providers "
        "(ComfyUI, Runway) demand {b:int} px.",
        "角色图片的短边为 {s} 像素：官方 API 允许 {a} 像素，但部分服务商（ComfyUI、Runway）要求 {b} 像素。",
    ),
    "image.small_side.fix": ("Use a picture with each side at least {b:int} px.", "请使用每边至少 {b} 像素的图片。"),
    "image.low_resolution": (
        "Character image's short side is {s:int} px (under {h:int} px): details of the face and clothes will be "
        "invented.",
        "角色图片的短边为 {s} 像素（低于 {h} 像素）：脸部和服装的细节将由模型自行补全。",
    ),
    "image.low_resolution.fix": (
        "A sharper, larger picture gives a better likeness.",
        "更清晰、更大的图片能让结果更像本人。",
    ),
    "image.below_output": (
        "Character image's short side is {s:int} px, below Pro's {p:int}p output.",
        "角色图片的短边为 {s} 像素，低于专业档的 {p}p 输出。",
    ),
    "image.below_output.fix": (
        "A picture of {p:int} px or more on the short side keeps Pro's extra detail.",
        "短边达到 {p} 像素或以上的图片才能保留专业档的额外细节。",
    ),
    "image.aspect": (
        "Character image aspect ratio is {a} ({size}); it must be between {lo} (1:2.5) and {hi} (2.5:1).",
        "角色图片的宽高比为 {a}（{size}）；必须在 {lo}（1:2.5）到 {hi}（2.5:1）之间。",
    ),
    "image.aspect.fix": ("Crop the picture closer to the character.", "请裁剪图片，让角色占据更多画面。"),
    # ---------------------------------------------------------------- motion video (rules)
    "video.error": ("Motion video: {t_err}.", "动作视频：{t_err}。"),
    "video.error.fix": ("Upload an MP4 or MOV video of one person moving.", "请上传一段单人运动的 MP4 或 MOV 视频。"),
    "video.no_stream_audio": (
        "Motion video has no picture track ({codec} audio only).",
        "动作视频没有画面轨道（只有 {codec} 音频）。",
    ),
    "video.no_stream": ("Motion video has no picture track.", "动作视频没有画面轨道。"),
    "video.no_stream.fix": ("Upload a video that shows the person moving.", "请上传能看到人物动作的视频。"),
    "video.unknown_codec": (
        "Motion video's picture track uses a codec this app cannot decode (or its header is corrupt).",
        "动作视频的画面轨道使用了本应用无法解码的编码（或文件头已损坏）。",
    ),
    "video.unknown_codec.fix": (
        "Convert it to an H.264 MP4 in a video editor or converter.",
        "请用视频编辑器或转换工具将其转换为 H.264 MP4。",
    ),
    "video.undecodable": (
        "Motion video's {codec} stream cannot be decoded (corrupt or truncated).",
        "动作视频的 {codec} 视频流无法解码（已损坏或被截断）。",
    ),
    "video.undecodable.fix": ("Export or download the video again.", "请重新导出或下载视频。"),
    "video.truncated": (
        "Motion video is cut short: its index describes {d:num} s of media in {l:size}, but the file holds only "
        "{m:size}.",
        "动作视频不完整：其索引记录了 {d} 秒的媒体、共 {l}，但文件只有 {m}。",
    ),
    "video.truncated.fix": (
        "Download or export the video again; the upload or recording was interrupted.",
        "请重新下载或导出视频；上传或录制过程被中断了。",
    ),
    "video.container": (
        "Motion video is a {w_name} file; the official API takes only {allowed:or_list}.",
        "动作视频是 {w_name} 文件；官方 API 只接受 {allowed}。",
    ),
    "video.container_unknown": (
        "Motion video is a unknown file; the official API takes only {allowed:or_list}.",
        "动作视频的封装格式未知；官方 API 只接受 {allowed}。",
    ),
    "video.container.fix": ("Convert it to an H.264 MP4.", "请将其转换为 H.264 MP4。"),
    "video.extension": (
        "Motion video is named '{w_ext}'; the official API takes only {exts:list} files.",
        "动作视频的扩展名为“{w_ext}”；官方 API 只接受 {exts} 文件。",
    ),
    "video.extension_missing": (
        "Motion video is named '(no extension)'; the official API takes only {exts:list} files.",
        "动作视频没有扩展名；官方 API 只接受 {exts} 文件。",
    ),
    "video.extension.fix": ("It is sent as .mp4 (same content, new name).", "将以 .mp4 发送（内容不变，只改扩展名）。"),
    "video.codec": (
        "Motion video is encoded as {w_codec}; H.264 is the safe choice for every provider and browser.",
        "动作视频的编码为 {w_codec}；H.264 是所有服务商和浏览器都支持的稳妥选择。",
    ),
    "video.codec_unknown": (
        "Motion video is encoded as unknown; H.264 is the safe choice for every provider and browser.",
        "动作视频的编码未知；H.264 是所有服务商和浏览器都支持的稳妥选择。",
    ),
    "video.codec.fix": ("Transcode it to H.264.", "请将其转码为 H.264。"),
    "video.pixel_format": (
        "Motion video's H.264 uses the {pf} pixel format; browsers and some providers only play yuv420p.",
        "动作视频的 H.264 使用 {pf} 像素格式；浏览器和部分服务商只能播放 yuv420p。",
    ),
    "video.pixel_format.fix": ("Re-encode it as 8-bit yuv420p.", "请重新编码为 8 位 yuv420p。"),
    "video.file_size": ("Motion video is {m:size}; the limit is {l:size}.", "动作视频大小为 {m}；上限为 {l}。"),
    "video.file_size.fix": ("Re-encode it at a lower bit rate or trim it.", "请以更低的码率重新编码，或截短视频。"),
    "video.too_small": (
        "Motion video is {size} px; each side must be at least {min:int} px.",
        "动作视频为 {size} 像素；每边至少需要 {min} 像素。",
    ),
    "video.too_small.fix": (
        "Use a higher-resolution recording (720p or more).",
        "请使用更高分辨率的录像（720p 或以上）。",
    ),
    "video.too_large": (
        "Motion video is {size} px; each side must be at most {max:int} px.",
        "动作视频为 {size} 像素；每边最多 {max} 像素。",
    ),
    "video.too_large.fix": ("Downscale it (to {p:int}p).", "请降低分辨率（到 {p}p）。"),
    "video.rotated": (
        "Motion video carries a {r:int}° rotation; it was measured as displayed ({size}, stored {stored}).",
        "动作视频带有 {r}° 旋转标记；已按显示方向测量（{size}，存储为 {stored}）。",
    ),
    "video.rotated.fix": (
        "Nothing to do: sizes and previews follow the rotation.",
        "无需处理：尺寸和预览均已按旋转方向处理。",
    ),
    "video.too_short_frames": (
        "Motion video lasts {d:num} s ({n:int} frame{n:pl}); it must be at least {m:num} s.",
        "动作视频时长 {d} 秒（{n} 帧）；至少需要 {m} 秒。",
    ),
    "video.too_short": (
        "Motion video lasts {d:num} s; it must be at least {m:num} s.",
        "动作视频时长 {d} 秒；至少需要 {m} 秒。",
    ),
    "video.too_short.fix": (
        "Use a longer clip ({m:num} s or more of continuous motion).",
        "请使用更长的片段（至少 {m} 秒的连续动作）。",
    ),
    "video.too_long": (
        "Motion video lasts {d:num} s; with orientation '{o}' the limit is {m:num} s.",
        "动作视频时长 {d} 秒；朝向为“{o}”时上限为 {m} 秒。",
    ),
    "video.too_long_image.fix": (
        "Trim it to {m:num} s (pick the window below), or switch orientation to 'video' (up to {v:num} s).",
        "请截取到 {m} 秒（在下方选择截取范围），或将朝向切换为“video”（最长 {v} 秒）。",
    ),
    "video.too_long.fix": ("Trim it to {m:num} s (pick the window below).", "请截取到 {m} 秒（在下方选择截取范围）。"),
    "video.frame_rate": (
        "Motion video's index gives {f} fps (under {m}): its frame timing is broken (frames without "
        "durations or a zero timescale), so the motion cannot be timed.",
        "动作视频的索引给出的帧率为 {f} fps（低于 {m}）：帧时间信息已损坏（帧没有时长或时间基为零），"
        "无法确定动作的时间。",
    ),
    "video.frame_rate.fix": ("Export the video again from the camera or editor.", "请从相机或编辑软件重新导出视频。"),
    "video.variable_fps": (
        "Motion video has a variable frame rate (average {f} fps); a constant rate is expected, or the timing "
        "may drift.",
        "动作视频为可变帧率（平均 {f} fps）；需要恒定帧率，否则时间可能会漂移。",
    ),
    "video.variable_fps.fix": ("It is re-encoded at a constant frame rate.", "将以恒定帧率重新编码。"),
    "video.low_fps": (
        "Motion video runs at {f} fps (under {m}): fast moves will look jerky.",
        "动作视频的帧率为 {f} fps（低于 {m}）：快速动作会显得卡顿。",
    ),
    "video.low_fps.fix": ("Record at 24-30 fps if you can.", "如果可以，请以 24-30 fps 录制。"),
    "video.high_fps": (
        "Motion video runs at {f} fps (over {m}); the output is generated at a normal frame rate.",
        "动作视频的帧率为 {f} fps（高于 {m}）；输出将以常规帧率生成。",
    ),
    "video.high_fps.fix": ("Nothing to do; 24-30 fps sources upload faster.", "无需处理；24-30 fps 的素材上传更快。"),
    "video.no_audio": (
        "'Keep original sound' is on, but the motion video has no audio track: the result will be silent.",
        "已开启“保留原声”，但动作视频没有音轨：结果将没有声音。",
    ),
    "video.no_audio.fix": (
        "Turn 'Keep original sound' off, or use a clip with sound.",
        "请关闭“保留原声”，或使用有声音的片段。",
    ),
    "video.audio_dropped": (
        "The motion video has sound, and 'Keep original sound' is off: the result will be silent.",
        "动作视频有声音，但“保留原声”已关闭：结果将没有声音。",
    ),
    "video.audio_dropped.fix": ("Turn 'Keep original sound' on to keep it.", "开启“保留原声”即可保留声音。"),
    "video.below_output": (
        "Motion video's short side is {s:int} px (under {std:int} px); Pro renders {p:int}p.",
        "动作视频的短边为 {s} 像素（低于 {std} 像素）；专业档输出 {p}p。",
    ),
    "video.below_output.fix": (
        "A {std:int}p or larger reference tracks hands and feet better.",
        "{std}p 或更高分辨率的参考视频能更好地跟踪手脚。",
    ),
    # ---------------------------------------------------------------- prompt and pair (rules)
    "prompt.too_long": ("Prompt has {n:int} characters; the limit is {l:int}.", "提示词有 {n} 个字符；上限为 {l}。"),
    "prompt.too_long.fix": ("Shorten it by {n:int} characters.", "请删减 {n} 个字符。"),
    "prompt.describes_motion": (
        "The prompt seems to describe motion ({words:list}); the motion comes from the video.",
        "提示词似乎在描述动作（{words}）；动作来自视频。",
    ),
    "prompt.describes_motion.fix": (
        "Describe scene, light, style and camera instead.",
        "请改为描述场景、光线、风格和镜头。",
    ),
    "pair.aspect_mismatch": (
        "Image ({w_s1}, {size1}, aspect {a1}) and video ({w_s2}, {size2}, aspect {a2}) have different "
        "shapes: {r}x apart, more than {lim}x. The character may be cropped or squeezed.",
        "图片（{w_s1}，{size1}，宽高比 {a1}）与视频（{w_s2}，{size2}，宽高比 {a2}）的形状不同：相差 {r} 倍，"
        "超过 {lim} 倍。角色可能会被裁切或挤压变形。",
    ),
    "pair.aspect_mismatch.fix": (
        "Use an image and a video of similar shape (both portrait or both landscape).",
        "请使用形状相近的图片和视频（都是竖版或都是横版）。",
    ),
    # ---------------------------------------------------------------- body checks (pose)
    "pose.skipped_image": (
        "Body checks of the character image were skipped: {t_err}.",
        "已跳过角色图片的身体检查：{t_err}。",
    ),
    "pose.skipped_image.fix": (
        "Fix the image problem above; the body checks run again by themselves.",
        "请先修复上面的图片问题；身体检查会自动重新运行。",
    ),
    "pose.skipped_video": (
        "Body checks of the motion video were skipped: {t_err}.",
        "已跳过动作视频的身体检查：{t_err}。",
    ),
    "pose.skipped_video.fix": (
        "Fix the video problem above; the body checks run again by themselves.",
        "请先修复上面的视频问题；身体检查会自动重新运行。",
    ),
    "pose.cut_short": (
        "Body checks of the motion video were cut short at {t} s of the clip: {t_why}. The findings cover "
        "only the part checked.",
        "动作视频的身体检查在片段的 {t} 秒处被提前中止：{t_why}。检查结果只涵盖已检查的部分。",
    ),
    "pose.cut_short.fix": (
        "Trim the video to the part you will send, or use a shorter, smaller or lower-bit-rate clip, so it can be "
        "checked in full.",
        "请把视频裁剪为要发送的部分，或使用更短、分辨率更低或码率更低的视频，以便完整检查。",
    ),
    "pose.superseded": (
        "Body checks of these files were skipped: newer files from you replaced them before their turn came.",
        "已跳过这些文件的身体检查：在轮到它们之前，你已换上了更新的文件。",
    ),
    "pose.superseded.fix": (
        "Nothing to do: the newer files are checked instead.",
        "无需操作：系统会改为检查更新的文件。",
    ),
    "pose.crashed": ("Body checks could not run ({exc}).", "身体检查无法运行（{exc}）。"),
    "pose.crashed.fix": (
        "The other checks still apply; try again or report this.",
        "其他检查仍然有效；请重试或报告此问题。",
    ),
    "pose.orientation_turn_camera": (
        "In the motion video the person turns around and the camera moves, but orientation is 'image', which "
        "keeps the picture's facing and a still camera.",
        "动作视频中人物会转身，镜头也在移动，但朝向为“image”，会保持图片中的朝向和固定镜头。",
    ),
    "pose.orientation_turn": (
        "In the motion video the person turns around, but orientation is 'image', which keeps the picture's "
        "facing and a still camera.",
        "动作视频中人物会转身，但朝向为“image”，会保持图片中的朝向和固定镜头。",
    ),
    "pose.orientation_camera": (
        "In the motion video the camera moves, but orientation is 'image', which keeps the picture's facing and "
        "a still camera.",
        "动作视频中镜头在移动，但朝向为“image”，会保持图片中的朝向和固定镜头。",
    ),
    "pose.orientation.fix": (
        "Switch orientation to 'video' so the character turns and the camera moves as in the video (it also "
        "allows clips up to 30 s).",
        "请将朝向切换为“video”，让角色像视频中那样转身、镜头也随之移动（该模式还允许最长 30 秒的片段）。",
    ),
    "pose.image_no_person": ("No person was found in the character image.", "角色图片中没有找到人物。"),
    "pose.image_no_person.fix": (
        "Use a picture with one clearly visible person (head and upper body at least). Stylised art can fool "
        "the detector: if the picture does show a character, you can go ahead.",
        "请使用一张能清楚看到一个人的图片（至少包含头部和上半身）。风格化的画作可能会干扰检测：如果图片中确实有角色，可以继续。",
    ),
    "pose.image_subject_hidden": (
        "In the character image {w_part} is hidden or outside the picture.",
        "角色图片中{w_part}被遮挡或在画面之外。",
    ),
    "pose.image_subject_hidden.fix": (
        "Use a picture where the head and both shoulders are clearly visible and unobstructed.",
        "请使用头部和双肩都清晰可见、没有遮挡的图片。",
    ),
    "pose.subject_small_image": (
        "The character covers only {p:pct} of the image (aim for over {q:pct}).",
        "角色只占图片面积的 {p}（建议超过 {q}）。",
    ),
    "pose.subject_small_image.fix": (
        "Crop the picture closer around the character.",
        "请裁剪图片，让角色占据更多画面。",
    ),
    "pose.image_upside_down": (
        "The character in the image is upside down (torso {a}° from upright).",
        "图片中的角色是倒立的（躯干偏离竖直方向 {a}°）。",
    ),
    "pose.image_upside_down.fix": ("Rotate the picture so the character stands upright.", "请旋转图片，让角色正立。"),
    "pose.image_lying": (
        "The character in the image is lying down or on its side (torso {a}° from upright).",
        "图片中的角色是躺着或侧卧的（躯干偏离竖直方向 {a}°）。",
    ),
    "pose.image_lying.fix": (
        "Use a picture of the character standing or sitting upright (or rotate the picture).",
        "请使用角色站立或端坐的图片（或旋转图片）。",
    ),
    "pose.video_no_person": (
        "No person was found in the motion video ({n:int} frames checked).",
        "动作视频中没有找到人物（已检查 {n} 帧）。",
    ),
    "pose.video_no_person.fix": (
        "Use a video of one clearly visible person; the motion is read from their body.",
        "请使用一个人清晰可见的视频；动作是从这个人的身体上读取的。",
    ),
    "pose.video_person_lost": (
        "No person was found in {p:pct} of the motion video ({spans:spans}).",
        "动作视频中有 {p} 的时间没有找到人物（{spans}）。",
    ),
    "pose.video_person_lost.fix": (
        "Trim the video to the part where the person is fully in view.",
        "请把视频截取到人物完整出现在画面中的部分。",
    ),
    "pose.subject_small_video": (
        "The person covers only {p:pct} of the video frame (aim for over {q:pct}): the motion of hands and feet is "
        "read poorly.",
        "人物只占视频画面的 {p}（建议超过 {q}）：难以准确读取手脚的动作。",
    ),
    "pose.subject_small_video.fix": (
        "Use a video where the person fills more of the frame (crop it, or film closer).",
        "请使用人物占据更多画面的视频（裁剪视频，或靠近拍摄）。",
    ),
    "pose.video_extreme_orientation": (
        "The person in the motion video is {w_what} for {p:pct} of the clip.",
        "动作视频中的人物在 {p} 的时间里处于{w_what}状态。",
    ),
    "pose.video_extreme_orientation.fix": (
        "Use motion where the person stays mostly upright; floor work and flips often fail.",
        "请使用人物大部分时间保持直立的动作；地面动作和翻转动作经常失败。",
    ),
    "pose.fast_motion": (
        "Very fast motion: limbs move faster than {s} torso lengths a second in {p:pct} of the checks "
        "(peak {pk} at {t} s).",
        "动作非常快：在 {p} 的检测中，四肢每秒移动超过 {s} 个躯干长度（峰值 {pk}，位于 {t} 秒）。",
    ),
    "pose.fast_motion.fix": (
        "Kling may return a shorter video for very fast motion, and bills what comes back: use a slower take, or "
        "trim the fastest part.",
        "动作过快时，可灵可能返回更短的视频，并按实际返回的时长计费：请换用更慢的版本，或剪掉最快的部分。",
    ),
    "pose.video_people": (
        "The motion video shows {n:int} people (in {p:pct} of the frames checked); only the one taking up the most "
        "space is used.",
        "动作视频中出现了 {n} 个人（占已检查帧的 {p}）；只会使用在画面中所占面积最大的那个人。",
    ),
    "pose.video_people.fix": (
        "Crop or trim the video so it shows one person.",
        "请裁剪或截取视频，使画面中只有一个人。",
    ),
    "pose.video_cut": (
        "The motion video has {n:int} cut{n:pl} (at {at:times}); it should be one continuous take.",
        "动作视频有 {n} 处镜头切换（位于 {at}）；应为一个连续镜头。",
    ),
    "pose.video_cut.fix": (
        "Trim the video to one shot (the provider may trim it, or the character may jump).",
        "请将视频截取为单个镜头（否则服务商可能会截掉一部分，或角色会出现跳变）。",
    ),
    "pose.camera_motion": ("The camera moves in the motion video: {t_part}.", "动作视频中镜头在移动：{t_part}。"),
    "pose.camera_motion_zoom": (
        "The camera moves in the motion video: {t_pan} and the view zooms by {z:pct}.",
        "动作视频中镜头在移动：{t_pan}，并且画面缩放了 {z}。",
    ),
    "pose.camera_pan_left": (
        "the background travels {p:pct} of the frame (panning left)",
        "背景移动了画面的 {p}（向左平移）",
    ),
    "pose.camera_pan_right": (
        "the background travels {p:pct} of the frame (panning right)",
        "背景移动了画面的 {p}（向右平移）",
    ),
    "pose.camera_pan": ("the background travels {p:pct} of the frame", "背景移动了画面的 {p}"),
    "pose.camera_zoom": ("the view zooms by {z:pct}", "画面缩放了 {z}"),
    "pose.camera_motion.fix": (
        "Use a video shot from a fixed camera (tripod); camera moves are copied or the video may be trimmed.",
        "请使用固定机位（三脚架）拍摄的视频；镜头运动会被复制，或者视频可能会被截短。",
    ),
    "pose.framing_mismatch": (
        "Framing differs: the character image is {w_il}, the motion video {w_vl}; {t_why}.",
        "取景不同：角色图片是{w_il}，动作视频是{w_vl}；{t_why}。",
    ),
    "pose.framing_wider_motion": (
        "the motion shows {w_parts}, which the picture does not: the model will invent them, or crop the motion",
        "动作视频中出现了{w_parts}，而图片中没有：模型会自行补全这些部位，或者裁切动作",
    ),
    "pose.framing_narrower_motion": (
        "the parts of the character the motion video does not show get little or made-up motion",
        "动作视频中看不到的角色身体部位只会有很少或臆造的动作",
    ),
    "pose.framing_mismatch.fix": (
        "Use {w_pic} picture of the character, or a motion video framed like the picture ({w_il}).",
        "请使用{w_pic}取景的角色图片，或与图片取景相同（{w_il}）的动作视频。",
    ),
    "pose.hidden_hands_hint": (
        "The character image does not show {w_names} ({w_why}). If the motion video shows hands or raises the "
        "arms, the model will have to invent them.",
        "角色图片中看不到{w_names}（{w_why}）。如果动作视频中出现手部或抬起手臂，模型将不得不自行补全它们。",
    ),
    "pose.hidden_hands_raised": (
        "The character image does not show {w_names} ({w_why}), but the motion video shows {w_it} in {p:pct} of "
        "the frames checked, moving {w_it} by up to {t} torso lengths and raising {w_it} above the shoulder in "
        "{q:pct} of them: the model will have to invent {w_what}, and invented hands often come out blurred, "
        "merged with the clothes or with the wrong number of fingers.",
        "角色图片中看不到{w_names}（{w_why}），但动作视频在 {p} 的已检查帧中显示了{w_it}，让{w_it}移动了多达 {t} "
        "个躯干长度，并在其中 {q} 的帧里把{w_it}举过肩膀：模型将不得不自行补全{w_what}，而补全的手常常模糊、"
        "与衣服融在一起，或手指数量不对。",
    ),
    "pose.hidden_hands": (
        "The character image does not show {w_names} ({w_why}), but the motion video shows {w_it} in {p:pct} of "
        "the frames checked, moving {w_it} by up to {t} torso lengths: the model will have to invent "
        "{w_what}, and invented hands often come out blurred, merged with the clothes or with the wrong number "
        "of fingers.",
        "角色图片中看不到{w_names}（{w_why}），但动作视频在 {p} 的已检查帧中显示了{w_it}，让{w_it}移动了多达 {t} "
        "个躯干长度：模型将不得不自行补全{w_what}，而补全的手常常模糊、与衣服融在一起，或手指数量不对。",
    ),
    "pose.hidden_hands.fix": (
        "Use a photo with both hands visible and held away from the body (not in pockets, behind the back, under "
        "crossed arms or cut off by the picture's edge).",
        "请使用双手都清晰可见、并离开身体的照片（不要插在口袋里、背在身后、夹在交叉的手臂下，也不要被画面边缘截断）。",
    ),
    "pose.motion_clipping": (
        "The motion reaches past the character image's {where:edges} in {p:pct} of the clip (up to {q:pct} of the "
        "picture beyond it): hands or feet may be cut off.",
        "在 {p} 的片段中，动作超出了角色图片的{where}（最多超出图片的 {q}）：手或脚可能会被截断。",
    ),
    "pose.motion_clipping.fix": (
        "Use a picture with more room around the character ({s:sides}), or a motion with smaller moves.",
        "请使用角色周围（{s}）留有更多空间的图片，或动作幅度更小的视频。",
    ),
    # ---------------------------------------------------------------- Finding.text() and the texts that quote it
    "finding.sentences": ("{parts:sentences}", "{parts:sentences}"),
    "finding.fix_part": ("Fix: {t_fix}", "修复：{t_fix}"),
    "finding.auto_part": (
        "(the app can do this for you: see 'What will be sent')",
        "（应用可以替你完成：见“将要发送的内容”）",
    ),
    "finding.fix_first": ("Fix these first: {parts:sentences}", "请先修复这些问题：{parts:sentences}"),
    "finding.not_sent": (
        "Not sent until this is fixed: {parts:sentences}",
        "修复以下问题之前不会发送：{parts:sentences}",
    ),
    # ---------------------------------------------------------------- identity lock (kmc_ui/elements.py)
    "element.picture": ("Extra character picture {n:int}: {t_text}", "额外角色图片 {n}：{t_text}"),
    "element.orientation": (
        "With an identity lock the result always follows the video's orientation (Kling's rule): "
        "orientation is set to 'video'.",
        "使用身份锁定时，结果总是按视频的朝向生成（可灵的规则）：朝向已设为“video”。",
    ),
    "element.cost": (
        "Creating the identity Element is not on Kling's price page; it was charged 0 units in a live test. "
        "It is made once per set of pictures and reused.",
        "可灵价目表未列出创建身份元素的费用；实测扣除 0 单位。每组图片只生成一次并会复用。",
    ),
    "element.unsupported": (
        "An identity lock works only with Kling 3.0 on the Kling official API 2.0 (chosen: {model} on '{backend}').",
        "身份锁定仅适用于可灵官方 API 2.0 上的可灵 3.0（当前：{model}，后端“{backend}”）。",
    ),
    "element.unsupported.fix": (
        "Choose model v3 and the backend 'Kling official API 2.0', or remove the extra pictures.",
        "请选择 v3 模型和“可灵官方 API 2.0”后端，或移除额外的图片。",
    ),
    "element.too_many": (
        "{n:int} extra character pictures; an identity lock takes {lo:int} to {hi:int} besides the character image.",
        "额外角色图片有 {n} 张；身份锁定除角色图片外需要 {lo} 到 {hi} 张。",
    ),
    "element.too_many.fix": (
        "Keep the {hi:int} clearest pictures from other angles and remove the rest.",
        "保留其他角度最清晰的 {hi} 张图片，移除其余的。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

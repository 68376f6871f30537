"""What a backend needs before it can run, and how the video gets to it (the backends' ready() and
video_transport(), kmc_ui/media/hosting.py, kmc_ui/settings.py's key_problem). Code -> (English,
Chinese). Slot syntax: kmc_ui/messages.py; `{w_p}` is a provider's name ("Kling", "fal", "the
provider": the glossary has each in Chinese). These travel as Said strings (kmc_ui/messages.py)."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "setup.set_keys": (
        "Set {what} as environment variables (Space secrets on a Hugging Face Space), in .env, or in the key box.",
        "请设置 {what}：可设为环境变量（在 Hugging Face Space 上为 Space secrets）、写入 .env，或填入密钥框。",
    ),
    "setup.keys_kling": (
        "KLING_API_KEY, or KLING_ACCESS_KEY and KLING_SECRET_KEY (from the Kling developer console)",
        "KLING_API_KEY，或 KLING_ACCESS_KEY 和 KLING_SECRET_KEY（在可灵开发者控制台获取）",
    ),
    "setup.keys_kling2": (
        "KLING_API_KEY (an API 2.0 key from the Kling developer console)",
        "KLING_API_KEY（可灵开发者控制台中的 API 2.0 密钥）",
    ),
    "setup.keys_fal": ("FAL_KEY (from fal.ai/dashboard/keys)", "FAL_KEY（在 fal.ai/dashboard/keys 获取）"),
    "setup.keys_replicate": (
        "REPLICATE_API_TOKEN (from replicate.com/account/api-tokens)",
        "REPLICATE_API_TOKEN（在 replicate.com/account/api-tokens 获取）",
    ),
    "setup.base_url": ("{v} must be an http(s) URL, e.g. {url}.", "{v} 必须是 http(s) URL，例如 {url}。"),
    "setup.key_too_long": (
        "{env} is too long to be a key ({n} characters, at most {m}): paste the key again from the provider's "
        "dashboard",
        "{env} 太长，不可能是密钥（{n} 个字符，最多 {m} 个）：请从服务商的控制台重新复制并粘贴密钥",
    ),
    "setup.key_bad_char": (
        "{env} contains a character that cannot be part of a key (position {n}): paste the key again from the "
        "provider's dashboard",
        "{env} 含有不能作为密钥一部分的字符（第 {n} 个字符）：请从服务商的控制台重新复制并粘贴密钥",
    ),
    "setup.paste_url": (
        "Paste a public video URL: local videos cannot be handed to {w_p} ({t_why}).",
        "请粘贴公开的视频链接：本地视频无法交给 {w_p}（{t_why}）。",
    ),
    "setup.local_ready": (
        "Offline engine (runs on this machine, no key needed). It cannot follow the prompt: the text is ignored "
        "offline. The result is a preview-quality 2D puppet of your character (cut out, rigged and moved along "
        "the motion video's pose), not a generated video like Kling's.",
        "离线引擎（在本机运行，无需密钥）。它无法遵循提示词：离线时会忽略这段文字。"
        "结果是角色的预览级 2D 木偶动画（把角色抠出、绑定骨骼，并按动作视频的姿态驱动），而不是可灵那样的生成视频。",
    ),
    # kmc_ui/media/hosting.py: why this app cannot hand files out by URL
    "hosting.not_set": ("KMC_PUBLIC_BASE_URL is not set", "未设置 KMC_PUBLIC_BASE_URL"),
    "hosting.not_http": (
        "KMC_PUBLIC_BASE_URL must be an http(s) URL such as https://you-app.hf.space",
        "KMC_PUBLIC_BASE_URL 必须是 http(s) URL，例如 https://you-app.hf.space",
    ),
    "hosting.private": (
        "KMC_PUBLIC_BASE_URL points at a private address ({h}) that a provider cannot reach; use the public URL "
        "(set KMC_ALLOW_PRIVATE_URLS=1 only for tests and LAN demos)",
        "KMC_PUBLIC_BASE_URL 指向服务商无法访问的私有地址（{h}）；请使用公开网址（仅在测试和局域网演示时设置 "
        "KMC_ALLOW_PRIVATE_URLS=1）",
    ),
    # how the video gets to the provider (Transport.text)
    "transport.user_url": (
        "The video is sent as the public URL you gave; {w_p} downloads it.",
        "视频以你提供的公开链接发送；由 {w_p} 下载。",
    ),
    "transport.media_host": (
        "The prepared video is served by this app at KMC_PUBLIC_BASE_URL under a secret link valid for 2 hours; "
        "{w_p} downloads it from there.",
        "准备好的视频由本应用在 KMC_PUBLIC_BASE_URL 下通过私密链接提供（有效期 2 小时）；{w_p} 从那里下载。",
    ),
    "transport.inline_image": ("A small image goes inline as a data URL.", "较小的图片以 data URL 内嵌发送。"),
    "transport.none": (
        "{w_p} reads the video only from a public URL and this app has none ({t_why}).",
        "{w_p} 只能从公开链接读取视频，而本应用没有公开链接（{t_why}）。",
    ),
    "transport.kling_url_only": (
        "The Kling API reads the reference video only from a public URL.",
        "可灵 API 只能从公开链接读取参考视频。",
    ),
    "transport.replicate_url": ("Replicate reads the reference video from a URL.", "Replicate 从链接读取参考视频。"),
    "transport.run_public": (
        "Run the app where {w_p} can reach it and set KMC_PUBLIC_BASE_URL to that address (for example a public "
        "Hugging Face Space URL), or paste a public URL of the video.",
        "请在 {w_p} 能访问到的地方运行本应用，并将 KMC_PUBLIC_BASE_URL 设为该地址"
        "（例如公开的 Hugging Face Space 网址），或粘贴视频的公开链接。",
    ),
    "transport.fal_upload": (
        "The prepared image and video are uploaded to fal's own storage with your key (fal keeps them on its CDN); "
        "no public URL of this app is needed.",
        "准备好的图片和视频会用你的密钥上传到 fal 自己的存储（fal 将其保存在 CDN 上）；不需要本应用的公开网址。",
    ),
    "transport.local": (
        "The offline engine reads the prepared video on this machine.",
        "离线引擎在本机读取准备好的视频。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

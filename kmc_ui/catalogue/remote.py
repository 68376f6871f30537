"""A pasted video URL refused or its download stopped (kmc_ui/media/remote.py UrlRefused,
kmc_ui/media/netguard.py TooSlow / SlotRefused). Code -> (English, Chinese). Slot syntax:
kmc_ui/messages.py; `{u}` is the URL as the visitor typed it (cut to 60 characters), `{a}` an
amount already written ("1.2 MB", "300 kB", "12 bytes")."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    "remote.malformed": (
        "'{u}' is not a valid link (the address in [brackets] is malformed): check it.",
        "“{u}”不是有效的链接（方括号中的地址格式不正确）：请检查。",
    ),
    "remote.not_http": (
        "'{u}' is not an http(s) URL: paste a link that starts with https://",
        "“{u}”不是 http(s) 链接：请粘贴以 https:// 开头的链接",
    ),
    "remote.no_host": (
        "'{u}' has no host name: paste the full link, such as https://example.com/clip.mp4",
        "“{u}”没有主机名：请粘贴完整链接，例如 https://example.com/clip.mp4",
    ),
    "remote.credentials": (
        "URLs with a user name or password are not accepted: use a plain public link.",
        "不接受带用户名或密码的链接：请使用普通的公开链接。",
    ),
    "remote.bad_port": (
        "The port {p} in '{u}' is not valid (1-65535): check the link.",
        "“{u}”中的端口 {p} 无效（1-65535）：请检查链接。",
    ),
    "remote.bad_host_why": (
        "The host name in '{u}' is not valid ({why}): check the link.",
        "“{u}”中的主机名无效（{why}）：请检查链接。",
    ),
    "remote.bad_host": ("The host name in '{u}' is not valid: check the link.", "“{u}”中的主机名无效：请检查链接。"),
    "remote.not_found": ("The host '{h}' could not be found: check the link.", "找不到主机“{h}”：请检查链接。"),
    "remote.private": (
        "The link points to a private or local address ({h}), which is refused for safety: use a public link (or "
        "set KMC_ALLOW_PRIVATE_URLS=1 for a trusted LAN demo).",
        "该链接指向私有或本地地址（{h}），出于安全考虑被拒绝：请使用公开链接（或在可信的局域网演示中设置 "
        "KMC_ALLOW_PRIVATE_URLS=1）。",
    ),
    "remote.redirects": ("The link redirects too many times.", "链接重定向次数过多。"),
    "remote.stopped": (
        "The download was stopped: {why}. Try again later, or upload the file instead.",
        "下载已停止：{why}。请稍后重试，或改为上传文件。",
    ),
    "remote.deadline": (
        "The download was stopped: the transfer did not finish within {s} s. "
        "Try again later, or upload the file instead.",
        "下载已停止：传输未能在 {s} 秒内完成。请稍后重试，或改为上传文件。",
    ),
    "remote.no_answer": (
        "The link did not answer within {s} s: try again or use another host.",
        "链接在 {s} 秒内没有响应：请重试或换一个主机。",
    ),
    "remote.fetch_failed": (
        "The link could not be fetched ({exc}): check it in a browser.",
        "无法获取链接（{exc}）：请在浏览器中检查。",
    ),
    "remote.http": (
        "The link answered HTTP {s}: check that it is public and direct.",
        "链接返回 HTTP {s}：请确认它是公开的直接链接。",
    ),
    "remote.too_big": ("The linked file is {a} MB; the limit is {b} MB.", "链接的文件大小为 {a} MB；上限为 {b} MB。"),
    "remote.over_limit": ("The linked file is over the {b} MB limit.", "链接的文件超过了 {b} MB 的上限。"),
    "remote.labelled": ("{label} URL: {what}", "{label} 链接：{what}"),  # the CLI: which input's URL
    # kmc_ui/media/netguard.py: a transfer's pace (a pasted URL's download, a result's download)
    "net.deadline": (
        "the transfer did not finish within {s} s ({a:size} received)",
        "传输未能在 {s} 秒内完成（已收到 {a:size}）",
    ),
    "net.too_slow": (
        "the transfer was too slow ({a:size} in {s} s; at least {r} kB/s is needed)",
        "传输太慢（{s} 秒内仅收到 {a:size}；至少需要 {r} kB/s）",
    ),
    "net.visitor_slots": (
        "You already have {n} downloads running: wait for them to finish, then try again.",
        "你已有 {n} 个下载正在进行：请等它们完成后再试。",
    ),
    "net.total_slots": (
        "The server is already fetching {n} links for other visitors: try again in a minute, or upload the file "
        "instead.",
        "服务器正在为其他访问者获取 {n} 个链接：请一分钟后再试，或改为上传文件。",
    ),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

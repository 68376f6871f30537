"""Backend errors: what a provider (or the network, or the offline engine) refused, and what to do
(kmc_ui/backends/*.py, BackendError). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py.

`{w_who}` is the provider as the code names it ("The Kling API", "fal", "Replicate", "fal storage");
`{reason:said}` is the provider's own words after a colon, or nothing. A Kling error code's meaning
goes through the glossary; its advice has a code per Kling error number (kling.advice.NNNN), and a
failed task's advice one per TASK_FAILURE_HINTS key (failure.KEY).
"""

from __future__ import annotations

from kmc_ui.limits import KLING_ERRORS, TASK_FAILURE_HINTS

PAIRS: dict[str, tuple[str, str]] = {
    # BackendError.user_text(): the message, its code, what to do, the task kept
    "backend.sentences": ("{parts:sentences}", "{parts:sentences}"),
    "backend.with_code": ("{t_msg} (code {c:int})", "{t_msg}（错误码 {c}）"),
    "backend.what_to_do": ("What to do: {t_fix}", "处理办法：{t_fix}"),
    "backend.task_kept": (
        "Task id {task} is kept in History: it can be resumed later.",
        "任务 ID {task} 已保存在历史记录中：之后可以继续。",
    ),
    # kmc_ui/backends/common.py: the network, the result download
    "backend.connect_failed": ("Could not connect to {w_who} ({exc})", "无法连接到 {w_who}（{exc}）"),
    "backend.connect_failed.fix": (
        "Check the network and {s}; retried automatically.",
        "请检查网络和 {s}；会自动重试。",
    ),
    "backend.bad_base_url": ("{s} is not a usable URL", "{s} 不是可用的 URL"),
    "backend.bad_base_url.fix": ("Set {s} to an https:// URL.", "请将 {s} 设置为 https:// URL。"),
    "backend.timeout": ("{w_who} did not answer in time ({exc})", "{w_who} 没有及时响应（{exc}）"),
    "backend.connection_broke": ("The connection to {w_who} broke ({exc})", "与 {w_who} 的连接中断了（{exc}）"),
    "backend.unreadable_answer": (
        "{w_who} sent an unreadable answer (HTTP {s:int})",
        "{w_who} 返回了无法解析的响应（HTTP {s}）",
    ),
    "backend.no_result_link": ("The provider sent no result link", "服务商没有发送结果链接"),
    "backend.result_link_expired": (
        "The result link answered HTTP {s:int}: it has expired or was refused",
        "结果链接返回 HTTP {s}：链接已过期或被拒绝",
    ),
    "backend.result_link_expired.fix": (
        "Results are kept by the provider for about {d:int} days; resume from History soon after the task ends.",
        "服务商只保留结果约 {d} 天；请在任务结束后尽快从历史记录中继续。",
    ),
    "backend.result_link_http": ("The result link answered HTTP {s:int}", "结果链接返回 HTTP {s}"),
    "backend.download_stopped": ("The result download was stopped: {t_why}", "结果下载已停止：{t_why}"),
    "backend.download_stopped.fix": (
        "It is retried automatically; if it keeps failing, resume from History later.",
        "会自动重试；如果一直失败，请稍后从历史记录中继续。",
    ),
    "backend.download_broke": ("The download broke off ({exc})", "下载中断了（{exc}）"),
    "backend.download_incomplete": (
        "The download was incomplete ({a:int} of {b:int} bytes)",
        "下载不完整（{a}/{b} 字节）",
    ),
    "backend.download_empty": ("The download was incomplete (an empty file)", "下载不完整（文件为空）"),
    # kmc_ui/backends/errors.py: the HTTP ladder every hosted provider shares
    "http.401": (
        "{w_who} refused the {w_cred} (HTTP 401){reason:said}",
        "{w_who} 拒绝了{w_cred}（HTTP 401）{reason:said}",
    ),
    "http.no_credit": (
        "{w_who} refused the request: no credit left (HTTP {s:int}){reason:said}",
        "{w_who} 拒绝了请求：余额不足（HTTP {s}）{reason:said}",
    ),
    "http.403": ("{w_who} refused access (HTTP 403){reason:said}", "{w_who} 拒绝访问（HTTP 403）{reason:said}"),
    "http.429": ("{w_who} is rate limiting (HTTP 429){reason:said}", "{w_who} 正在限流（HTTP 429）{reason:said}"),
    "http.5xx": (
        "{w_who} had a server error (HTTP {s:int}){reason:said}",
        "{w_who} 服务器出错（HTTP {s}）{reason:said}",
    ),
    "http.content": (
        "{w_who} refused the content (HTTP {s:int}){reason:said}",
        "{w_who} 拒绝了内容（HTTP {s}）{reason:said}",
    ),
    "http.inputs": (
        "{w_who} refused the inputs (HTTP {s:int}){reason:said}",
        "{w_who} 拒绝了输入（HTTP {s}）{reason:said}",
    ),
    "http.404": (
        "{w_who} does not know {w_what} (HTTP 404){reason:said}",
        "{w_who} 不认识{w_what}（HTTP 404）{reason:said}",
    ),
    "http.other": ("{w_who} answered HTTP {s:int}{reason:said}", "{w_who} 返回 HTTP {s}{reason:said}"),
    "http.other.fix": (
        "Report this: the app used a wrong URL or method.",
        "请报告此问题：应用使用了错误的 URL 或请求方法。",
    ),
    "http.retried.fix": ("Retried automatically with backoff.", "会以退避方式自动重试。"),
    "http.inputs.fix": (
        "Fix the input named in the message (the checks panel shows the limits).",
        "请修复消息中提到的输入（检查面板中列出了各项限制）。",
    ),
    # the official Kling API (kmc_ui/backends/kling.py, kling2.py, kling_elements.py)
    "kling.error": ("Kling API: {w_meaning}{reason:said}", "可灵 API：{w_meaning}{reason:said}"),
    "kling.refused_keys": ("The Kling API refused the keys (HTTP 401)", "可灵 API 拒绝了密钥（HTTP 401）"),
    "kling.unreadable_answer": (
        "The Kling API sent an unreadable answer (HTTP {s:int})",
        "可灵 API 返回了无法解析的响应（HTTP {s}）",
    ),
    "kling.answered_http": ("The Kling API answered HTTP {s:int}", "可灵 API 返回 HTTP {s}"),
    "kling.check_base.fix": ("Check KLING_API_BASE.", "请检查 KLING_API_BASE。"),
    "kling.no_task_id": (
        "The Kling API accepted the request but sent no task id",
        "可灵 API 接受了请求，但没有返回任务 ID",
    ),
    "kling.unreadable_account": (
        "The Kling API sent an unreadable account summary",
        "可灵 API 返回了无法解析的账户概况",
    ),
    "kling.unreadable_list": ("The Kling API sent an unreadable task list", "可灵 API 返回了无法解析的任务列表"),
    "kling.unreadable_status": ("The Kling API sent an unreadable task status", "可灵 API 返回了无法解析的任务状态"),
    "kling.not_configured": ("The Kling API is not configured", "可灵 API 未配置"),
    "kling.task_not_listed": ("The Kling API does not list task {task} (yet)", "可灵 API（暂时）没有列出任务 {task}"),
    "kling.image_unreadable": ("The image {f} cannot be read", "无法读取图片 {f}"),
    "kling.image_unreadable.fix": ("Choose the character image again.", "请重新选择角色图片。"),
    "kling.video_no_url": ("The reference video has no public URL: {t_why}", "参考视频没有公开链接：{t_why}"),
    "kling.element_no_task_id": (
        "The Kling API accepted the Element but sent no task id",
        "可灵 API 接受了身份元素，但没有返回任务 ID",
    ),
    "kling.element_unreadable_status": (
        "The Kling API sent an unreadable Element status",
        "可灵 API 返回了无法解析的身份元素状态",
    ),
    "kling.picture_unreadable": ("The picture {f} cannot be read", "无法读取图片 {f}"),
    "kling.picture_unreadable.fix": ("Add the character's pictures again.", "请重新添加角色的图片。"),
    # fal (kmc_ui/backends/fal.py)
    "fal.key.fix": (
        "Check FAL_KEY: create a key at fal.ai/dashboard/keys and set FAL_KEY in .env (or paste it in the key box).",
        "请检查 FAL_KEY：在 fal.ai/dashboard/keys 创建密钥，并在 .env 中设置 FAL_KEY（或粘贴到密钥框）。",
    ),
    "fal.credit.fix": (
        "Top up the fal balance (fal.ai/dashboard/billing), then try again.",
        "请为 fal 余额充值（fal.ai/dashboard/billing），然后重试。",
    ),
    "fal.access.fix": (
        "Check that this fal key may use the Kling Motion Control endpoints.",
        "请确认此 fal 密钥有权使用可灵动作控制接口。",
    ),
    "fal.not_found.fix": (
        "Check FAL_QUEUE_BASE; a request is kept by fal for a limited time only.",
        "请检查 FAL_QUEUE_BASE；fal 只会在有限时间内保留请求。",
    ),
    "fal.no_request_id": (
        "fal accepted the request but its answer had no request id or links",
        "fal 接受了请求，但响应中没有请求 ID 或链接",
    ),
    "fal.unknown_status": ("fal sent an unknown status {s}", "fal 返回了未知状态 {s}"),
    "fal.not_configured": ("fal is not configured", "fal 未配置"),
    "fal.links_unknown": ("The links of fal request {task} are not known", "fal 请求 {task} 的链接未知"),
    "fal.links_unknown.fix": (
        "This run's record has no status link; generate again (fal's own dashboard lists the request).",
        "这次运行的记录中没有状态链接；请重新生成（fal 自己的控制台中可以看到该请求）。",
    ),
    "fal.result_http": ("fal's result link answered HTTP {s:int}", "fal 的结果链接返回 HTTP {s}"),
    "fal.unreadable_result": ("fal sent an unreadable result", "fal 返回了无法解析的结果"),
    "fal.file_unreadable": ("{f} cannot be read", "无法读取 {f}"),
    "fal.file_unreadable.fix": ("Choose the file again.", "请重新选择文件。"),
    "fal.no_upload_link": ("fal storage sent no upload link", "fal 存储没有返回上传链接"),
    "fal.upload_http": ("fal storage answered HTTP {s:int} to the upload", "fal 存储对上传返回 HTTP {s}"),
    "fal.upload_refused": (
        "fal storage refused the upload of {f} (HTTP {s:int})",
        "fal 存储拒绝了 {f} 的上传（HTTP {s}）",
    ),
    "fal.upload_refused.fix": (
        "Try again; if it persists paste a public URL of the video instead.",
        "请重试；如果问题持续，请改为粘贴视频的公开链接。",
    ),
    # Replicate (kmc_ui/backends/replicate.py)
    "replicate.token.fix": (
        "Check REPLICATE_API_TOKEN: create a token at replicate.com/account/api-tokens and set it in .env (or paste "
        "it in the key box).",
        "请检查 REPLICATE_API_TOKEN：在 replicate.com/account/api-tokens 创建令牌，"
        "并在 .env 中设置（或粘贴到密钥框）。",
    ),
    "replicate.credit.fix": (
        "Add credit at replicate.com/account/billing, wait a few minutes, then try again.",
        "请在 replicate.com/account/billing 充值，等待几分钟后重试。",
    ),
    "replicate.access.fix": (
        "Check that this token's account may run the kwaivgi Kling Motion Control models.",
        "请确认此令牌所属账户有权运行 kwaivgi 的可灵动作控制模型。",
    ),
    "replicate.not_found.fix": (
        "Check REPLICATE_API_BASE and the model name.",
        "请检查 REPLICATE_API_BASE 和模型名称。",
    ),
    "replicate.no_prediction_id": (
        "Replicate accepted the request but sent no prediction id",
        "Replicate 接受了请求，但没有返回预测 ID",
    ),
    "replicate.unknown_status": ("Replicate sent an unknown status {s}", "Replicate 返回了未知状态 {s}"),
    "replicate.not_configured": ("Replicate is not configured", "Replicate 未配置"),
    "replicate.image_no_url": ("The character image has no public URL: {t_why}", "角色图片没有公开链接：{t_why}"),
    "replicate.image_no_url.fix": (
        "The image is over {k:int} kB, so Replicate needs it as a URL: set KMC_PUBLIC_BASE_URL, or use a smaller "
        "image.",
        "图片超过 {k} kB，因此 Replicate 需要以链接形式获取：请设置 KMC_PUBLIC_BASE_URL，或使用更小的图片。",
    ),
    # the identity lock's Element (kmc_ui/elements.py, ElementError)
    "element.not_created": ("The identity Element could not be created: {t_why}", "无法创建身份元素：{t_why}"),
    # what Delete did (kmc_ui/elements.py delete)
    "element.deleted": ("The identity Element was deleted.", "身份元素已删除。"),
    "element.none_of_yours": ("No such identity Element among yours.", "你的身份元素中没有这一个。"),
    "element.other_keys": (
        "This identity Element was made with other keys: delete it with those keys.",
        "该身份元素是用其他密钥创建的：请用那些密钥删除。",
    ),
    "element.not_deleted": (
        "Kling did not delete the identity Element: {t_why}. Try again later.",
        "可灵没有删除该身份元素：{t_why}。请稍后再试。",
    ),
    "element.delete_unconfigured": (
        "The Kling official API 2.0 is not configured here, so nothing can be deleted there.",
        "这里没有配置可灵官方 API 2.0，因此无法在那里删除任何内容。",
    ),
    "element.state_unread": (
        "The identity Element's state could not be read: {t_why}",
        "无法读取身份元素的状态：{t_why}",
    ),
    "element.refused": ("Kling could not make the identity Element: {reason}", "可灵无法创建身份元素：{reason}"),
    "element.refused_no_reason": (
        "Kling could not make the identity Element: no reason given",
        "可灵无法创建身份元素：未给出原因",
    ),
    "element.refused.fix": (
        "Use clear pictures of one character (face visible, other angles), or remove them.",
        "请使用同一角色的清晰图片（露出脸部，来自其他角度），或移除这些图片。",
    ),
    "element.not_ready": ("The identity Element was not ready after {s} s", "身份元素在 {s} 秒后仍未就绪"),
    "element.not_ready.fix": (
        "Generate again later: the Element is picked up where it was left.",
        "请稍后重新生成：会从上次中断的地方继续使用该身份元素。",
    ),
    # the offline engine (kmc_ui/backends/local.py)
    "local.input_missing": (
        "The {w_what} is missing ({f}): prepare the inputs again.",
        "{w_what}缺失（{f}）：请重新准备输入。",
    ),
    "local.work_folder": (
        "The offline engine cannot write its work folder ({w_why}).",
        "离线引擎无法写入工作文件夹（{w_why}）。",
    ),
    "local.result_gone": ("The offline render's file is gone: run it again.", "离线渲染的文件已不存在：请重新运行。"),
}

# What to do about each Kling error code (kmc_ui.limits.KLING_ERRORS), in Chinese.
_KLING_ADVICE_ZH = {
    1000: "请检查 KLING_ACCESS_KEY / KLING_SECRET_KEY（或 KLING_API_KEY）。",
    1001: "请在 .env 或密钥框中设置 API 密钥。",
    1002: "请检查密钥；必要时在可灵控制台重新生成。",
    1003: "本机时钟偏快或偏慢：请同步时间（NTP）后重试。",
    1004: "令牌已过期；下次请求时会重新签名。请检查时钟。",
    1100: "请在可灵控制台检查账户状态。",
    1101: "请为账户充值，然后重试。",
    1102: "请在可灵控制台购买更多资源包。",
    1103: "请检查账户是否有权使用动作控制和所选模型。",
    1200: "请修复消息中提到的输入。",
    1201: "请修复消息中提到的输入。",
    1202: "请报告此问题：应用使用了错误的请求方法。",
    1203: "请选择其他模型，或检查 API 主机地址。",
    1300: "请更换输入（图片、视频或提示词）。",
    1301: "请更换图片、视频或提示词；内容被拒绝了。",
    1302: "请求过多：会以退避方式自动重试。",
    1303: "请等待运行中的任务结束：会以退避方式重试。",
    1304: "请将本服务器的 IP 加入账户白名单。",
    5000: "会以退避方式自动重试。",
    5001: "会自动重试；如果问题持续，请稍后再试。",
    5002: "会自动重试；如果问题持续，请稍后再试。",
}
# What to do about a failed task, by the TASK_FAILURE_HINTS key its provider text matched.
_FAILURE_ZH = {
    "moderation": "内容未通过审核：请更换图片、视频或提示词。",
    "risk": "内容未通过审核：请更换图片、视频或提示词。",
    "image pixel": "服务商拒绝了图片尺寸：请使用每边 340 像素或以上的图片。",
    "aspect": "服务商拒绝了宽高比：请将图片裁剪到 1:2.5 到 2.5:1 之间。",
    "duration": "服务商拒绝了视频时长：请截取到 3 秒至该朝向的上限之间。",
    "person": "没有找到可用的人物：请在图片和视频中使用清晰、无遮挡的单个人物。",
    "human": "没有找到可用的人物：请在图片和视频中使用清晰、无遮挡的单个人物。",
}
for _n, _spec in KLING_ERRORS.items():
    PAIRS[f"kling.advice.{_n}"] = (_spec.advice, _KLING_ADVICE_ZH.get(_n, ""))
for _key, _advice in TASK_FAILURE_HINTS:
    PAIRS[f"failure.{_key.replace(' ', '_')}"] = (_advice, _FAILURE_ZH.get(_key, ""))

# Words the `w_` slots of these templates use, beyond kmc_ui/ui/zh_catalogue.py's WORDS.
WORDS_ZH: dict[str, str] = {
    "keys": "密钥",
    "key": "密钥",
    "token": "令牌",
    "this path": "此路径",
    "this endpoint or request": "此接口或请求",
    "this model or prediction": "此模型或预测",
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items() if pair[1]}

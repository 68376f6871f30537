"""The motion-agreement report's summary (kmc_ui/engine/agreement.py AgreementReport.summary_msgs),
its appearance findings (kmc_ui/engine/appearance.py AppearanceFinding.msg) and the suggested trim
window's reason (kmc_ui/checks/trim.py). Code -> (English, Chinese). Slot syntax: kmc_ui/messages.py.

Numbers are passed already written as the English writes them ("+0.36", "0.17"), so both languages
show the same digits; `{w_limb}` is a limb or limb region ("left arm", "right hand": the glossary has
each in Chinese); `{t_err}` / `{t_note}` are an engine's reason, still in English (translated)."""

from __future__ import annotations

PAIRS: dict[str, tuple[str, str]] = {
    # the summary (version 3: the 0-100 score)
    "report.failed": ("Motion agreement could not be measured: {t_err}", "无法测量动作一致度：{t_err}"),
    "report.score": (
        "**Motion agreement: {s}/100** (0 = a frozen pose, 100 = the reference's own motion; the mean of the "
        "limbs' scores, weighted by how much the reference moves each limb).",
        "**动作一致度：{s}/100**（0 = 静止不动的姿态，100 = 参考视频本身的动作；各肢体得分的加权平均，"
        "权重为参考视频中该肢体的运动量）。",
    ),
    "report.per_limb": (
        "Per limb: left arm {a}, right arm {b}, left leg {c}, right leg {d}.",
        "各肢体：左臂 {a}，右臂 {b}，左腿 {c}，右腿 {d}。",
    ),
    "report.dash": ("A dash: the reference never shows that limb.", "短横线：参考视频中从未出现该肢体。"),
    "report.limb_not_following": (
        "The {w_limb} does not follow the reference's motion ({n}/100).",
        "{w_limb}没有跟上参考视频的动作（{n}/100）。",
    ),
    "report.weak_alignment": (
        "Warning: the time alignment is weak (correlation {c} at the shift used, weak below {w}): the "
        "result's motion does not line up well with the reference's.",
        "警告：时间对齐较弱（所用偏移下的相关系数为 {c}，低于 {w} 即为弱）：结果的动作与参考视频的动作对不齐。",
    ),
    "report.shifted": ("The result is shifted by {o} s against the reference.", "结果相对参考视频偏移了 {o} 秒。"),
    "report.following_lost": (
        "Frames following the reference: {f:pct} of the result's (at least {fp:pct} of joints within {thr:pct} of "
        "a torso, no limb lost); a limb is lost in {n} of {m} ({limbs:limbs}), first at {t} s.",
        "结果中 {f} 的帧跟上了参考视频（至少 {fp} 的关节偏差在躯干长度的 {thr} 以内，且没有丢失肢体）；"
        "{m} 帧中有 {n} 帧丢失了肢体（{limbs}），首次出现在 {t} 秒。",
    ),
    "report.following": (
        "Frames following the reference: {f:pct} of the result's (at least {fp:pct} of joints within {thr:pct} of "
        "a torso, no limb lost); no limb is lost.",
        "结果中 {f} 的帧跟上了参考视频（至少 {fp} 的关节偏差在躯干长度的 {thr} 以内，且没有丢失肢体）；"
        "没有丢失任何肢体。",
    ),
    "report.unaligned": (
        "Frames of the result outside the reference once aligned: {u} of {m}; they count as failures.",
        "对齐后，结果的 {m} 帧中有 {u} 帧落在参考视频之外；这些帧按失败计。",
    ),
    "report.no_person": ("No person found in {n} frames of the result.", "结果中有 {n} 帧没有找到人物。"),
    # the summary of a report from before version 3 (no score), as it was written then
    "report.v2_head": (
        "**Motion agreement: {pck:pct}** of body joints within {thr:pct} of a torso of the reference's pose "
        "(PCK@{g}); {f:pct} of frames follow the motion (at least {fp:pct} of joints in place).",
        "**动作一致度：{pck}** 的身体关节与参考姿态的偏差在躯干长度的 {thr} 以内（PCK@{g}）；"
        "{f} 的帧跟上了动作（至少 {fp} 的关节到位）。",
    ),
    "report.v2_fused": (
        "Each frame's pose is the median of three readings (tracking, the frame alone, the frame mirrored); with "
        "the tracking reading alone: {p:pct}.",
        "每一帧的姿态取三次读取的中位数（跟踪读取、单独读取该帧、读取镜像后的帧）；只用跟踪读取时为 {p}。",
    ),
    "report.v2_lost": (
        "Limbs lost in {n} of {m} frames ({limbs:limbs}); first at {t} s.",
        "{m} 帧中有 {n} 帧丢失了肢体（{limbs}）；首次出现在 {t} 秒。",
    ),
    "report.v2_none_lost": ("No limb was lost.", "没有丢失任何肢体。"),
    # appearance beside the motion (kmc_ui/engine/appearance.py)
    "report.appearance_not_checked": ("Appearance was not checked: {t_note}.", "未检查外观：{t_note}。"),
    "report.appearance_ok": (
        "Appearance: hands, limb colours and sharpness hold up against the reference and the picture.",
        "外观：手、肢体颜色和清晰度都与参考视频和角色图片相符。",
    ),
    "report.appearance_problems": ("Appearance checks found {n:int} problem{n:pl}.", "外观检查发现 {n} 个问题。"),
    "appearance.hand_missing": (
        "The {w_limb} is missing in {n} of {m} frames where the reference shows it ({t:times}).",
        "参考视频显示{w_limb}的 {m} 帧中，结果有 {n} 帧缺少{w_limb}（{t}）。",
    ),
    "appearance.limb_colour": (
        "The {w_limb} changes colour from the character's in {n} of {m} frames (median colour difference "
        "{v}, at {t:times}).",
        "{w_limb}在 {m} 帧中有 {n} 帧的颜色与角色图片不同（颜色差中位数 {v}，位于 {t}）。",
    ),
    "appearance.limb_smear": (
        "The {w_limb} looks smeared or torn in {n} of {m} frames (sharpness {p:pct} of its usual, at {t:times}).",
        "{w_limb}在 {m} 帧中有 {n} 帧看起来模糊或撕裂（清晰度只有平时的 {p}，位于 {t}）。",
    ),
    # the suggested trim window (kmc_ui/checks/trim.py), the trim slider's note
    "trim.window": ("Suggested window {a}-{b} s.", "建议的片段：{a}-{b} 秒。"),
    "trim.ends_before_cut": ("It ends before the cut at {c} s.", "它在 {c} 秒的剪辑切换之前结束。"),
    "trim.starts_after_cut": ("It starts after the cut at {c} s.", "它从 {c} 秒的剪辑切换之后开始。"),
    "trim.starts_closest": (
        "It starts where the motion's pose is closest to the picture's ({d} torso lengths apart).",
        "它从动作姿态最接近图片姿态的地方开始（相差 {d} 个躯干长度）。",
    ),
    "trim.closest_at_start": (
        "The motion's pose is closest to the picture's at its start ({d} torso lengths apart).",
        "动作姿态在片段开头最接近图片姿态（相差 {d} 个躯干长度）。",
    ),
    "report.plot_label": ("Agreement per frame", "逐帧一致度"),
}

EN: dict[str, str] = {code: pair[0] for code, pair in PAIRS.items()}
ZH: dict[str, str] = {code: pair[1] for code, pair in PAIRS.items()}

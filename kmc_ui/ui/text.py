"""UI copy in one place (English; the Chinese labels are in kmc_ui/ui/i18n.py, the sentences the page
writes at run time in kmc_ui/catalogue/page.py, whose English these constants are)."""

from kmc_ui.catalogue.page import EN as _PAGE

TITLE = "# 🕺 kmc · Kling Motion Control Studio"
INTRO = (
    "Give a **character image** (who), a **motion video** (what they do: skeleton, timing, physics) and, "
    "optionally, a **prompt** (scene, light, style, camera; never the motion). Every provider limit is checked "
    "as you upload, so you know *before paying* whether your inputs will work."
)
PROMPT_PLACEHOLDER = (
    "Describe the scene, light, style and camera, e.g. 'on a neon-lit rooftop at night, cinematic, "
    "shallow depth of field'. Do not describe the motion: it comes from the video."
)
IMAGE_LABEL = "Character image (who)"
VIDEO_LABEL = "Motion reference video (what they do)"
PREPARE_INTRO = (
    "When an input breaks a limit that can be fixed without guessing (format, size, length, codec), the app "
    "fixes it here and shows you the exact files that will be sent. Files that already conform are sent as they "
    "are, without re-encoding."
)
TRIM_LABEL = "Trim window start (s): the clip is cut to the orientation's maximum from here"
NO_INPUTS = _PAGE["page.no_inputs"]
BODY_PENDING = _PAGE["page.body_pending"]
KEYS_NOTE = (
    "Keys typed here are used for this browser session only: they are kept in memory for the run, never "
    "written to disk, logged or shown again. Leave a box empty to use the server's configured key."
)
REPORT_PENDING = _PAGE["page.report_pending"]

"""The last guard on text a visitor sees: no errno texts, server paths or exception names.

The code that knows the facts says what is wrong with which input and how to fix it; but a reason
quoted from an exception ("[Errno 2] No such file or directory: '/tmp/gradio/…/clip.mp4'",
"(UnidentifiedImageError)", "ValueError: …", a traceback) can still ride along inside a message.
`visitor_text` removes such parts, in English and in Chinese, and names a file by its base name
only. `kmc_ui.ui.runtime_text.translate` applies it to every run-time text it renders, so each
finding, progress line, stop message and report shown on the page passes through it.

Plain text only (run it before HTML escaping). Text without such parts comes back unchanged.
"""

from __future__ import annotations

import re

# An exception class name: ValueError, av.error.InvalidDataError, UnidentifiedImageError, OSError...
_CLASS = r"(?:[A-Za-z_][\w]*\.)*[A-Z][A-Za-z0-9]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)"
_OPEN, _CLOSE = r"[(（]", r"[)）]"

# "(... [Errno 2] No such file ...: '/tmp/x')": the parenthesis is only the exception's words.
_ERRNO_PAREN = re.compile(rf"\s*{_OPEN}[^()（）]*\[(?:Errno|WinError) -?\d+\][^()（）]*{_CLOSE}")
# "(ValueError)", "(KeyError: 'x')", "（UnidentifiedImageError）".
_CLASS_PAREN = re.compile(rf"\s*{_OPEN}\s*{_CLASS}(?:\s*[:：][^()（）]*)?\s*{_CLOSE}")
_ERRNO = re.compile(r"\[(?:Errno|WinError) -?\d+\]\s*")
_CLASS_PREFIX = re.compile(rf"(?<![\w.]){_CLASS}\s*:\s*")
_BARE_CLASS = re.compile(rf"(?<![\w.]){_CLASS}(?![\w.])")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\):.*", re.S)
# An absolute POSIX path (not inside a URL: "https://host/a/b" has ':' or '/' or a word before each '/').
_PATH = re.compile(r"""(?<![\w:/.~\-])(?:/[^\s'"`<>:;,()（）\[\]/]+)+/([^\s'"`<>:;,()（）\[\]/]+)""")
_WINDOWS_PATH = re.compile(r"""\b[A-Za-z]:\\(?:[^\s'"`<>:;,()\\]+\\)*([^\s'"`<>:;,()\\]+)""")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_STOP = re.compile(r"\s+(?=[.,;:!?。，；：！？])")


def visitor_text(text: str) -> str:
    """`text` with errno texts, exception names, tracebacks and server paths taken out."""
    if not text or not any(mark in text for mark in ("/", "\\", "Errno", "WinError", "Error", "Exception", "Trace")):
        return text
    out = _TRACEBACK.sub("", text)
    out = _ERRNO_PAREN.sub("", out)
    out = _CLASS_PAREN.sub("", out)
    out = _ERRNO.sub("", out)
    out = _CLASS_PREFIX.sub("", out)
    out = _BARE_CLASS.sub("an unexpected error", out) if _BARE_CLASS.search(out) else out
    out = _PATH.sub(r"\1", out)
    out = _WINDOWS_PATH.sub(r"\1", out)
    if out == text:
        return text
    out = _SPACES.sub(" ", out)
    out = _SPACE_BEFORE_STOP.sub("", out)
    return out.strip() if text == text.strip() else out


def leaks(text: str, *paths: str) -> list[str]:
    """What in `text` would tell a visitor about the server (for tests): [] when nothing does."""
    found = []
    for mark in ("Errno", "WinError", "Traceback", "/tmp/", "/root/", "/home/", "/work/", "/var/"):
        if mark in text:
            found.append(mark)
    found += [m.group(0) for m in _BARE_CLASS.finditer(text)]
    found += [p for p in paths if p and p in text]
    return found

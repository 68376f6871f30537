"""What a page request may reach: its visitor id (from the signed cookie) and the files it is shown.

Every event handler finds its visitor here, never in a value the page sends. Files reach the page
only as copies in Gradio's cache (`served`), named by a hash of their content: a URL reveals no
visitor, no run and no server path, and cannot be enumerated. The data folder itself is blocked
from Gradio's file route (kmc_ui/server.py), so a record or a run folder is never served.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gradio import processing_utils, utils

from kmc_ui.studio import Studio


def visitor(studio: Studio, request: Any) -> str:
    """This request's visitor: the id in its signed cookie. A request without one (a server that
    was mounted without kmc's middleware) gets a new throwaway id, which opens nothing."""
    headers = getattr(request, "headers", None)
    try:
        raw = headers.get("cookie") if headers is not None else None
    except Exception:  # a header object of an unexpected kind
        raw = None
    return studio.visitor(raw) or "anon-" + secrets.token_hex(12)


def address(request: Any) -> str:
    """The client's address, for per-address quotas: the first X-Forwarded-For entry when the direct
    peer is a proxy on a private or loopback address (a Space's front end), else the peer itself."""
    client = getattr(request, "client", None)
    peer = str(getattr(client, "host", "") or "")
    try:
        private = ipaddress.ip_address(peer).is_private or ipaddress.ip_address(peer).is_loopback
    except ValueError:
        private = False
    headers = getattr(request, "headers", None)
    forwarded = (headers.get("x-forwarded-for") or "") if headers is not None and private else ""
    return forwarded.split(",")[0].strip() or peer


def served(path: str | Path | None) -> str | None:
    """A copy of a server file in Gradio's cache, for a component's value; None when there is no file."""
    if not path:
        return None
    source = Path(path)
    if not source.is_file():
        return None
    return processing_utils.save_file_to_cache(source, utils.get_upload_folder())


def served_url(path: str | Path | None) -> str:
    """The URL of `served(path)` for custom HTML (the side-by-side player); "" when there is no file."""
    copy = served(path)
    return "/gradio_api/file=" + quote(copy) if copy else ""

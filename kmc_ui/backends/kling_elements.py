"""Kling identity Elements (facts addendum A1): a character made from several pictures, bound to a
Kling 3.0 motion-control task so the face and clothes stay the picture's.

    POST /v1/general/advanced-custom-elements            create (asynchronous): a task id
    GET  /v1/general/advanced-custom-elements/{task_id}  its state; `element_id` once `succeed`
    POST /v1/general/delete-advanced-elements            {"element_id"}: delete

The Element API is legacy-shaped (the `{code, message, data}` envelope, `task_status`) and takes
the API key as Bearer, so both Kling backends can call it; only API 2.0 documents how a motion-control
request binds one (kmc_ui.limits.ELEMENTS.backends).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kmc_ui.backends.base import InvalidRequest, TransientError
from kmc_ui.limits import ELEMENT_DELETE_PATH, ELEMENT_PATH, ELEMENT_STATUS, ELEMENTS
from kmc_ui.messages import Msg


@dataclass(frozen=True)
class ElementState:
    task_id: str
    status: str  # queued / running / succeeded / failed (ours)
    element_id: str = ""
    message: str = ""
    units: float | None = None  # final_unit_deduction, when the provider says


def _picture(path: Path) -> str:
    """A picture as raw base64 (the API takes a URL or base64 without a data: prefix)."""
    try:
        return base64.b64encode(Path(path).read_bytes()).decode("ascii")
    except OSError:
        raise InvalidRequest(
            Msg("kling.picture_unreadable", {"f": Path(path).name}), fix=Msg("kling.picture_unreadable.fix")
        ) from None


class KlingElements:
    """Mixed into the Kling backends: needs `_call(method, path, json=, params=, creating=)` and
    `_require_keys()` from KlingLegacyBackend."""

    supports_elements = False  # True where a motion-control request can bind the Element

    def account_tag(self) -> str:
        """A short hash naming the account the keys belong to (Elements live in one account); never
        the key itself."""
        key = getattr(self, "_access_key", "") or getattr(self, "_api_key", "")
        return hashlib.sha256(f"kmc-element-account:{key}".encode()).hexdigest()[:16]

    def create_element(self, frontal: Path, others: list[Path], name: str, external_id: str = "") -> str:
        """Start creating an Element from the frontal picture and 1-3 other angles: its task id."""
        self._require_keys()  # type: ignore[attr-defined]
        body: dict[str, Any] = {
            "element_name": name[: ELEMENTS.name_max_chars],
            "element_description": "Character for motion control (kmc)"[: ELEMENTS.description_max_chars],
            "reference_type": "image_refer",
            "element_image_list": {
                "frontal_image": _picture(frontal),
                "refer_images": [{"image_url": _picture(p)} for p in others],
            },
            "tag_list": [{"tag_id": ELEMENTS.character_tag}],
        }
        if external_id:
            body["external_task_id"] = external_id
        data = self._call("POST", ELEMENT_PATH, json=body, creating=True)  # type: ignore[attr-defined]
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not task_id:
            raise TransientError(Msg("kling.element_no_task_id"))
        return str(task_id)

    def element_state(self, task_id: str) -> ElementState:
        """Where the Element's creation stands (by its task id or our external id)."""
        self._require_keys()  # type: ignore[attr-defined]
        data = self._call("GET", f"{ELEMENT_PATH}/{quote(task_id, safe='')}")  # type: ignore[attr-defined]
        if not isinstance(data, dict) or "task_status" not in data:
            raise TransientError(Msg("kling.element_unreadable_status"))
        raw = str(data.get("task_status") or "")
        status = ELEMENT_STATUS.get(raw, "running")
        result = data.get("task_result") if isinstance(data.get("task_result"), dict) else {}
        elements = [e for e in result.get("elements") or [] if isinstance(e, dict) and e.get("element_id")]
        element_id = str(elements[0]["element_id"]) if elements else ""  # a number in the docs: kept as text
        message = str(data.get("task_status_msg") or "") if status == "failed" else ""
        if status == "succeeded" and not element_id:
            status, message = "failed", "The provider reported the Element ready but sent no element id"
        try:
            units = float(str(data["final_unit_deduction"])) if data.get("final_unit_deduction") else None
        except ValueError:
            units = None
        return ElementState(str(data.get("task_id") or task_id), status, element_id, message, units)

    def delete_element(self, element_id: str) -> None:
        """Delete one of the account's own Elements."""
        self._require_keys()  # type: ignore[attr-defined]
        self._call("POST", ELEMENT_DELETE_PATH, json={"element_id": element_id})  # type: ignore[attr-defined]

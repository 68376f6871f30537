"""Kling's identity Elements (facts addendum A1), played on loopback by both Kling fakes.

    POST /v1/general/advanced-custom-elements             create: every field checked, images decoded
    GET  /v1/general/advanced-custom-elements/{id}        by task id or external_task_id
    POST /v1/general/delete-advanced-elements             {"element_id"}

Creation is asynchronous: `submitted` -> `succeed` after `element_seconds` (scenario clock), with
`task_result.elements[]` holding a numeric `element_id` (as in the vendor's sample) and 0 units.
An unknown id answers 400 1201 "Task not found by id/external id" (facts A5). Elements belong to the
account that made them; `element_ids(account)` says which are live (the 3.0 create checks it).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kmc_ui.limits import ELEMENT_DELETE_PATH, ELEMENT_PATH, LIMITS

TOP_FIELDS = {
    "element_name",
    "element_description",
    "reference_type",
    "element_image_list",
    "element_video_list",
    "element_voice_id",
    "tag_list",
    "callback_url",
    "external_task_id",
}
TAGS = {f"o_{n}" for n in range(101, 109)}


@dataclass
class FakeElement:
    task_id: str
    element_id: int
    account: str
    external_task_id: str
    created: float  # scenario clock
    created_at: int
    body: dict[str, Any]
    failure: str = ""
    deleted: bool = False


def _image_problem(value: Any, what: str) -> str:
    """Why an element picture (URL or raw base64) is refused, or ""."""
    if not isinstance(value, str) or not value:
        return f"{what} is required"
    if value.startswith(("http://", "https://")):
        return ""  # the tests send base64; a URL is taken as is
    if value.startswith("data:"):
        return f"{what} must be a URL or raw Base64 without the 'data:' prefix"
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"{what} is neither a URL nor valid Base64"
    if len(data) > LIMITS.image_max_bytes:
        return f"{what} is larger than 10MB"
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, width, height = im.format, im.width, im.height
    except Exception:
        return f"{what} cannot be decoded"
    if fmt not in ("JPEG", "PNG"):
        return f"{what} must be jpg/jpeg/png"
    if min(width, height) < LIMITS.image_min_side:
        return f"{what} must be at least 300px"
    if not LIMITS.image_aspect_min <= width / height <= LIMITS.image_aspect_max:
        return f"{what} aspect ratio must be between 1:2.5 and 2.5:1"
    return ""


class FakeElements:
    """Mixed into FakeKling / FakeKling2 (which give `_auth` or `_auth2`, `_ok`, `_error`, `clock`)."""

    element_seconds = 0.3  # how long a creation takes (scenario clock)
    element_failure = ""  # when set, creations end `failed` with this task_status_msg

    def element_routes(self) -> list[BaseRoute]:
        self.elements: dict[str, FakeElement] = {}
        self._element_ids = itertools.count(321922438904313)
        self._element_lock = threading.Lock()
        return [
            Route(ELEMENT_PATH, self._element_create, methods=["POST"]),
            Route(ELEMENT_PATH + "/{id}", self._element_query, methods=["GET"]),
            Route(ELEMENT_DELETE_PATH, self._element_delete, methods=["POST"]),
        ]

    def element_ids(self, account: str) -> set[str]:
        return {
            str(e.element_id)
            for e in self.elements.values()
            if e.account == account and not e.deleted and self._element_status(e) == "succeed"
        }

    @property
    def element_creates(self) -> int:
        return len(self.requests_at("element_create"))  # type: ignore[attr-defined]

    def _element_auth(self, request: Request) -> tuple[str, Response | None]:
        auth = getattr(self, "_auth2", None) or self._auth  # type: ignore[attr-defined]
        return auth(request)

    def _element_status(self, element: FakeElement) -> str:
        if self.clock() - element.created < self.element_seconds:  # type: ignore[attr-defined]
            return "submitted"
        return "failed" if element.failure else "succeed"

    def _element_validate(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "Request body must be a JSON object"
        unknown = sorted(set(body) - TOP_FIELDS)
        if unknown:
            return f"Unknown parameter: {', '.join(unknown)}"
        name, description = body.get("element_name"), body.get("element_description")
        if not isinstance(name, str) or not name or len(name) > 20:
            return "element_name is required (at most 20 characters)"
        if not isinstance(description, str) or not description or len(description) > 100:
            return "element_description is required (at most 100 characters)"
        if body.get("reference_type") != "image_refer":
            return "reference_type must be image_refer or video_refer (video_refer needs kling-video-o3)"
        images = body.get("element_image_list")
        if not isinstance(images, dict) or set(images) - {"frontal_image", "refer_images"}:
            return "element_image_list must be {frontal_image, refer_images}"
        problem = _image_problem(images.get("frontal_image"), "frontal_image")
        refers = images.get("refer_images")
        if not problem and (not isinstance(refers, list) or not 1 <= len(refers) <= 3):
            problem = "refer_images must hold 1 to 3 images"
        for n, item in enumerate(refers if not problem else []):
            if not isinstance(item, dict) or set(item) != {"image_url"}:
                return f"refer_images[{n}] must be {{image_url}}"
            problem = problem or _image_problem(item["image_url"], f"refer_images[{n}].image_url")
        if problem:
            return problem
        tags = body.get("tag_list", [])
        if not isinstance(tags, list) or any(not isinstance(t, dict) or t.get("tag_id") not in TAGS for t in tags):
            return "tag_list must be [{tag_id: o_101..o_108}]"
        return ""

    def _element_data(self, element: FakeElement) -> dict[str, Any]:
        status = self._element_status(element)
        data: dict[str, Any] = {
            "task_id": element.task_id,
            "task_status": status,
            "task_status_msg": element.failure if status == "failed" else "",
            "task_info": {"external_task_id": element.external_task_id},
            "created_at": element.created_at,
            "updated_at": element.created_at + int(self.element_seconds * 1000),
        }
        if status == "succeed":
            body = element.body
            data["task_result"] = {
                "elements": [
                    {
                        "element_id": element.element_id,
                        "element_name": body["element_name"],
                        "element_description": body["element_description"],
                        "reference_type": body["reference_type"],
                        "element_image_list": {"frontal_image": "https://fake/f.jpg", "refer_images": []},
                        "tag_list": body.get("tag_list", []),
                        "owned_by": "custom",
                        "status": "deleted" if element.deleted else "succeed",
                    }
                ]
            }
            data["final_unit_deduction"] = "0"
        return data

    async def _element_create(self, request: Request) -> Response:
        account, denied = self._element_auth(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._error(1201, "Request body is not valid JSON")  # type: ignore[attr-defined]
        problem = self._element_validate(body)
        if problem:
            return self._error(1201, problem)  # type: ignore[attr-defined]
        external = str(body.get("external_task_id") or "")
        with self._element_lock:
            if external and any(
                e.external_task_id == external and e.account == account for e in self.elements.values()
            ):
                return self._error(1201, f"External_task_id {external} already exists")  # type: ignore[attr-defined]
            n = next(self._element_ids)
            element = FakeElement(
                task_id=f"elt-{n}",
                element_id=n,
                account=account,
                external_task_id=external,
                created=self.clock(),  # type: ignore[attr-defined]
                created_at=int(time.time() * 1000),
                body=body,
                failure=self.element_failure,
            )
            self.elements[element.task_id] = element
        data = self._element_data(element)
        return self._ok({k: data[k] for k in ("task_id", "task_info", "task_status", "created_at", "updated_at")})  # type: ignore[attr-defined]

    async def _element_query(self, request: Request) -> Response:
        account, denied = self._element_auth(request)
        if denied:
            return denied
        key = request.path_params["id"]
        element = next(
            (
                e
                for e in self.elements.values()
                if e.account == account and (e.task_id == key or (e.external_task_id and e.external_task_id == key))
            ),
            None,
        )
        if element is None:
            return self._error(1201, f"Task not found by id/external id: {key}")  # type: ignore[attr-defined]
        return self._ok(self._element_data(element))  # type: ignore[attr-defined]

    async def _element_delete(self, request: Request) -> Response:
        account, denied = self._element_auth(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._error(1201, "Request body is not valid JSON")  # type: ignore[attr-defined]
        wanted = str(body.get("element_id") or "") if isinstance(body, dict) else ""
        element = next(
            (e for e in self.elements.values() if e.account == account and str(e.element_id) == wanted), None
        )
        if element is None or element.deleted:
            return self._error(1201, f"element {wanted} does not exist")  # type: ignore[attr-defined]
        element.deleted = True
        return self._ok({"task_id": f"del-{element.element_id}", "task_status": "succeed"})  # type: ignore[attr-defined]

"""Identity lock: a Kling Element made from the character image and 1-3 more pictures of the same
character (other angles), bound to a Kling 3.0 motion-control run so the face and clothes hold.

The studio checks the extra pictures against the Element limits before anything is sent (they are the
character image's limits: kmc_ui.limits.LIMITS, ELEMENTS), prepares them like the character image,
and keeps one Element per visitor, account and set of pictures (by content hash): a second run with
the same pictures reuses it. The worker creates it right before the run's create (asynchronous at
Kling: polled), recording the creation task before polling it. Visitors list and delete theirs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kmc_ui.backends.base import AmbiguousSubmit, BackendError, InvalidRequest
from kmc_ui.checks.rules import check_image
from kmc_ui.findings import Finding
from kmc_ui.limits import ELEMENTS, LIMITS
from kmc_ui.media.probe import probe_image
from kmc_ui.messages import Msg, Said
from kmc_ui.store import RunStore, elements

ORIENTATION_NOTE = (
    "With an identity lock the result always follows the video's orientation (Kling's rule): "
    "orientation is set to 'video'."
)
COST_NOTE = (
    "Creating the identity Element is not on Kling's price page; it was charged 0 units in a live test. "
    "It is made once per set of pictures and reused."
)
ORIENTATION_MSG = Msg("element.orientation")  # ORIENTATION_NOTE as a message (kmc_ui/catalogue/findings.py)
COST_MSG = Msg("element.cost")  # COST_NOTE as a message


class ElementError(BackendError):
    """The Element could not be made: the run stops before its create (nothing is paid)."""


class ElementStopped(Exception):
    """Stop was pressed while the Element was being made."""


@dataclass(frozen=True)
class ElementRow:
    owner: str
    account: str
    digest: str
    provider: str
    task_id: str
    element_id: str
    status: str
    pictures: int
    message: str
    created_at: float
    updated_at: float

    def public(self) -> dict[str, Any]:
        """What a visitor's page may show (no owner id, no account hash)."""
        return {
            "element_id": self.element_id,
            "status": self.status,
            "pictures": self.pictures,
            "created_at": self.created_at,
            "ref": self.digest[:12],
        }


def label(index: int) -> str:
    return f"Extra character picture {index}"


def check_pictures(paths: Sequence[str], model: str, backend: str) -> list[Finding]:
    """Findings for the extra pictures of an identity lock (none when there are none)."""
    if not paths:
        return []
    out: list[Finding] = []
    if backend not in ELEMENTS.backends or model not in ELEMENTS.models:
        out.append(
            Finding.of(
                "error",
                "element",
                "element_unsupported",
                Msg("element.unsupported", {"model": model, "backend": backend}),
                Msg("element.unsupported.fix"),
            )
        )
    if len(paths) > ELEMENTS.max_extra:
        out.append(
            Finding.of(
                "error",
                "element",
                "element_too_many",
                Msg("element.too_many", {"n": len(paths), "lo": ELEMENTS.min_extra, "hi": ELEMENTS.max_extra}),
                Msg("element.too_many.fix", {"hi": ELEMENTS.max_extra}),
            )
        )
    for index, path in enumerate(paths, 1):
        for finding in check_image(probe_image(path), limits=LIMITS):
            if finding.level == "hint":
                continue
            out.append(
                Finding.of(
                    finding.level,
                    "element",
                    "element_" + finding.code.removeprefix("image_"),
                    Msg("element.picture", {"n": index, "t_text": finding.msg or finding.message}),
                    finding.fix_msg,
                    finding.auto_fix,
                )
            )
    return out


def digest(frontal: Path, others: Sequence[Path]) -> str:
    """The set of pictures as one SHA-256 (order matters: the first is the frontal one)."""
    h = hashlib.sha256()
    for path in (frontal, *others):
        h.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return h.hexdigest()


class ElementStore:
    """The `elements` table of the run store."""

    def __init__(self, store: RunStore) -> None:
        self._begin = store._begin

    def get(self, owner: str, account: str, digest_: str) -> ElementRow | None:
        key = (elements.c.owner == owner) & (elements.c.account == account) & (elements.c.digest == digest_)
        with self._begin() as conn:
            row = conn.execute(sa.select(elements).where(key)).first()
        return ElementRow(**row._mapping) if row else None

    def put(self, owner: str, account: str, digest_: str, **values: Any) -> None:
        key = (elements.c.owner == owner) & (elements.c.account == account) & (elements.c.digest == digest_)
        now = time.time()
        with self._begin(write=True) as conn:
            found = conn.execute(sa.select(elements.c.owner).where(key).with_for_update()).first()
            if found:
                conn.execute(elements.update().where(key).values(updated_at=now, **values))
            else:
                base = {"task_id": "", "element_id": "", "message": "", "pictures": 0, "provider": ""}
                row = base | values | {"owner": owner, "account": account, "digest": digest_}
                conn.execute(elements.insert().values(created_at=now, updated_at=now, **row))

    def of(self, owner: str) -> list[ElementRow]:
        """The visitor's Elements, newest first (deleted ones left out)."""
        query = (
            sa.select(elements)
            .where((elements.c.owner == owner) & (elements.c.status != "deleted"))
            .order_by(elements.c.created_at.desc())
        )
        with self._begin() as conn:
            return [ElementRow(**row._mapping) for row in conn.execute(query)]

    def find(self, owner: str, element_id: str) -> ElementRow | None:
        return next((row for row in self.of(owner) if row.element_id and row.element_id == element_id), None)


def ensure(
    backend: Any,
    store: ElementStore,
    owner: str,
    spec: dict[str, Any],
    run_id: str,
    tick: Callable[[Msg], bool],
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The Element for the run's pictures (spec: digest, frontal, others): reused when this visitor
    already has it on this account, else created and polled. `tick(text)` publishes progress and
    returns True when Stop was asked for. Raises ElementError, ElementStopped."""
    account, key = backend.account_tag(), str(spec["digest"])
    row = store.get(owner, account, key)
    if row is not None and row.status == "ready" and row.element_id:
        return row.element_id
    frontal, others = Path(spec["frontal"]), [Path(p) for p in spec["others"]]
    task_id = row.task_id if row is not None and row.status == "creating" else ""
    external = f"kmc-el-{run_id}"
    if not task_id:
        if tick(Msg("progress.element_creating")):
            raise ElementStopped
        store.put(owner, account, key, provider=backend.name, status="creating", pictures=1 + len(others))
        try:
            task_id = backend.create_element(frontal, others, f"kmc {key[:12]}", external)
        except AmbiguousSubmit:
            task_id = external  # the Element API looks a task up by our id as well (facts A1)
        except BackendError as exc:
            store.put(owner, account, key, status="failed", message=exc.message)
            raise ElementError(_not_created(exc), fix=exc.fix_msg or exc.fix) from None
        store.put(owner, account, key, task_id=task_id)
    deadline = time.monotonic() + ELEMENTS.create_timeout_s
    while True:
        try:
            state = backend.element_state(task_id)
        except InvalidRequest as exc:
            store.put(owner, account, key, status="failed", message=exc.message)
            raise ElementError(_not_created(exc), fix=exc.fix_msg or exc.fix) from None
        except BackendError as exc:
            if not exc.retryable:
                unread = Msg("element.state_unread", {"t_why": exc.msg or exc.message})
                raise ElementError(unread) from None
            state = None
        if state is not None and state.status == "succeeded":
            store.put(owner, account, key, status="ready", element_id=state.element_id)
            return state.element_id
        if state is not None and state.status == "failed":
            store.put(owner, account, key, status="failed", message=state.message)
            raise ElementError(
                Msg("element.refused", {"reason": state.message})
                if state.message
                else Msg("element.refused_no_reason"),
                fix=Msg("element.refused.fix"),
            )
        if time.monotonic() > deadline:
            raise ElementError(
                Msg("element.not_ready", {"s": f"{ELEMENTS.create_timeout_s:.0f}"}),
                fix=Msg("element.not_ready.fix"),
            )
        if tick(Msg("progress.element_creating")):
            raise ElementStopped
        sleep(ELEMENTS.poll_interval_s)


def _not_created(exc: BackendError) -> Msg:
    return Msg("element.not_created", {"t_why": exc.msg or exc.message})


def delete(backend: Any, store: ElementStore, owner: str, element_id: str) -> str:
    """Delete one of the visitor's Elements at Kling and here: what happened, in words."""
    row = store.find(owner, element_id)
    if row is None:
        return Said(Msg("element.none_of_yours"))
    if row.account != backend.account_tag():
        return Said(Msg("element.other_keys"))
    try:
        backend.delete_element(element_id)
    except BackendError as exc:
        if exc.code != 1201 and not isinstance(exc, InvalidRequest):
            return Said(Msg("element.not_deleted", {"t_why": exc.msg or exc.message}))
    store.put(owner, row.account, row.digest, status="deleted")
    return Said(Msg("element.deleted"))

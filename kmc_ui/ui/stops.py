"""Stop for the job a browser page runs (generate, resume, batch), ended by the job itself.

Gradio's `cancels=` is not used: measured in a real browser, 1 Stop in 4 failed with it. The
Stop event's text could reach the page before the cancelled run's last progress line, which then
overwrote it; a run busy in a worker thread was only cancelled once that step returned; and the
cancelled event flashed "Error" on the status. Instead a page's running job registers here. Stop
raises its flag; the job notices at its next progress step (a quarter second while waiting on a
provider; a transcode is stopped at once), ends its run (which cancels the task or keeps it in
History for resuming) and leaves a closing text. The Stop event answers only once the job has
ended, with that same text, so nothing can overwrite it. A job still waiting in Gradio's queue
was noted by `expect()` (called from the event's validator, which Gradio runs when the job joins
the queue); if Stop came after that, the job ends at its first step, before anything is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gradio as gr

from kmc_ui.catalogue.page import EN
from kmc_ui.jobs import Progress
from kmc_ui.ui.runtime_text import page_text

T = TypeVar("T")

STOP_WAIT = 20.0  # seconds Stop waits for the job's current step (an upload, a transcode...) to return


@dataclass
class Live:
    """One job of one page: `stop` is its flag; `text` what it says when it ends stopped."""

    stop: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    text: str = ""


@dataclass
class _Page:
    live: Live | None = None
    queued_at: float | None = None  # a job accepted into Gradio's queue, not started yet
    stopped_at: float = 0.0


class Stops:
    """The running job of each page (keyed by Gradio's session hash), for one kind of job."""

    def __init__(self, wait: float = STOP_WAIT) -> None:
        self.wait = wait
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}

    def _page(self, session: str) -> _Page:
        return self._pages.setdefault(session, _Page())

    def expect(self, session: str) -> None:
        """A job was accepted and waits in Gradio's queue (call from the event's validator)."""
        with self._lock:
            self._page(session).queued_at = time.monotonic()

    def begin(self, session: str) -> Live:
        """The job starts. If Stop was pressed while it waited in the queue, it starts stopped."""
        live = Live()
        with self._lock:
            page = self._page(session)
            if page.queued_at is not None and page.stopped_at >= page.queued_at:
                live.stop.set()
            page.queued_at = None
            page.live = live
        return live

    def end(self, session: str, live: Live, text: str = "") -> None:
        """The job has ended; `text` is its closing text when it was stopped."""
        live.text = live.text or text
        with self._lock:
            page = self._pages.get(session)
            if page is not None and page.live is live:
                page.live = None
                if page.queued_at is None:  # nothing left to track for this page
                    del self._pages[session]
        live.ended.set()

    def stop(self, session: str) -> str | None:
        """Stop the page's job and wait for it to end: its closing text.

        "" when the job still runs after the wait (its current step has not returned yet); None
        when nothing runs or waits, so the page keeps what it shows (e.g. a result that arrived
        just before the click)."""
        with self._lock:
            page = self._pages.get(session)
            if page is None:
                return None
            page.stopped_at = time.monotonic()
            live, queued = page.live, page.queued_at is not None
        if live is None:
            return STOPPED_QUEUED if queued else None
        live.stop.set()
        if not live.ended.wait(self.wait):
            return ""
        return live.text

    def run(
        self,
        session: str,
        start: Callable[[threading.Event], Iterator[T]],
        ended: Callable[[T], bool],
        closing: Callable[[T | None], str],
    ) -> Iterator[tuple[T | None, str]]:
        """The steps of `start(stop flag)` as (step, "") pairs, for the page `session`, ended early by Stop.

        When they do not end on their own (`ended(step)` for the last one) because Stop was
        pressed, or Gradio closed this generator, they are closed, which ends their run; then
        `closing(last step)` is the page's closing text. Stop answers with it, and, unless Gradio
        closed the generator, the last pair is (None, that text)."""
        live = self.begin(session)
        steps = start(live.stop)
        last: T | None = None
        text = ""
        try:
            for step in steps:
                last = step
                if live.stop.is_set() and not ended(step):
                    break
                yield step, ""
        finally:
            close = getattr(steps, "close", None)
            if close is not None:
                close()
            if last is None or not ended(last):
                text = closing(last)
            self.end(session, live, text)
        if text:
            yield None, text


STOPPED_QUEUED = EN["page.stopped_queued"]
STOPPING = EN["page.stopping"]


def stop_answer(closing: str | None, lang: str) -> Any:
    """What the Stop button writes: the stopped job's own closing text; a note when its current
    step has not returned within the wait; nothing when no job was running (keep what is shown)."""
    if closing is None:
        return gr.skip()
    if closing == "":
        return f"⏳ {page_text('page.stopping', lang)}"
    if closing == STOPPED_QUEUED:
        return f"⏹️ {page_text('page.stopped_queued', lang)}"
    return closing


def ended_by_itself(p: Progress) -> bool:
    """A run's last step when nothing stopped it: its result, or its failure."""
    return p.stage in ("done", "failed")


def session_of(request: Any) -> str:
    """The page a Gradio request comes from ("" for a request without one)."""
    return str(getattr(request, "session_hash", "") or "")

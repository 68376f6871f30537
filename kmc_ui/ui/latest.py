"""Each page's latest inputs, so a slow answer about older ones can be dropped on the server.

The Studio tab refreshes its findings on every input change, then runs the slower body check. An
older body check can finish after a newer refresh: its answer would put findings about files no
longer there back on the page. `refresh` notes the key of the inputs it saw for its page (Gradio's
session hash, never a value the page sends); `body` answers only while its inputs' key still holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_PAGES = 10_000  # pages remembered; the oldest is forgotten first (its answers are then not dropped)


class Latest:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, str] = OrderedDict()

    def seen(self, session: str, key: str) -> None:
        """The page `session` now shows inputs whose key is `key`."""
        if not session:
            return
        with self._lock:
            self._keys[session] = key
            self._keys.move_to_end(session)
            while len(self._keys) > self.max_pages:
                self._keys.popitem(last=False)

    def holds(self, session: str, key: str) -> bool:
        """An answer about inputs `key` is still about the page's latest inputs (or nothing is known
        of the page: a request without a session, or one forgotten)."""
        with self._lock:
            return self._keys.get(session, key) == key

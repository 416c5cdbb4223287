"""Rendered job views, cached per job and dropped when a transaction changes the job.

Clients poll jobs many times a second while a person waits on a screen (some
dialect clients time out after 3 s), so a poll must cost next to nothing. Any
face may cache its rendering of a job here; entries are dropped after a write
transaction that touched the job commits (the store's commit hook). A
generation counter per job keeps a reader that loaded the job just before a
write from caching the old state. The cache is per process: a process only
serves what its own commits invalidate, or what a cross-process notifier
(scale-out) invalidates for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class JobViewCache:
    """Rendered job bodies by job id, with the owning client id."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._max = max_entries
        self._views: dict[str, tuple[str, bytes]] = {}
        self._generations: dict[str, int] = {}
        self._epoch = 0
        self._lock = threading.Lock()

    def get(self, job_id: str) -> tuple[str, bytes] | None:
        return self._views.get(job_id)

    def token(self, job_id: str) -> tuple[int, int]:
        """Take before reading the job from the store; hand back to `put`."""
        return self._epoch, self._generations.get(job_id, 0)

    def put(self, job_id: str, client_id: str, body: bytes, token: tuple[int, int]) -> None:
        with self._lock:
            if token != (self._epoch, self._generations.get(job_id, 0)):
                return  # a write landed while we read: this body may be stale
            if len(self._views) >= self._max:
                self._views.clear()
            self._views[job_id] = (client_id, body)

    def invalidate(self, job_ids: Iterable[str]) -> None:
        with self._lock:
            if len(self._generations) >= self._max * 2:
                self._generations.clear()
                self._views.clear()
                self._epoch += 1
            for job_id in job_ids:
                self._views.pop(job_id, None)
                self._generations[job_id] = self._generations.get(job_id, 0) + 1

from __future__ import annotations

from billfold.services.job_views import JobViewCache


def test_a_body_read_before_a_write_is_not_cached() -> None:
    cache = JobViewCache()
    token = cache.token("j")
    cache.invalidate({"j"})  # a write committed while the reader was reading
    cache.put("j", "client", b"old", token)
    assert cache.get("j") is None
    cache.put("j", "client", b"new", cache.token("j"))
    assert cache.get("j") == ("client", b"new")


def test_invalidation_drops_only_the_touched_jobs() -> None:
    cache = JobViewCache()
    for job in ("a", "b"):
        cache.put(job, "c", job.encode(), cache.token(job))
    cache.invalidate(["a"])
    assert cache.get("a") is None and cache.get("b") == ("c", b"b")


def test_overflow_clears_without_letting_stale_bodies_back_in() -> None:
    cache = JobViewCache(max_entries=2)
    token = cache.token("x")
    cache.invalidate(["x", "p", "q", "r"])  # x changed while being read
    cache.invalidate(["s"])  # generations overflow: counters reset, the epoch moves on
    cache.put("x", "c", b"stale", token)
    assert cache.get("x") is None

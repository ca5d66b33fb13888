"""The daemon threads the sync client's calls run on (``_concurrency.within``): as many as calls in
flight, and no more than a few left idle after a burst."""

from __future__ import annotations

import threading
import time

from iqmetrix_dropship._concurrency import _DaemonWorkers


def test_a_burst_of_concurrent_calls_leaves_at_most_max_idle_threads_behind() -> None:
    workers = _DaemonWorkers()
    before = set(threading.enumerate())
    calls = 40
    all_in = threading.Barrier(calls + 1)

    def call() -> int:
        all_in.wait(10)  # every call in flight at once: one thread each
        return 1

    futures = [workers.submit(call) for _ in range(calls)]
    all_in.wait(10)
    assert sum(future.result(10) for future in futures) == calls

    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before and t.name == "dropship-http"]

    deadline = time.monotonic() + 10
    while len(ours()) > _DaemonWorkers.MAX_IDLE:  # the others end once their call is done
        assert time.monotonic() < deadline, len(ours())
        time.sleep(0.01)
    assert len(ours()) == _DaemonWorkers.MAX_IDLE
    # The idle ones still serve: a new burst needs no more threads than it has calls.
    assert [workers.submit(lambda: 2).result(10) for _ in range(3)] == [2, 2, 2]

"""MicroBatcher: requests that wait together share one call, each gets its own rows back in order, a
cancelled request costs nothing, and one failing request does not fail the ones batched with it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from stancekit.serve import MicroBatcher


class Recorder:
    """A predict_proba whose rows encode the pair (its premise as a number), recording each call's pairs;
    the first call blocks until ``release`` is set, so a test can queue requests behind it."""

    def __init__(self, block_first: bool = False, fail_on: str | None = None):
        self.calls: list[list] = []
        self.entered, self.release = threading.Event(), threading.Event()
        if not block_first:
            self.release.set()
        self.fail_on = fail_on

    def __call__(self, pairs):
        self.calls.append(list(pairs))
        self.entered.set()
        self.release.wait(5)
        if any(h == self.fail_on for _, h in pairs):
            raise ValueError(f"cannot score {self.fail_on!r}")
        return np.array([[float(p), 0.0, 0.0] for p, _ in pairs])


def test_requests_waiting_behind_a_busy_model_share_the_next_call():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=0) as batcher:
        first = batcher.submit([("0", "c")])
        assert model.entered.wait(5)  # the worker is inside the first call now
        waiting = [batcher.submit([(str(i), "c"), (str(i + 100), "c")]) for i in range(1, 9)]
        model.release.set()
        assert first.result(5)[:, 0].tolist() == [0.0]
        for i, future in enumerate(waiting, start=1):
            assert future.result(5)[:, 0].tolist() == [float(i), float(i + 100)]  # its own rows, in order
    assert len(model.calls) == 2 and len(model.calls[1]) == 16
    assert batcher.stats.batches == 2 and batcher.stats.requests == 9 and batcher.stats.pairs == 17


def test_without_batching_every_request_is_its_own_call():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=50, enabled=False) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        futures = [batcher.submit([(str(i), "c")]) for i in range(1, 5)]
        model.release.set()
        assert [f.result(5)[0, 0] for f in futures] == [1.0, 2.0, 3.0, 4.0]
    assert [len(c) for c in model.calls] == [1, 1, 1, 1, 1]


def test_under_load_max_wait_gathers_requests_that_arrive_soon_after():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=300) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        busy = [batcher.submit([("0", "c")]), batcher.submit([("0", "c")])]  # a batch of two: there is load
        model.release.set()
        [f.result(5) for f in busy]
        a = batcher.submit([("1", "c")])
        time.sleep(0.05)
        b = batcher.submit([("2", "c")])
        assert a.result(5)[0, 0] == 1.0 and b.result(5)[0, 0] == 2.0
    assert model.calls[-1] == [("1", "c"), ("2", "c")]


def test_a_lone_client_does_not_wait():
    model = Recorder()
    with MicroBatcher(model, max_wait_ms=2000) as batcher:
        start = time.monotonic()
        for i in range(3):
            assert batcher.submit([(str(i), "c")]).result(5)[0, 0] == i
        assert time.monotonic() - start < 1.0  # not 3 x 2 s


def test_max_batch_pairs_caps_what_is_gathered():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=0, max_batch_pairs=4) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        futures = [batcher.submit([(str(i), "c"), (str(i), "c")]) for i in range(1, 5)]
        model.release.set()
        [f.result(5) for f in futures]
    assert [len(c) for c in model.calls] == [1, 4, 4]


def test_a_cancelled_request_is_dropped_before_its_call():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=0) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        gone = batcher.submit([("1", "c")])
        kept = batcher.submit([("2", "c")])
        assert gone.cancel()
        model.release.set()
        assert kept.result(5)[0, 0] == 2.0
    assert model.calls[1] == [("2", "c")] and batcher.stats.cancelled == 1


def test_a_failing_request_does_not_fail_those_batched_with_it():
    model = Recorder(block_first=True, fail_on="boom")
    with MicroBatcher(model, max_wait_ms=0) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        good, bad = batcher.submit([("1", "c")]), batcher.submit([("2", "boom")])
        model.release.set()
        assert good.result(5)[0, 0] == 1.0
        with pytest.raises(ValueError, match="boom"):
            bad.result(5)
        # The worker is still alive afterwards.
        assert batcher.submit([("3", "c")]).result(5)[0, 0] == 3.0
    assert batcher.stats.failed == 1


def test_timeout_cancels_and_empty_requests_need_no_call():
    model = Recorder(block_first=True)
    with MicroBatcher(model, max_wait_ms=0) as batcher:
        batcher.submit([("0", "c")])
        assert model.entered.wait(5)
        with pytest.raises(TimeoutError):
            batcher.predict_proba([("1", "c")], timeout=0.05)
        assert batcher.submit([]).result(0).shape == (0, 3)
        model.release.set()
    assert len(model.calls) == 1 and batcher.stats.cancelled == 1
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit([("x", "c")]).result(1)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="max_batch_pairs"):
        MicroBatcher(Recorder(), max_batch_pairs=0)
    with pytest.raises(ValueError, match="workers"):
        MicroBatcher(Recorder(), workers=0)


def test_two_workers_compute_one_batch_while_the_next_gathers():
    # The first call blocks: with one worker every later request waits behind it; with two, the second
    # worker takes the requests queued meanwhile and answers them while the first call is still running.
    entered, release = threading.Event(), threading.Event()

    def model(pairs):
        if pairs[0][0] == "0":  # only the first request's call blocks
            entered.set()
            release.wait(5)
        return np.array([[float(p), 0.0, 0.0] for p, _ in pairs])

    started: list[str] = []
    with MicroBatcher(
        model, max_wait_ms=0, workers=2, on_worker_start=lambda: started.append(threading.current_thread().name)
    ) as batcher:
        first = batcher.submit([("0", "c")])
        assert entered.wait(5)
        later = [batcher.submit([(str(i), "c")]) for i in range(1, 4)]
        assert [f.result(5)[0, 0] for f in later] == [1.0, 2.0, 3.0]
        assert not first.done()  # still inside the first call
        release.set()
        assert first.result(5)[0, 0] == 0.0
    assert sorted(started) == ["stancekit-batcher-0", "stancekit-batcher-1"]  # once in each worker thread
    assert batcher.stats.requests == 4 and batcher.stats.pairs == 4
    assert all(not t.is_alive() for t in batcher._threads)  # close() stopped both


def test_the_heap_is_trimmed_every_trim_batches_passes():
    class Libc:
        trims = 0

        def malloc_trim(self, pad):
            Libc.trims += 1

    model = Recorder()
    with MicroBatcher(model, max_wait_ms=0, trim_batches=3) as batcher:
        batcher._libc, batcher._last_trim = Libc(), time.monotonic() + 3600  # never idle-trims in this test
        for i in range(7):
            batcher.submit([(str(i), "c")]).result(5)
    assert Libc.trims == 2  # after the 3rd and the 6th pass
    with MicroBatcher(model, trim_batches=None) as untrimmed:
        assert untrimmed._libc is None

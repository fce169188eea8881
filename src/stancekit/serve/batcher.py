"""Cross-request batching: concurrent requests share one length-sorted forward pass.

A web server answers each request on its own, but a transformer on a CPU is several times faster per pair in
a batch of 32 than one pair at a time (one matrix product instead of 32 small ones). So requests do not call
the model: they hand their pairs to :class:`MicroBatcher`, whose worker thread (one by default) runs it. A worker
takes the oldest waiting request, gathers every other request that arrives within ``max_wait_ms`` (up to
``max_batch_pairs`` pairs), runs them as one call of the classifier (which sorts the pairs by token length, so
a batch pads little) and hands each request its rows back. While the model is busy, new requests queue up
and form the next batch, so under load batches grow by themselves. The wait is taken only under load (the
last batch held more than one request): a lone client never waits for company that is not coming.

The heap is trimmed every ``trim_batches`` forward passes and when the worker goes idle (glibc
``malloc_trim``): batches of every shape leave freed pages in the allocator's arenas, and a server's RSS
would otherwise creep upwards with the traffic's variety instead of staying flat.

With ``workers=1`` one thread owns the model and each forward pass uses every core. Under load that makes
the server alternate: while a batch computes, its callers wait, so nothing new arrives to gather; when it
returns, the event loop answers them and parses their next requests while the model idles. ``workers=2``
runs two such threads, each with its share of the cores (``on_worker_start`` sets it, e.g.
``torch.set_num_threads(1)``): one batch computes while the next one gathers, and two single-threaded passes
of small batches waste less on thread synchronisation than one two-threaded pass. PyTorch's inference is
safe to run from several threads on one model; the backends whose compiled model holds one inference
request (OpenVINO) are not, and keep one worker. A stalled or cancelled request never holds a worker: a
request whose caller has given up (timeout, disconnect) is dropped before its batch runs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from ..labels import LABELS, Pair
from ..system import glibc

log = logging.getLogger(__name__)

ProbaFn = Callable[[Sequence[Pair]], np.ndarray]


@dataclass
class _Job:
    pairs: Sequence[Pair]
    future: Future = field(default_factory=Future)


@dataclass
class BatcherStats:
    """Counters since start: requests answered, forward calls, pairs scored, requests dropped (cancelled)."""

    requests: int = 0
    batches: int = 0
    pairs: int = 0
    cancelled: int = 0
    failed: int = 0


class MicroBatcher:
    """Score pairs from many threads or coroutines through ``workers`` worker threads, batching across callers.

    ``predict_proba(pairs) -> (n, 3)`` is called only from the workers (at most ``workers`` calls at once);
    ``on_worker_start()``, if given, runs first in each worker thread. ``enabled=False`` runs every request
    alone (the no-batching baseline of ``bench/serve.py``). Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        predict_proba: ProbaFn,
        max_wait_ms: float = 5.0,
        max_batch_pairs: int = 512,
        enabled: bool = True,
        trim_batches: int | None = 50,
        workers: int = 1,
        on_worker_start: Callable[[], None] | None = None,
    ):
        if max_wait_ms < 0 or max_batch_pairs < 1 or workers < 1:
            raise ValueError(
                "need max_wait_ms >= 0, max_batch_pairs >= 1 and workers >= 1, "
                f"got {max_wait_ms}, {max_batch_pairs}, {workers}"
            )
        self._predict = predict_proba
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_batch_pairs = max_batch_pairs
        self.enabled = enabled
        self.stats = BatcherStats()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._last_requests = 0  # requests in the last batch: is anyone else there to wait for?
        self._libc, self._last_trim = (glibc() if trim_batches else None), time.monotonic()
        self.trim_batches, self._since_trim = trim_batches, 0
        self._lock = threading.Lock()  # the counters and the trim, shared by the workers
        self._on_worker_start = on_worker_start
        self._threads = [
            threading.Thread(target=self._run, name=f"stancekit-batcher-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------------------------------ callers
    def submit(self, pairs: Sequence[Pair]) -> Future:
        """A future of the pairs' probabilities (rows in input order); cancel it to drop a request not yet run."""
        job = _Job(list(pairs))
        if self._closed:
            job.future.set_exception(RuntimeError("the batcher is closed"))
        elif not job.pairs:
            job.future.set_result(np.zeros((0, len(LABELS)), dtype=np.float32))
        else:
            self._queue.put(job)
        return job.future

    def predict_proba(self, pairs: Sequence[Pair], timeout: float | None = None) -> np.ndarray:
        """Blocking :meth:`submit` for code running in a thread (document scoring); cancels on ``timeout``."""
        future = self.submit(pairs)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        if not self._closed:
            self._closed = True
            for _ in self._threads:  # one stop marker per worker, behind the requests already queued
                self._queue.put(None)
            for thread in self._threads:
                thread.join()

    def __enter__(self) -> MicroBatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ worker
    def _run(self) -> None:
        if self._on_worker_start is not None:
            self._on_worker_start()
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = self._gather(job) if self.enabled else [job]
            self._last_requests = len(jobs)
            stop = jobs[-1] is None
            self._process([j for j in jobs if j is not None])
            if stop:
                return
            self._trim()

    def _trim(self) -> None:
        """Hand the heap's free pages back to the OS every trim_batches passes, and when idle (at most 1/s)."""
        if self._libc is None:
            return
        with self._lock:
            self._since_trim += 1
            idle = self._queue.empty() and time.monotonic() - self._last_trim > 1.0
            if not (idle or self._since_trim >= self.trim_batches):
                return
            self._last_trim, self._since_trim = time.monotonic(), 0
        self._libc.malloc_trim(0)

    def _gather(self, first: _Job) -> list[_Job | None]:
        """The first job and those queued or arriving within max_wait of it, up to max_batch_pairs (None: closing).

        The wait is only worth it under load: when the last batch held one request, no one else was there,
        and waiting would add max_wait to every answer of a lone client, so only what is queued is taken.
        """
        jobs: list[_Job | None] = [first]
        n = len(first.pairs)
        deadline = time.monotonic() + (self.max_wait_s if self._last_requests > 1 else 0.0)
        while n < self.max_batch_pairs:
            remaining = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            jobs.append(job)
            if job is None:
                break
            n += len(job.pairs)
        return jobs

    def _process(self, jobs: list[_Job]) -> None:
        # A job whose caller gave up is dropped here, before it costs a forward pass.
        live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
        self._count(cancelled=len(jobs) - len(live))
        if not live:
            return
        pairs = [pair for job in live for pair in job.pairs]
        try:
            probs = self._predict(pairs)
        except Exception as err:  # noqa: BLE001 (handed to the callers, never kills the worker)
            if len(live) == 1:
                self._count(failed=1)
                live[0].future.set_exception(err)
                return
            # One bad request must not fail the others it was batched with: score each alone.
            log.warning("a batch of %d requests failed (%s); scoring them one by one", len(live), err)
            for job in live:
                self._process_alone(job)
            return
        self._count(batches=1, pairs=len(pairs), requests=len(live))
        start = 0
        for job in live:
            job.future.set_result(probs[start : start + len(job.pairs)])
            start += len(job.pairs)

    def _process_alone(self, job: _Job) -> None:
        try:
            probs = self._predict(job.pairs)
        except Exception as err:  # noqa: BLE001
            self._count(failed=1)
            job.future.set_exception(err)
            return
        self._count(batches=1, pairs=len(job.pairs), requests=1)
        job.future.set_result(probs)

    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self.stats, name, getattr(self.stats, name) + n)

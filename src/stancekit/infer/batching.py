"""How :class:`~stancekit.StanceClassifier` cuts length-sorted pairs into batches, and pads each one.

Pairs are sorted by token length before batching, so a batch pads little. Where the batches end is a choice of
cost: one more pass has a fixed cost, and padding a pair up to the batch's longest costs its extra tokens. On a
long sorted list of similar lengths the cheapest cut is full batches; a server's handful of requests of very
different lengths is cheapest in a few passes instead of one padded to its longest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# What StanceClassifier.warm_up runs by default: pairs of a few lengths, as a server's first requests are, so
# the first shapes' kernels (and a compiled model's graphs) are built before the first real call.
WARM_UP_PAIRS: tuple[tuple[str, str], ...] = (
    ("A man is sleeping.", "A man is awake."),
    ("The minister said on Tuesday that the talks would resume next week in Geneva.", "The talks have ended."),
)


def cut_batches(
    padded: Sequence[int], batch_size: int, pass_overhead: int | None, max_tokens: int | None
) -> list[tuple[int, int]]:
    """``(start, end)`` bounds of consecutive batches over ``padded`` (each pair's padded length, ascending).

    The cut points minimise the padded tokens (each batch padded to its last, longest pair) plus
    ``pass_overhead`` tokens per batch, by dynamic programming over the sorted lengths. No batch holds more
    than ``batch_size`` pairs or more than ``max_tokens`` padded tokens (a pair longer than that goes alone),
    so peak memory is set by the budget, not by batch_size x max_length. With both ``None``: plain slices.
    """
    n = len(padded)
    if pass_overhead is None and max_tokens is None:
        return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    lengths = np.asarray(padded, dtype=np.float64)
    overhead = pass_overhead or 0
    best, cut = np.zeros(n + 1), np.zeros(n + 1, dtype=np.int64)
    for end in range(1, n + 1):
        longest = lengths[end - 1]
        rows = batch_size if max_tokens is None else max(1, min(batch_size, int(max_tokens // longest)))
        starts = np.arange(max(0, end - rows), end)
        cost = best[starts] + (end - starts) * longest + overhead
        k = int(np.argmin(cost))  # the first minimum: the largest batch among equally cheap cuts
        best[end], cut[end] = cost[k], starts[k]
    bounds, end = [], n
    while end > 0:
        bounds.append((int(cut[end]), end))
        end = int(cut[end])
    return bounds[::-1]


def padded_length(longest: int, multiple: int | None, max_length: int) -> int:
    """A batch's padded length: its longest pair, rounded up to ``multiple`` but never past ``max_length``."""
    # Rounding bounds how many distinct shapes a long-running process (a server) sees, each of which the
    # backends compile and cache kernels for; padding never goes past max_length (the positions exist).
    if not multiple:
        return longest
    return min(-(-longest // multiple) * multiple, max(longest, max_length))

"""The precision a :class:`~stancekit.infer.classifier.StanceClassifier` runs at, and the rules of
``bf16-checked`` (bf16 for speed, fp32 for every pair whose label bf16 could change).

Why ``bf16-checked`` exists: on CPUs with native bf16 (AVX-512 BF16, AMX) the wrapper's time is its matrix
products, and bf16 runs them much faster than fp32, but its rounding flips a few labels per thousand. Only a
pair whose two best logits are close can flip, so those are recomputed in fp32 and the labels stay fp32's.
How often each test set has close calls, and what that costs: docs/performance.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..system import cpu_has_native_bf16

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "bf16", "bf16-checked")
# A pair is a close call when its two best bf16 logits lie closer than this. Measured on the nli_mix test
# sets, bf16 moved a top-two margin by far less, and every label it flipped had a margin well inside it.
RECHECK_MARGIN = 0.2
# A bf16 pass costs a good part of an fp32 one, so rechecking most of the pairs is slower than fp32 alone (a
# model near chance, as on ANLI, has small logits and most pairs close): past this share of close calls,
# measured over at least MIN_PAIRS_BEFORE_SWITCH pairs, the rest of the call runs in fp32 directly.
SWITCH_TO_FP32_SHARE = 0.35
MIN_PAIRS_BEFORE_SWITCH = 64


def resolve_inference_precision(precision: str, backend: str, device: torch.device) -> str:
    """The precision a wrapper runs at: ``precision`` with ``auto`` resolved.

    ``auto`` is ``bf16-checked`` on CPUs with native bf16 and ``fp32`` elsewhere (emulated bf16 is slower
    than fp32; GPUs keep fp32 by default). ONNX backends run at their own precision (``fp32``, or ``int8``
    for ``onnx-int8``) and accept only ``auto`` or ``fp32``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if backend != "torch":
        if precision not in {"auto", "fp32"}:
            raise ValueError(f"precision={precision!r} needs the torch backend; the {backend} backend sets its own")
        return "int8" if backend == "onnx-int8" else "fp32"
    if precision == "auto":
        return "bf16-checked" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"
    return precision


def close_calls(logits: np.ndarray, margin: float) -> np.ndarray:
    """Row mask: the pairs whose two best logits are less than ``margin`` apart."""
    top2 = np.sort(logits, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0] < margin


def switch_to_fp32(n_close: int, n_seen: int) -> bool:
    """Whether close calls are common enough in this call that fp32 alone is cheaper than rechecking."""
    return n_seen >= MIN_PAIRS_BEFORE_SWITCH and n_close > SWITCH_TO_FP32_SHARE * n_seen

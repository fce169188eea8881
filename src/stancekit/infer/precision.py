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
# Backends with a bf16 precision (and so bf16-checked); the others run at their own, fp32 or int8.
BF16_BACKENDS = ("torch", "openvino")
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

    ``auto`` means what it means for PyTorch, labels equal to fp32's: ``bf16-checked`` on CPUs with native
    bf16 and ``fp32`` elsewhere (emulated bf16 is slower than fp32; GPUs keep fp32 by default). The
    ``openvino`` backend has the same four precisions (its bf16 is OpenVINO's bf16 inference precision),
    but takes ``bf16`` and ``bf16-checked`` only on CPUs with native bf16, where its CPU plugin runs them.
    ``onnx`` runs at ``fp32``, the int8 backends at ``int8``; those accept only ``auto`` or ``fp32``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if backend not in BF16_BACKENDS:
        if precision not in {"auto", "fp32"}:
            raise ValueError(
                f"precision={precision!r} needs the torch backend (or openvino); the {backend} backend sets its own"
            )
        return "int8" if "int8" in backend.split("-") else "fp32"  # onnx-int8, onnx-int8-static, openvino-int8
    native = device.type == "cpu" and cpu_has_native_bf16()
    if backend != "torch" and precision in {"bf16", "bf16-checked"} and not native:
        # PyTorch emulates bf16 when asked; OpenVINO's CPU plugin runs bf16 only where the CPU has it: say so.
        raise ValueError(
            f"precision={precision!r} with the {backend} backend needs a CPU with native bf16 (AVX-512 BF16 or "
            "AMX); this one has none: use precision='fp32' (or 'auto')"
        )
    if precision == "auto":
        return "bf16-checked" if native else "fp32"
    return precision


def close_calls(logits: np.ndarray, margin: float) -> np.ndarray:
    """Row mask: the pairs whose two best logits are less than ``margin`` apart."""
    top2 = np.sort(logits, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0] < margin


def switch_to_fp32(n_close: int, n_seen: int) -> bool:
    """Whether close calls are common enough in this call that fp32 alone is cheaper than rechecking."""
    return n_seen >= MIN_PAIRS_BEFORE_SWITCH and n_close > SWITCH_TO_FP32_SHARE * n_seen


class Bf16Twin:
    """A copy of a PyTorch model for its bf16 passes, built on first use: every ``nn.Linear``'s weight and bias
    already bf16, every other parameter and buffer shared with the original (the same tensors).

    Why: under autocast each pass casts every Linear weight from fp32 to bf16 again (autocast's cast cache did
    not serve these inference passes), which weighs where the bf16 products are fast, as with AMX
    (bench/inference.py's row ours-recast is the wrapper without the twin). Autocast casts them
    to the same bf16 values, so the twin's logits are bit-identical; it costs two bytes per Linear weight.
    The original stays fp32 for fp32 passes and the recheck, and nothing is changed in place (thread-safe).
    """

    def __init__(self, model: torch.nn.Module):
        self.model, self._twin = model, None

    def get(self) -> torch.nn.Module:
        if self._twin is None:  # two threads may both build one: the same copy, and the last one stays
            import copy

            import torch

            linear = {id(p) for m in self.model.modules() if isinstance(m, torch.nn.Linear) for p in m.parameters()}
            shared = [t for t in (*self.model.parameters(), *self.model.buffers()) if id(t) not in linear]
            twin = copy.deepcopy(self.model, memo={id(t): t for t in shared})  # shared: not copied
            for module in twin.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
            self._twin = twin
        return self._twin

"""Static (QDQ) int8 for the ONNX Runtime backend: ``backend="onnx-int8-static"`` (see :mod:`stancekit.infer.onnx`).

ONNX Runtime's post-training static quantisation of the fp32 export, with activation ranges calibrated once on
real pairs (as ``openvino-int8`` is): the graph work. Caching, the export it starts from and the check of its
result are :func:`stancekit.infer.onnx.quantize_onnx_static`'s.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..labels import Pair
from ..models.encoding import encode_pairs_counted
from .backends import quiet

log = logging.getLogger(__name__)

# The ops quantised (the matrix products, as quantize_dynamic does), and the calibration batches: this many
# length-sorted pairs each padded to its own longest (little padding in the activation ranges).
STATIC_OPS = ("MatMul", "Gemm")
CALIBRATION_BATCH = 32


def quantize_static_qdq(
    fp32: Path, target: Path, pairs: Sequence[Pair], tokenizer: Any, max_length: int
) -> dict[str, np.ndarray]:
    """Write the static (QDQ) int8 model of the fp32 graph ``fp32`` to ``target``, its activation ranges
    calibrated on ``pairs``; return the first calibration batch (for the caller's check of the result).

    The weights of the matrix products are int8 per output channel, as for ``onnx-int8``, and so are their
    inputs, with ranges fixed beforehand rather than measured on each batch. Everything else runs in fp32:
    softmax, layer norm, GELU, the residual stream, attention's two activation-by-activation products and the
    layer that makes the logits.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory(prefix="stancekit-onnx-static.") as scratch:
        source = _pre_processed(fp32, Path(scratch) / "model.onnx")
        batches = CalibrationBatches(tokenizer, pairs, _input_names(source), max_length)
        keep_fp32 = _fp32_matmuls(source)
        with quiet("", "onnxruntime"):  # the quantiser logs hints and per-tensor notes on the root logger
            quantize_static(
                source,
                target,
                batches,
                quant_format=QuantFormat.QDQ,  # ORT's recommended format for CPU since 1.11
                # ORT's advice for x86 CPUs with VNNI (AVX512-VNNI, AVX-VNNI, AMX): uint8 activations, int8
                # weights (the u8 x s8 product VNNI multiplies), full 8-bit range. Signed activations (S8S8)
                # left 6 of the tiny BERT's 12 weight products (query, key, value) unfused in ORT 1.32, run as
                # fp32 MatMuls of dequantised weights; uint8 fuses all 12. reduce_range=False as for onnx-int8:
                # on AVX2 without VNNI the u8 x s8 product can saturate, ORT's reason for 7-bit weights there.
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,  # per-tensor weight scales cost onnx-int8 about twice the accuracy
                reduce_range=False,
                # MinMax: the ranges are reduced inside the graph (ReduceMin/ReduceMax per tensor), so memory
                # stays flat in the number of pairs. Percentile and Entropy keep every batch's whole
                # activations until the end (gigabytes for 300 MiniLM pairs), and a 99.999th percentile over
                # a few hundred pairs clips next to nothing anyway.
                calibrate_method=CalibrationMethod.MinMax,
                op_types_to_quantize=list(STATIC_OPS),
                nodes_to_exclude=keep_fp32,
                extra_options={
                    # The products' outputs stay fp32: ORT fuses each DQ -> MatMul into MatMulIntegerToFloat
                    # (an int8 product, fp32 out, as onnx-int8's kernels), and the bias add, residual, layer
                    # norm and GELU after it see no second rounding to 8 bits.
                    "OpTypesToExcludeOutputQuantization": list(STATIC_OPS),
                },
            )
        _restore_fp32_inputs(target, set(keep_fp32))
    return batches.batches[0]


class CalibrationBatches:
    """The calibration pairs as ONNX Runtime's ``CalibrationDataReader`` reads them: tokenised as the
    classifier tokenises (premise truncated first), sorted by length, in batches of :data:`CALIBRATION_BATCH`
    each padded to its own longest pair, one feed (input name -> int64 array) per :meth:`get_next`."""

    def __init__(self, tokenizer: Any, pairs: Sequence[Pair], names: Sequence[str], max_length: int):
        enc, _ = encode_pairs_counted(tokenizer, [p for p, _ in pairs], [h for _, h in pairs], max_length)
        order = sorted(range(len(pairs)), key=lambda i: len(enc["input_ids"][i]))
        self.batches = []
        for start in range(0, len(order), CALIBRATION_BATCH):
            idx = order[start : start + CALIBRATION_BATCH]
            batch = tokenizer.pad({k: [v[i] for i in idx] for k, v in enc.items()}, return_tensors="np")
            self.batches.append({n: np.asarray(batch[n], dtype=np.int64) for n in names})
        self._next = iter(self.batches)

    def get_next(self) -> dict[str, np.ndarray] | None:  # noqa: D102 (ORT's CalibrationDataReader)
        return next(self._next, None)


def _input_names(path: Path) -> list[str]:
    import onnx

    return [i.name for i in onnx.load(str(path), load_external_data=False).graph.input]


def _pre_processed(fp32: Path, target: Path) -> Path:
    """``fp32`` after ORT's quantisation pre-processing (symbolic shape inference, then its basic graph
    optimisations: constant folding, e.g. of a weight's transpose, so every weight reaches its MatMul as an
    initializer), written to ``target``; ``fp32`` itself when pre-processing fails.

    Our dynamo exports need ``auto_merge=True`` (without it: "Incomplete symbolic shape inference"). It is an
    aid, not a requirement: the exporter already records the shape of every tensor, which calibration needs,
    and on the tiny test BERT the quantised logits came out identical with and without it.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    external = fp32.with_name(fp32.name + ".data").is_file()
    try:
        with quiet("", "onnxruntime"):
            quant_pre_process(fp32, target, auto_merge=True, save_as_external_data=external)
    except Exception as err:  # shape inference raises many types; the export itself quantises as well
        log.info(
            "ONNX Runtime's quantisation pre-processing failed on %s (%s: %s); quantising the export",
            fp32,
            type(err).__name__,
            err,
        )
        return fp32
    return target


def _fp32_matmuls(path: Path) -> list[str]:
    """The matrix products static int8 leaves in fp32: those of two activations (attention's scores and
    weighted values; quantize_dynamic leaves them too, but in QDQ mode ORT ignores its ``MatMulConstBOnly``
    option) and the last one before the logits (the classifier layer: a few FLOPs, and its rounding would go
    straight into every probability)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and not weights.intersection(n.input)]
    todo, seen = [o.name for o in graph.output], set()
    while todo:  # from the logits back (through bias adds, reshapes) to the first product on each path
        node = producer.get(todo.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type in STATIC_OPS:
            keep.append(node.name)
        else:
            todo.extend(node.input)
    return [name for name in dict.fromkeys(keep) if name]


def _restore_fp32_inputs(path: Path, fp32_nodes: set[str]) -> None:
    """Give every op that is not quantised its fp32 input back, in place.

    The quantiser feeds a quantised tensor's dequantised copy to all of its consumers, so the residual add
    beside a layer's first MatMul would carry the 8-bit rounding down the residual stream; only the int8
    products should see it (as in onnx-int8, whose products quantise their own inputs). On the tiny BERT this
    halved the largest logit error.
    """
    import onnx

    model = onnx.load(str(path))
    producer = {out: node for node in model.graph.node for out in node.output}
    original = {}  # dequantised copy -> the fp32 tensor it was quantised from
    for node in model.graph.node:
        q = producer.get(node.input[0]) if node.op_type == "DequantizeLinear" else None
        if q is not None and q.op_type == "QuantizeLinear":
            original[node.output[0]] = q.input[0]
    for node in model.graph.node:
        quantised = node.op_type in STATIC_OPS and node.name not in fp32_nodes
        if quantised or node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        for i, name in enumerate(node.input):
            if name in original:
                node.input[i] = original[name]
    onnx.save_model(model, str(path))

"""Optional ONNX Runtime backend for :class:`stancekit.StanceClassifier` (``pip install 'stancekit[onnx]'``).

``StanceClassifier.from_pretrained(path, backend="onnx")`` (or ``"onnx-int8"``, ``"onnx-int8-static"``) runs
the same model through ONNX Runtime on the CPU. The first call exports the saved model folder to ONNX with
``torch.onnx.export`` (dynamic batch and sequence axes) and, for ``onnx-int8``, quantises the weights of its
matrix products to int8 with ``onnxruntime.quantization.quantize_dynamic``. The files are cached in the model
folder::

    RUN/model/onnx/model.onnx                fp32, the same numbers as PyTorch (within float rounding)
    RUN/model/onnx/model.int8.onnx           dynamically quantised: int8 weights, activations quantised per batch
    RUN/model/onnx/model.int8-static.onnx    statically quantised (QDQ), activation ranges calibrated on real pairs
    RUN/model/onnx/export.json               what they were made from (and the calibration's size and hash)

``onnx-int8-static`` (:func:`quantize_onnx_static`) needs real (premise, hypothesis) pairs once, as
``openvino-int8`` does: ``from_pretrained(..., calibration_pairs=pairs)`` or :func:`quantize_onnx_static`;
later loads use the cached file.

A folder that cannot be written (a read-only install) caches under ``~/.cache/stancekit/onnx`` instead (the
cache and what the backends share: :mod:`stancekit.infer.backends`).

The ONNX graph returns logits only. Everything after the logits (softmax, the stored temperature, labels,
abstention) is the classifier's shared code, so each backend labels and calibrates the same way; only the
numbers going in differ, by float rounding (fp32) or by quantisation error (int8). Measured speed and
accuracy against PyTorch: ``docs/results.md``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..artifacts import atomic_path
from ..labels import Pair
from ..models.encoding import encode_pairs_counted, usable_max_length
from .backends import (
    ARTIFACTS,
    BackendStanceModel,
    LogitsOnly,
    cache_dir,
    cached_file,
    check_calibration,
    check_converted,
    export_source,
    forget,
    quiet,
    record,
)
from .openvino import CALIBRATION_SUBSET, calibration_record, calibration_subset  # imports no OpenVINO

log = logging.getLogger(__name__)

FILES = {b: ARTIFACTS[b].file for b in ("onnx", "onnx-int8", "onnx-int8-static")}
# The exported graph is checked against PyTorch on a sample batch; fp32 differences are ~1e-6.
EXPORT_TOLERANCE = 1e-3
# Above this the graph goes into a side file (protobuf's 2 GB limit); stance models are far below it.
EXTERNAL_DATA_BYTES = 1_800_000_000
# Static int8: the ops quantised (the matrix products, as quantize_dynamic does), and the calibration batches,
# this many length-sorted pairs each padded to its own longest (little padding in the activation ranges).
STATIC_OPS = ("MatMul", "Gemm")
CALIBRATION_BATCH = 32


class OnnxExportError(RuntimeError):
    """The model could not be exported to ONNX, or the exported graph does not compute what PyTorch does."""


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401  (torch.onnx.export's exporter needs it)
    except ImportError as err:
        raise ImportError(
            f"the ONNX backends need the optional extra: pip install 'stancekit[onnx]' ({err.name} is missing)"
        ) from err


# ------------------------------------------------------------------------------------------ export
def export_onnx(model_dir: str | Path, model: Any = None, tokenizer: Any = None) -> Path:
    """Export a saved classifier folder to ``onnx/model.onnx`` (fp32) and return its path.

    ``model``/``tokenizer`` are the folder's, already loaded (``StanceClassifier.from_pretrained`` passes them,
    so loading goes through its safety checks once); when ``None`` they are loaded from the folder,
    safetensors only. The graph is checked against PyTorch on a sample batch before it is cached.
    """
    _require_onnx()
    folder = Path(model_dir)
    model, tokenizer, inputs = export_source(folder, model, tokenizer)
    names = list(inputs)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")  # symbolic, not the sample's
    n_bytes = sum(p.numel() * p.element_size() for p in model.parameters())

    where = cache_dir(folder, "onnx")
    target = where / FILES["onnx"]
    external = n_bytes > EXTERNAL_DATA_BYTES
    log.info("exporting %s to ONNX (once; cached in %s)", folder, where)
    # The manifest is the commit point: until the new files are complete, no cached file counts as current.
    forget(where, "onnx", "onnx-int8", "onnx-int8-static")
    try:
        with atomic_path(target) as tmp:
            exporter_data = Path(str(tmp) + ".data")  # external weights, named after the temporary graph
            try:
                _export_checked(folder, model, inputs, names, (batch, sequence), tmp, external)
                if external:  # point the graph at model.onnx.data, the name it keeps once renamed
                    import onnx

                    onnx.save_model(
                        onnx.load(str(tmp)),
                        str(tmp),
                        save_as_external_data=True,
                        all_tensors_to_one_file=True,
                        location=target.name + ".data",
                    )
            finally:
                exporter_data.unlink(missing_ok=True)
    except OnnxExportError:
        raise
    except Exception as err:  # the exporter raises many types; say which model and what to do
        raise OnnxExportError(
            f"{folder}: ONNX export failed ({type(err).__name__}: {err}); use backend='torch'"
        ) from err
    record(where, "onnx", folder)
    return target


def _export_checked(folder: Path, model: Any, inputs: dict, names: list[str], dims: tuple, tmp: Path, external: bool):
    """``torch.onnx.export`` into ``tmp``, then the graph checked against PyTorch on the sample batch."""
    batch, sequence = dims
    with quiet("torch.onnx", "onnxscript"), torch.no_grad():
        torch.onnx.export(
            LogitsOnly(model),
            (),
            str(tmp),
            kwargs=inputs,
            input_names=names,
            output_names=["logits"],
            dynamic_shapes={n: {0: batch, 1: sequence} for n in names},
            dynamo=True,
            external_data=external,
            verbose=False,
        )
        expected = model(**inputs).logits.float().numpy()
    got = _session(tmp, 1).run(None, {n: v.numpy() for n, v in inputs.items()})[0]
    error = float(np.abs(got - expected).max())
    if not error <= EXPORT_TOLERANCE:
        raise OnnxExportError(
            f"{folder}: the ONNX export differs from PyTorch by {error:.2e} on a sample batch "
            f"(tolerance {EXPORT_TOLERANCE}); use backend='torch' for this model"
        )


def quantize_int8(model_dir: str | Path, model: Any = None, tokenizer: Any = None) -> Path:
    """Make ``onnx/model.int8.onnx`` from the fp32 export (exporting that first if needed); return its path.

    Dynamic quantisation: the weights of every MatMul/Gemm are stored as int8, activations are quantised per
    batch at run time. No calibration data is needed, and on AVX2/AVX-512 CPUs the int8 matrix products are
    several times faster than fp32.
    """
    _require_onnx()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(model_dir)
    fp32 = cached_file(folder, "onnx") or export_onnx(folder, model, tokenizer)
    where = fp32.parent
    # Per-channel weight scales: per-tensor ones cost the nli_mix MiniLM about twice the accuracy.
    with atomic_path(where / FILES["onnx-int8"]) as tmp:
        with quiet("", "onnxruntime"):  # quantize_dynamic logs a pre-processing hint on the root logger
            quantize_dynamic(fp32, tmp, weight_type=QuantType.QInt8, per_channel=True)
    record(where, "onnx-int8", folder)
    return where / FILES["onnx-int8"]


def quantize_onnx_static(
    model_dir: str | Path,
    pairs: Sequence[Pair],
    subset_size: int = CALIBRATION_SUBSET,
    model: Any = None,
    tokenizer: Any = None,
) -> Path:
    """Make ``onnx/model.int8-static.onnx``, static int8 calibrated on ``pairs``, and return its path.

    Post-training static quantisation (QDQ) of the fp32 export (exported first if needed): the weights of the
    matrix products are int8 per output channel, as for ``onnx-int8``, and so are their inputs, with ranges
    fixed beforehand from a seeded sample of ``subset_size`` pairs (as :func:`.openvino.quantize_openvino`
    samples) rather than measured on each batch. Everything else runs in fp32: softmax, layer norm, GELU,
    the residual stream, attention's two activation-by-activation products and the layer that makes the
    logits. Run it once (e.g. on a few hundred training pairs); ``from_pretrained(model_dir,
    backend="onnx-int8-static")`` then loads the cached file. When the cache already holds a model calibrated
    on the same pairs, nothing is done again.
    """
    _require_onnx()
    import onnxruntime
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from transformers import AutoConfig, AutoTokenizer

    folder = Path(model_dir)
    subset = calibration_subset(pairs, subset_size)
    calibration = calibration_record(subset)
    done = cached_file(folder, "onnx-int8-static", expect={"calibration": calibration})
    if done is not None:
        return done
    fp32 = cached_file(folder, "onnx") or export_onnx(folder, model, tokenizer)
    where = fp32.parent
    target = where / FILES["onnx-int8-static"]
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(folder)
    max_length = usable_max_length(AutoConfig.from_pretrained(folder), tokenizer, None)
    log.info(
        "quantising %s to static ONNX int8 on %d calibration pairs (once; cached in %s)", folder, len(subset), where
    )
    forget(where, "onnx-int8-static")
    with tempfile.TemporaryDirectory(prefix="stancekit-onnx-static.") as scratch:
        source = _pre_processed(fp32, Path(scratch) / "model.onnx")
        batches = CalibrationBatches(tokenizer, subset, _input_names(source), max_length)
        keep_fp32 = _fp32_matmuls(source)
        with atomic_path(target) as tmp:
            with quiet("", "onnxruntime"):  # the quantiser logs hints and per-tensor notes on the root logger
                quantize_static(
                    source,
                    tmp,
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
            _restore_fp32_inputs(tmp, set(keep_fp32))
            got = _session(tmp, 1).run(None, batches.batches[0])[0]
            if got.shape != (len(batches.batches[0]["input_ids"]), 3) or not np.isfinite(got).all():
                raise OnnxExportError(
                    f"{folder}: the static int8 model gives {got!r} on a calibration batch; use backend='onnx-int8'"
                )
    record(where, "onnx-int8-static", folder, calibration=calibration, onnxruntime=onnxruntime.__version__)
    return target


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


# ------------------------------------------------------------------------------------------ runtime
def _session(path: Path, num_threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if num_threads:
        options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1  # one graph, run op after op: more pools only compete for the cores
    # Every batch has its own shape; the arena keeps blocks for each and grows with the input (+170 MB over
    # 40,000 streamed lines), while plain allocation stays flat (+30 MB) at the same speed.
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxStanceModel(BackendStanceModel):
    """An ONNX Runtime session standing in for the PyTorch model inside :class:`StanceClassifier`."""

    def __init__(self, path: str | Path, config: Any, backend: str, num_threads: int | None = None):
        _require_onnx()
        self.path = Path(path)
        self.config = config
        self.backend = check_converted(backend)
        self.name_or_path = str(getattr(config, "_name_or_path", "") or self.path)
        self.session = _session(self.path, num_threads)
        self.input_names = [i.name for i in self.session.get_inputs()]

    def logits(self, batch: Mapping[str, np.ndarray], bf16: bool = False) -> np.ndarray:
        """Logits for one padded batch (``input_ids``, ``attention_mask``, ... as numpy integer arrays)."""
        if bf16:  # resolve_inference_precision never asks for it; a caller that does gets told
            raise ValueError(f"the {self.backend} backend has no bf16 precision")
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.input_names}
        return self.session.run(None, feed)[0].astype(np.float32, copy=False)


def load_onnx_model(
    model_dir: str | Path,
    backend: str,
    config: Any,
    model: Any = None,
    tokenizer: Any = None,
    num_threads: int | None = None,
    calibration_pairs: Sequence[Pair] | None = None,
) -> OnnxStanceModel:
    """The cached ONNX model of ``backend`` for a folder, exporting (and quantising) it first when needed.

    ``onnx-int8-static`` without a cached model needs ``calibration_pairs``; with them, a cache calibrated on
    other pairs is quantised again. ``model`` is only used when an export is needed (pass ``None`` when
    :func:`cached_file` found one).
    """
    if check_converted(backend) not in FILES:
        raise ValueError(
            f"load_onnx_model is for the onnx backends, not {backend}; see StanceClassifier.from_pretrained"
        )
    _require_onnx()
    if backend == "onnx-int8-static" and calibration_pairs is not None:
        path = quantize_onnx_static(model_dir, calibration_pairs, model=model, tokenizer=tokenizer)
    else:
        check_calibration(model_dir, backend, calibration_pairs)  # a clear error when pairs are missing or unused
        path = cached_file(model_dir, backend)
    if path is None:
        path = (
            export_onnx(model_dir, model, tokenizer)
            if backend == "onnx"
            else quantize_int8(model_dir, model, tokenizer)
        )
    return OnnxStanceModel(path, config, backend, num_threads)

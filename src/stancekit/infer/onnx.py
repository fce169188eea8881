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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..artifacts import atomic_path
from ..labels import Pair
from ..models.encoding import usable_max_length
from .backends import (
    ARTIFACTS,
    CALIBRATION_SUBSET,
    BackendStanceModel,
    LogitsOnly,
    cache_dir,
    cached_file,
    calibration_record,
    calibration_subset,
    check_calibration,
    check_converted,
    export_source,
    forget,
    quiet,
    record,
)
from .onnx_static import quantize_static_qdq

log = logging.getLogger(__name__)

FILES = {b: ARTIFACTS[b].file for b in ("onnx", "onnx-int8", "onnx-int8-static")}
# The exported graph is checked against PyTorch on a sample batch; fp32 differences are ~1e-6.
EXPORT_TOLERANCE = 1e-3
# Above this the graph goes into a side file (protobuf's 2 GB limit); stance models are far below it.
EXTERNAL_DATA_BYTES = 1_800_000_000


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
    """Make ``onnx/model.int8-static.onnx``, static (QDQ) int8 calibrated on ``pairs``, and return its path.

    The fp32 export (made first if needed) quantised by :func:`.onnx_static.quantize_static_qdq`, its activation
    ranges fixed from a seeded sample of ``subset_size`` pairs (as :func:`.openvino.quantize_openvino`
    samples). Run it once (e.g. on a few hundred training pairs); ``from_pretrained(model_dir,
    backend="onnx-int8-static")`` then loads the cached file. When the cache already holds a model calibrated
    on the same pairs, nothing is done again.
    """
    _require_onnx()
    import onnxruntime
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
    with atomic_path(target) as tmp:
        batch = quantize_static_qdq(fp32, tmp, subset, tokenizer, max_length)
        got = _session(tmp, 1).run(None, batch)[0]
        if got.shape != (len(batch["input_ids"]), 3) or not np.isfinite(got).all():
            raise OnnxExportError(
                f"{folder}: the static int8 model gives {got!r} on a calibration batch; use backend='onnx-int8'"
            )
    record(where, "onnx-int8-static", folder, calibration=calibration, onnxruntime=onnxruntime.__version__)
    return target


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

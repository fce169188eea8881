"""Optional OpenVINO backends for :class:`stancekit.StanceClassifier` (``pip install 'stancekit[openvino]'``).

``StanceClassifier.from_pretrained(path, backend="openvino")`` runs the same model through OpenVINO's CPU
plugin. The first call converts the saved model folder once and caches it (see :mod:`.backends`)::

    RUN/model/openvino/model.xml/.bin        fp32 weights, the same numbers as PyTorch (within float rounding)
    RUN/model/openvino/model.int8.xml/.bin   NNCF post-training quantisation, calibrated on real pairs
    RUN/model/openvino/export.json           what they were made from (and the calibration's size and hash)

Conversion: ``torch.export.export`` (batch and sequence dynamic) of the logits-only model, then
``openvino.convert_model`` of that ``ExportedProgram``, checked against PyTorch on a sample batch. Why this
route rather than converting the TorchScript trace or the ONNX file of the ``onnx`` backend: transformers
5 is written for ``torch.export`` (the dynamo-based ONNX exporter captures the graph the same way), while
tracing is deprecated in PyTorch and freezes the Python branches of the attention-mask code at the
sample's shapes (its tracer warns so on MiniLM and DeBERTa-v2); converting the ONNX file would add a second
conversion and make this backend need the ``onnx`` extra too. A trained MiniLM and tiny random MPNet and
DeBERTa-v2 models convert this way to within 1e-7 of PyTorch at each batch shape tried.

``openvino-int8``: ``nncf.quantize`` (``ModelType.TRANSFORMER``) of the fp32 model: weights and activations
int8, activation ranges calibrated on (premise, hypothesis) pairs, so it needs real pairs once:
``from_pretrained(..., calibration_pairs=pairs)`` or :func:`quantize_openvino` (e.g. from the training
pairs); later loads use the cached file. A seeded sample of ``subset_size`` pairs is used.

Compiled for the CPU with the classifier's threads (``INFERENCE_NUM_THREADS``), ``PERFORMANCE_HINT``
``LATENCY`` (the classifier runs one batch at a time; ``THROUGHPUT`` splits the threads into streams of which
a synchronous call uses one) and ``INFERENCE_PRECISION_HINT`` from ``precision``: ``fp32`` → ``f32`` (set
explicitly: the plugin's default on CPUs with native bf16 is bf16), ``bf16`` → ``bf16``, ``bf16-checked``
(``auto`` on CPUs with native bf16) → both, the close calls recomputed by the ``f32`` one as for PyTorch; the
plugin's per-shape cache is capped as oneDNN's is (:func:`compile_config`). The graph returns logits only:
softmax, temperature, labels and abstention are the classifier's shared code.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..labels import Pair
from ..models.encoding import encode_pairs_counted, usable_max_length
from ..system import kernel_cache_capacity
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

log = logging.getLogger(__name__)

FILES = {"openvino": ARTIFACTS["openvino"].file, "openvino-int8": ARTIFACTS["openvino-int8"].file}
# The converted model is checked against PyTorch on a sample batch; fp32 differences are ~1e-7.
CONVERT_TOLERANCE = 1e-3
# Pairs NNCF calibrates the activation ranges on by default (NNCF's own default subset size).
PERFORMANCE_HINT = "LATENCY"
INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16"}


class OpenVinoExportError(RuntimeError):
    """The model could not be converted to OpenVINO, or the converted model does not compute what PyTorch does."""


def _require_openvino(quantising: bool = False) -> None:
    try:
        import openvino  # noqa: F401

        if quantising:
            import nncf  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"the OpenVINO backends need the optional extra: pip install 'stancekit[openvino]' ({err.name} is missing)"
        ) from err


_CORE: Any = None


def _core() -> Any:
    """One ``openvino.Core`` per process (it holds the plugins; a second one only loads them again)."""
    global _CORE
    if _CORE is None:
        import openvino as ov

        _CORE = ov.Core()
    return _CORE


def compile_config(num_threads: int | None, precision: str) -> dict[str, Any]:
    """The CPU plugin's settings for ``precision`` (``fp32`` or ``bf16``) and ``num_threads``.

    The plugin caches the primitives it builds for each input shape (``CPU_RUNTIME_CACHE_CAPACITY``, 5,000
    by default), and a document evaluation meets a new (batch, length) shape in nearly every batch, so
    without a cap the process grows with the number of pairs (docs/performance.md). A process that caps
    oneDNN's kernel cache (``stancekit.system.limit_kernel_cache``: evaluate, predict, tune_document,
    training) caps this one, a oneDNN-based cache of the same kind, at the same number of shapes; the server
    keeps the default.
    """
    config: dict[str, Any] = {
        "PERFORMANCE_HINT": PERFORMANCE_HINT,
        "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[precision],
    }
    if num_threads:
        config["INFERENCE_NUM_THREADS"] = int(num_threads)
    capacity = kernel_cache_capacity()
    if capacity is not None:
        config["CPU_RUNTIME_CACHE_CAPACITY"] = capacity
    return config


def _compile(model: Any, num_threads: int | None, precision: str) -> Any:
    """``model`` (an ``ov.Model``) compiled for the CPU at ``precision`` (``fp32`` or ``bf16``)."""
    return _core().compile_model(model, "CPU", compile_config(num_threads, precision))


def _save_ir(model: Any, target: Path) -> None:
    """Write ``model`` as ``target`` (.xml) and its .bin so that neither is ever seen half-written."""
    import openvino as ov

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent))
    try:
        # compress_to_fp16=False: the default stores the weights as fp16 (~1e-3 relative error on each).
        ov.save_model(model, tmp / target.name, compress_to_fp16=False)
        for suffix in (".bin", ".xml"):  # the graph last: it names the weights by its own file name
            (tmp / target.name).with_suffix(suffix).replace(target.with_suffix(suffix))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _feed(inputs: Mapping[str, Any], names: Sequence[str]) -> dict[str, np.ndarray]:
    return {n: np.asarray(inputs[n], dtype=np.int64) for n in names}


# ------------------------------------------------------------------------------------------ convert
def convert_openvino(model_dir: str | Path, model: Any = None, tokenizer: Any = None) -> Path:
    """Convert a saved classifier folder to ``openvino/model.xml`` (fp32) and return its path.

    ``model``/``tokenizer``: the folder's, already loaded, or ``None`` to load them (safetensors only). The
    converted model is checked against PyTorch on a sample batch before it is cached.
    """
    _require_openvino()
    import openvino as ov

    folder = Path(model_dir)
    model, tokenizer, inputs = export_source(folder, model, tokenizer)
    where = cache_dir(folder, "openvino")
    target = where / FILES["openvino"]
    log.info("converting %s to OpenVINO (once; cached in %s)", folder, where)
    # The manifest is the commit point; int8 is made from this file, so it goes stale with it.
    forget(where, "openvino", "openvino-int8")
    dynamic = torch.export.Dim.DYNAMIC  # batch and sequence symbolic, not the sample's (and any length)
    try:
        with quiet("torch.export", "torch._dynamo", "openvino"), torch.no_grad():
            program = torch.export.export(
                LogitsOnly(model), (), kwargs=inputs, dynamic_shapes={n: {0: dynamic, 1: dynamic} for n in inputs}
            )
            converted = ov.convert_model(program)
            expected = model(**inputs).logits.float().numpy()
        converted.outputs[0].get_tensor().set_names({"logits"})
        got = _compile(converted, 1, "fp32")(_feed(inputs, list(inputs)))[0]
    except Exception as err:  # the exporter and the converter raise many types; say which model and what to do
        raise OpenVinoExportError(
            f"{folder}: OpenVINO conversion failed ({type(err).__name__}: {err}); use backend='torch'"
        ) from err
    error = float(np.abs(got - expected).max())
    if not error <= CONVERT_TOLERANCE:
        raise OpenVinoExportError(
            f"{folder}: the OpenVINO model differs from PyTorch by {error:.2e} on a sample batch "
            f"(tolerance {CONVERT_TOLERANCE}); use backend='torch' for this model"
        )
    _save_ir(converted, target)
    record(where, "openvino", folder, openvino=ov.__version__)
    return target


# ------------------------------------------------------------------------------------------ int8
def quantize_openvino(
    model_dir: str | Path,
    pairs: Sequence[Pair],
    subset_size: int = CALIBRATION_SUBSET,
    model: Any = None,
    tokenizer: Any = None,
) -> Path:
    """Quantise a model folder to ``openvino/model.int8.xml`` with NNCF, calibrated on ``pairs``; return its path.

    Run it once (e.g. on a few hundred training pairs); ``StanceClassifier.from_pretrained(model_dir,
    backend="openvino-int8")`` then loads the cached file. Converts the fp32 model first if needed. When the
    cache already holds a model calibrated on the same pairs, nothing is done again.
    """
    _require_openvino(quantising=True)
    import nncf
    import openvino as ov
    from transformers import AutoConfig, AutoTokenizer

    folder = Path(model_dir)
    subset = calibration_subset(pairs, subset_size)
    calibration = calibration_record(subset)
    done = cached_file(folder, "openvino-int8", expect={"calibration": calibration})
    if done is not None:
        return done
    fp32 = cached_file(folder, "openvino") or convert_openvino(folder, model, tokenizer)
    where = fp32.parent
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(folder)
    fp32_model = _core().read_model(str(fp32))
    names = [i.get_any_name() for i in fp32_model.inputs]
    # Tokenised as the classifier tokenises (premise truncated first), one pair per sample, unpadded.
    max_length = usable_max_length(AutoConfig.from_pretrained(folder), tokenizer, None)
    enc, _ = encode_pairs_counted(tokenizer, [p for p, _ in subset], [h for _, h in subset], max_length)
    samples = [{n: np.asarray([enc[n][i]], dtype=np.int64) for n in names} for i in range(len(subset))]
    log.info("quantising %s to OpenVINO int8 on %d calibration pairs (once; cached in %s)", folder, len(subset), where)
    forget(where, "openvino-int8")
    # NNCF draws progress bars on stdout; they go to stderr, so a script's stdout stays its own output.
    with quiet("nncf", "openvino"), contextlib.redirect_stdout(sys.stderr):
        quantised = nncf.quantize(
            fp32_model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(samples)
        )
    sample = samples[0]
    got = _compile(quantised, 1, "fp32")(sample)[0]
    if got.shape != (1, 3) or not np.isfinite(got).all():  # a broken graph is caught here, not by a user
        raise OpenVinoExportError(
            f"{folder}: the int8 model gives {got!r} on a calibration pair; use backend='openvino'"
        )
    _save_ir(quantised, where / FILES["openvino-int8"])
    record(where, "openvino-int8", folder, calibration=calibration, openvino=ov.__version__, nncf=nncf.__version__)
    return where / FILES["openvino-int8"]


# ------------------------------------------------------------------------------------------ runtime
class OpenVinoStanceModel(BackendStanceModel):
    """A compiled OpenVINO model standing in for the PyTorch model inside :class:`StanceClassifier`.

    ``precision`` is what the classifier runs at (``fp32``, ``bf16``, ``bf16-checked``; ``int8`` for
    ``openvino-int8``): the precisions it needs are compiled up front (``bf16-checked`` keeps an ``f32`` and a
    ``bf16`` one, so more memory than either); any other is compiled on first use.
    """

    def __init__(
        self, path: str | Path, config: Any, backend: str, num_threads: int | None = None, precision: str = "fp32"
    ):
        _require_openvino()
        self.path = Path(path)
        self.config = config
        self.backend = check_converted(backend)
        if backend not in FILES:
            raise ValueError(f"OpenVinoStanceModel runs the openvino backends, not {backend}")
        self.name_or_path = str(getattr(config, "_name_or_path", "") or self.path)
        self.num_threads = num_threads
        self.model = _core().read_model(str(self.path))
        self.input_names = [i.get_any_name() for i in self.model.inputs]
        self._requests: dict[str, Any] = {}
        # An infer request is not thread-safe; the serving paths may call from several threads.
        self._lock = threading.Lock()
        wanted = {"bf16": ["bf16"], "bf16-checked": ["bf16", "fp32"]}.get(precision, ["fp32"])
        for name in wanted if backend == "openvino" else ["fp32"]:  # int8: the rest of its ops in f32
            self._request(name)

    def _request(self, precision: str) -> Any:
        if precision not in self._requests:
            self._requests[precision] = _compile(self.model, self.num_threads, precision).create_infer_request()
        return self._requests[precision]

    def logits(self, batch: Mapping[str, np.ndarray], bf16: bool = False) -> np.ndarray:
        """Logits for one padded batch (``input_ids``, ``attention_mask``, ... as numpy integer arrays)."""
        if bf16 and self.backend != "openvino":
            raise ValueError(f"the {self.backend} backend has no bf16 precision")
        with self._lock:
            result = self._request("bf16" if bf16 else "fp32").infer(_feed(batch, self.input_names))
            return np.array(result[0], dtype=np.float32)  # a copy: the request reuses its output buffer


def load_openvino_model(
    model_dir: str | Path,
    backend: str,
    config: Any,
    model: Any = None,
    tokenizer: Any = None,
    num_threads: int | None = None,
    precision: str = "fp32",
    calibration_pairs: Sequence[Pair] | None = None,
) -> OpenVinoStanceModel:
    """The cached OpenVINO model of ``backend`` for a folder, converting (and quantising) it first when needed.

    ``openvino-int8`` without a cached model needs ``calibration_pairs``; with them, a cache calibrated on
    other pairs is quantised again. ``model`` is only used when a conversion is needed.
    """
    if check_converted(backend) not in FILES:
        raise ValueError(f"load_openvino_model is for the openvino backends, not {backend}")
    _require_openvino(quantising=backend == "openvino-int8" and calibration_pairs is not None)
    if backend == "openvino":
        path = cached_file(model_dir, backend) or convert_openvino(model_dir, model, tokenizer)
    elif calibration_pairs is not None:
        path = quantize_openvino(model_dir, calibration_pairs, model=model, tokenizer=tokenizer)
    else:
        check_calibration(model_dir, backend, None)  # a clear error when there is no cached model
        path = cached_file(model_dir, backend)
    return OpenVinoStanceModel(path, config, backend, num_threads, precision)

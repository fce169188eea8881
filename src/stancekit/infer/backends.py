"""What the converted backends of :class:`~stancekit.infer.classifier.StanceClassifier` share: the backend
names, the cache of converted model files, and the base class of the models that stand in for PyTorch.

Every backend but ``torch`` runs a file converted from the saved model folder (:data:`ARTIFACTS`): ONNX
Runtime (:mod:`stancekit.infer.onnx`) and OpenVINO (:mod:`stancekit.infer.openvino`). Each file is made
once and cached beside the model::

    RUN/model/<subdir>/<file>          e.g. onnx/model.onnx, openvino/model.xml (+ model.bin)
    RUN/model/<subdir>/export.json     backend -> the fingerprint of the folder its file was made from

A retrained folder (other weights or config) no longer matches its fingerprint, so its files are made
again. A folder that cannot be written (a read-only install) caches under ``~/.cache/stancekit/<subdir>``.
Every converted graph returns logits only: softmax, temperature, labels and abstention stay the
classifier's shared code, so each backend labels and calibrates the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..artifacts import write_json
from ..labels import Pair
from ..models.folder import METADATA_FILE, WEIGHTS_KEY, read_metadata, weight_files

BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8", "onnx-int8-static", "openvino", "openvino-int8")
MANIFEST = "export.json"


@dataclass(frozen=True)
class Artifact:
    """Where a backend's converted model is cached and what it is made from."""

    subdir: str  # beside the model's files (or under the user cache)
    file: str
    made_from: str  # the backend whose model this one is converted from ("torch": the folder itself)
    format: int  # bumped when the recipe changes, so files made by an older stancekit are made again
    calibrated: bool = False  # made with calibration pairs (post-training static quantisation)


ARTIFACTS: dict[str, Artifact] = {
    "onnx": Artifact("onnx", "model.onnx", "torch", 1),
    "onnx-int8": Artifact("onnx", "model.int8.onnx", "onnx", 1),
    "onnx-int8-static": Artifact("onnx", "model.int8-static.onnx", "onnx", 1, calibrated=True),
    "openvino": Artifact("openvino", "model.xml", "torch", 1),
    "openvino-int8": Artifact("openvino", "model.int8.xml", "openvino", 1, calibrated=True),
}
# What quantises each calibrated backend's file once (named in the error when its pairs are missing).
QUANTISERS = {
    "onnx-int8-static": "stancekit.infer.onnx.quantize_onnx_static",
    "openvino-int8": "stancekit.infer.openvino.quantize_openvino",
}


def check_backend(backend: str) -> str:
    """Return ``backend`` if it is one of :data:`BACKENDS`, else raise a ``ValueError`` listing them."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    return backend


# ------------------------------------------------------------------------------------------ cache
def fingerprint(model_dir: str | Path, fmt: int = 1) -> dict[str, Any]:
    """What a converted file depends on: the weights (their recorded SHA-256, or size and mtime), config.json
    and the recipe's ``fmt``."""
    folder = Path(model_dir)
    recorded = read_metadata(folder).get(WEIGHTS_KEY) if (folder / METADATA_FILE).exists() else None
    if isinstance(recorded, dict) and recorded:
        weights: dict[str, Any] = dict(recorded)
    else:
        weights = {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in weight_files(folder)}
    config = hashlib.sha256((folder / "config.json").read_bytes()).hexdigest()
    return {"format": fmt, "weights": weights, "config_sha256": config}


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def cache_dir(model_dir: str | Path, backend: str) -> Path:
    """Where ``backend``'s file is cached: ``model_dir/<subdir>``, or a per-folder directory under the user
    cache (``$XDG_CACHE_HOME``, else ``~/.cache``) when the model folder is read-only."""
    subdir = ARTIFACTS[check_converted(backend)].subdir
    folder = Path(model_dir).resolve()
    if _writable(folder) or (folder / subdir).is_dir() and _writable(folder / subdir):
        return folder / subdir
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stancekit" / subdir
    return root / hashlib.sha256(str(folder).encode()).hexdigest()[:16]


def check_converted(backend: str) -> str:
    """``backend`` if it runs a converted file (every backend but ``torch``), else a ``ValueError``."""
    if check_backend(backend) == "torch":
        raise ValueError("the torch backend runs the saved folder itself; nothing is converted for it")
    return backend


def cached_file(model_dir: str | Path, backend: str, expect: Mapping[str, Any] | None = None) -> Path | None:
    """The cached file of ``backend`` if it exists and was made from the folder's current weights (and, when
    given, with the ``expect`` entries in its manifest record, e.g. the calibration); else ``None``."""
    if check_backend(backend) == "torch":
        return None
    where = cache_dir(model_dir, backend)
    path = where / ARTIFACTS[backend].file
    entry = read_manifest(where).get(backend)
    if not path.is_file() or not isinstance(entry, dict):
        return None
    current = fingerprint(model_dir, ARTIFACTS[backend].format)
    wanted = {**current, **(expect or {})}
    # Extra entries (the converter's version, calibration) are information unless asked for.
    return path if all(entry.get(k) == v for k, v in wanted.items()) else None


def needs_pytorch_model(model_dir: str | Path, backend: str) -> bool:
    """Whether loading ``backend`` has to convert from the PyTorch model: no current cached file along the
    chain it is made from (``openvino-int8`` from ``openvino`` from the folder)."""
    while backend != "torch":
        if cached_file(model_dir, backend) is not None:
            return False
        backend = ARTIFACTS[backend].made_from
    return True


# The calibrated int8 backends (openvino-int8, onnx-int8-static) calibrate on a seeded sample of this many pairs
# (NNCF's default subset size).
CALIBRATION_SUBSET = 300
CALIBRATION_SEED = 0


def calibration_subset(pairs: Sequence[Pair], subset_size: int = CALIBRATION_SUBSET) -> list[Pair]:
    """The pairs calibration uses: a seeded sample of ``subset_size`` (all, in order, when there are fewer),
    so a list sorted by label or source still calibrates on every kind of pair."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise ValueError(f"calibration pairs: expected a sequence of (premise, hypothesis), got {type(pairs).__name__}")
    if subset_size < 1:
        raise ValueError(f"subset_size must be positive, got {subset_size}")
    bad = next((i for i, pair in enumerate(pairs) if not _is_text_pair(pair)), None)
    if bad is not None:
        raise ValueError(
            f"calibration pair {bad}: expected (premise, hypothesis), two non-empty texts; got {pairs[bad]!r:.200}"
        )
    if not pairs:
        raise ValueError("calibration pairs: none given; pass a few hundred real (premise, hypothesis) pairs")
    chosen = (
        range(len(pairs))
        if len(pairs) <= subset_size
        else sorted(random.Random(CALIBRATION_SEED).sample(range(len(pairs)), subset_size))
    )
    return [(pairs[i][0], pairs[i][1]) for i in chosen]


def _is_text_pair(pair: Any) -> bool:
    return isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(t, str) and t.strip() for t in pair)


def calibration_record(subset: Sequence[Pair]) -> dict[str, Any]:
    """What the manifest records of a calibration: how many pairs, and the SHA-256 of those pairs."""
    text = json.dumps([list(p) for p in subset], ensure_ascii=False)
    return {"pairs": len(subset), "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()}


def check_calibration(model_dir: str | Path, backend: str, pairs: Sequence | None) -> None:
    """A ``ValueError`` when calibration pairs are given to a backend that takes none, or are needed (a
    calibrated backend with no cached file) but missing."""
    calibrated = check_backend(backend) in ARTIFACTS and ARTIFACTS[backend].calibrated
    if pairs is not None and not calibrated:
        # The calibrated backend of the same runtime (all of them for torch).
        same = ARTIFACTS[backend].subdir if backend in ARTIFACTS else None
        takers = [b for b, a in ARTIFACTS.items() if a.calibrated and same in (None, a.subdir)]
        what = f"the {' and '.join(takers)} backend" + ("s" if len(takers) > 1 else "")
        raise ValueError(f"calibration_pairs is for {what}; the {backend} backend takes none")
    if calibrated and pairs is None and cached_file(model_dir, backend) is None:
        raise ValueError(
            f"backend={backend!r} is quantised once with calibration pairs, and {model_dir} has no quantised "
            "model yet: pass calibration_pairs=[(premise, hypothesis), ...] (a few hundred real pairs, e.g. from "
            f"the training data) to StanceClassifier.from_pretrained, or run {QUANTISERS[backend]}(model_dir, "
            "pairs) once; later loads use the cached model"
        )


def read_manifest(where: Path) -> dict[str, Any]:
    """``export.json``: backend -> the fingerprint its file was made from (``{}`` when absent or damaged)."""
    try:
        manifest = json.loads((where / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def record(where: Path, backend: str, model_dir: Path, **info: Any) -> None:
    """Mark ``backend``'s file as made from the folder's current weights (the cache's commit point); ``info``
    (converter version, calibration) is kept beside the fingerprint."""
    entry = {**fingerprint(model_dir, ARTIFACTS[backend].format), **info}
    write_json(where / MANIFEST, {**read_manifest(where), backend: entry}, sort_keys=True)


def forget(where: Path, *backends: str) -> None:
    """Drop ``backends`` from the manifest (before their files are rewritten)."""
    manifest = read_manifest(where)
    if any(b in manifest for b in backends):
        write_json(where / MANIFEST, {k: v for k, v in manifest.items() if k not in backends}, sort_keys=True)


@contextlib.contextmanager
def quiet(*loggers: str):
    """Silence the converters' and quantisers' chatter (skipped ops, tracer hints, progress)."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


# ------------------------------------------------------------------------------------------ export
class LogitsOnly(torch.nn.Module):
    """The classifier with tensor inputs and the logits as its one output (what every converted graph computes)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):  # noqa: D102
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def export_source(folder: Path, model: Any = None, tokenizer: Any = None) -> tuple[Any, Any, dict[str, torch.Tensor]]:
    """The model (on the CPU, in eval mode), tokenizer and sample batch a conversion starts from.

    ``model``/``tokenizer`` are the folder's, already loaded (``StanceClassifier.from_pretrained`` passes them,
    so loading goes through its safety checks once); when ``None`` they are loaded from the folder,
    safetensors only. The sample is two pairs of different lengths, so a converter sees padding.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if model is None:
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    sample = tokenizer(
        ["The council approved the budget on Monday after a long debate.", "Prices rose."],
        ["The budget was approved.", "Prices fell sharply in the spring."],
        padding=True,
        return_tensors="pt",
    )
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    return model.to("cpu").eval(), tokenizer, {n: sample[n] for n in names}


# ------------------------------------------------------------------------------------------ runtime
class BackendStanceModel:
    """A converted model standing in for the PyTorch one inside :class:`StanceClassifier`.

    It has the model's ``config`` (labels, limits), its ``backend`` name, the ``path`` of the file it runs,
    and one method, :meth:`logits`, from a padded batch of token ids (numpy) to logits, shape ``(batch, 3)``.
    """

    backend: str
    config: Any
    path: Path
    name_or_path: str

    def logits(self, batch: Mapping[str, np.ndarray], bf16: bool = False) -> np.ndarray:
        """Logits for one padded batch; ``bf16``: at bf16 inference precision (backends that have it)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.backend}, {self.path})"

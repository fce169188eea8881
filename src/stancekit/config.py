"""Typed schemas for every config group, registered in Hydra's ConfigStore, and where the YAML files live.

Each YAML under ``configs/`` is merged onto one of these dataclasses, so a misspelt key or a value of the
wrong type fails at composition time with Hydra's error, before any data is read or model is loaded. The
defaults below are the only defaults: a YAML file says only what it changes (tests/test_configs.py checks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from .config_groups import (  # noqa: F401 (re-exported: `from stancekit.config import SourceConfig`)
    AugmentConfig,
    DataConfig,
    DocumentConfig,
    FncConfig,
    ModelConfig,
    PathsConfig,
    SourceConfig,
    TrainConfig,
)

# The repository root: scripts/ and configs/ live here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = str(PROJECT_ROOT / "configs")


def set_project_root() -> None:
    """Export ``STANCEKIT_PROJECT_ROOT`` (unless set), which ``paths.root_dir`` reads, so relative paths in the
    configs work from any working directory."""
    os.environ.setdefault("STANCEKIT_PROJECT_ROOT", str(PROJECT_ROOT))


@dataclass
class TrainRunConfig:
    """Top-level config of scripts/train.py."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    experiment: str | None = None
    # Evaluate the best model on the test sources after training.
    run_test: bool = True
    tags: list[str] = field(default_factory=list)


@dataclass
class LoadedModelConfig:
    """How a script that loads a saved model runs it (evaluate, predict, tune_document): one home for these."""

    batch_size: int = 64
    device: str = "auto"
    max_length: int | None = None
    # torch, onnx, onnx-int8 or onnx-int8-static (ONNX Runtime on the CPU; pip install 'stancekit[onnx]'; static
    # int8 needs a quantised model made once by stancekit.infer.onnx.quantize_onnx_static; see stancekit.infer.onnx),
    # openvino or openvino-int8 (OpenVINO; pip install 'stancekit[openvino]'; int8 needs a quantised model made
    # once by stancekit.infer.openvino.quantize_openvino; see stancekit.infer.openvino).
    backend: str = "torch"
    # CPU threads; null: the physical cores this process may use.
    num_threads: int | None = None
    # torch and openvino backends: auto (bf16 with an fp32 recheck of close calls on CPUs with native bf16, else
    # fp32), fp32, bf16 or bf16-checked; see stancekit.StanceClassifier.
    precision: str = "auto"
    # Each batch's padded length rounded up to a multiple of this (null: its longest pair); see
    # stancekit.StanceClassifier.
    pad_to_multiple_of: int | None = None
    # backend=torch: compile the model with torch.compile (Inductor; needs a C++ compiler). The first pass
    # compiles (tens of seconds to minutes); afterwards it was faster than eager on an Intel Xeon with AMX
    # and no faster on AMD CPUs (docs/performance.md). Labels are eager's.
    torch_compile: bool = False
    # glibc serves allocations of this many MB or more by mmap, so the freed activations of batches of every
    # length go back to the OS instead of fragmenting the heap (as train.malloc_mmap_threshold_mb; on
    # FNC-1's document view it cut peak RSS by ~40 %, docs/results.md). null: glibc's default.
    malloc_mmap_threshold_mb: float | None = 2.0
    # oneDNN (bf16 matrix products on CPUs) caches kernels and scratch memory per input shape, 1,024 by
    # default; each chunk of pairs brings new (batch, length) shapes, so without a cap a bf16 evaluation grows
    # with the number of pairs (as train.onednn_cache_capacity; docs/performance.md). null: oneDNN's default.
    onednn_cache_capacity: int | None = 64


@dataclass
class EvaluateRunConfig(LoadedModelConfig):
    """Top-level config of scripts/evaluate.py."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    model_dir: str = MISSING
    # pairs: premise/hypothesis pairs; document: premise is a document, scored as `document` says (+ FNC view).
    mode: str = "pairs"
    document: DocumentConfig = field(default_factory=DocumentConfig)
    fnc: FncConfig = field(default_factory=FncConfig)
    # More data configs (names under configs/data/) whose test sets join `data`'s in one report.
    sets: list[str] = field(default_factory=list)
    # capabilities: also run the capability suite (stancekit.eval.capabilities); null: don't.
    suite: str | None = None


@dataclass
class TuneDocumentRunConfig(LoadedModelConfig):
    """Top-level config of scripts/tune_document.py: pick document.* aggregation options on the data config's
    validation split (FNC-1: the baseline's hold-out bodies) by the FNC-1 view. The test split is never read."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    model_dir: str = MISSING
    # The document options not tuned (skip_boilerplate, min_claim_overlap, chunk_size); input must be sentences.
    document: DocumentConfig = field(default_factory=DocumentConfig)
    fnc: FncConfig = field(default_factory=FncConfig)
    # The grid. Every unit is scored once, for the union of the window sets; each option is then an aggregation
    # of cached probabilities. mean reads neither threshold nor top_k, max_evidence not top_k.
    aggregations: list[str] = field(default_factory=lambda: ["max_evidence", "top_k_mean", "mean"])
    thresholds: list[float] = field(
        default_factory=lambda: [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    )
    top_ks: list[int] = field(default_factory=lambda: [2, 3, 5])
    # Window sets; [1, 2, 3] costs ~1.5x the scoring of [1, 2] (one more window per sentence, longer ones).
    window_sizes: list[list[int]] = field(default_factory=lambda: [[1], [1, 2]])
    # The data configs drop `unrelated` pairs from validation (the stance stage trains on related pairs); tuning
    # keeps them, because the competition test is scored with them and a pair that passes the lexical gate
    # wrongly changes the F1 of the label it gets. Few reach the model: the lexical gate holds most of them back.
    keep_unrelated: bool = True
    # Tune on the first N validation pairs only (quick runs); null: all.
    max_documents: int | None = None


@dataclass
class CalibrateRunConfig:
    """Top-level config of scripts/calibrate.py: fit and store a saved model's temperature."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    model_dir: str = MISSING
    batch_size: int = 64
    device: str = "auto"


@dataclass
class BaselineRunConfig:
    """Top-level config of scripts/baseline.py: fit a reference baseline, score it like a model."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    # majority, tfidf or hypothesis_only (see stancekit.eval.baselines)
    baseline: str = "tfidf"
    sets: list[str] = field(default_factory=list)
    suite: str | None = "capabilities"
    seed: int = 0


@dataclass
class PredictRunConfig(LoadedModelConfig):
    """Top-level config of scripts/predict.py."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    model_dir: str = MISSING
    input: str = MISSING
    output: str = MISSING
    premise_field: str = "premise"
    hypothesis_field: str = "hypothesis"
    # A field that identifies each line; when set, a repeated value is a bad row.
    id_field: str | None = None
    # Bad lines: "raise" or "skip" (left out of the output, written to <run dir>/skipped_rows.jsonl).
    on_error: str = "raise"
    # pairs: premise_field/hypothesis_field per line; document: a claim and a whole document per line,
    # each taken from the first of these fields that the line has.
    mode: str = "pairs"
    claim_fields: list[str] = field(default_factory=lambda: ["claim", "headline"])
    document_fields: list[str] = field(default_factory=lambda: ["document", "body"])
    document: DocumentConfig = field(default_factory=DocumentConfig)


@dataclass
class ServeLimits:
    """What one request may hold; over a limit is a 413 naming it (see stancekit.serve)."""

    # Pairs in one POST /v1/pairs.
    max_pairs: int = 256
    # Characters in one text: an evidence or a claim of /v1/pairs, the claim of /v1/document.
    max_text_chars: int = 5000
    # Characters in the document of /v1/document (a long news feature is ~30k).
    max_document_chars: int = 100_000
    # Bytes in a request body, checked before it is parsed (declared Content-Length and bytes received).
    max_request_bytes: int = 1_000_000
    # A request not answered within this many seconds gets 503; the worker goes on with the others.
    timeout_s: float = 30.0


@dataclass
class ServeRunConfig(LoadedModelConfig):
    """Top-level config of scripts/serve.py: serve a saved model over HTTP (stancekit.serve)."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    model_dir: str = MISSING
    # Loopback by default: exposing the service is a deliberate choice (host=0.0.0.0).
    host: str = "127.0.0.1"
    port: int = 8000
    # Cross-request batching: requests arriving within max_wait_ms of the first waiting one share one
    # length-sorted forward pass of at most max_batch_pairs pairs. batching=false: one request per pass.
    batching: bool = True
    max_wait_ms: float = 5.0
    max_batch_pairs: int = 512
    # Threads that run forward passes, each with num_threads / workers CPU threads (backend=torch on the CPU
    # only): with 2, one batch can compute while the next gathers (stancekit.serve.batcher). On 2 cores it
    # served many concurrent 32-pair requests faster and a lone client's 32-pair request slower; single-pair
    # traffic moved less than the run-to-run spread (docs/results.md), so the default stays 1.
    workers: int = 1
    # The interpreter's thread switch interval (sys.setswitchinterval) in the server, in ms (null: Python's 5).
    # A forward pass releases the GIL around each kernel and must take it back between them; while the event
    # loop runs Python (parsing, answering), it gets it back only when the loop yields or this interval ends.
    switch_interval_ms: float | None = None
    # A server sees batches of every length; rounding them up to a multiple of 16 tokens bounds the shapes
    # the backend builds and caches kernels for, which otherwise grow the RSS with the traffic's variety
    # (bench/serve.py's soak; the cost, a little padding, is in docs/results.md). null: each batch's longest.
    pad_to_multiple_of: int | None = 16
    # min_confidence of a request that gives none (0: never abstain).
    min_confidence: float = 0.0
    limits: ServeLimits = field(default_factory=ServeLimits)
    # How /v1/document scores an article (its request may not change these).
    document: DocumentConfig = field(default_factory=DocumentConfig)
    # uvicorn's log level (info logs every request).
    log_level: str = "warning"
    # Memory under traffic of every shape: the heap is trimmed every trim_batches forward passes and whenever
    # the worker goes idle (null: never). Training's other two limits (as train.* of the same names;
    # stancekit.system) are off by default here: with a server's many small passes of ever-new shapes, large
    # tensors by mmap page-fault on every activation, and a small oneDNN kernel cache rebuilds kernels all
    # the time; both made bench/serve.py far slower.
    malloc_mmap_threshold_mb: float | None = None
    onednn_cache_capacity: int | None = None
    trim_batches: int | None = 50


@dataclass
class DownloadRunConfig:
    """Top-level config of scripts/download_data.py: fetch the benchmark files into ``paths.data_root``."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    # null: each file's original URL (GitHub at a pinned commit, from stancekit/data/manifest.json); or a
    # mirror laid out like the data root: a file's URL is base_url + "/" + its path under the data root.
    base_url: str | None = None
    # Folders or files under the data root to fetch (only=[snli,fnc1/splits]); empty: all of them.
    only: list[str] = field(default_factory=list)
    progressbar: bool = True


def register_configs() -> None:
    """Register the schemas; YAML files list them first in their defaults to be validated against them."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainRunConfig)
    cs.store(name="evaluate_schema", node=EvaluateRunConfig)
    cs.store(name="tune_document_schema", node=TuneDocumentRunConfig)
    cs.store(name="baseline_schema", node=BaselineRunConfig)
    cs.store(name="calibrate_schema", node=CalibrateRunConfig)
    cs.store(name="predict_schema", node=PredictRunConfig)
    cs.store(name="download_data_schema", node=DownloadRunConfig)
    cs.store(name="serve_schema", node=ServeRunConfig)


register_configs()

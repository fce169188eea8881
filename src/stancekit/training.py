"""The training recipe: ``train(cfg) -> metrics``. Reads top to bottom: setup → train → evaluate → save.

Everything heavy is ``transformers.Trainer``'s: checkpoints, resume, mixed precision, gradient accumulation,
logging integrations and data-parallel runs under ``torchrun``/``accelerate launch`` all come from it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from omegaconf import DictConfig, OmegaConf
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from .config import TrainConfig
from .data import Splits, build_splits, format_summary
from .evaluation import compute_metrics, evaluate_sets
from .inference import StanceClassifier
from .labels import LABELS
from .modeling import build_model, encode_pairs, load_tokenizer, resolve_model_path

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- setup
def tokenize(dataset: Dataset, tokenizer: PreTrainedTokenizerBase, max_length: int) -> Dataset:
    """Encode pairs without padding (the collator pads each batch to its own longest pair).

    A ``length`` column is stored so length-grouped sampling need not re-scan the data set.
    """

    def encode(batch: dict[str, list]) -> dict[str, list]:
        enc = encode_pairs(tokenizer, batch["premise"], batch["hypothesis"], max_length)
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    keep = {"label"}
    return dataset.map(
        encode, batched=True, remove_columns=[c for c in dataset.column_names if c not in keep], desc="tokenize"
    )


def resolve_precision(precision: str) -> dict[str, bool]:
    """``auto`` uses bf16 where the GPU supports it, fp16 on other GPUs, and fp32 on the CPU."""
    if precision == "auto":
        if torch.cuda.is_available():
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp32"
    if precision not in {"fp32", "bf16", "fp16"}:
        raise ValueError(f"train.precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def training_arguments(cfg: TrainConfig, checkpoint_dir: Path) -> TrainingArguments:
    """Map our train config onto the Trainer's arguments (one place for every default we choose)."""
    strategy = "steps" if cfg.eval_steps else "epoch"
    return TrainingArguments(
        output_dir=str(checkpoint_dir),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps in transformers 5
        weight_decay=cfg.weight_decay,
        label_smoothing_factor=cfg.label_smoothing,
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=cfg.eval_steps,
        save_steps=cfg.eval_steps,
        logging_strategy="steps",
        logging_steps=cfg.logging_steps,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        save_total_limit=cfg.save_total_limit,
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        report_to=list(cfg.report_to),
        dataloader_num_workers=cfg.dataloader_num_workers,
        use_cpu=cfg.device == "cpu",
        disable_tqdm=cfg.disable_tqdm,
        **resolve_precision(cfg.precision),
    )


def trainer_metrics(eval_pred: Any) -> dict[str, float]:
    """Validation metrics the Trainer logs and uses to pick the best checkpoint (macro-F1)."""
    logits, labels = eval_pred
    m = compute_metrics(labels, np.asarray(logits).argmax(axis=-1))
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


# ---------------------------------------------------------------------------------------------- save
def save_model_atomically(trainer: Trainer, tokenizer: PreTrainedTokenizerBase, model_dir: Path) -> None:
    """Write to a temporary folder and rename it into place, so a crash never leaves a half-written model."""
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    old = model_dir.with_name(model_dir.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.save_model(str(tmp))  # safetensors weights + config with id2label
    tokenizer.save_pretrained(str(tmp))
    # The Trainer also drops its pickled arguments here; a model folder users trust holds no pickle.
    (tmp / "training_args.bin").unlink(missing_ok=True)
    if model_dir.exists():
        model_dir.rename(old)
    tmp.rename(model_dir)
    shutil.rmtree(old, ignore_errors=True)


def write_model_card(model_dir: Path, cfg: DictConfig, splits: Splits, validation: dict, test: dict | None) -> None:
    """A README in the model folder: what it is, what it was trained on, how it scored, how to load it."""
    base = cfg.model.name_or_path
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [stancekit, stance-detection, nli, text-pair-classification]",
        "---",
        "",
        "# stancekit stance model",
        "",
        f"Labels (in output order): {', '.join(f'`{lab}`' for lab in LABELS)}. Text A is the evidence (premise), "
        "text B the claim (hypothesis).",
        "",
        f"- Base model: `{base}`",
        f"- Data config: `{cfg.data.name}`",
        f"- Training: lr {cfg.train.learning_rate}, epochs {cfg.train.epochs}, batch {cfg.train.batch_size}, "
        f"seed {cfg.train.seed}, max length {cfg.model.max_length}",
        "",
        "## Training data",
        "",
        format_summary(splits.summary),
        "",
        "## Validation",
        "",
        f"accuracy {validation.get('eval_accuracy', float('nan')):.4f}, "
        f"macro-F1 {validation.get('eval_macro_f1', float('nan')):.4f}",
        "",
    ]
    if test:
        blocks = test if "accuracy" not in test else {test.get("name", "test"): test}
        lines += ["## Test", "", "| set | n | accuracy | macro-F1 |", "|---|---:|---:|---:|"]
        lines += [f"| {n} | {b['n']} | {b['accuracy']:.4f} | {b['macro_f1']:.4f} |" for n, b in blocks.items()]
        lines.append("")
    lines += [
        "## Use",
        "",
        "```python",
        "from stancekit import StanceClassifier",
        "clf = StanceClassifier.from_pretrained('PATH/TO/model')",
        "clf.predict([('Lavrov ruled out European peacekeepers.', 'Russia would accept European peacekeepers.')])",
        "",
        "# or with plain transformers:",
        "from transformers import pipeline",
        "pipe = pipeline('text-classification', model='PATH/TO/model')",
        "pipe({'text': 'evidence ...', 'text_pair': 'claim ...'})",
        "```",
        "",
    ]
    (model_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------------------------- train
def train(cfg: DictConfig, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Fine-tune a stance classifier as the config says; return the test metrics (validation if no test).

    Writes into ``cfg.paths.output_dir``: ``model/``, ``metrics.json``, ``report.md``,
    ``confusion_matrix.png``, ``predictions.jsonl``, ``data_summary.md``, ``train_summary.json``,
    ``config.yaml`` and ``checkpoints/`` (with TensorBoard event files under ``checkpoints/runs``).
    """
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.train.seed)

    # Setup: data, tokenizer, model.
    wanted = ("train", "validation", "test") if cfg.run_test else ("train", "validation")
    splits = build_splits(cfg.data, cfg.paths.data_root, wanted)
    if splits.train is None:
        raise ValueError(f"data config {cfg.data.name!r} has no training data (set data.train_file or data.train)")
    summary = format_summary(splits.summary)
    log.info("data:\n%s", summary)
    log.info("base model: %s", resolve_model_path(cfg.model.name_or_path))
    tokenizer = load_tokenizer(cfg.model)
    model = build_model(cfg.model)
    train_set = tokenize(splits.train, tokenizer, cfg.model.max_length)
    val_set = tokenize(splits.validation, tokenizer, cfg.model.max_length)

    checkpoint_dir = run_dir / "checkpoints"
    trainer = Trainer(
        model=model,
        args=training_arguments(cfg.train, checkpoint_dir),
        train_dataset=train_set,
        eval_dataset=val_set,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),  # dynamic padding: never a fixed length
        compute_metrics=trainer_metrics,
        callbacks=(
            [EarlyStoppingCallback(cfg.train.early_stopping_patience)] if cfg.train.early_stopping_patience > 0 else []
        )
        + list(callbacks or []),
    )

    # Train (resuming from the newest checkpoint of this run folder when asked).
    resume_from = None
    if cfg.train.resume:
        resume_from = get_last_checkpoint(str(checkpoint_dir)) if checkpoint_dir.exists() else None
        log.info("resume: %s", resume_from or "no checkpoint found, starting fresh")
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    wall = time.time() - started
    validation = trainer.evaluate()  # the best checkpoint, loaded at the end of training

    if not trainer.is_world_process_zero():
        return {}  # under torchrun only rank 0 evaluates and writes

    # Evaluate the best model on every test set, through the same classifier users get.
    test_metrics = None
    if splits.test:
        classifier = StanceClassifier(
            trainer.model,
            tokenizer,
            device=trainer.args.device,
            batch_size=cfg.train.eval_batch_size,
            max_length=cfg.model.max_length,
        )
        test_metrics = evaluate_sets(
            classifier.predict_proba,
            splits.test,
            run_dir,
            title=f"stancekit: {cfg.data.name}",
            context=f"Base model `{cfg.model.name_or_path}`; best validation macro-F1 "
            f"{validation.get('eval_macro_f1', float('nan')):.4f}.",
        )

    # Save: the model folder, its card, and the run's records.
    model_dir = run_dir / "model"
    save_model_atomically(trainer, tokenizer, model_dir)
    write_model_card(model_dir, cfg, splits, validation, test_metrics)
    (run_dir / "data_summary.md").write_text(summary + "\n", encoding="utf-8")
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    record = {
        "validation": validation,
        "train": train_output.metrics,
        "wall_seconds": wall,
        "train_examples": len(train_set),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "global_step": trainer.state.global_step,
    }
    (run_dir / "train_summary.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if test_metrics is None:
        test_metrics = {
            "accuracy": validation["eval_accuracy"],
            "macro_f1": validation["eval_macro_f1"],
            "name": "validation",
        }
        (run_dir / "metrics.json").write_text(json.dumps(test_metrics, indent=2) + "\n", encoding="utf-8")
    return test_metrics

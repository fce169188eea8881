"""The training recipe: ``train(cfg) -> metrics``. Reads top to bottom: setup → train → evaluate → save.

Everything heavy is ``transformers.Trainer``'s: checkpoints, resume, mixed precision, gradient accumulation,
logging integrations and data-parallel runs under ``torchrun``/``accelerate launch`` all come from it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
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

from .artifacts import record_weights_hash, update_metadata, write_text_atomic
from .calibration import fit_on_dataset
from .capabilities import run_suite
from .config import TrainConfig
from .data import Splits, build_splits, format_summary
from .document import apply_document_input
from .evaluation import compute_metrics, evaluate_sets
from .inference import StanceClassifier
from .labels import LABELS
from .modeling import (
    build_model,
    cpu_has_native_bf16,
    encode_pairs,
    load_tokenizer,
    pick_device,
    resolve_model_path,
    usable_max_length,
)
from .robustness import agree_across_ranks, count_over_length, last_complete_checkpoint, write_skipped_rows
from .system import glibc, peak_rss_mb

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


def resolve_precision(precision: str, device: str = "auto") -> dict[str, bool]:
    """The Trainer's ``bf16``/``fp16`` flags for ``train.precision`` on the device ``train.device`` picks.

    ``auto``: bf16 on GPUs that support it, fp16 on other GPUs, bf16 on CPUs with native bf16
    (:func:`cpu_has_native_bf16`), fp32 elsewhere (other CPUs, Apple MPS). Weights, optimiser state and the
    saved model stay fp32 either way: autocast only runs the matmuls in half precision.
    """
    if precision == "auto":
        kind = pick_device(device).type
        if kind == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif kind == "cpu" and cpu_has_native_bf16():
            precision = "bf16"
        else:
            precision = "fp32"
    if precision not in {"fp32", "bf16", "fp16"}:
        raise ValueError(f"train.precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def limit_heap_growth(threshold_mb: float | None) -> bool:
    """Make glibc serve allocations of ``threshold_mb`` MB or more by ``mmap``; return whether it applied.

    Why: with length-grouped batches every step has its own tensor shapes. glibc's default raises its mmap
    threshold after the first large free, so later activations come from the heap, and the freed blocks of
    the long batches stay there, fragmented: on nli_mix this added ~0.6 GB to the peak resident memory
    (bench/train.py; docs/benchmarks.md). Above a fixed threshold, a freed tensor is unmapped at once. A
    no-op (False) off glibc (macOS, Windows, musl) or with ``None``.
    """
    if threshold_mb is not None and threshold_mb <= 0:
        raise ValueError(f"train.malloc_mmap_threshold_mb must be positive or null, got {threshold_mb}")
    libc = glibc()
    if threshold_mb is None or libc is None:
        return False
    m_mmap_threshold = -3  # from <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, int(threshold_mb * 1024 * 1024)))


def limit_kernel_cache(capacity: int | None) -> bool:
    """Cap oneDNN's primitive cache at ``capacity`` entries; return whether this call set it.

    Why: on CPUs, bf16 (autocast) matrix products run through oneDNN, which builds and caches a primitive,
    with its own scratch memory, for every input shape it meets (1,024 by default). Length-grouped batches
    bring a new shape nearly every step, so that cache alone grew the training process by ~0.2 GB within 100
    steps on nli_mix (bench/train.py --phases; docs/benchmarks.md). oneDNN reads
    ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` when it builds its first primitive, so this must run before the
    process's first bf16 matrix product; a value already in the environment (the user's) is left alone.
    """
    if capacity is not None and capacity < 0:  # checked first: a bad config is an error even when unused
        raise ValueError(f"train.onednn_cache_capacity must be >= 0 or null, got {capacity}")
    if capacity is None or "ONEDNN_PRIMITIVE_CACHE_CAPACITY" in os.environ:
        return False
    os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(capacity)
    return True


class HeapTrimCallback(TrainerCallback):
    """Every ``every`` optimiser steps, return the heap's free pages to the OS (glibc ``malloc_trim``).

    Why: the mmap threshold (:func:`limit_heap_growth`) only covers large tensors; the many smaller ones of
    ever-changing batch shapes leave free but resident holes in the heap, and over an epoch those add up.
    ``malloc_trim(0)`` releases every free page, not only the heap's top, at the end of a step when the
    batch's activations are gone.
    """

    def __init__(self, every: int):
        if every <= 0:
            raise ValueError(f"train.malloc_trim_steps must be positive or null, got {every}")
        self.every = every
        self.libc = glibc()

    def on_step_end(self, args, state, control, **kwargs):
        if self.libc is not None and state.global_step % self.every == 0:
            self.libc.malloc_trim(0)


def split_batch(inputs: dict[str, Any], max_tokens: int | None) -> list[dict[str, Any]]:
    """``inputs`` cut along the batch into the fewest equal chunks of at most ``max_tokens`` padded tokens.

    A chunk keeps at least one row, so a single pair longer than the budget still runs (alone).
    """
    rows, length = inputs["input_ids"].shape
    if max_tokens is None or rows * length <= max_tokens:
        return [inputs]
    per_chunk = max(1, max_tokens // length)
    n_chunks = -(-rows // per_chunk)
    # Rows spread evenly (16 rows, 7 per chunk at most: 5, 5, 6 rather than 7, 7, 2).
    bounds = [i * rows // n_chunks for i in range(n_chunks + 1)]
    return [
        {k: v[start:stop] if torch.is_tensor(v) and v.dim() > 0 else v for k, v in inputs.items()}
        for start, stop in zip(bounds, bounds[1:])
    ]


class StanceTrainer(Trainer):
    """The Trainer, with micro-batches above ``max_tokens_per_micro_batch`` padded tokens run in chunks.

    Why: with length-grouped batches a few micro-batches are far longer than the rest (16 pairs x 128
    tokens against ~16 x 40), and their activations set the run's peak memory. Each chunk's loss is summed
    over its examples and divided by the accumulated batch's example count (:func:`make_loss`), so the
    chunks' gradients add up to the whole micro-batch's: the same step, at the memory of a smaller batch.
    """

    def __init__(self, *args, max_tokens_per_micro_batch: int | None = None, **kwargs):
        if max_tokens_per_micro_batch is not None and max_tokens_per_micro_batch <= 0:
            raise ValueError(
                f"train.max_tokens_per_micro_batch must be positive or null, got {max_tokens_per_micro_batch}"
            )
        super().__init__(*args, **kwargs)
        self.max_tokens_per_micro_batch = max_tokens_per_micro_batch

    def training_step(self, model, inputs, num_items_in_batch=None):
        chunks = split_batch(inputs, self.max_tokens_per_micro_batch)
        if len(chunks) == 1:
            return super().training_step(model, inputs, num_items_in_batch)
        if num_items_in_batch is None:
            # Without the count the loss would be each chunk's mean; this count makes sum/count equal the
            # Trainer's own mean / accumulation steps for the whole micro-batch.
            num_items_in_batch = len(inputs["labels"]) * self.current_gradient_accumulation_steps
        loss = 0.0
        for i, chunk in enumerate(chunks):
            # Under DDP, gradients are all-reduced once, with the last chunk's backward.
            sync = contextlib.nullcontext() if i == len(chunks) - 1 else self.accelerator.no_sync(model)
            with sync:
                loss = loss + super().training_step(model, chunk, num_items_in_batch)
        return loss


def release_training_memory(trainer: Trainer) -> None:
    """Drop what only training needs (optimiser state, gradients) and return freed heap pages to the OS.

    After training the run still calibrates, saves and scores every test set; AdamW's two moments and the
    gradients are three times the weights' size and would stay alive through all of it. glibc's
    ``malloc_trim`` hands the freed pages back (a no-op elsewhere), so the evaluation that follows does not
    stack its memory on top of training's.
    """
    import gc

    trainer.accelerator.free_memory()  # accelerate's references to the prepared optimiser and scheduler
    trainer.optimizer = trainer.lr_scheduler = None
    trainer.callback_handler.optimizer = trainer.callback_handler.lr_scheduler = None
    trainer.model.zero_grad(set_to_none=True)
    gc.collect()
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)


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
        # Said explicitly whenever we train on the CPU: with use_cpu unset, the Trainer's bf16 check asks for a
        # GPU and refuses bf16 on a CPU-only machine.
        use_cpu=pick_device(cfg.device).type == "cpu",
        disable_tqdm=cfg.disable_tqdm,
        **resolve_precision(cfg.precision, cfg.device),
    )


def class_weights(spec: str | None, labels: list[int]) -> torch.Tensor | None:
    """Loss weights per label from ``train.class_weights``: None, "balanced", or "w_support,w_contradict,w_neutral"."""
    if not spec:
        return None
    if spec == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        present = sorted(set(labels))
        weights = np.ones(len(LABELS))
        weights[present] = compute_class_weight("balanced", classes=np.array(present), y=np.asarray(labels))
        return torch.tensor(weights, dtype=torch.float32)
    try:
        weights = [float(w) for w in spec.split(",")]
    except ValueError:
        weights = []
    if len(weights) != len(LABELS) or min(weights) <= 0:
        raise ValueError(
            f"train.class_weights must be 'balanced' or {len(LABELS)} positive numbers in label order "
            f"({', '.join(LABELS)}), e.g. '1,2,1'; got {spec!r}"
        )
    return torch.tensor(weights, dtype=torch.float32)


def make_loss(weights: torch.Tensor | None, label_smoothing: float):
    """Cross-entropy with optional class weights and label smoothing, for the Trainer's ``compute_loss_func``.

    With gradient accumulation the Trainer passes the number of labels in the whole accumulated batch, so
    the loss is a sum divided by that count (each example weighs the same whatever its micro-batch).
    """

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        w = weights.to(logits.device) if weights is not None else None
        reduction = "sum" if num_items_in_batch is not None else "mean"
        value = torch.nn.functional.cross_entropy(
            logits.view(-1, logits.size(-1)).float(),
            labels.view(-1),
            weight=w,
            label_smoothing=label_smoothing,
            reduction=reduction,
        )
        return value / num_items_in_batch if num_items_in_batch is not None else value

    return loss


def collator(tokenizer: PreTrainedTokenizerBase, cfg: DictConfig) -> DataCollatorWithPadding:
    """Pad each batch to its own longest pair; ``train.pad_to_max_length`` pads to ``model.max_length`` instead.

    Fixed-length padding only exists to measure the ``run_glue.py``-style baseline (bench/train.py): on pairs
    averaging ~38 tokens it spends most of the compute on padding.
    """
    if cfg.train.pad_to_max_length:
        return DataCollatorWithPadding(tokenizer, padding="max_length", max_length=cfg.model.max_length)
    return DataCollatorWithPadding(tokenizer)


def trainer_metrics(eval_pred: Any) -> dict[str, float]:
    """Validation metrics the Trainer logs and uses to pick the best checkpoint (macro-F1)."""
    logits, labels = eval_pred
    m = compute_metrics(labels, np.asarray(logits).argmax(axis=-1))
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


# ---------------------------------------------------------------------------------------------- save
def save_model_atomically(
    trainer: Trainer, tokenizer: PreTrainedTokenizerBase, model_dir: Path, metadata: dict | None = None
) -> None:
    """Write to a temporary folder and rename it into place, so a crash never leaves a half-written model.

    The folder's ``stancekit.json`` gets ``metadata`` and, last, the SHA-256 of the weights, which
    :meth:`StanceClassifier.from_pretrained` verifies: a ``model/`` folder exists complete or not at all.
    """
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    old = model_dir.with_name(model_dir.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.save_model(str(tmp))  # safetensors weights + config with id2label
    tokenizer.save_pretrained(str(tmp))
    # The Trainer also drops its pickled arguments here; a model folder users trust holds no pickle.
    (tmp / "training_args.bin").unlink(missing_ok=True)
    if metadata:
        update_metadata(tmp, **metadata)
    record_weights_hash(tmp)
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
        # Only the per-set blocks: a capability-suite result sits beside them.
        blocks = {name: b for name, b in blocks.items() if isinstance(b, dict) and "accuracy" in b}
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
    write_text_atomic(model_dir / "README.md", "\n".join(lines))


def truncation_line(truncated: dict[str, int], cfg: DictConfig) -> str:
    """One sentence for data_summary.md: how many pairs per split exceed ``model.max_length``."""
    counts = ", ".join(f"{name} {n}" for name, n in truncated.items())
    return (
        f"Pairs longer than model.max_length={cfg.model.max_length} tokens (truncated premise-first, the claim "
        f"kept whole): {counts}."
    )


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
    limit_heap_growth(cfg.train.malloc_mmap_threshold_mb)
    limit_kernel_cache(cfg.train.onednn_cache_capacity)

    # Setup: data, tokenizer, model.
    wanted = ("train", "validation", "test") if cfg.run_test else ("train", "validation")
    splits = build_splits(cfg.data, cfg.paths.data_root, wanted)
    # FNC-1/ARC bodies: the truncated text, or the sentences most similar to the claim (data.document_input).
    splits = apply_document_input(splits, cfg.data)
    if splits.train is None:
        raise ValueError(f"data config {cfg.data.name!r} has no training data (set data.train_file or data.train)")
    summary = format_summary(splits.summary)
    log.info("data:\n%s", summary)
    log.info("base model: %s", resolve_model_path(cfg.model.name_or_path, cfg.model.cache_dir))
    tokenizer = load_tokenizer(cfg.model)
    model = build_model(cfg.model)
    if cfg.train.freeze_word_embeddings:
        # The Trainer's optimiser takes only parameters that require gradients: no dense gradient of the
        # vocabulary-sized matrix per micro-batch, and no AdamW moments for it.
        model.get_input_embeddings().weight.requires_grad_(False)
    # Set once here for every later use (tokenizing, the collator, the saved classifier, config.yaml).
    cfg.model.max_length = usable_max_length(model.config, tokenizer, cfg.model.max_length)
    train_set = tokenize(splits.train, tokenizer, cfg.model.max_length)
    val_set = tokenize(splits.validation, tokenizer, cfg.model.max_length)

    args = training_arguments(cfg.train, run_dir / "checkpoints")
    # Under torchrun every process composed its own config, and a default run folder named after the clock
    # can differ between them: all ranks use rank 0's folder (args.device sets up the process group first).
    if args.device is not None and args.world_size > 1:
        run_dir = Path(agree_across_ranks(str(run_dir)))
        args.output_dir = str(run_dir / "checkpoints")
    checkpoint_dir = run_dir / "checkpoints"
    trainer = StanceTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=val_set,
        processing_class=tokenizer,
        data_collator=collator(tokenizer, cfg),  # dynamic padding: never a fixed length (but for baselines)
        compute_metrics=trainer_metrics,
        compute_loss_func=make_loss(
            class_weights(cfg.train.class_weights, list(splits.train["label"])), cfg.train.label_smoothing
        ),
        callbacks=(
            [EarlyStoppingCallback(cfg.train.early_stopping_patience)] if cfg.train.early_stopping_patience > 0 else []
        )
        + ([HeapTrimCallback(cfg.train.malloc_trim_steps)] if cfg.train.malloc_trim_steps is not None else [])
        + list(callbacks or []),
        max_tokens_per_micro_batch=cfg.train.max_tokens_per_micro_batch,
    )

    # Train (resuming from the newest complete checkpoint of this run folder when asked; a checkpoint cut
    # short by a crash is passed over, and every rank resumes from the one rank 0 chose).
    resume_from = None
    if cfg.train.resume:
        resume_from = agree_across_ranks(last_complete_checkpoint(checkpoint_dir))
        log.info("resume: %s", resume_from or "no checkpoint found, starting fresh")
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    wall = time.time() - started
    # Validation metrics of the best checkpoint (loaded at the end of training); every rank takes part in
    # this gather under torchrun.
    validation = trainer.evaluate()
    release_training_memory(trainer)

    if not trainer.is_world_process_zero():
        return {}  # under torchrun only rank 0 evaluates and writes

    # Calibrate (fit the temperature on validation logits), then save the model with the temperature and the
    # weights' hash in its metadata, all inside the temporary folder that is renamed into place.
    model_dir = run_dir / "model"
    classifier = StanceClassifier(
        trainer.model,
        tokenizer,
        device=trainer.args.device,
        batch_size=cfg.train.eval_batch_size,
        max_length=cfg.model.max_length,
    )
    temperature = 1.0
    if cfg.train.calibrate:
        temperature = fit_on_dataset(classifier.predict_logits, splits.validation)[0]
        log.info("temperature fitted on validation: %.3f", temperature)
    classifier.temperature = temperature
    save_model_atomically(trainer, tokenizer, model_dir, metadata={"temperature": temperature})

    # Evaluate the best model on every test set and the capability suite, through the classifier users get.
    test_metrics = None
    if splits.test:
        suite = run_suite(lambda pairs: classifier.predict_proba(pairs, allow_empty_premise=True))
        test_metrics = evaluate_sets(
            classifier.predict_logits,
            splits.test,
            run_dir,
            title=f"stancekit: {cfg.data.name}",
            context=f"Base model `{cfg.model.name_or_path}`; best validation macro-F1 "
            f"{validation.get('eval_macro_f1', float('nan')):.4f}; temperature {temperature:.3f}.",
            temperature=temperature,
            capabilities=suite,
        )

    # Records: the model card and the run's summaries (each file written whole or not at all).
    write_model_card(model_dir, cfg, splits, validation, test_metrics)
    write_skipped_rows(splits.skipped_rows, run_dir)
    truncated = {
        split: count_over_length(tokenizer, ds["premise"], ds["hypothesis"], cfg.model.max_length)
        for split, ds in [("train", splits.train), ("validation", splits.validation), *splits.test.items()]
    }
    if any(truncated.values()):
        log.warning("pairs longer than %d tokens, truncated premise-first: %s", cfg.model.max_length, truncated)
    write_text_atomic(run_dir / "data_summary.md", summary + "\n\n" + truncation_line(truncated, cfg) + "\n")
    write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    record = {
        "validation": validation,
        "train": train_output.metrics,
        "wall_seconds": wall,
        "train_examples": len(train_set),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "global_step": trainer.state.global_step,
        "temperature": temperature,
        "world_size": trainer.args.world_size,
        "truncated_pairs": truncated,
        "skipped_rows": len(splits.skipped_rows),
        # High-water mark of this process's resident memory so far (training and evaluation), for the benchmarks.
        "peak_rss_mb": peak_rss_mb(),
    }
    write_text_atomic(run_dir / "train_summary.json", json.dumps(record, indent=2) + "\n")
    if test_metrics is None:
        test_metrics = {
            "accuracy": validation["eval_accuracy"],
            "macro_f1": validation["eval_macro_f1"],
            "name": "validation",
        }
        write_text_atomic(run_dir / "metrics.json", json.dumps(test_metrics, indent=2) + "\n")
    return test_metrics

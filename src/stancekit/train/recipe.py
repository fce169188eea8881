"""The training recipe: ``train(cfg) -> TrainResult``. Reads top to bottom: setup → train → evaluate → save.

Everything heavy is ``transformers.Trainer``'s: checkpoints, resume, mixed precision, gradient accumulation,
logging integrations and data-parallel runs under ``torchrun``/``accelerate launch`` all come from it. The
pieces around it live beside this file: the Trainer and its settings (``trainer.py``), memory
(``memory.py``), checkpoints and ranks (``checkpoints.py``), the model folder and the records
(``records.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset
from omegaconf import DictConfig, OmegaConf
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PreTrainedTokenizerBase,
    TrainerCallback,
    set_seed,
)

from ..artifacts import write_json, write_text
from ..data import apply_document_input, build_splits, format_summary, write_skipped_rows
from ..eval.calibration import fit_on_dataset
from ..eval.capabilities import run_suite
from ..eval.report import evaluate_sets, score_sets, write_results
from ..infer.classifier import StanceClassifier
from ..models.base import build_model, load_tokenizer, resolve_model_path
from ..models.encoding import count_over_length, encode_pairs, usable_max_length
from ..system import peak_rss_mb
from ..version import source_commit
from .checkpoints import agree_across_ranks, last_complete_checkpoint
from .dropout import use_fast_dropout
from .memory import HeapTrimCallback, limit_heap_growth, limit_kernel_cache, release_training_memory
from .objectives import AUX_COLUMNS, add_aux_columns, weighted_labels
from .records import save_model_atomically, truncation_line, write_model_card
from .trainer import StanceTrainer, class_weights, make_loss, trainer_metrics, training_arguments

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished run hands back, so callers need not re-read the files it wrote."""

    run_dir: Path
    # The Trainer's metrics of the best checkpoint on the validation split (eval_accuracy, eval_macro_f1, ...).
    validation: dict[str, float]
    # {test set name: metrics block}, as in metrics.json; empty with run_test=false or no test data.
    test: dict[str, dict] = field(default_factory=dict)
    capabilities: dict | None = None
    temperature: float = 1.0

    @property
    def model_dir(self) -> Path:
        return self.run_dir / "model"

    @property
    def objective(self) -> float:
        """The best validation macro-F1: what sweeps optimise (never a test score)."""
        return float(self.validation["eval_macro_f1"])


# ---------------------------------------------------------------------------------------------- setup
def tokenize(dataset: Dataset, tokenizer: PreTrainedTokenizerBase, max_length: int) -> Dataset:
    """Encode pairs without padding (the collator pads each batch to its own longest pair).

    A ``length`` column is stored so length-grouped sampling need not re-scan the data set.
    """

    def encode(batch: dict[str, list]) -> dict[str, list]:
        enc = encode_pairs(tokenizer, batch["premise"], batch["hypothesis"], max_length)
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    keep = {"label", *AUX_COLUMNS}
    return dataset.map(
        encode, batched=True, remove_columns=[c for c in dataset.column_names if c not in keep], desc="tokenize"
    )


def collator(tokenizer: PreTrainedTokenizerBase, cfg: DictConfig) -> DataCollatorWithPadding:
    """Pad each batch to its own longest pair (rounded up to ``train.pad_to_multiple_of`` when set);
    ``train.pad_to_max_length`` pads to ``model.max_length`` instead.

    Fixed-length padding only exists to measure the ``run_glue.py``-style baseline (bench/train.py): on
    short NLI pairs it spends most of the compute on padding.
    """
    if cfg.train.pad_to_max_length:
        return DataCollatorWithPadding(tokenizer, padding="max_length", max_length=cfg.model.max_length)
    multiple = cfg.train.pad_to_multiple_of
    if multiple is not None and (multiple < 1 or cfg.model.max_length % multiple):
        # A multiple that does not divide max_length would pad the longest batches past it.
        raise ValueError(
            f"train.pad_to_multiple_of={multiple} must be a positive divisor of model.max_length={cfg.model.max_length}"
        )
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)


def callbacks_for(cfg: DictConfig, extra: list[TrainerCallback] | None) -> list[TrainerCallback]:
    """Early stopping and heap trimming as the config says, then the caller's own callbacks."""
    callbacks: list[TrainerCallback] = []
    if cfg.train.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(cfg.train.early_stopping_patience))
    if cfg.train.malloc_trim_steps is not None:
        callbacks.append(HeapTrimCallback(cfg.train.malloc_trim_steps))
    return callbacks + list(extra or [])


# ---------------------------------------------------------------------------------------------- train
def train(cfg: DictConfig, callbacks: list[TrainerCallback] | None = None) -> TrainResult | None:
    """Fine-tune a stance classifier as the config says; return its :class:`TrainResult` (``None`` on the
    processes other than rank 0 under ``torchrun``, which write nothing).

    Writes into ``cfg.paths.output_dir``: ``model/``, ``metrics.json``, ``report.md``,
    ``confusion_matrix.png``, ``predictions.jsonl``, ``data_summary.md``, ``train_summary.json``,
    ``config.yaml``, ``validation/`` (the validation split's report: scores by source, the most confident
    errors) and ``checkpoints/`` (with TensorBoard event files under ``checkpoints/runs``).
    """
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    commit = source_commit()  # at the start: the tree may change while a long run trains
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
    # Distillation and debiasing read per-pair columns (teacher logits, bias log-probabilities), made once here.
    train_pairs = add_aux_columns(
        splits.train,
        teacher=cfg.train.teacher,
        debias=cfg.train.debias,
        cache_dir=Path(cfg.paths.cache_dir),
        max_length=cfg.model.max_length,
        batch_size=cfg.train.eval_batch_size,
        seed=cfg.train.seed,
        no_evidence_target=cfg.train.no_evidence_target,
        teacher_backend=cfg.train.teacher_backend,
        teacher_precision=cfg.train.teacher_precision,
        teacher_on_templates=cfg.train.teacher_on_templates,
    )
    train_set = tokenize(train_pairs, tokenizer, cfg.model.max_length)
    val_set = tokenize(splits.validation, tokenizer, cfg.model.max_length)

    args = training_arguments(cfg.train, run_dir / "checkpoints")
    # Under torchrun every process composed its own config, and a default run folder named after the clock
    # can differ between them: all ranks use rank 0's folder (args.device sets up the process group first).
    if args.device is not None and args.world_size > 1:
        run_dir = Path(agree_across_ranks(str(run_dir)))
        args.output_dir = str(run_dir / "checkpoints")
    # Faster dropout masks on CPUs (not under torch.compile, whose kernels draw their own); undone after training.
    fast_dropout = cfg.train.fast_dropout and args.device.type == "cpu" and not cfg.train.torch_compile
    restore_dropout = use_fast_dropout(model) if fast_dropout else None
    trainer = StanceTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=val_set,
        processing_class=tokenizer,
        data_collator=collator(tokenizer, cfg),  # dynamic padding: never a fixed length (but for baselines)
        compute_metrics=trainer_metrics,
        compute_loss_func=make_loss(
            class_weights(cfg.train.class_weights, weighted_labels(splits.train, cfg.train.no_evidence_target)),
            cfg.train.label_smoothing,
            debias=cfg.train.debias,
            distill_alpha=cfg.train.distill_alpha,
            distill_temperature=cfg.train.distill_temperature,
        ),
        callbacks=callbacks_for(cfg, callbacks),
        max_tokens_per_micro_batch=cfg.train.max_tokens_per_micro_batch,
    )

    # Train (resuming from the newest complete checkpoint of this run folder when asked; a checkpoint cut
    # short by a crash is passed over, and every rank resumes from the one rank 0 chose).
    resume_from = None
    if cfg.train.resume:
        resume_from = agree_across_ranks(last_complete_checkpoint(run_dir / "checkpoints"))
        log.info("resume: %s", resume_from or "no checkpoint found, starting fresh")
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    wall = time.time() - started
    # Validation metrics of the best checkpoint (loaded at the end of training); every rank takes part in
    # this gather under torchrun.
    validation = trainer.evaluate()
    release_training_memory(trainer)
    if restore_dropout is not None:
        restore_dropout()  # the model saved and evaluated below is the plain transformers one

    if not trainer.is_world_process_zero():
        return None  # under torchrun only rank 0 evaluates and writes

    # Calibrate (fit the temperature on validation logits), then save the model with the temperature and the
    # weights' hash in its metadata, all inside the temporary folder that is renamed into place.
    result = TrainResult(run_dir=run_dir, validation=validation)
    classifier = StanceClassifier(
        trainer.model,
        tokenizer,
        device=trainer.args.device,
        batch_size=cfg.train.eval_batch_size,
        max_length=cfg.model.max_length,
    )
    fitted, validation_logits, _ = fit_on_dataset(classifier.predict_logits, splits.validation)
    if cfg.train.calibrate:
        result.temperature = fitted
        log.info("temperature fitted on validation: %.3f", result.temperature)
    classifier.temperature = result.temperature
    save_model_atomically(trainer, tokenizer, result.model_dir, metadata={"temperature": result.temperature})
    # How the model fails on each part of the validation mixture (by source, most confident errors). The
    # checkpoint and the temperature were chosen on these pairs, so this is a diagnosis, never a test score.
    write_results(
        run_dir / "validation",
        {"validation": splits.validation},
        {"validation": validation_logits},
        score_sets({"validation": validation_logits}, {"validation": splits.validation}, result.temperature),
        title=f"stancekit: {cfg.data.name}, validation (model selection and temperature; not a test)",
        temperature=result.temperature,
        commit=commit,
    )

    # Evaluate the best model on every test set and the capability suite, through the classifier users get.
    if splits.test:
        result.capabilities = run_suite(lambda pairs: classifier.predict_proba(pairs, allow_empty_premise=True))
        result.test = evaluate_sets(
            classifier.predict_logits,
            splits.test,
            run_dir,
            title=f"stancekit: {cfg.data.name}",
            context=f"Base model `{cfg.model.name_or_path}`; best validation macro-F1 "
            f"{validation.get('eval_macro_f1', float('nan')):.4f}; temperature {result.temperature:.3f}.",
            temperature=result.temperature,
            capabilities=result.capabilities,
            commit=commit,
        )

    # Records: the model card and the run's summaries (each file written whole or not at all).
    write_model_card(result.model_dir, cfg, splits, validation, result.test)
    write_skipped_rows(splits.skipped_rows, run_dir)
    truncated = {
        split: count_over_length(tokenizer, ds["premise"], ds["hypothesis"], cfg.model.max_length)
        for split, ds in [("train", splits.train), ("validation", splits.validation), *splits.test.items()]
    }
    if any(truncated.values()):
        log.warning("pairs longer than %d tokens, truncated premise-first: %s", cfg.model.max_length, truncated)
    write_text(run_dir / "data_summary.md", summary + "\n\n" + truncation_line(truncated, cfg) + "\n")
    write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    record = {
        "validation": validation,
        "train": train_output.metrics,
        "wall_seconds": wall,
        "train_examples": len(train_set),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "global_step": trainer.state.global_step,
        "temperature": result.temperature,
        "world_size": trainer.args.world_size,
        "truncated_pairs": truncated,
        "skipped_rows": len(splits.skipped_rows),
        # High-water mark of this process's resident memory so far (training and evaluation), for the benchmarks.
        "peak_rss_mb": peak_rss_mb(),
        # The code that made the run: bench/results.py records this commit rather than the one checked out later.
        "commit": commit,
    }
    write_json(run_dir / "train_summary.json", record)
    if not splits.test:  # metrics.json always exists; with no test set it holds the validation scores
        scores = {"accuracy": validation["eval_accuracy"], "macro_f1": validation["eval_macro_f1"]}
        write_json(run_dir / "metrics.json", {"sets": {}, "validation": scores})
    return result

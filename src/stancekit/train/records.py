"""What a training run leaves beside its model: the model folder itself (written atomically, with its
weights' hashes), the model card, and the run's summaries."""

from __future__ import annotations

import shutil
from pathlib import Path

from omegaconf import DictConfig
from transformers import PreTrainedTokenizerBase, Trainer

from ..artifacts import write_text
from ..data import Splits, format_summary
from ..labels import LABELS
from ..models.folder import record_weights_hash, update_metadata


def save_model_atomically(
    trainer: Trainer, tokenizer: PreTrainedTokenizerBase, model_dir: Path, metadata: dict | None = None
) -> None:
    """Write to a temporary folder and rename it into place, so a crash never leaves a half-written model.

    The folder's ``stancekit.json`` gets ``metadata`` and, last, the SHA-256 of the weights, which
    :meth:`stancekit.StanceClassifier.from_pretrained` verifies: a ``model/`` folder exists complete or not at all.
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


def write_model_card(model_dir: Path, cfg: DictConfig, splits: Splits, validation: dict, test: dict[str, dict]) -> None:
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
        f"- Objective: {objective_line(cfg)}",
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
        lines += ["## Test", "", "| set | n | accuracy | macro-F1 |", "|---|---:|---:|---:|"]
        lines += [f"| {n} | {b['n']} | {b['accuracy']:.4f} | {b['macro_f1']:.4f} |" for n, b in test.items()]
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
    write_text(model_dir / "README.md", "\n".join(lines))


def objective_line(cfg: DictConfig) -> str:
    """The training loss in words, for the model card (see stancekit.train.objectives)."""
    parts = ["cross-entropy on the gold labels"]
    if cfg.train.class_weights:
        parts.append(f"class weights {cfg.train.class_weights}")
    if cfg.train.debias != "none":
        kind = "product of experts with" if cfg.train.debias == "poe" else "pairs re-weighted by"
        parts.append(f"debiased ({kind} a hypothesis-only TF-IDF model, out of fold)")
    if cfg.train.no_evidence_target == "uniform":
        parts.append("equal probabilities as the target of pairs without evidence")
    if cfg.train.teacher:
        parts.append(
            f"distilled from `{cfg.train.teacher}` (alpha {cfg.train.distill_alpha}, "
            f"temperature {cfg.train.distill_temperature})"
        )
        if not cfg.train.teacher_on_templates and cfg.data.augment.capabilities:
            parts.append("the capability pairs on their gold labels alone (no teacher)")
    return "; ".join(parts)


def truncation_line(truncated: dict[str, int], cfg: DictConfig) -> str:
    """One sentence for data_summary.md: how many pairs per split exceed ``model.max_length``."""
    counts = ", ".join(f"{name} {n}" for name, n in truncated.items())
    return (
        f"Pairs longer than model.max_length={cfg.model.max_length} tokens (truncated premise-first, the claim "
        f"kept whole): {counts}."
    )

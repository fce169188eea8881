"""The Trainer and its settings: our config mapped onto ``TrainingArguments``, mixed precision, the loss
(class weights, label smoothing, debiasing and distillation: see :mod:`stancekit.train.objectives`),
validation metrics, and micro-batches split under a token budget."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import Trainer, TrainingArguments

from ..config import TrainConfig
from ..eval.metrics import compute_metrics
from ..labels import LABELS
from ..system import cpu_has_native_bf16, pick_device
from .objectives import AUX_COLUMNS, DEBIAS_MODES


def resolve_precision(precision: str, device: str = "auto") -> dict[str, bool]:
    """The Trainer's ``bf16``/``fp16`` flags for ``train.precision`` on the device ``train.device`` picks.

    ``auto``: bf16 on GPUs that support it, fp16 on other GPUs, bf16 on CPUs with native bf16
    (:func:`cpu_has_native_bf16`), fp32 elsewhere (other CPUs, Apple MPS). Weights, optimiser state and the
    saved model stay fp32 either way: autocast only runs the matmuls in half precision.
    """
    if precision == "auto":
        kind = pick_device(device).type
        if kind == "cuda":
            # Native bf16 only (Ampere and later): torch also counts bf16 emulated in fp32 on older GPUs
            # (V100, T4), which is slower than the fp16 they do have.
            precision = "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16"
        elif kind == "cpu" and cpu_has_native_bf16():
            precision = "bf16"
        else:
            precision = "fp32"
    if precision not in {"fp32", "bf16", "fp16"}:
        raise ValueError(f"train.precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


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

    def _set_signature_columns_if_needed(self):
        # The per-pair columns of the objective (teacher logits, bias log-probabilities) are no arguments of
        # the model's forward, so the Trainer would drop them from the batches; keep them for the loss.
        super()._set_signature_columns_if_needed()
        self._signature_columns += [c for c in AUX_COLUMNS if c not in self._signature_columns]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        aux = {k: inputs.pop(k) for k in AUX_COLUMNS if k in inputs}
        if not aux:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        # The batch's columns go to the loss function for this call; the Trainer's own loss handling
        # (scaling across devices, gradient accumulation) stays as it is.
        loss_func = self.compute_loss_func
        self.compute_loss_func = functools.partial(loss_func, **aux)
        try:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        finally:
            self.compute_loss_func = loss_func

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
        torch_compile=cfg.torch_compile,
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


def make_loss(
    weights: torch.Tensor | None,
    label_smoothing: float,
    debias: str = "none",
    distill_alpha: float = 0.5,
    distill_temperature: float = 2.0,
):
    """The loss for the Trainer's ``compute_loss_func``: cross-entropy with optional class weights and label
    smoothing, debiased (``poe``/``reweight``) when the batch carries ``bias_log_probs``, mixed with the
    teacher's soft targets when it carries ``teacher_logits`` (except where ``teacher_weight`` is 0); pairs
    flagged by ``uniform_target`` learn equal probabilities instead (no evidence, no opinion:
    :mod:`stancekit.train.objectives`).

    With gradient accumulation the Trainer passes the number of labels in the whole accumulated batch, so
    the loss is a sum divided by that count (each example weighs the same whatever its micro-batch).
    """
    if debias not in DEBIAS_MODES:
        raise ValueError(f"train.debias must be one of {list(DEBIAS_MODES)}, not {debias!r}")
    if not 0.0 <= distill_alpha <= 1.0:
        raise ValueError(f"train.distill_alpha must be in [0, 1], got {distill_alpha}")
    if distill_temperature <= 0:
        raise ValueError(f"train.distill_temperature must be positive, got {distill_temperature}")
    functional = torch.nn.functional

    def loss(
        outputs,
        labels,
        num_items_in_batch=None,
        teacher_logits=None,
        teacher_weight=None,
        bias_log_probs=None,
        uniform_target=None,
    ):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        logits = logits.view(-1, logits.size(-1)).float()
        labels = labels.view(-1)
        w = weights.to(logits.device) if weights is not None else None
        gold_logits = logits
        if debias == "poe" and bias_log_probs is not None:
            # log softmax(student) + log p_bias, renormalised by the cross-entropy: the product of experts.
            gold_logits = functional.log_softmax(logits, dim=-1) + bias_log_probs.float()
        per_pair = functional.cross_entropy(
            gold_logits, labels, weight=w, label_smoothing=label_smoothing, reduction="none"
        )
        if debias == "reweight" and bias_log_probs is not None:
            per_pair = per_pair * (1.0 - bias_log_probs.float().exp().gather(1, labels[:, None]).squeeze(1))
        if teacher_logits is not None:
            t = distill_temperature
            soft = functional.kl_div(
                functional.log_softmax(logits / t, dim=-1),
                functional.log_softmax(teacher_logits.float() / t, dim=-1),
                log_target=True,
                reduction="none",
            ).sum(dim=-1)
            # Per pair: alpha, or 0 where teacher_weight keeps a pair on its gold label alone.
            alpha = distill_alpha if teacher_weight is None else distill_alpha * teacher_weight.float()
            per_pair = (1.0 - alpha) * per_pair + alpha * (t * t) * soft
        if uniform_target is not None:
            # Cross-entropy against equal probabilities: its gradient is softmax - 1/3, zero only at "no opinion".
            no_opinion = -functional.log_softmax(logits, dim=-1).mean(dim=-1)
            per_pair = torch.where(uniform_target.bool(), no_opinion, per_pair)
        if num_items_in_batch is not None:
            return per_pair.sum() / num_items_in_batch
        if w is not None and teacher_logits is None and debias == "none" and uniform_target is None:
            # cross_entropy's weighted mean divides by the summed weights of the batch's labels.
            return per_pair.sum() / w[labels].sum()
        return per_pair.mean()

    return loss


def trainer_metrics(eval_pred: Any) -> dict[str, float]:
    """Validation metrics the Trainer logs and uses to pick the best checkpoint (macro-F1)."""
    logits, labels = eval_pred
    m = compute_metrics(labels, np.asarray(logits).argmax(axis=-1))
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}

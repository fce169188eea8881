"""The Trainer's settings: loss weights, precision, dynamic padding, micro-batches split under a token budget."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from stancekit import StanceClassifier
from stancekit.models import load_tokenizer
from stancekit.train.recipe import collator, tokenize
from stancekit.train.trainer import class_weights, make_loss, resolve_precision
from tests.helpers import compose_config, shuffled_sample_pairs, tiny_train_overrides


def test_class_weights():
    labels = [0] * 6 + [1] * 3 + [2] * 1
    balanced = class_weights("balanced", labels)
    assert balanced.tolist() == pytest.approx([10 / 18, 10 / 9, 10 / 3])
    assert class_weights("1,2,1", labels).tolist() == [1.0, 2.0, 1.0]
    assert class_weights(None, labels) is None
    for bad in ["1,2", "a,b,c", "1,0,1"]:
        with pytest.raises(ValueError, match="class_weights"):
            class_weights(bad, labels)


def test_weighted_loss_matches_torch_and_normalises_for_accumulation():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 0])
    weights = torch.tensor([1.0, 2.0, 0.5])
    loss = make_loss(weights, 0.1)
    expected = torch.nn.functional.cross_entropy(logits, labels, weight=weights, label_smoothing=0.1)
    assert loss({"logits": logits}, labels).item() == pytest.approx(expected.item())
    # Under gradient accumulation the Trainer gives the label count of the whole accumulated batch.
    summed = torch.nn.functional.cross_entropy(logits, labels, weight=weights, label_smoothing=0.1, reduction="sum")
    assert loss({"logits": logits}, labels, num_items_in_batch=8).item() == pytest.approx(summed.item() / 8)


PAIRS = shuffled_sample_pairs()


def test_padding_is_dynamic_unless_the_benchmark_option_asks(tiny_model_dir, tmp_path):
    from datasets import Dataset

    cfg = compose_config(
        "train", [f"model.name_or_path={tiny_model_dir}", "model.max_length=64", f"paths.output_dir={tmp_path}"]
    )
    tokenizer = load_tokenizer(cfg.model)
    data = Dataset.from_dict(
        {"premise": [p for p, _ in PAIRS[:8]], "hypothesis": [h for _, h in PAIRS[:8]], "label": [0] * 8}
    )
    features = [dict(row) for row in tokenize(data, tokenizer, 64).remove_columns("length")]
    longest = max(len(f["input_ids"]) for f in features)
    assert longest < 64
    assert collator(tokenizer, cfg)(features)["input_ids"].shape == (8, longest)
    cfg.train.pad_to_multiple_of = 16
    assert collator(tokenizer, cfg)(features)["input_ids"].shape == (8, -(-longest // 16) * 16)
    cfg.train.pad_to_multiple_of = 24  # does not divide max_length 64: the longest batches would pass it
    with pytest.raises(ValueError, match="pad_to_multiple_of=24"):
        collator(tokenizer, cfg)
    cfg.train.pad_to_multiple_of = None
    cfg.train.pad_to_max_length = True
    assert collator(tokenizer, cfg)(features)["input_ids"].shape == (8, 64)


def test_precision_auto_follows_the_hardware(monkeypatch):
    from stancekit.train import trainer

    monkeypatch.setattr(trainer, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == {"bf16": True, "fp16": False}
    monkeypatch.setattr(trainer, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == {"bf16": False, "fp16": False}
    assert resolve_precision("fp32", "cpu") == {"bf16": False, "fp16": False}
    with pytest.raises(ValueError, match="train.precision"):
        resolve_precision("half", "cpu")


def test_split_batch_keeps_every_row_within_the_token_budget():
    from stancekit.train.trainer import split_batch

    batch = {"input_ids": torch.arange(16 * 10).view(16, 10), "labels": torch.arange(16), "flag": 1}
    assert split_batch(batch, None) == [batch] and split_batch(batch, 160) == [batch]
    chunks = split_batch(batch, 70)  # 7 rows of 10 tokens fit: 3 chunks, spread evenly
    assert [len(c["labels"]) for c in chunks] == [5, 5, 6]
    assert all(c["input_ids"].numel() <= 70 and c["flag"] == 1 for c in chunks)
    assert torch.equal(torch.cat([c["input_ids"] for c in chunks]), batch["input_ids"])
    assert torch.equal(torch.cat([c["labels"] for c in chunks]), batch["labels"])
    # A single pair longer than the budget still runs, alone.
    assert [len(c["labels"]) for c in split_batch(batch, 5)] == [1] * 16


def test_token_budget_splits_long_micro_batches_into_the_same_step(tiny_model_dir, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from stancekit.train import train, trainer

    # No dropout, so the split and unsplit runs see the same function and must end at the same weights.
    base_dir = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base_dir)
    config = json.loads((base_dir / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (base_dir / "config.json").write_text(json.dumps(config))
    chunk_counts = []
    real_split = trainer.split_batch

    def spy(inputs, max_tokens):
        chunks = real_split(inputs, max_tokens)
        chunk_counts.append(len(chunks))
        return chunks

    monkeypatch.setattr(trainer, "split_batch", spy)
    common = [
        "train.max_steps=3",
        "train.batch_size=8",
        "train.gradient_accumulation_steps=2",
        "train.precision=fp32",
        "train.calibrate=false",
        "run_test=false",
    ]
    weights = {}
    for name, budget in (("whole", "null"), ("split", "40")):
        overrides = [*common, f"train.max_tokens_per_micro_batch={budget}"]
        train(compose_config("train", tiny_train_overrides(base_dir, tmp_path / name, overrides)))
        weights[name] = load_file(tmp_path / name / "model" / "model.safetensors")
    assert chunk_counts[:6] == [1] * 6 and min(chunk_counts[6:]) >= 2  # the second run split every batch
    assert weights["whole"].keys() == weights["split"].keys()
    for key, value in weights["whole"].items():
        torch.testing.assert_close(weights["split"][key], value, atol=1e-5, rtol=1e-4, msg=key)
    with pytest.raises(ValueError, match="max_tokens_per_micro_batch"):
        trainer.StanceTrainer(model=torch.nn.Linear(1, 1), max_tokens_per_micro_batch=0)


def test_bf16_trains_on_the_cpu_with_device_auto(tiny_model_dir, tmp_path):
    """bf16 autocast on a CPU-only machine with train.device=auto: the Trainer refuses bf16 without use_cpu."""
    if torch.cuda.is_available():
        pytest.skip("checks the CPU path")
    from stancekit.train import train
    from stancekit.train.trainer import training_arguments

    overrides = ["train.device=auto", "train.precision=bf16", "train.max_steps=2", "run_test=false"]
    cfg = compose_config("train", tiny_train_overrides(tiny_model_dir, tmp_path, overrides))
    args = training_arguments(cfg.train, tmp_path / "checkpoints")
    assert args.bf16 and args.use_cpu
    result = train(cfg)
    assert 0 <= result.validation["eval_macro_f1"] <= 1 and result.test == {}
    on_disk = json.loads((tmp_path / "metrics.json").read_text())  # no test set: the validation scores
    assert on_disk == {
        "sets": {},
        "validation": {"accuracy": result.validation["eval_accuracy"], "macro_f1": result.validation["eval_macro_f1"]},
    }
    # Autocast only: the saved weights stay fp32, so plain transformers loads them as usual.
    model = StanceClassifier.from_pretrained(tmp_path / "model").model
    assert {p.dtype for p in model.parameters()} == {torch.float32}

"""What a run leaves: skipped rows and truncation counted, a model folder that is complete or absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

from stancekit import StanceClassifier
from stancekit.data import SKIPPED_ROWS_FILE
from stancekit.models.folder import (
    WEIGHTS_KEY,
    read_metadata,
    sha256_file,
)
from stancekit.train import train
from stancekit.train.records import save_model_atomically
from tests.helpers import SAMPLE_DIR, compose_config, jline, tiny_train_overrides

PAIRS = [("the council met on monday .", "the council met ."), ("the bridge is closed .", "the bridge is open .")]


@pytest.fixture(scope="module")
def skip_run(tiny_model_dir, tmp_path_factory):
    """A training run on the sample with two bad rows, one pair over the length limit, and on_error=skip."""
    tmp = tmp_path_factory.mktemp("skip-run")
    train_file = tmp / "train.jsonl"
    train_file.write_text(
        (SAMPLE_DIR / "train.jsonl").read_text()
        + jline({"id": "bad-1", "premise": "p", "hypothesis": "h", "label": "agree"})
        + jline({"id": "train-0001", "premise": "p", "hypothesis": "h", "label": "neutral"})
        + jline({"id": "long-1", "premise": "the council met again . " * 20, "hypothesis": "h", "label": "neutral"})
    )
    run_dir = tmp / "run"
    overrides = tiny_train_overrides(
        tiny_model_dir,
        run_dir,
        [
            "data=jsonl",
            f"data.train_file={train_file}",
            f"data.validation_file={SAMPLE_DIR / 'validation.jsonl'}",
            f"data.test_file={SAMPLE_DIR / 'test.jsonl'}",
            "data.id_column=id",
            "data.on_error=skip",
            "train.max_steps=4",
        ],
    )
    train(compose_config("train", overrides))
    return run_dir


def test_training_with_skip_writes_skipped_rows_and_counts_them(skip_run):
    rows = [json.loads(r) for r in (skip_run / SKIPPED_ROWS_FILE).read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [(241, "label"), (242, "id")]
    assert "unknown label 'agree'" in rows[0]["problem"] and "duplicate id 'train-0001'" in rows[1]["problem"]
    summary = json.loads((skip_run / "train_summary.json").read_text())
    assert summary["skipped_rows"] == 2
    assert "| train | jsonl | 241 |" in (skip_run / "data_summary.md").read_text()


def test_training_counts_truncated_pairs(skip_run):
    summary = json.loads((skip_run / "train_summary.json").read_text())
    # One training pair is longer than the tiny run's 64 tokens: counted and reported, but kept (truncated).
    assert summary["truncated_pairs"] == {"train": 1, "validation": 0, "jsonl": 0}
    assert summary["train_examples"] == 241
    assert "Pairs longer than model.max_length=64 tokens" in (skip_run / "data_summary.md").read_text()


def test_saved_model_carries_its_hash_and_still_loads_with_plain_transformers(skip_run):
    model_dir = skip_run / "model"
    meta = read_metadata(model_dir)
    assert meta[WEIGHTS_KEY]["model.safetensors"] == sha256_file(model_dir / "model.safetensors")
    assert StanceClassifier.from_pretrained(model_dir, device="cpu").predict(PAIRS)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert model.config.id2label[0] == "support"
    assert not (skip_run / "model.tmp").exists() and not (skip_run / "model.old").exists()


def bare_trainer(model_dir: Path, tmp_path: Path) -> tuple[Trainer, object]:
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    args = TrainingArguments(output_dir=str(tmp_path / "ck"), use_cpu=True, report_to="none")
    return Trainer(model=model, args=args), AutoTokenizer.from_pretrained(model_dir)


def test_a_crash_while_saving_never_leaves_a_complete_looking_model(stance_model_dir, tmp_path, monkeypatch):
    trainer, tokenizer = bare_trainer(stance_model_dir, tmp_path)
    model_dir = tmp_path / "run" / "model"
    model_dir.parent.mkdir()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tokenizer, "save_pretrained", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model_atomically(trainer, tokenizer, model_dir)
    assert not model_dir.exists(), "the weights were written, but no model/ folder may appear"
    monkeypatch.undo()

    save_model_atomically(trainer, tokenizer, model_dir, metadata={"temperature": 1.5})
    first = read_metadata(model_dir)
    assert first["temperature"] == 1.5 and WEIGHTS_KEY in first
    # A second save that dies half-way leaves the first model whole and verifiable.
    monkeypatch.setattr(tokenizer, "save_pretrained", crash)
    with pytest.raises(OSError):
        save_model_atomically(trainer, tokenizer, model_dir)
    assert read_metadata(model_dir) == first
    StanceClassifier.from_pretrained(model_dir, device="cpu")

"""Shared fixtures: a tiny random BERT built in code, a stance model folder made from it, and two tiny
training runs that several test files read."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from stancekit.config import PROJECT_ROOT
from tests.helpers import SAMPLE_DIR, compose_config, tiny_train_overrides

os.environ.setdefault("STANCEKIT_PROJECT_ROOT", str(PROJECT_ROOT))
# Tests never touch the network: everything they load is built here or read from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for path in SAMPLE_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            words.update(re.findall(r"\w+|[^\w\s]", (row["premise"] + " " + row["hypothesis"]).lower()))
    chars = sorted({c for w in words for c in w})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens = specials + sorted(words) + [c for c in chars if c not in words] + [f"##{c}" for c in chars]
    return list(dict.fromkeys(tokens))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random 2-layer BERT (hidden 32) with a WordPiece vocabulary of the sample's words: a base model."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = {token: i for i, token in enumerate(_vocabulary())}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=128)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def stance_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny BERT with a fresh (seeded, untrained) 3-way head and our labels, saved as stancekit saves a
    model folder (weights' hashes in stancekit.json). Tests that change a model folder copy this one."""
    import torch

    from stancekit.config import ModelConfig
    from stancekit.models import build_model, load_tokenizer
    from stancekit.models.folder import record_weights_hash

    folder = tmp_path_factory.mktemp("tiny-stance")
    cfg = ModelConfig(name_or_path=str(tiny_model_dir))
    torch.manual_seed(0)
    build_model(cfg).save_pretrained(folder)
    load_tokenizer(cfg).save_pretrained(folder)
    record_weights_hash(folder)
    return folder


@pytest.fixture(scope="session")
def trained_run(tiny_model_dir, tmp_path_factory):
    """A few training steps on the bundled sample: (run folder, TrainResult)."""
    from stancekit.train import train

    run_dir = tmp_path_factory.mktemp("run")
    result = train(compose_config("train", tiny_train_overrides(tiny_model_dir, run_dir)))
    return run_dir, result


@pytest.fixture(scope="session")
def calibrated_model(tiny_model_dir, tmp_path_factory):
    """As trained_run, with class weights and label smoothing: (run folder, TrainResult)."""
    from stancekit.train import train

    run_dir = tmp_path_factory.mktemp("calibrated")
    extra = ["train.class_weights=balanced", "train.label_smoothing=0.1"]
    overrides = tiny_train_overrides(tiny_model_dir, run_dir, extra)
    return run_dir, train(compose_config("train", overrides))


@pytest.fixture(scope="session")
def clf(stance_model_dir):
    """A StanceClassifier on the stance model, batch 7 (so the sample spans several sorted batches), fp32:
    tests compare exact numbers, and precision="auto" is bf16 on some CPUs."""
    from stancekit import StanceClassifier

    return StanceClassifier.from_pretrained(stance_model_dir, device="cpu", batch_size=7, precision="fp32")

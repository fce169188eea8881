"""Shared fixtures: a tiny random BERT built in code, config composition, and data roots."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from stancekit.cli import CONFIG_DIR, PROJECT_ROOT

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "data"
SHARED_ROOT = Path(os.environ.get("STANCEKIT_DATA_ROOT", PROJECT_ROOT.parent / "shared" / "data"))
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"

os.environ.setdefault("STANCEKIT_PROJECT_ROOT", str(PROJECT_ROOT))
# Tests never touch the network: everything they load is built here or read from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def compose_config(name: str = "train", overrides: list[str] | None = None):
    """Compose a config the way the scripts do, without running Hydra's app (so no run folder)."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name=name, overrides=overrides or [])


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
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_train_overrides(model_dir: Path, run_dir: Path, extra: list[str] | None = None) -> list[str]:
    """Overrides for a few-second training run on the bundled sample with the tiny model."""
    return [
        f"model.name_or_path={model_dir}",
        "model.max_length=64",
        f"paths.output_dir={run_dir}",
        "train=smoke",
        "train.device=cpu",
        "train.disable_tqdm=true",
        *(extra or []),
    ]

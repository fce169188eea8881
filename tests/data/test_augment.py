"""Training augmentations: swapped contradictions and random-premise neutrals, and how they are reported."""

from __future__ import annotations

from stancekit.data import build_splits
from stancekit.data.augment import random_premise_neutrals, swap_contradictions
from stancekit.labels import LABEL2ID
from tests.helpers import compose_config


def test_augmentations():
    pairs = [
        {"id": str(i), "premise": f"premise {i}", "hypothesis": f"claim {i}", "label": i % 3, "source": "s"}
        for i in range(30)
    ]
    swapped = swap_contradictions(pairs, 1.0, seed=0)
    originals = [p for p in pairs if p["label"] == LABEL2ID["contradict"]]
    assert len(swapped) == len(originals) == 10
    assert {(p["premise"], p["hypothesis"]) for p in swapped} == {(p["hypothesis"], p["premise"]) for p in originals}
    assert len(swap_contradictions(pairs, 0.5, seed=0)) == 5
    neutrals = random_premise_neutrals(pairs, 0.5, seed=0)
    assert len(neutrals) == 15 and all(p["label"] == LABEL2ID["neutral"] for p in neutrals)
    by_claim = {p["hypothesis"]: p["premise"] for p in pairs}
    assert all(by_claim[p["hypothesis"]] != p["premise"] for p in neutrals)


def test_augmented_training_split_is_reported(tmp_path):
    cfg = compose_config(
        "train",
        ["paths.output_dir=/tmp/x", "data.augment.swap_contradictions=1.0", "data.augment.random_premise_neutral=0.2"],
    )
    splits = build_splits(cfg.data, cfg.paths.data_root)
    summary = splits.summary["train"]
    assert summary["+ swapped contradictions"]["n"] == 80
    assert summary["+ random-premise neutrals"]["n"] == 48
    assert len(splits.train) == 240 + 80 + 48 and len(splits.validation) == 60

"""Training augmentations: swapped contradictions, random-premise neutrals and blanked premises, and how they
are reported."""

from __future__ import annotations

from stancekit.data import build_splits
from stancekit.data.augment import blank_premises, has_no_evidence, random_premise_neutrals, swap_contradictions
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


def test_blanked_premises_keep_the_claims_and_are_tagged_as_carrying_no_evidence():
    pairs = [
        {"id": str(i), "premise": f"premise {i}", "hypothesis": f"claim {i}", "label": i % 3, "source": "snli"}
        for i in range(30)
    ]
    blanked = blank_premises(pairs, 0.2, seed=0)
    assert len(blanked) == 6 and blanked == blank_premises(pairs, 0.2, seed=0)
    assert len({p["hypothesis"] for p in blanked}) == 6 and {p["hypothesis"] for p in blanked} <= {
        p["hypothesis"] for p in pairs
    }
    for p in blanked:
        assert p["premise"] == "" and p["label"] == LABEL2ID["neutral"] and p["id"].endswith(":blank-premise")
        assert p["source"].startswith("snli+") and has_no_evidence(p["source"])
    assert not any(has_no_evidence(p["source"]) for p in pairs)
    assert blank_premises(pairs, 0.0, seed=0) == [] and len(blank_premises(pairs, 2.0, seed=0)) == 30


def test_blanked_premises_go_into_the_training_split_only():
    cfg = compose_config("train", ["paths.output_dir=/tmp/x", "data.augment.blank_premise=0.25"])
    splits = build_splits(cfg.data, cfg.paths.data_root)
    assert splits.summary["train"]["+ blanked premises"]["n"] == 60
    assert sum(has_no_evidence(s) for s in splits.train["source"]) == 60 and len(splits.train) == 300
    for dataset in [splits.validation, *splits.test.values()]:
        assert not any(has_no_evidence(s) for s in dataset["source"]) and all(dataset["premise"])

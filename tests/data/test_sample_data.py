"""The bundled sample: sizes, label balance, no premise shared across splits."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stancekit.labels import LABELS
from tests.helpers import SAMPLE_DIR

SIZES = {"train": 240, "validation": 60, "test": 60}


def rows(split: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLE_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("split", sorted(SIZES))
def test_sizes_and_label_balance(split):
    data = rows(split)
    assert len(data) == SIZES[split]
    assert Counter(r["label"] for r in data) == {lab: SIZES[split] // 3 for lab in LABELS}
    assert all(list(r) == ["id", "premise", "hypothesis", "label"] for r in data)
    assert all(r["premise"].strip() and r["hypothesis"].strip() for r in data)


def test_no_premise_leaks_across_splits_and_ids_are_unique():
    premises = {split: {r["premise"] for r in rows(split)} for split in SIZES}
    assert not premises["train"] & premises["validation"]
    assert not premises["train"] & premises["test"]
    assert not premises["validation"] & premises["test"]
    ids = [r["id"] for split in SIZES for r in rows(split)]
    assert len(ids) == len(set(ids))

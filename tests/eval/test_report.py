"""evaluate_sets: predict, score, write; one metrics shape whatever the number of sets."""

from __future__ import annotations

import json

import numpy as np
from datasets import Dataset

from stancekit.data import FEATURES
from stancekit.eval.report import evaluate_sets, metrics_table, predict_sets, score_sets, write_results


def labelled(name: str, labels: list[int]) -> Dataset:
    rows = [
        {"id": f"{name}:{i}", "premise": f"premise {i}", "hypothesis": f"claim {i}", "label": lab, "source": name}
        for i, lab in enumerate(labels)
    ]
    return Dataset.from_list(rows, features=FEATURES)


def oracle_but_first(pairs):
    """Logits that are right for every pair but the first (label read back from the premise's index)."""
    out = np.zeros((len(pairs), 3))
    for row, (premise, _) in enumerate(pairs):
        i = int(premise.split()[-1])
        out[row, (GOLD[i] + (1 if i == 0 else 0)) % 3] = 4.0
    return out


GOLD = [0, 1, 2, 0, 1, 2]


def test_one_set_and_several_sets_have_the_same_shape(tmp_path):
    one = evaluate_sets(oracle_but_first, {"a": labelled("a", GOLD)}, tmp_path / "one", title="T")
    assert list(one) == ["a"] and one["a"]["n"] == 6 and one["a"]["accuracy"] == 5 / 6
    two = evaluate_sets(oracle_but_first, {"a": labelled("a", GOLD), "b": labelled("b", GOLD[:3])}, tmp_path / "two")
    assert list(two) == ["a", "b"] and two["a"] == one["a"]
    for folder, blocks in ((tmp_path / "one", one), (tmp_path / "two", two)):
        assert json.loads((folder / "metrics.json").read_text()) == {"sets": blocks}
        names = sorted(p.name for p in folder.iterdir())
        assert names == ["confusion_matrix.png", "coverage.png", "metrics.json", "predictions.jsonl", "reliability.png",
                         "report.md"]
    predictions = [json.loads(line) for line in (tmp_path / "two" / "predictions.jsonl").read_text().splitlines()]
    assert [p["set"] for p in predictions] == ["a"] * 6 + ["b"] * 3
    assert predictions[0]["gold"] == "support" and predictions[0]["prediction"] == "contradict"


def test_steps_apart_let_a_caller_add_before_the_single_write(tmp_path):
    sets = {"a": labelled("a", GOLD)}
    logits = predict_sets(oracle_but_first, sets)
    blocks = score_sets(logits, sets, temperature=2.0)
    assert blocks["a"]["temperature"] == 2.0 and blocks["a"]["ece"] != blocks["a"]["ece_before"]
    blocks["a"]["extra"] = {"score": 1}
    suite = {"negation": {"n": 2, "units": 2, "pass_rate": 0.5, "criterion": "c", "failures": []}}
    write_results(tmp_path, sets, logits, blocks, "Title", "context", 2.0, suite, sections=["## Added section"])
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["sets"]["a"]["extra"] == {"score": 1} and on_disk["capabilities"] == suite
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Title\n\ncontext") and report.rstrip().endswith("## Added section")
    table = metrics_table(blocks, suite)
    assert "a" in table and "0.8333" in table and "capability negation" in table


def test_no_sets_still_write_one_shape(tmp_path):
    assert evaluate_sets(oracle_but_first, {}, tmp_path) == {}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"sets": {}}

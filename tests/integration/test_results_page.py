"""docs/results.md is generated from records of real runs (bench/results.py), never typed by hand."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stancekit.config import PROJECT_ROOT
from stancekit.version import source_commit

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import results  # noqa: E402  (bench/ is not a package)


def test_the_page_is_exactly_what_its_records_render():
    records = results.load_records()
    assert records, "docs/results/ holds no records"
    page = (PROJECT_ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert page == results.render(records), "docs/results.md was edited by hand: run python bench/results.py render"
    for record in records:
        assert record["command"] and record["date"] and record["machine"]["cpu"], record.get("title")


def test_a_run_folder_becomes_a_record_and_a_table(trained_run, tmp_path):
    run_dir, result = trained_run
    # The record carries the commit the run was trained at (train_summary.json), not the checkout's at record time.
    summary_path = run_dir / "train_summary.json"
    original = summary_path.read_text()
    summary = json.loads(original)
    assert summary["commit"] == source_commit()
    summary_path.write_text(json.dumps({**summary, "commit": "abc1234"}))
    records = tmp_path / "records"
    command = "python scripts/train.py model.name_or_path=TINY"
    done = subprocess.run(
        [sys.executable, "bench/results.py", "record", "tiny", str(run_dir), "--title", "tiny run"]
        + ["--command", command, "--records", str(records)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    summary_path.write_text(original)  # the fixture's run folder is shared: leave it as it was
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((records / "tiny.json").read_text())
    assert record["commit"] == "abc1234"
    assert json.loads((run_dir / "metrics.json").read_text()).get("commit") == source_commit()
    assert record["kind"] == "quality" and record["seed"] == 42 and record["command"] == command
    assert record["sets"]["sample"]["macro_f1"] == result.test["sample"]["macro_f1"]
    assert record["training"]["validation_macro_f1"] == result.objective
    assert set(record["capabilities"]) == set(result.capabilities)
    page = results.render(results.load_records(records))
    assert "### tiny run (seed 42)" in page and f"`{command}`" in page
    assert f"| sample | 60 | {result.test['sample']['accuracy']:.4f} |" in page
    # A run folder needs its command: a table without one could not be reproduced.
    missing = subprocess.run(
        [sys.executable, "bench/results.py", "record", "x", str(run_dir), "--records", str(records)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "needs --command" in missing.stderr


def _record(title: str, seed: int, sets: dict[str, float], caps: dict | None = None, val: float | None = None) -> dict:
    """A quality record: each set's accuracy is its macro-F1 + 0.01 and its ECE a tenth of it."""
    machine = {"cpu": "cpu", "physical_cores": 2}
    blocks = {name: {"n": 10, "accuracy": f1 + 0.01, "macro_f1": f1, "ece": f1 / 10} for name, f1 in sets.items()}
    head = {"kind": "quality", "title": title, "command": "c", "date": "2026-12-01", "machine": machine}
    record = head | {"seed": seed, "sets": blocks, "capabilities": caps or {}}
    if val is None:
        return record
    training = {"validation_macro_f1": val, "train_seconds": 60.0, "train_examples": 100, "temperature": 1.0}
    return record | {"training": training}


def test_recipes_side_by_side_and_sets_added_from_another_evaluation(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    block = {"n": 5, "accuracy": 0.6, "macro_f1": 0.5, "ece": 0.1, "confusion_matrix": [[1]]}
    (folder / "metrics.json").write_text(json.dumps({"sets": {"mnli_mm": block}}))
    first = _record("A", 42, {"s1": 0.7, "s2": 0.3}, {"negation": 0.5, "symmetry": 1.0}, val=0.66)
    first = results.add_sets(first, folder, "python scripts/evaluate.py x")
    assert first["sets"]["mnli_mm"] == {"n": 5, "accuracy": 0.6, "macro_f1": 0.5, "ece": 0.1}
    with pytest.raises(ValueError, match="already has the sets"):
        results.add_sets(first, folder, "again")
    second = _record("A", 43, {"s1": 0.8, "s2": 0.5}, {"negation": 0.7}, val=0.70)  # no symmetry in this seed
    second = results.add_sets(second, folder, "python scripts/evaluate.py y")
    # B: one seed, no mnli_mm, no symmetry but numbers, no training block.
    only = _record("B", 42, {"s1": 0.9, "s2": 0.6}, {"negation": 0.9, "numbers": 0.4})
    page = results.render([second, only, first])
    side = page.split("### Recipes side by side\n\n")[1].split("\n### ")[0]
    tables = [block.splitlines() for block in side.split("\n\n") if block.startswith("|")]
    assert len(tables) == 3
    # A: s1 0.7, 0.8 -> 0.75 ± 0.05·√2; s2 0.3, 0.5 -> 0.4 ± 0.1·√2; own mean 0.5, 0.6 -> 0.55 ± 0.0707; over s1, s2
    # 0.5, 0.65 -> 0.575 ± 0.075·√2; validation 0.66, 0.70 -> 0.68 ± 0.02·√2. B: one seed, so plain means.
    assert tables[0] == [
        "| recipe | seeds | s1 | s2 | mnli_mm | mean macro-F1 | mean over the sets every recipe has "
        "| best validation macro-F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        "| A | 42, 43 | 0.7500 ± 0.0707 | 0.4000 ± 0.1414 | 0.5000 ± 0.0000 | 0.5500 ± 0.0707 | 0.5750 ± 0.1061 "
        "| 0.6800 ± 0.0283 |",
        "| B | 42 | 0.9000 | 0.6000 | – | 0.7500 | 0.7500 | – |",
    ]
    assert "(B lacks mnli_mm): their mean macro-F1 values average different sets, so compare them by the mean" in side
    assert "The recipe to keep is chosen by validation macro-F1; test sets are reported once per recipe" in side
    # ECE a tenth of macro-F1 (mnli_mm's from the added evaluation): A s1 0.07, 0.08; s2 0.03, 0.05.
    assert tables[1] == [
        "| recipe | s1 | s2 | mnli_mm |",
        "|---|---:|---:|---:|",
        "| A | 0.075 ± 0.007 | 0.040 ± 0.014 | 0.100 ± 0.000 |",
        "| B | 0.090 | 0.060 | – |",
    ]
    # Capabilities: the union in first-seen order; A's symmetry only from seed 42 (1 of 2 seeds).
    assert tables[2] == [
        "| recipe | negation | symmetry | numbers |",
        "|---|---:|---:|---:|",
        "| A | 0.60 | 1.00 (1/2) | – |",
        "| B | 0.90 | – | 0.40 |",
    ]
    assert "A cell marked (k/N) is the mean over the k of the recipe's N seeds" in side
    # Each recipe keeps its own section, and the added evaluation its command.
    assert "### A (seeds 42, 43: mean ± std)" in page and "### B (seed 42)" in page
    assert "| s1 | 10 | 0.7600 ± 0.0707 | 0.7500 ± 0.0707 | 0.7000 | 0.8000 |" in page
    assert "mnli_mm: `python scripts/evaluate.py x`" in page


def test_an_evaluation_is_recorded_with_the_commit_it_ran_at_not_the_checkouts(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    block = {"n": 5, "accuracy": 0.6, "macro_f1": 0.5, "ece": 0.1}
    (folder / "metrics.json").write_text(json.dumps({"sets": {"mnli_mm": block}, "commit": "feed123"}))
    record = results.run_record(folder, "evaluated", "python scripts/evaluate.py")
    assert record["commit"] == "feed123" and "training" not in record
    added = results.add_sets(_record("A", 42, {"s1": 0.7}), folder, "python scripts/evaluate.py x")
    assert added["also"] == [{"command": "python scripts/evaluate.py x", "sets": ["mnli_mm"], "commit": "feed123"}]
    # A folder from before runs recorded their commit gets the checkout's, as before.
    (folder / "metrics.json").write_text(json.dumps({"sets": {"mnli_mm": block}}))
    assert results.run_record(folder, "older", "c")["commit"] == results.commit()


def test_recipes_on_the_same_sets_need_no_common_mean():
    page = results.render([_record("A", 42, {"s1": 0.7, "s2": 0.3}), _record("B", 42, {"s1": 0.9, "s2": 0.6})])
    assert "| recipe | seeds | s1 | s2 | mean macro-F1 | best validation macro-F1 |" in page
    assert "| A | 42 | 0.7000 | 0.3000 | 0.5000 | – |" in page
    assert "every recipe has" not in page and "(k/N)" not in page and "Capability pass rates" not in page


def _document_record(seed: int | None, percent: float, disagree: float) -> dict:
    fnc = {
        "percent": percent,
        "floor": 39.37,
        "macro_f1": 0.6,
        "f1": {"agree": 0.6, "disagree": disagree, "discuss": 0.8, "unrelated": 0.98},
        "relatedness_accuracy": 0.97,
        "gated": 7,
    }
    head = {"kind": "documents", "title": "D", "command": "c", "date": "2026-12-01", "machine": {"cpu": "cpu"}}
    sets = {"fnc1_competition_test": {"n": 10, "accuracy": 0.9, "macro_f1": 0.62, "ece": 0.03, "fnc": fnc}}
    return head | ({"seed": seed} if seed is not None else {}) | {"sets": sets}


def test_document_records_of_one_recipe_show_each_seed_and_their_mean():
    one = results.render([_document_record(None, 83.6, 0.25)])
    assert "### D\n" in one and "| fnc1_competition_test | 10 (7) | 83.60 (39.37) | 0.600 |" in one
    page = results.render([_document_record(43, 83.0, 0.31), _document_record(42, 84.0, 0.25)])
    assert "### D (seeds 42, 43: mean ± std)" in page and "- seed 42: `c`" in page
    assert "| fnc1_competition_test | 42 | 10 (7) | 84.00 (39.37) | 0.600 | 0.600 / 0.250 / 0.800 / 0.980 |" in page
    assert "| fnc1_competition_test | 43 | 10 (7) | 83.00 (39.37) |" in page
    # 84 and 83: mean 83.5, sample std 0.71; disagree 0.25 and 0.31: 0.280 ± 0.042.
    assert "| fnc1_competition_test | **mean ± std** | | **83.50 ± 0.71** | 0.600 ± 0.000 |" in page
    assert "0.600 ± 0.000 / 0.280 ± 0.042 / 0.800 ± 0.000 / 0.980 ± 0.000" in page


def test_a_bench_record_shows_its_further_tables_where_its_bench_has_them():
    # bench/train.py --phases: each row's memory per phase of the run, after the main table.
    phases = [
        {"phase": "setup", "rss_start_mb": 300.0, "peak_mb": 600.0, "rss_end_mb": 590.0},
        {"phase": "training", "rss_start_mb": 590.0, "peak_mb": 1200.0, "rss_end_mb": 900.0},
    ]
    row = {
        "row": "grouped",
        "description": "stancekit's recipe",
        "precision": "bf16",
        "examples_per_second": 100.0,
        "model_tflops": 0.2,
        "mfu": None,
        "epoch_minutes": 4.0,
        "peak_rss_mb_train": 1200.0,
        "peak_rss_mb": 1250.0,
        "val_accuracy": 0.5,
        "val_macro_f1": 0.5,
    }
    record = {
        "kind": "train",
        "title": "t",
        "command": "python bench/train.py --phases",
        "date": "2026-12-08T00:00:00+00:00",
        "machine": {"cpu": "cpu", "features": [], "physical_cores": 2, "logical_cpus": 2},
        "commit": "abc1234",
        "rows": [{**row, "phases": phases}],
    }
    text = "\n".join(results.bench_section([record]))
    assert "Peak memory per phase" in text and "| grouped | training | 1 | 590 | 1200 | 900 |" in text
    # Without phases, the main table alone.
    assert "Peak memory per phase" not in "\n".join(results.bench_section([{**record, "rows": [row]}]))

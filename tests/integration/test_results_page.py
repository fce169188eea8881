"""docs/results.md is generated from records of real runs (bench/results.py), never typed by hand."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stancekit.config import PROJECT_ROOT

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
    records = tmp_path / "records"
    command = "python scripts/train.py model.name_or_path=TINY"
    done = subprocess.run(
        [sys.executable, "bench/results.py", "record", "tiny", str(run_dir), "--title", "tiny run"]
        + ["--command", command, "--records", str(records)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((records / "tiny.json").read_text())
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


def _record(title: str, seed: int, sets: dict[str, float]) -> dict:
    machine = {"cpu": "cpu", "physical_cores": 2}
    blocks = {name: {"n": 10, "accuracy": f1 + 0.01, "macro_f1": f1, "ece": 0.05} for name, f1 in sets.items()}
    head = {"kind": "quality", "title": title, "command": "c", "date": "2026-12-01", "machine": machine}
    return head | {"seed": seed, "sets": blocks}


def test_recipes_side_by_side_and_sets_added_from_another_evaluation(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    block = {"n": 5, "accuracy": 0.6, "macro_f1": 0.5, "ece": 0.1, "confusion_matrix": [[1]]}
    (folder / "metrics.json").write_text(json.dumps({"sets": {"mnli_mm": block}}))
    first = results.add_sets(_record("A", 42, {"s1": 0.7, "s2": 0.3}), folder, "python scripts/evaluate.py x")
    assert first["sets"]["mnli_mm"] == {"n": 5, "accuracy": 0.6, "macro_f1": 0.5, "ece": 0.1}
    with pytest.raises(ValueError, match="already has the sets"):
        results.add_sets(first, folder, "again")
    second = results.add_sets(_record("A", 43, {"s1": 0.8, "s2": 0.5}), folder, "python scripts/evaluate.py y")
    page = results.render([first, second, _record("B", 42, {"s1": 0.9, "s2": 0.6})])
    assert "### Recipes side by side" in page
    assert "| s1 | 10 | 0.7600 / **0.7500** / 0.0500 | 0.9100 / **0.9000** / 0.0500 |" in page
    assert "| mnli_mm | 5 | 0.6000 / **0.5000** / 0.1000 | – |" in page
    assert "mnli_mm: `python scripts/evaluate.py x`" in page

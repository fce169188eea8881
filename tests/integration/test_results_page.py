"""docs/results.md is generated from records of real runs (bench/results.py), never typed by hand."""

from __future__ import annotations

import json
import subprocess
import sys

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

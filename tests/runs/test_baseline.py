"""scripts/baseline.py's library side: a baseline scored by the same harness as a model."""

from __future__ import annotations

from stancekit.runs import evaluate_baseline
from tests.helpers import compose_config


def test_baseline_report_through_the_same_harness(tmp_path):
    cfg = compose_config("baseline", ["baseline=tfidf", f"paths.output_dir={tmp_path}"])
    result = evaluate_baseline(cfg)
    assert result.sets["sample"]["n"] == 60 and "ece" in result.sets["sample"] and result.capabilities
    report = (tmp_path / "report.md").read_text()
    assert "## Capabilities" in report and "| sample | 60 |" in report
    assert (tmp_path / "reliability.png").exists() and (tmp_path / "coverage.png").exists()

"""The sweep summary callback records every trial, failed ones too."""

from __future__ import annotations

import json

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

from stancekit.train.sweeps import SweepSummary


def test_sweep_summary_callback_records_failed_trials(tmp_path):
    callback = SweepSummary(objective="best val macro-F1")
    for num, status, value in [
        (0, JobStatus.COMPLETED, 0.41),
        (1, JobStatus.FAILED, ValueError("boom")),
        (2, JobStatus.COMPLETED, 0.57),
    ]:
        run_dir = tmp_path / str(num)
        run_dir.mkdir()
        (run_dir / "train_summary.json").write_text(json.dumps({"global_step": 8, "wall_seconds": 3.2}))
        config = OmegaConf.create(
            {
                "hydra": {
                    "mode": "MULTIRUN",
                    "runtime": {"output_dir": str(run_dir)},
                    "job": {"num": num},
                    "sweep": {"dir": str(tmp_path)},
                }
            }
        )
        job = JobReturn(overrides=[f"train.learning_rate={num}e-4"], status=status, _return_value=value)
        callback.on_job_end(config, job)
    trials = json.loads((tmp_path / "sweep_summary.json").read_text())
    assert [(t["job"], t["status"], t["objective"]) for t in trials] == [
        (2, "COMPLETED", 0.57),
        (0, "COMPLETED", 0.41),
        (1, "FAILED", None),
    ]
    assert trials[2]["error"] == "ValueError: boom"
    table = (tmp_path / "sweep_summary.md").read_text()
    assert "3 trials: 2 completed, 1 failed" in table and "| 1 | FAILED |" in table and "ValueError: boom" in table

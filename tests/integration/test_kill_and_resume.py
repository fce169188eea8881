"""A real process killed with SIGKILL after a checkpoint ends, after train.resume=true, like an uninterrupted run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stancekit import StanceClassifier
from stancekit.config import PROJECT_ROOT
from stancekit.train.checkpoints import is_complete_checkpoint, last_complete_checkpoint

TINY_RUN = [
    "model.max_length=64",
    "train=smoke",
    "train.device=cpu",
    "train.disable_tqdm=true",
    "train.max_steps=30",
    "train.eval_steps=5",
    "train.logging_steps=5",
    "train.save_total_limit=10",
    "train.early_stopping_patience=0",
    "train.seed=7",
]


def script(run_dir: Path, model_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "scripts/train.py",
        f"hydra.run.dir={run_dir}",
        f"model.name_or_path={model_dir}",
        *TINY_RUN,
        *extra,
    ]


@pytest.mark.slow
def test_sigkill_then_resume_ends_like_an_uninterrupted_run(tiny_model_dir, tmp_path):
    """A real process, a real SIGKILL after its first checkpoint, then train.resume=true in the same folder."""
    ref = subprocess.run(
        script(tmp_path / "ref", tiny_model_dir), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert ref.returncode == 0, ref.stderr[-3000:]

    run_dir = tmp_path / "crash"
    log = (tmp_path / "crash.log").open("w")
    proc = subprocess.Popen(script(run_dir, tiny_model_dir), cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    first = run_dir / "checkpoints" / "checkpoint-5"
    deadline = time.time() + 300
    while not is_complete_checkpoint(first) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "crash.log").read_text()[-3000:]
    steps = sorted(int(p.name.split("-")[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*"))
    assert steps and steps[-1] < 30, "the kill came after the run had finished"
    assert not (run_dir / "model").exists() and not (run_dir / "metrics.json").exists()
    last_good = last_complete_checkpoint(run_dir / "checkpoints")
    assert last_good is not None
    # As if the kill had also hit a later checkpoint half-way: resume must pass over it.
    (run_dir / "checkpoints" / "checkpoint-25").mkdir(exist_ok=True)
    (run_dir / "checkpoints" / "checkpoint-25" / "model.safetensors").write_bytes(b"half")

    resumed = subprocess.run(
        script(run_dir, tiny_model_dir, "train.resume=true"),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log_text = (run_dir / "train.log").read_text()
    assert re.findall(r"resume: (\S+)$", log_text, flags=re.M) == [last_good]
    assert "checkpoint-25 is incomplete" in log_text

    def outcome(folder: Path) -> tuple:
        metrics = json.loads((folder / "metrics.json").read_text())
        summary = json.loads((folder / "train_summary.json").read_text())
        preds = [json.loads(r) for r in (folder / "predictions.jsonl").read_text().splitlines()]
        return metrics, summary, preds

    ref_metrics, ref_summary, ref_preds = outcome(tmp_path / "ref")
    metrics, summary, preds = outcome(run_dir)
    assert summary["global_step"] == ref_summary["global_step"] == 30
    block, ref_block = metrics["sets"]["sample"], ref_metrics["sets"]["sample"]
    assert block["confusion_matrix"] == ref_block["confusion_matrix"]
    assert block["accuracy"] == ref_block["accuracy"] and block["macro_f1"] == ref_block["macro_f1"]
    assert summary["validation"]["eval_macro_f1"] == pytest.approx(ref_summary["validation"]["eval_macro_f1"], abs=1e-9)
    for a, b in zip(preds, ref_preds):
        assert a["prediction"] == b["prediction"]
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
    StanceClassifier.from_pretrained(run_dir / "model", device="cpu")  # complete, hash verified

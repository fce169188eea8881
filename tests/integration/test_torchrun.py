"""Two processes under torchrun write one run folder, from rank 0, with the single-process shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

from stancekit import StanceClassifier
from stancekit.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


OVERRIDES = [
    "model.max_length=64",
    "train=smoke",
    "train.device=cpu",
    "train.disable_tqdm=true",
    "train.max_steps=6",
    "train.eval_steps=3",
    "train.early_stopping_patience=0",
]


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def key_shape(obj):
    """The structure of a JSON value: dict keys (recursively) and list lengths, not the numbers."""
    if isinstance(obj, dict):
        return {k: key_shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [key_shape(v) for v in obj]
    return type(obj).__name__


def tensors(model_dir: Path) -> dict[str, tuple]:
    with safe_open(model_dir / "model.safetensors", framework="pt") as f:
        return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}


def visible_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def runs(tiny_model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    model = f"model.name_or_path={tiny_model_dir}"
    # Each rank is told a folder of its own, as the clock-based default run folder can do when the ranks
    # start in different seconds: rank 0's must win everywhere, and rank 1 must write nothing of its own.
    ddp = run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "scripts/train.py"]
        + [f"hydra.run.dir={tmp}/ddp-rank${{oc.env:RANK}}", model, *OVERRIDES]
    )
    run([sys.executable, "scripts/train.py", f"hydra.run.dir={tmp}/single", model, *OVERRIDES])
    return tmp, ddp


def test_two_processes_write_once_from_rank_0(runs):
    tmp, ddp = runs
    rank0, rank1, single = tmp / "ddp-rank0", tmp / "ddp-rank1", tmp / "single"
    # Rank 1 leaves only what Hydra itself writes in every process (its config copy and its log).
    assert visible_files(rank1) <= {".hydra", "train.log"}
    assert visible_files(rank0) == visible_files(single)
    assert (rank0 / "model" / "model.safetensors").exists()
    summary = json.loads((rank0 / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_step"] == 6
    assert json.loads((single / "train_summary.json").read_text())["world_size"] == 1
    # Both ranks saved their RNG state into rank 0's checkpoints (needed to resume a 2-process run).
    assert {p.name for p in (rank0 / "checkpoints" / "checkpoint-6").glob("rng_state_*.pth")} == {
        "rng_state_0.pth",
        "rng_state_1.pth",
    }
    # The script's summary is printed once, by rank 0.
    assert ddp.stdout.count("run folder:") == 1


def test_two_process_outputs_have_the_single_process_shape(runs):
    tmp, _ = runs
    rank0, single = tmp / "ddp-rank0", tmp / "single"
    for name in ("metrics.json", "train_summary.json"):
        a = json.loads((rank0 / name).read_text())
        b = json.loads((single / name).read_text())
        assert key_shape(a) == key_shape(b), name
    metrics = json.loads((rank0 / "metrics.json").read_text())
    assert metrics["sets"]["sample"]["n"] == 60, "the test set is scored once, not once per rank"
    assert len((rank0 / "predictions.jsonl").read_text().splitlines()) == 60
    assert tensors(rank0 / "model") == tensors(single / "model")
    clf = StanceClassifier.from_pretrained(rank0 / "model", device="cpu")  # complete, hash verified
    assert len(clf.predict([("the council met .", "the council met .")])) == 1

"""Nothing lost, nothing trusted blindly: skipped rows on disk, truncation counted, resumable checkpoints
chosen with care, one run folder under torchrun, and every sweep trial (failed ones too) in one table.

What is guaranteed and which test covers it: ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .artifacts import write_text_atomic

log = logging.getLogger(__name__)

SKIPPED_ROWS_FILE = "skipped_rows.jsonl"


# ------------------------------------------------------------------------------------------ bad rows
def write_skipped_rows(rows: Sequence[dict[str, Any]], run_dir: str | Path) -> Path | None:
    """Write rows stepped over with ``on_error=skip`` to ``<run_dir>/skipped_rows.jsonl`` (atomically).

    One JSON object per row: ``source``, ``file``, ``line``, ``field``, ``problem`` and ``raw`` (the line as
    read; bytes that were not UTF-8 appear as ``\\udcXX`` escapes). Returns the path, or ``None`` when
    nothing was skipped (no file is written then, so an absent file means a clean read).
    """
    if not rows:
        return None
    path = Path(run_dir) / SKIPPED_ROWS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # ensure_ascii keeps undecodable bytes (lone surrogates) writable as JSON escapes.
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))
    log.warning("%d bad rows skipped (on_error=skip); they are listed in %s", len(rows), path)
    return path


# ------------------------------------------------------------------------------------------ long texts
class TruncationWarning(UserWarning):
    """Some pairs were longer than the model's limit; their premises were truncated (the claim kept whole)."""


def count_over_length(
    tokenizer: Any, premises: Sequence[str], hypotheses: Sequence[str], max_length: int, chunk: int = 2048
) -> int:
    """How many pairs exceed ``max_length`` tokens (special tokens included) and so get truncated.

    Truncation itself is done by :func:`stancekit.modeling.encode_pairs` (premise first); this only counts,
    so that runs can report it instead of cutting text silently.
    """
    over = 0
    for start in range(0, len(premises), chunk):
        enc = tokenizer(
            list(premises[start : start + chunk]),
            list(hypotheses[start : start + chunk]),
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # the tokenizer's own "longer than the maximum" warning; we count instead
        )
        over += sum(len(ids) > max_length for ids in enc["input_ids"])
    return over


def warn_truncated(over: int, total: int, max_length: int) -> int:
    """Warn (:class:`TruncationWarning`) when ``over`` of ``total`` pairs were longer than ``max_length``."""
    if over:
        warnings.warn(
            f"{over} of {total} pairs are longer than {max_length} tokens; their premises were truncated "
            "(the claim is kept whole)",
            TruncationWarning,
            stacklevel=4,  # past predict_logits and its inference_mode wrapper, to its caller
        )
    return over


# ------------------------------------------------------------------------------------------ checkpoints
# A checkpoint is usable only when everything the Trainer writes is there. trainer_state.json is written
# last, so a run killed while saving leaves a folder without it (or with it cut short).
_CHECKPOINT_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "adapter_model.safetensors")


def is_complete_checkpoint(folder: str | Path) -> bool:
    """True when a Trainer checkpoint folder holds weights, optimizer, scheduler and a readable state."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in _CHECKPOINT_FILES):
        return False
    if not any((folder / name).is_file() for name in _WEIGHT_FILES):
        return False
    try:
        json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def last_complete_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The newest complete ``checkpoint-N`` folder, skipping (and logging) any half-written newer one.

    ``transformers.trainer_utils.get_last_checkpoint`` takes the highest number whatever its state, so a
    run killed while writing a checkpoint could not resume; this picks the one before it instead.
    """
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        return None
    steps = []
    for child in folder.iterdir():
        name = child.name
        if child.is_dir() and name.startswith("checkpoint-") and name[len("checkpoint-") :].isdigit():
            steps.append((int(name[len("checkpoint-") :]), child))
    for _, child in sorted(steps, reverse=True):
        if is_complete_checkpoint(child):
            return str(child)
        log.warning("resume: %s is incomplete (the run stopped while writing it); using an older one", child)
    return None


# ------------------------------------------------------------------------------------------ torchrun
def agree_across_ranks(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (identity when not running distributed).

    Under ``torchrun`` every process composes its own Hydra config, so anything that depends on the clock
    (the default run folder ``outputs/train/${now:...}``) or the file system may differ between ranks; the
    run then uses rank 0's choice everywhere. Needs the process group, so call it after the Trainer's
    arguments have set up the devices.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# ------------------------------------------------------------------------------------------ sweeps
try:
    from hydra.experimental.callback import Callback as _HydraCallback
except ImportError:  # pragma: no cover - hydra-core is a dependency; this keeps the module importable anyway
    _HydraCallback = object  # type: ignore[assignment,misc]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


class SweepSummary(_HydraCallback):
    """Hydra callback: every multirun job leaves a ``trial.json``; the sweep folder gets one summary table.

    Works with any sweeper and launcher (the basic one, Optuna, submitit on SLURM): ``on_job_end`` runs
    inside the job and writes ``<job dir>/trial.json`` (overrides, status, objective, error); the table
    ``<sweep dir>/sweep_summary.md`` (and ``.json``) is rebuilt from all of them after each job and once more
    when the sweep ends. A failed trial is a row with its error, not a hole.
    """

    def __init__(self, objective: str = "objective", filename: str = "sweep_summary") -> None:
        self.objective = objective
        self.filename = filename

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        mode = config.hydra.mode  # a RunMode in Hydra's own config
        if getattr(mode, "name", mode) != "MULTIRUN":
            return
        run_dir = Path(config.hydra.runtime.output_dir)
        failed = job_return.status.name == "FAILED"
        value = getattr(job_return, "_return_value", None)
        record: dict[str, Any] = {
            "job": int(config.hydra.job.num),
            "status": job_return.status.name,
            "overrides": list(job_return.overrides or []),
            "objective": None if failed or not isinstance(value, int | float) else float(value),
            "error": f"{type(value).__name__}: {value}" if failed else None,
            "run_dir": str(run_dir),
        }
        summary = _read_json(run_dir / "train_summary.json")
        if summary:
            record["global_step"] = summary.get("global_step")
            record["wall_seconds"] = summary.get("wall_seconds")
        write_text_atomic(run_dir / "trial.json", json.dumps(record, indent=2) + "\n")
        self.write(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        self.write(Path(config.hydra.sweep.dir))

    def write(self, sweep_dir: Path) -> list[dict]:
        """Rebuild the summary from every ``trial.json`` under ``sweep_dir``: best first, failures last."""
        trials = [_read_json(p) for p in sorted(sweep_dir.glob("*/trial.json"))]
        trials = [t for t in trials if t]
        trials.sort(key=lambda t: (t.get("objective") is None, -(t.get("objective") or 0.0), t.get("job", 0)))
        write_text_atomic(sweep_dir / f"{self.filename}.json", json.dumps(trials, indent=2) + "\n")
        write_text_atomic(sweep_dir / f"{self.filename}.md", render_sweep_table(trials, self.objective))
        return trials


def render_sweep_table(trials: Iterable[dict], objective: str = "objective") -> str:
    """A Markdown table of sweep trials (one row each, failed ones with their error).

    Overrides shared by every trial are listed once above the table; each row shows what its trial changed.
    """
    trials = list(trials)
    done = sum(t.get("status") == "COMPLETED" for t in trials)
    lists = [t.get("overrides") or [] for t in trials]
    common = [o for o in lists[0] if all(o in other for other in lists[1:])] if len(lists) > 1 else []
    lines = ["# Sweep summary", "", f"{len(trials)} trials: {done} completed, {len(trials) - done} failed. Best first."]
    if common:
        lines += ["", "Common to all trials: `" + " ".join(common) + "`"]
    lines += [
        "",
        f"| job | status | {objective} | overrides | steps | seconds | run folder | error |",
        "|---:|---|---:|---|---:|---:|---|---|",
    ]
    for t, overrides in zip(trials, lists):
        error = (t.get("error") or "").replace("|", "\\|").replace("\n", " ")
        varied = " ".join(o for o in overrides if o not in common).replace("|", "\\|")
        seconds = round(t["wall_seconds"]) if isinstance(t.get("wall_seconds"), int | float) else None
        lines.append(
            f"| {t.get('job')} | {t.get('status')} | {_fmt(t.get('objective'))} | {varied} | "
            f"{_fmt(t.get('global_step'))} | {_fmt(seconds)} | {os.path.basename(t.get('run_dir', ''))} "
            f"| {error[:300]} |"
        )
    return "\n".join(lines) + "\n"

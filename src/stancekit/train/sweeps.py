"""Every sweep trial (failed ones too) in one table: a Hydra callback that works with any sweeper and
launcher (the basic one, Optuna, submitit on SLURM).

What is guaranteed and which test covers it: ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from ..artifacts import write_json, write_text


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


class SweepSummary(Callback):
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
        write_json(run_dir / "trial.json", record)
        self.write(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        self.write(Path(config.hydra.sweep.dir))

    def write(self, sweep_dir: Path) -> list[dict]:
        """Rebuild the summary from every ``trial.json`` under ``sweep_dir``: best first, failures last."""
        trials = [_read_json(p) for p in sorted(sweep_dir.glob("*/trial.json"))]
        trials = [t for t in trials if t]
        trials.sort(key=lambda t: (t.get("objective") is None, -(t.get("objective") or 0.0), t.get("job", 0)))
        write_json(sweep_dir / f"{self.filename}.json", trials)
        write_text(sweep_dir / f"{self.filename}.md", render_sweep_table(trials, self.objective))
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

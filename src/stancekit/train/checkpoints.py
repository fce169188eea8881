"""Resuming safely and running under ``torchrun``: the newest checkpoint that was written completely, and
values every rank must agree on (rank 0's)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch.distributed as dist

log = logging.getLogger(__name__)

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


def agree_across_ranks(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (identity when not running distributed).

    Under ``torchrun`` every process composes its own Hydra config, so anything that depends on the clock
    (the default run folder ``outputs/train/${now:...}``) or the file system may differ between ranks; the
    run then uses rank 0's choice everywhere. Needs the process group, so call it after the Trainer's
    arguments have set up the devices.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]

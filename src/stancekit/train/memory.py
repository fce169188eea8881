"""Training memory on CPUs: the allocator and kernel-cache settings that keep a run's resident memory from
growing with every new batch shape, and releasing what only training needs once it is over.

Why it matters: length-grouped batches give nearly every step its own tensor shapes, and glibc's heap and
oneDNN's per-shape kernel cache both keep memory for shapes that never come back. What each setting saves
is measured in docs/performance.md.
"""

from __future__ import annotations

import gc

from transformers import Trainer, TrainerCallback

# The allocator and kernel-cache limits live in stancekit.system (the server sets them too); re-exported here.
from ..system import glibc, limit_heap_growth, limit_kernel_cache  # noqa: F401


class HeapTrimCallback(TrainerCallback):
    """Every ``every`` optimiser steps, return the heap's free pages to the OS (glibc ``malloc_trim``).

    Why: the mmap threshold (:func:`limit_heap_growth`) only covers large tensors; the many smaller ones of
    ever-changing batch shapes leave free but resident holes in the heap, and over an epoch those add up.
    ``malloc_trim(0)`` releases every free page, not only the heap's top, at the end of a step when the
    batch's activations are gone.
    """

    def __init__(self, every: int):
        if every <= 0:
            raise ValueError(f"train.malloc_trim_steps must be positive or null, got {every}")
        self.every = every
        self.libc = glibc()

    def on_step_end(self, args, state, control, **kwargs):
        if self.libc is not None and state.global_step % self.every == 0:
            self.libc.malloc_trim(0)


def release_training_memory(trainer: Trainer) -> None:
    """Drop what only training needs (optimiser state, gradients) and return freed heap pages to the OS.

    After training the run still calibrates, saves and scores every test set; AdamW's two moments and the
    gradients are three times the weights' size and would stay alive through all of it. glibc's
    ``malloc_trim`` hands the freed pages back (a no-op elsewhere), so the evaluation that follows does not
    stack its memory on top of training's.
    """
    trainer.accelerator.free_memory()  # accelerate's references to the prepared optimiser and scheduler
    trainer.optimizer = trainer.lr_scheduler = None
    trainer.callback_handler.optimizer = trainer.callback_handler.lr_scheduler = None
    trainer.model.zero_grad(set_to_none=True)
    gc.collect()
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)

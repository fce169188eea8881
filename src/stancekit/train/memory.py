"""Training memory on CPUs: the allocator and kernel-cache settings that keep a run's resident memory from
growing with every new batch shape, and releasing what only training needs once it is over.

Why it matters: length-grouped batches give nearly every step its own tensor shapes, and glibc's heap and
oneDNN's per-shape kernel cache both keep memory for shapes that never come back. What each setting saves
is measured in docs/performance.md.
"""

from __future__ import annotations

import gc
import os

from transformers import Trainer, TrainerCallback

from ..system import glibc


def limit_heap_growth(threshold_mb: float | None) -> bool:
    """Make glibc serve allocations of ``threshold_mb`` MB or more by ``mmap``; return whether it applied.

    Why: with length-grouped batches every step has its own tensor shapes. glibc's default raises its mmap
    threshold after the first large free, so later activations come from the heap, and the freed blocks of
    the long batches stay there, fragmented: on nli_mix this added ~0.6 GB to the peak resident memory
    (bench/train.py; docs/performance.md). Above a fixed threshold, a freed tensor is unmapped at once. A
    no-op (False) off glibc (macOS, Windows, musl) or with ``None``.
    """
    if threshold_mb is not None and threshold_mb <= 0:
        raise ValueError(f"train.malloc_mmap_threshold_mb must be positive or null, got {threshold_mb}")
    libc = glibc()
    if threshold_mb is None or libc is None:
        return False
    m_mmap_threshold = -3  # from <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, int(threshold_mb * 1024 * 1024)))


def limit_kernel_cache(capacity: int | None) -> bool:
    """Cap oneDNN's primitive cache at ``capacity`` entries; return whether this call set it.

    Why: on CPUs, bf16 (autocast) matrix products run through oneDNN, which builds and caches a primitive,
    with its own scratch memory, for every input shape it meets (1,024 by default). Length-grouped batches
    bring a new shape nearly every step, so that cache alone grew the training process by ~0.2 GB within 100
    steps on nli_mix (bench/train.py --phases; docs/performance.md). oneDNN reads
    ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` when it builds its first primitive, so this must run before the
    process's first bf16 matrix product; a value already in the environment (the user's) is left alone.
    """
    if capacity is not None and capacity < 0:  # checked first: a bad config is an error even when unused
        raise ValueError(f"train.onednn_cache_capacity must be >= 0 or null, got {capacity}")
    if capacity is None or "ONEDNN_PRIMITIVE_CACHE_CAPACITY" in os.environ:
        return False
    os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(capacity)
    return True


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

"""The machine: which device to use, how many CPU threads, whether bf16 is native, the allocator, memory.

Training and inference both read these facts, so they live here once.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions that need it, so that reading memory or the allocator (benchmark
# baselines do) does not load it.


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple's MPS, then the CPU."""
    import torch

    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX), where bf16 autocast pays off.

    On such CPUs (Intel Cooper Lake / Sapphire Rapids and later, AMD Zen 4 and later) bf16 runs the matrix
    products of training and inference markedly faster than fp32; elsewhere bf16 is emulated and slower
    than fp32. Used by training's and the wrapper's ``precision="auto"``.
    """
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, so looked up defensively
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def default_num_threads() -> int:
    """Physical CPU cores this process may use: the sensible intra-op thread count for CPU inference.

    Hyper-threads share one core's arithmetic units, so more threads than physical cores slow a transformer
    down; a CPU affinity mask (taskset, containers) lowers the count further.
    """
    import psutil

    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else physical
    return max(1, min(physical, allowed))


def glibc() -> Any:
    """The C library when it is glibc (Linux), for its allocator controls (``mallopt``, ``malloc_trim``)."""
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


def peak_rss_mb() -> float:
    """This process's resident-memory high-water mark in MiB, on Linux, macOS and Windows.

    Linux: ``VmHWM`` of /proc/self/status, which belongs to this program's own address space. ``ru_maxrss``
    would not do there: it carries over the parent's RSS at fork time through exec, so a child process would
    report at least its parent's peak. macOS: ``ru_maxrss`` (bytes). Windows (no ``resource`` module):
    psutil's peak working set.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        import psutil

        info = psutil.Process().memory_info()
        return getattr(info, "peak_wset", info.rss) / (1024 * 1024)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def limit_heap_growth(threshold_mb: float | None, setting: str = "train.malloc_mmap_threshold_mb") -> bool:
    """Make glibc serve allocations of ``threshold_mb`` MB or more by ``mmap``; return whether it applied.

    Why: with length-grouped batches every step has its own tensor shapes. glibc's default raises its mmap
    threshold after the first large free, so later activations come from the heap, and the freed blocks of
    the long batches stay there, fragmented: on nli_mix this added ~0.6 GB to the peak resident memory
    (bench/train.py; docs/performance.md). Above a fixed threshold, a freed tensor is unmapped at once. A
    no-op (False) off glibc (macOS, Windows, musl) or with ``None``.
    """
    if threshold_mb is not None and threshold_mb <= 0:
        raise ValueError(f"{setting} must be positive or null, got {threshold_mb}")
    libc = glibc()
    if threshold_mb is None or libc is None:
        return False
    m_mmap_threshold = -3  # from <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, int(threshold_mb * 1024 * 1024)))


# oneDNN's own variable for its per-shape kernel cache: what limit_kernel_cache sets and kernel_cache_capacity reads.
KERNEL_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"


def limit_kernel_cache(capacity: int | None, setting: str = "train.onednn_cache_capacity") -> bool:
    """Cap oneDNN's primitive cache at ``capacity`` entries; return whether this call set it.

    Why: on CPUs, bf16 (autocast) matrix products run through oneDNN, which builds and caches a primitive,
    with its own scratch memory, for every input shape it meets (1,024 by default). Length-grouped batches
    bring a new shape nearly every step, so that cache alone grew the training process by ~0.2 GB within 100
    steps on nli_mix (bench/train.py --phases; docs/performance.md). oneDNN reads
    ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` when it builds its first primitive, so this must run before the
    process's first bf16 matrix product; a value already in the environment (the user's) is left alone.
    """
    if capacity is not None and capacity < 0:  # checked first: a bad config is an error even when unused
        raise ValueError(f"{setting} must be >= 0 or null, got {capacity}")
    if capacity is None or KERNEL_CACHE_ENV in os.environ:
        return False
    os.environ[KERNEL_CACHE_ENV] = str(capacity)
    return True


def kernel_cache_capacity() -> int | None:
    """The per-shape kernel cache capacity this process runs with (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``, as
    :func:`limit_kernel_cache` or the user set it), or None for the libraries' defaults. The OpenVINO
    backends apply it to their CPU plugin's cache of the same kind."""
    value = os.environ.get(KERNEL_CACHE_ENV, "").strip()
    if not value:
        return None
    try:
        capacity = int(value)
    except ValueError:
        raise ValueError(f"{KERNEL_CACHE_ENV} must be a whole number, not {value!r}") from None
    if capacity < 0:
        raise ValueError(f"{KERNEL_CACHE_ENV} must be >= 0, not {value!r}")
    return capacity

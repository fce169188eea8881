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

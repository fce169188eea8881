"""The few operating-system facts stancekit reads: glibc's allocator controls and peak memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def glibc() -> Any:
    """The C library when it is glibc (Linux), for its allocator controls (``mallopt``, ``malloc_trim``)."""
    import ctypes
    import platform

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

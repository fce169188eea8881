"""The machine facts stancekit reads."""

from __future__ import annotations

import numpy as np


def test_peak_memory_is_this_process_high_water_mark():
    from stancekit.system import peak_rss_mb

    before = peak_rss_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    assert peak_rss_mb() >= before and peak_rss_mb() > 64
    del block

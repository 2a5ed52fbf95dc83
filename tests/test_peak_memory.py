"""Per-run peak memory on CPU (not the process-wide high-water mark)."""

from __future__ import annotations

import numpy as np

from adapterx.training import PeakRSS


def test_peak_rss_sees_an_allocation_inside_the_block_only():
    big = np.ones(64 * 2**20 // 8)  # 64 MiB, touched, then freed before the measured block
    del big
    with PeakRSS(interval=0.01) as before:
        pass
    with PeakRSS(interval=0.01) as during:
        block = np.ones(256 * 2**20 // 8)  # 256 MiB, touched
        import time

        time.sleep(0.2)  # let the sampler see it
        del block
    assert during.peak_mb > before.peak_mb + 150
    with PeakRSS(interval=0.01) as after:
        pass
    assert after.peak_mb < during.peak_mb - 150  # a later run does not inherit the earlier peak

"""Sums of a few plain floats exactly as numpy sums them, for hot paths on tiny arrays.

numpy's ``add.reduce`` on a contiguous float64 array of ``n <= 128`` values adds them one by
one when ``n < 8``; otherwise it keeps eight running sums (values 0-7, then 8-15, ... added in
turn), combines them pairwise and adds the remaining ``n % 8`` values one by one. Either way
the total is added to 0.0 (add's identity). :func:`numpy_sum` does the same additions in the
same order on a list, so results match numpy's to the last bit without its per-call cost.
"""

from __future__ import annotations

from collections.abc import Sequence


def numpy_sum(values: Sequence[float]) -> float:
    """``float(np.add.reduce(np.array(values)))`` for up to 128 floats, in plain Python."""
    n = len(values)
    if n < 8:
        total = 0.0
        for v in values:
            total += v
        return total
    if n > 128:
        raise ValueError("numpy_sum: numpy splits more than 128 values into blocks")
    r0, r1, r2, r3, r4, r5, r6, r7 = values[:8]
    end = n - n % 8
    for k in range(8, end, 8):
        r0 += values[k]
        r1 += values[k + 1]
        r2 += values[k + 2]
        r3 += values[k + 3]
        r4 += values[k + 4]
        r5 += values[k + 5]
        r6 += values[k + 6]
        r7 += values[k + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for k in range(end, n):
        total += values[k]
    return 0.0 + total

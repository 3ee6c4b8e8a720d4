"""numpy_sum adds like numpy's sum, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from dealersim.model.sums import numpy_sum


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 8, 9, 12, 14, 15, 16, 17, 31, 64, 100, 128])
def test_numpy_sum_matches_numpy(n):
    rng = np.random.default_rng(n)
    for _ in range(500):
        a = rng.normal(size=n) * 10.0 ** rng.integers(-3, 8, size=n)
        a[rng.random(n) < 0.2] = 0.0
        if rng.random() < 0.05:
            a[:] = -0.0
        got, want = numpy_sum(a.tolist()), float(np.add.reduce(a))
        assert got == want and np.signbit(got) == np.signbit(want)


def test_numpy_sum_refuses_long_lists():
    with pytest.raises(ValueError):
        numpy_sum([1.0] * 129)

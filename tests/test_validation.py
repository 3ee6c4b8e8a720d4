"""The story's patterns P1-P9, each checked with 100 replicates at 4, 8 and 12 reps.

Tolerance: each check compares the point estimate over 100 replicates (fixed master seed,
common random numbers) with the issue's target band; the Wilson 95 % interval is in the message.
"""

from __future__ import annotations

import pytest

from dealersim.studies.validation import CHECKS, SIZES, validate

pytestmark = pytest.mark.validation

REPLICATES = 100


@pytest.fixture(scope="module")
def outcomes():
    results = validate(REPLICATES, SIZES, workers=2)
    return {(o.check.pattern, o.check.what, o.n_reps): o for o in results}


@pytest.mark.parametrize("n_reps", SIZES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.pattern}-{c.what}")
def test_pattern(outcomes, check, n_reps):
    o = outcomes[(check.pattern, check.what, n_reps)]
    where = f"{check.pattern} {check.what} at {n_reps} reps"
    assert o.passed, f"{where}: {o.text}, target {check.target}"

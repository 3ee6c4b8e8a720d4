"""Shared fixtures and Hypothesis settings for the dealersim test suite.

Hypothesis profiles (pick one with ``HYPOTHESIS_PROFILE=<name>``):

* ``dev`` (default): random examples, no deadline (model runs vary in length).
* ``ci``: the same, derandomized, so a CI failure reproduces on every rerun.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

STORY_SEEDS = tuple(range(6))
"""Seeds of the full-length (default 3-year) story runs shared by the story tests."""


@pytest.fixture(scope="session")
def story_runs():
    """Full-length runs of the overlay and planned strategies for ``STORY_SEEDS``.

    Returns:
        ``{(strategy, seed): RunResult}``, computed once per session.
    """
    from dealersim.model.results import simulate

    return {
        (strategy, seed): simulate(strategy, seed=seed)
        for strategy in ("overlay", "planned")
        for seed in STORY_SEEDS
    }


@pytest.fixture
def assert_one_line_error() -> Callable[..., str]:
    """Return a checker: ``check(excinfo, *must_contain)`` for a raised ``ValueError``.

    The checker asserts that the exception is a ``ValueError`` whose message is exactly one
    non-empty line and contains every string in ``must_contain``; it returns the message.
    """

    def check(excinfo: pytest.ExceptionInfo, *must_contain: str | Iterable[str]) -> str:
        assert excinfo.type is ValueError, f"expected ValueError, got {excinfo.type.__name__}"
        message = str(excinfo.value)
        assert message.strip(), "empty error message"
        assert "\n" not in message and "\r" not in message, f"multi-line message: {message!r}"
        for needle in must_contain:
            needles = [needle] if isinstance(needle, str) else list(needle)
            for n in needles:
                assert n in message, f"{n!r} not in error message {message!r}"
        return message

    return check

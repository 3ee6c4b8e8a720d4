"""Launch strategies: named ``Params`` presets.

Each preset is a function whose docstring says what a dealership actually does under it; the
function returns the overrides it applies to the ``Params`` defaults (which describe the story's
dealership). ``make_params`` combines a preset with further overrides.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from dealersim.params import Params, check_names

_REGISTRY: dict[str, Callable[[], dict[str, Any]]] = {}


def strategy(func: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Register a preset under its function name."""
    _REGISTRY[func.__name__] = func
    return func


@strategy
def hardware_only() -> dict[str, Any]:
    """No managed-services program: the baseline.

    The dealership keeps fighting the hardware price war with its reps alone. No specialist is
    hired and reps do not sell managed services; the account base erodes at lease ends.
    """
    return {"specialist_seats": 0, "rep_managed_selling": 0.0, "open_territory": False}


@strategy
def overlay() -> dict[str, Any]:
    """The story's launch: a specialist overlaid on an unprepared team.

    No announcement, no rules of engagement, no credit for reps, a manager who keeps the peace
    (and so imposes "ask the rep before you call" after the first complaints), an owner focused on
    today who points to the open hardware territory, a 90-day quota with a salary cut and a
    30-day extension, and two specialists who already failed in the seat. These are the
    ``Params`` defaults.
    """
    return {}


@strategy
def planned() -> dict[str, Any]:
    """The author's prescription: objectives defined and driven through the team before launch.

    The owner announces the role and its objectives before hiring, writes rules of engagement,
    gives reps double credit on managed deals in their accounts, trains them to spot
    opportunities, and steps in before launch; the sales manager leads (joint account planning,
    coaching); the specialist gets no hardware territory to fall back on and a quota that ramps
    over the sales cycle, reviewed first at six months.
    """
    return {
        "announce_before_launch": True,
        "rules_of_engagement": True,
        "credit_policy": "double",
        "rep_training": 0.6,
        "manager_leadership": 0.9,
        "owner_today_priority": 0.3,
        "intervention": "before_launch",
        "open_territory": False,
        "quota_ramp_days": 90,
        "first_milestone_day": 180,
    }


def strategy_names() -> list[str]:
    """Names of all registered strategies, in registration order."""
    return list(_REGISTRY)


def strategy_overrides(name: str) -> dict[str, Any]:
    """The field overrides of strategy ``name``.

    Raises:
        ValueError: One line naming the unknown strategy and the known ones.
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"strategy: {name!r} is unknown; expected one of {', '.join(_REGISTRY)}"
        )
    return dict(_REGISTRY[name]())


def strategy_doc(name: str) -> str:
    """The docstring of strategy ``name``, cleaned."""
    strategy_overrides(name)
    return inspect.cleandoc(_REGISTRY[name].__doc__ or "")


def make_params(strategy: str = "overlay", **overrides: Any) -> Params:
    """Build validated ``Params`` from a strategy preset plus field overrides.

    Args:
        strategy: A registered strategy name.
        **overrides: Field values that win over the preset.

    Returns:
        The validated parameters.

    Raises:
        ValueError: One line for an unknown strategy or field, or a value out of range.
    """
    check_names(overrides)
    return Params(**{**strategy_overrides(strategy), **overrides})

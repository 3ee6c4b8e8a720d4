"""Launch strategies: named ``Params`` presets.

Each preset is a function whose docstring says what a dealership actually does under it; the
function returns the overrides it applies to the ``Params`` defaults (which describe the story's
dealership). ``make_params`` combines a preset with further overrides.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from dealersim.model.params import Params, check_names, shown

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

    A surprise launch, no rules of engagement, no credit for reps, a manager who keeps the peace
    (and so imposes "ask the rep before you call" after the first complaints), an owner focused on
    today who points to the open hardware territory, a 90-day quota with a salary cut and a
    30-day extension, and two specialists who already failed in the seat. These are the
    ``Params`` defaults.
    """
    return {}


@strategy
def planned() -> dict[str, Any]:
    """The author's prescription: objectives defined and driven through the team before launch.

    The owner announces the role and works out its objectives with every rep before hiring
    (``intervention`` = before_launch: no launch surprise, walls down, focus on the future, and
    he steps in again on every conflict), writes rules of engagement (calls into a rep's book
    are agreed, no ask-permission detour), gives reps double credit on managed deals in their
    accounts (they earn ``rep_credit_share`` of the commission while the specialist keeps full
    quota credit) and trains them to spot opportunities; the sales manager leads (joint account
    planning, coaching, stepping in); the specialist gets no hardware territory to fall back on
    and a quota that ramps over the sales cycle, reviewed first at six months. Each lever
    acts in one place (see docs/model.md); no single one is enough (pattern P9).
    """
    return {
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


@strategy
def rep_led() -> dict[str, Any]:
    """Retrain the hardware reps to sell managed services themselves; no specialist.

    The owner sends every rep through managed-print training (``rep_training`` 1), has them
    pitch managed services at the renewals they keep (``rep_managed_selling`` 0.5: at half of
    them), and pays full (double) credit on managed deals in their own books. No specialist is
    hired and there is no open hardware territory. The evidence says this works poorly: a copier
    rep closes managed deals at a fraction of a specialist's rate (``rep_managed_effectiveness``,
    Service Leadership 2016), and only at renewals. With no specialist, the credit policy only
    matters through the commissions paid on each deal.
    """
    return {
        "specialist_seats": 0,
        "rep_managed_selling": 0.5,
        "rep_training": 1.0,
        "credit_policy": "double",
        "open_territory": False,
    }


@strategy
def hunter() -> dict[str, Any]:
    """The specialist hunts a separate territory: competitor-held accounts only.

    The owner draws a line: our own customers stay with the hardware reps, the specialist may
    call only accounts a competitor holds (``specialist_territory`` = competitor_only). Every
    other lever is as in the overlay (a surprise launch, no credit, a peace-keeping manager, the
    open hardware territory, the 90-day quota). The specialist never calls into a rep's book, so
    walls rise only from the surprise launch, but all his prospecting is cold and reps offer no
    intros.
    """
    return {"specialist_territory": "competitor_only"}


@strategy
def comp_only() -> dict[str, Any]:
    """Fix the comp plan and nothing else: double credit for reps on managed deals.

    The owner changes only the pay plan: a rep gets full credit (and commission) on every
    managed deal closed in his accounts while the specialist keeps full quota credit (double
    credit, ``credit_policy`` = double). A surprise launch, no rules of engagement, the manager
    still keeps the peace, the owner still shrugs, and the overlay's quota and hardware fallback
    stay.
    """
    return {"credit_policy": "double"}


@strategy
def leadership_only() -> dict[str, Any]:
    """A sales manager who leads, with written rules of engagement, but no comp change.

    The manager runs joint account planning, coaches the most protective reps and steps in on
    conflicts (``manager_leadership`` at the planned preset's value); written rules say who
    calls which accounts and how reps are kept informed (``rules_of_engagement``), so there is
    no ask-permission detour. Reps still get no credit on managed deals, and the owner's other
    levers (preparing the team before the launch, training, quota ramp, no hardware fallback)
    stay as in the overlay.
    """
    return {"manager_leadership": planned()["manager_leadership"], "rules_of_engagement": True}


@strategy
def mandate() -> dict[str, Any]:
    """The owner orders access to the accounts, with no comp change: compliance on paper.

    A memo from the owner: the specialist may call any account and the reps must cooperate
    (``rules_of_engagement``: no permission calls, smaller wall rises per call), and the owner
    steps in when conflicts pile up or the specialist asks for help (``intervention`` =
    reactive). Reps get no credit and the manager still keeps the peace, so reps comply on paper
    but have little reason to bring the specialist in: warm intros depend on a rep's motivation,
    which comes from credit and joint planning, so there are few.
    """
    return {"rules_of_engagement": True, "intervention": "reactive"}


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


_CODE = re.compile(r"\s*\([^()]*``[^()]*\)|``")
"""Parenthetical remarks that name code (``field``), then any remaining double backticks."""


def strategy_title(name: str) -> str:
    """A plain title for strategy ``name``: its docstring's first line up to a colon.

    Example: ``planned`` -> "The author's prescription".
    """
    first = strategy_doc(name).split("\n")[0].rstrip(".")
    return re.split(r"[:;]", first, maxsplit=1)[0].strip()


def strategy_line(name: str) -> str:
    """One plain line on what strategy ``name`` does, from its docstring, without code names.

    The rest of the first line after the title, capitalised; when that is under four words,
    followed by the first sentence of the next paragraph; parenthetical code references removed.
    """
    doc = strategy_doc(name)
    first = doc.split("\n")[0].rstrip(".")
    parts = re.split(r"[:;]", first, maxsplit=1)
    text = parts[1].strip() if len(parts) == 2 else ""
    if len(text.split()) < 4:  # too short to say what happens: add the next paragraph's lead
        body = doc.split("\n\n")[1] if "\n\n" in doc else ""
        lead = body.replace("\n", " ").split(". ")[0].rstrip(".")
        text = f"{text.capitalize()}. {lead}" if text else lead
    text = _CODE.sub("", text).strip()
    return text[:1].upper() + text[1:] + "." if text else ""


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


def model_params(strategy: str, overrides: dict[str, Any]) -> Params:
    """The parameters a model starts from: a preset with overrides, or a complete ``params=``.

    ``overrides["params"]`` (a complete ``Params``) replaces the ``strategy`` preset; the other
    overrides are applied to whichever it is.

    Raises:
        ValueError: One line for an unknown strategy, field or value out of range.
    """
    if not isinstance(strategy, str) or strategy not in strategy_names():
        raise ValueError(f"strategy: {shown(strategy)} is unknown; "
                         f"expected one of {', '.join(strategy_names())}")
    overrides = dict(overrides)
    params = overrides.pop("params", None)
    if params is not None and not isinstance(params, Params):
        raise ValueError(f"params: {shown(params)} is not allowed; expected a Params object")
    if params is None:
        return make_params(strategy, **overrides)
    return params.replace(**overrides) if overrides else params

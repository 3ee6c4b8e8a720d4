"""EMA Workbench adapter: the dealership model as an ``ema_workbench.Model``.

Uncertainties, levers and outcomes are generated from ``Params`` metadata and the KPI registry
(``dealersim.model.kpis.SUMMARY``); nothing is typed twice. By default the **levers** are what
the dealership decides (fields in the ``owner``, ``comp plan`` and ``sales manager`` groups) and
the **uncertainties** are the numeric fields graded U or C (an estimate, or a blog or vendor
source: see the evidence page) that it does not decide (market, reps, specialist). Install the
extra first: ``pip install 'dealersim[ema]'``.

Example:
    >>> from ema_workbench import SequentialEvaluator, perform_experiments  # doctest: +SKIP
    >>> from dealersim.adapters.ema import make_model
    >>> model = make_model("overlay", years=1)                              # doctest: +SKIP
    >>> experiments, outcomes = perform_experiments(model, 8, 2)       # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dealersim.model.kpis import SUMMARY_KEYS
from dealersim.model.params import FieldSpec, field_specs, spec
from dealersim.model.strategies import strategy_overrides
from dealersim.studies.engine import RunSpec, run_one

try:
    import ema_workbench as _ema
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "dealersim.adapters.ema needs the EMA Workbench: pip install 'dealersim[ema]'"
    ) from exc

LEVER_GROUPS = ("owner", "comp plan", "sales manager")
"""``Params`` groups whose fields the dealership decides (levers); the rest are uncertainties."""
DEFAULT_OUTCOMES: tuple[str, ...] = SUMMARY_KEYS
"""Every summary KPI of the registry, as a ``ScalarOutcome`` (yes/no as 1/0, undefined as NaN)."""


def parameter(field: FieldSpec | str, low: float | None = None,
              high: float | None = None) -> Any:
    """The EMA parameter for a ``Params`` field (bounds from its metadata unless narrowed).

    Args:
        field: The field or its name.
        low: Optional narrower lower bound (checked against the field).
        high: Optional narrower upper bound (checked against the field).

    Raises:
        ValueError: One line for a bound outside the field's range.
    """
    fs = spec(field) if isinstance(field, str) else field
    if fs.kind == "bool":
        return _ema.BooleanParameter(fs.name, default=fs.default)
    if fs.kind == "choice":
        return _ema.CategoricalParameter(fs.name, list(fs.choices or ()), default=fs.default)
    lo = fs.coerce(low) if low is not None else fs.coerce(fs.low)
    hi = fs.coerce(high) if high is not None else fs.coerce(fs.high)
    if fs.kind == "int":
        return _ema.IntegerParameter(fs.name, int(lo), int(hi), default=fs.default)
    return _ema.RealParameter(fs.name, float(lo), float(hi), default=fs.default)


def default_levers() -> list[str]:
    """Fields the dealership decides: every field in ``LEVER_GROUPS``."""
    return [s.name for s in field_specs() if s.group in LEVER_GROUPS]


def default_uncertainties(grades: Sequence[str] = ("U", "C")) -> list[str]:
    """Numeric fields graded in ``grades`` that are not levers (and not the horizon)."""
    return [s.name for s in field_specs()
            if s.kind in ("int", "float") and s.grade in grades
            and s.group not in (*LEVER_GROUPS, "simulation")]


def run_experiment(strategy: str = "overlay", seed: int = 0, years: float | None = None,
                   outcome_names: Sequence[str] = DEFAULT_OUTCOMES, **params: Any) -> dict:
    """Run the model once for EMA and return the outcomes as floats (NaN when undefined).

    Picklable, so it also works with ``MultiprocessingEvaluator``.
    """
    params = {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}
    if years is not None:
        params["years"] = years
    row, _ = run_one(RunSpec("ema", strategy, int(seed), tuple(params.items())))
    return {k: (math.nan if row[k] is None else float(row[k])) for k in outcome_names}


def make_model(
    strategy: str = "overlay",
    *,
    uncertainties: Sequence[str] | dict[str, tuple[float, float]] | None = None,
    levers: Sequence[str] | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    seed: int = 0,
    years: float | None = None,
    name: str = "dealersim",
) -> Any:
    """The dealership model as an ``ema_workbench.Model``.

    Args:
        strategy: Base strategy preset; fields that are neither uncertainties nor levers keep
            its values.
        uncertainties: Field names (full ``Params`` bounds) or ``{name: (low, high)}`` to
            narrow them (default: :func:`default_uncertainties`).
        levers: Field names (default: :func:`default_levers`).
        outcomes: Summary KPIs to report (``ScalarOutcome``s).
        seed: Seed of every run (common random numbers across experiments; use EMA's
            ``ReplicatorModel`` or vary it yourself for replicates).
        years: Horizon (default: the ``years`` parameter).
        name: The EMA model name (an identifier).

    Raises:
        ValueError: One line for an unknown field or KPI, or a bound outside the field's range.
    """
    strategy_overrides(strategy)
    if uncertainties is None:
        uncertainties = default_uncertainties()
    bounds = dict(uncertainties) if isinstance(uncertainties, dict) else {
        u: (None, None) for u in uncertainties}
    levers = default_levers() if levers is None else list(levers)
    overlap = set(bounds) & set(levers)
    if overlap:
        raise ValueError(f"{sorted(overlap)[0]}: both an uncertainty and a lever; pick one")
    for k in outcomes:
        if k not in SUMMARY_KEYS:
            raise ValueError(f"outcomes: {k!r} is not a summary KPI; expected one of "
                             + ", ".join(SUMMARY_KEYS))
    model = _ema.Model(name, function=run_experiment)
    model.uncertainties = [parameter(n, *b) for n, b in bounds.items()]
    model.levers = [parameter(n) for n in levers]
    model.outcomes = [_ema.ScalarOutcome(k) for k in outcomes]
    constants = [_ema.Constant("strategy", strategy), _ema.Constant("seed", int(seed)),
                 _ema.Constant("outcome_names", tuple(outcomes))]
    if years is not None:
        constants.append(_ema.Constant("years", spec("years").coerce(years)))
    model.constants = constants
    return model

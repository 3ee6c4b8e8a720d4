"""Scenario discovery: under which conditions does a strategy (the overlay) still succeed?

The cases are either a calibration's posterior (``strategy`` is run once on each of ``runs``
parameter sets drawn from it, replicate *i* drawing with ``seed_for(seed, i)``) or a finished
sweep (its factors and its runs). The outcome of interest is ``launch_succeeded``. PRIM (the
Patient Rule Induction Method, Friedman & Fisher 1999, as the EMA Workbench implements it for
scenario discovery, Bryant & Lempert 2010; Kwakkel 2017) peels the parameter space down to a box
where successes are dense; CART (scikit-learn's decision tree) is the alternative. A box is
reported as the field reports it:

* **coverage**: the share of all successes that fall inside the box;
* **density**: the share of cases inside the box that succeed;
* **mass**: the share of all cases inside the box.

From PRIM's peeling trajectory the box kept is the one with the highest coverage among those
whose density reaches ``threshold`` and that restrict at most :data:`MAX_DIMENSIONS` parameters
(few conditions an owner can read), else the densest box.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dealersim.base.extras import need
from dealersim.base.io import atomic_dir
from dealersim.model.params import check_seed, field_specs, spec
from dealersim.model.strategies import strategy_names, strategy_overrides
from dealersim.studies.engine import RunSpec, collect_rows, execute, replicate_seeds
from dealersim.studies.posterior import draw, load_posterior, parameter_names
from dealersim.studies.sweeps import SpecError, load_sweep_spec, read_runs

DISCOVER_RUNS = 400
"""Runs on posterior draws by default (PRIM needs a few dozen successes)."""
MAX_RUNS = 100_000
MAX_DIMENSIONS = 3
"""At most this many conditions in a reported box."""
OUTCOME = "launch_succeeded"


class DiscoverError(ValueError):
    """A bad source or option (one line naming it)."""


@dataclass(frozen=True)
class Box:
    """One box: its conditions and how it scores.

    Attributes:
        conditions: ``(parameter, low, high)`` for every restricted parameter (``None``: the
            side is not restricted).
        coverage: Share of all successes inside the box.
        density: Share of the cases inside the box that succeed.
        mass: Share of all cases inside the box.
    """

    conditions: tuple[tuple[str, float | None, float | None], ...]
    coverage: float
    density: float
    mass: float

    def describe(self) -> str:
        """The conditions in words ("specialist skill above 1.12 and ...")."""
        parts = []
        for name, low, high in self.conditions:
            label = spec(name).label.lower() if name in _FIELDS else name
            if low is not None and high is not None:
                parts.append(f"{label} between {low:.3g} and {high:.3g}")
            elif low is not None:
                parts.append(f"{label} above {low:.3g}")
            elif high is not None:
                parts.append(f"{label} below {high:.3g}")
        return " and ".join(parts) or "anywhere (no restriction found)"


@dataclass
class Discovery:
    """The cases and the boxes found."""

    source: str
    strategy: str
    method: str
    cases: pd.DataFrame
    inputs: list[str]
    boxes: list[Box] = field(default_factory=list)
    threshold: float = 0.5

    @property
    def base_rate(self) -> float:
        """Share of all cases that succeed."""
        return float(self.cases[OUTCOME].mean())

    def sentences(self) -> list[str]:
        """The finding in plain sentences."""
        what = "plausible dealerships (parameter sets drawn from the posterior)" \
            if "draw" in self.cases else "cases of the sweep"
        out = [f"{self.strategy} succeeds in {_pct(self.base_rate)} of {len(self.cases)} "
               f"{what}."]
        if not self.boxes:
            out.append("No condition was found under which it succeeds more often "
                       f"(too few successes: {int(self.cases[OUTCOME].sum())}).")
        for b in self.boxes:
            if b.density < self.threshold:
                out.append(f"No box of at most {MAX_DIMENSIONS} conditions reaches a density of "
                           f"{_pct(self.threshold)}; the densest found:")
            out.append(f"It succeeds in {_pct(b.density)} of the cases (density) where "
                       f"{b.describe()}; that box holds {_pct(b.coverage)} of all successes "
                       f"(coverage) and {_pct(b.mass)} of all cases (mass).")
        return out

    def table(self) -> pd.DataFrame:
        """One row per box and condition."""
        rows = [dict(box=i, parameter=n, low=lo, high=hi, coverage=b.coverage,
                     density=b.density, mass=b.mass)
                for i, b in enumerate(self.boxes) for n, lo, hi in b.conditions]
        return pd.DataFrame(rows, columns=["box", "parameter", "low", "high", "coverage",
                                           "density", "mass"])


_FIELDS = {f.name for f in field_specs()}


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


@functools.cache
def _prim() -> Any:
    """The EMA Workbench's PRIM, imported on first use (an optional, slow import).

    Raises:
        MissingExtra: The EMA Workbench (the optional extra ``calibrate``) is not installed.
    """
    need("calibrate", "dealersim discover")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim  # optional heavy import (see the docstring)
    return prim


def _posterior_cases(directory: Path, strategy: str, runs: int, seed: int,
                     workers: int) -> tuple[pd.DataFrame, list[str]]:
    posterior = load_posterior(directory)
    names = [n for n in parameter_names(posterior) if n not in strategy_overrides(strategy)]
    specs, picks = [], []
    for i, s in enumerate(replicate_seeds(seed, runs)):
        index, values = draw(posterior, s)
        picks.append((index, values))
        specs.append(RunSpec(f"{i:06d}", strategy, s,
                             tuple(sorted((k, values[k]) for k in names)),
                             labels=(("replicate", i), ("draw", index))))
    rows = collect_rows(execute(specs, workers=workers))
    cases = pd.DataFrame([{**{k: picks[r["replicate"]][1][k] for k in names},
                           "draw": r["draw"], OUTCOME: bool(r[OUTCOME])} for r in rows])
    return cases, names


def _sweep_cases(directory: Path) -> tuple[pd.DataFrame, list[str], str]:
    sweep = load_sweep_spec(directory)
    runs = read_runs(directory)
    names = [f.name for f in sweep.factors
             if pd.api.types.is_numeric_dtype(runs[f.name]) and f.name in runs]
    if not names:
        raise DiscoverError(f"DIR: the sweep in {str(directory)!r} varies no numeric factor; "
                            "expected a sweep over numeric parameters")
    y = runs[OUTCOME].astype("boolean").fillna(False).astype(bool)
    return runs[names].assign(**{OUTCOME: y}), names, sweep.strategy


def _prim_box(cases: pd.DataFrame, names: list[str], threshold: float) -> list[Box]:
    prim = _prim()
    x = cases[names].astype(float).reset_index(drop=True)
    y = cases[OUTCOME].to_numpy(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y, peel_alpha=0.05, mass_min=0.05)
        box = p.find_box()
    if box is None:
        return []
    traj = box.peeling_trajectory
    ok = traj[(traj.density >= threshold) & (traj.res_dim <= MAX_DIMENSIONS)]
    i = int(ok.coverage.idxmax()) if not ok.empty else int(traj.density.idxmax())
    lims, init = box.box_lims[i], p.box_init
    conditions = []
    for n in names:
        lo, hi = float(lims[n].iloc[0]), float(lims[n].iloc[1])
        lo0, hi0 = float(init[n].iloc[0]), float(init[n].iloc[1])
        if lo > lo0 or hi < hi0:
            conditions.append((n, lo if lo > lo0 else None, hi if hi < hi0 else None))
    r = traj.loc[i]
    return [Box(tuple(conditions), float(r.coverage), float(r.density), float(r.mass))]


def _cart_boxes(cases: pd.DataFrame, names: list[str], threshold: float) -> list[Box]:
    """CART leaves whose density reaches ``threshold`` (scikit-learn, imported here: slow)."""
    need("calibrate", "dealersim discover --method cart")
    from sklearn.tree import DecisionTreeClassifier  # heavy import, only for --method cart

    x = cases[names].to_numpy(float)
    y = cases[OUTCOME].to_numpy(int)
    leaf_min = max(5, int(0.05 * len(y)))
    tree = DecisionTreeClassifier(max_depth=MAX_DIMENSIONS, min_samples_leaf=leaf_min,
                                  random_state=0).fit(x, y)
    t = tree.tree_
    leaves = tree.apply(x)
    boxes = []

    def walk(node: int, bounds: dict[str, list[float | None]]) -> None:
        if t.children_left[node] == -1:
            inside = leaves == node
            hits = int(y[inside].sum())
            if inside.any() and hits / inside.sum() >= threshold and y.sum():
                cond = tuple((n, b[0], b[1]) for n, b in bounds.items())
                boxes.append(Box(cond, hits / y.sum(), hits / inside.sum(), inside.mean()))
            return
        n, v = names[t.feature[node]], float(t.threshold[node])
        left = {**bounds, n: [bounds.get(n, [None, None])[0], v]}
        right = {**bounds, n: [v, bounds.get(n, [None, None])[1]]}
        walk(t.children_left[node], left)
        walk(t.children_right[node], right)

    walk(0, {})
    return sorted(boxes, key=lambda b: -b.coverage)


def discover(source: str | Path, *, strategy: str = "overlay", runs: int = DISCOVER_RUNS,
             workers: int = 1, seed: int = 0, threshold: float = 0.5,
             method: str = "prim") -> Discovery:
    """Find the conditions under which ``strategy`` succeeds.

    Args:
        source: A calibration directory (posterior) or a sweep directory.
        strategy: With a calibration: the strategy to run on posterior draws.
        runs: With a calibration: how many runs (one per draw).
        workers: Local worker processes for those runs.
        seed: Master seed of those runs.
        threshold: Minimum density of a reported box (0-1).
        method: ``"prim"`` or ``"cart"``.

    Raises:
        DiscoverError: One line naming the argument and what is allowed.
    """
    source = Path(source)
    if method not in ("prim", "cart"):
        raise DiscoverError(f"--method: {method!r} is not allowed; expected prim or cart")
    if not (isinstance(threshold, float | int) and 0 < threshold <= 1) or \
            (isinstance(threshold, float) and math.isnan(threshold)):
        raise DiscoverError(f"--threshold: {threshold!r} is not allowed; expected a number "
                            "in (0, 1]")
    try:
        seed = check_seed(seed, "--seed")
    except ValueError as exc:
        raise DiscoverError(str(exc)) from None
    if (source / "posterior.parquet").is_file():
        if strategy not in strategy_names():
            raise DiscoverError(f"--strategy: {strategy!r} is unknown; expected one of "
                                f"{', '.join(strategy_names())}")
        if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
            raise DiscoverError(f"--runs: {runs!r} is not allowed; expected an integer in "
                                f"[1, {MAX_RUNS:,}]")
        try:
            cases, names = _posterior_cases(source, strategy, runs, seed, workers)
        except ValueError as exc:
            raise DiscoverError(str(exc)) from None
    elif (source / "manifest.json").is_file():
        try:
            cases, names, strategy = _sweep_cases(source)
        except SpecError as exc:
            raise DiscoverError(str(exc)) from None
    else:
        raise DiscoverError(f"DIR: {str(source)!r} holds neither a calibration nor a sweep; "
                            "expected a directory written by 'dealersim calibrate' or "
                            "'dealersim sweep'")
    found = Discovery(str(source), strategy, method, cases, names, threshold=float(threshold))
    if 0 < int(cases[OUTCOME].sum()) < len(cases):
        finder = _prim_box if method == "prim" else _cart_boxes
        found.boxes = finder(cases, names, float(threshold))
    return found


def write_discovery(found: Discovery, out: str | Path, *, force: bool = False) -> Path:
    """Write ``boxes.csv``, ``cases.parquet`` and ``discovery.md`` into ``out`` (atomically).

    Raises:
        DiscoverError: ``out`` exists, is not empty and ``force`` is false.
    """
    try:
        with atomic_dir(out, force=force) as tmp:
            found.table().to_csv(tmp / "boxes.csv", index=False)
            found.cases.to_parquet(tmp / "cases.parquet", index=False)
            text = "\n\n".join([f"# Where does {found.strategy} succeed?",
                                *found.sentences(),
                                f"Method: {found.method.upper()} over {len(found.inputs)} "
                                f"parameters; source {json.dumps(found.source)}."])
            (tmp / "discovery.md").write_text(text + "\n")
    except (FileExistsError, NotADirectoryError) as exc:
        raise DiscoverError(str(exc)) from None
    return Path(out)

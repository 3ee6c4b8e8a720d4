"""Analysis of a finished sweep: sensitivity indices with confidence intervals, and charts.

``analyze(DIR)`` reads ``DIR/spec.toml`` and the Parquet parts in ``DIR/runs`` and writes into
``DIR/analysis/``:

* ``sobol`` (Saltelli designs): first-order and total indices ``S1``/``ST`` with 95 % CIs
  (``SALib.analyze.sobol``), per KPI; ``indices.csv`` and ``indices.png``.
* ``morris`` (Morris designs): ``mu_star`` with its CI and ``sigma`` (``SALib.analyze.morris``).
* ``oat``: for an ``oat`` design, the effect of each single lever change against the base point
  (mean difference over replicates matched by index, Student t 95 % CI from
  :func:`dealersim.base.stats.paired_diff`); for a grid or random design, the main effect of each
  factor (range of its marginal means, Student t CIs from :func:`dealersim.base.stats.mean_ci`)
  with response curves (``response_<kpi>.png``).

The sweep is read with :func:`dealersim.studies.sweeps.read_runs`, which refuses (one line) a
sweep that is incomplete, holds a run id twice, or holds a foreign part.

Every KPI is first averaged over the replicates of each point (for a binary KPI such as
``launch_succeeded`` that is the success probability at the point). Grids with two or more
factors also get heatmaps per KPI (``heatmap_<kpi>.png``); binary KPIs get the 50 % tipping line
drawn and tabulated (``tipping.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dealersim.base.stats import mean_ci, paired_diff
from dealersim.model.kpis import SUMMARY_KEYS
from dealersim.studies.sweeps import (
    SpecError,
    SweepSpec,
    design,
    load_sweep_spec,
    read_runs,
    salib_sample,
)

METHODS = ("sobol", "morris", "oat")
LEVEL = 0.95
"""Confidence level of every interval."""


class AnalyzeError(ValueError):
    """Bad input for ``analyze``: one line."""


@dataclass
class Analysis:
    """What ``analyze`` produced.

    Attributes:
        method: The method used.
        indices: One row per (kpi, factor) with the index columns of the method.
        paths: Files written.
        tipping: The tipping table (grids with a binary KPI), else ``None``.
        notes: Human-readable remarks (skipped KPIs, ...).
    """

    method: str
    indices: pd.DataFrame
    paths: list[Path] = field(default_factory=list)
    tipping: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def summary_lines(self, top: int = 5) -> list[str]:
        """A short text summary: the top factors per KPI."""
        lines = [f"analysis: {self.method}"]
        col = {"sobol": "ST", "morris": "mu_star", "oat": "effect"}[self.method]
        conf = {"sobol": "ST_conf", "morris": "mu_star_conf", "oat": "effect_conf"}[self.method]
        for kpi, g in self.indices.groupby("kpi", sort=False):
            g = g.reindex(g[col].abs().sort_values(ascending=False).index).head(top)
            items = ", ".join(f"{f} {v:.3g}±{c:.2g}" for f, v, c in
                              zip(g["factor"], g[col], g[conf], strict=True))
            lines.append(f"  {kpi}: {items}")
        lines += [f"  note: {n}" for n in self.notes]
        return lines


def point_means(runs: pd.DataFrame, factors: list[str], kpis: list[str]) -> pd.DataFrame:
    """Replicate means (and counts, standard deviations) of each KPI per point.

    Returns:
        One row per point, sorted by point: the factor values, ``n``, ``<kpi>`` (mean) and
        ``<kpi>_sd`` for each KPI.
    """
    data = runs[["point", *factors]].copy()
    for k in kpis:
        data[k] = pd.to_numeric(runs[k].astype("float64"), errors="coerce")
    g = data.groupby("point", sort=True)
    out = g[factors].first() if factors else pd.DataFrame(index=g.size().index)
    out["n"] = g.size()
    for k in kpis:
        out[k] = g[k].mean()
        out[f"{k}_sd"] = g[k].std(ddof=1)
    return out.reset_index()


def _load(out: Path) -> tuple[SweepSpec, pd.DataFrame]:
    """The sweep's spec and its verified, complete runs (one line on any problem)."""
    try:
        spec = load_sweep_spec(out)
        runs = read_runs(out)
    except SpecError as exc:
        raise AnalyzeError(str(exc)) from None
    return spec, runs


def _text(s: str) -> str:
    """``s`` safe for a matplotlib title (``$`` would start math text)."""
    return s.replace("$", r"\$")


def analyze(out: str | Path, method: str | None = None,
            kpis: list[str] | None = None) -> Analysis:
    """Analyse the sweep in ``out`` and write tables and charts into ``out/analysis``.

    Args:
        out: The sweep directory.
        method: ``sobol``, ``morris`` or ``oat`` (default: sobol/morris for those samplers,
            else oat).
        kpis: KPIs to analyse (default: the spec's ``outputs.kpis``).

    Returns:
        The :class:`Analysis`.

    Raises:
        AnalyzeError: One line for a missing or incomplete sweep or a method that does not fit
            the design.
    """
    out = Path(out)
    spec, runs = _load(out)
    method = method or (spec.sampler if spec.sampler in ("sobol", "morris") else "oat")
    if method not in METHODS:
        raise AnalyzeError(f"--method: {method!r} is unknown; expected one of {', '.join(METHODS)}")
    if method in ("sobol", "morris") and spec.sampler != method:
        raise AnalyzeError(
            f"--method: {method} needs a sweep sampled with sampler = \"{method}\"; this one used "
            f"{spec.sampler!r} (use --method oat)"
        )
    kpis = list(kpis or spec.kpis)
    for k in kpis:
        if k not in SUMMARY_KEYS:
            raise AnalyzeError(f"--kpi: {k!r} is not a summary KPI; expected one of "
                               + ", ".join(SUMMARY_KEYS))
    factors = spec.factor_names
    means = point_means(runs, factors, kpis)
    dest = out / "analysis"
    dest.mkdir(exist_ok=True)
    means.to_csv(dest / "point_means.csv", index=False)
    result = Analysis(method=method, indices=pd.DataFrame(), paths=[dest / "point_means.csv"])
    if method == "sobol":
        result.indices = _sobol(spec, means, kpis, result)
    elif method == "morris":
        result.indices = _morris(spec, means, kpis, result)
    elif spec.sampler == "oat":
        result.indices = _oat_levers(runs, spec, kpis)
    else:
        result.indices = _main_effects(spec, means, kpis, dest, result)
    result.indices.to_csv(dest / "indices.csv", index=False)
    result.paths.append(dest / "indices.csv")
    if not result.indices.empty:
        result.paths.append(_bar_chart(result.indices, method, dest / "indices.png"))
    if spec.sampler == "grid":
        _grid_charts(spec, means, kpis, runs, dest, result)
    return result


# ====================================================================== methods
def _complete_y(means: pd.DataFrame, kpi: str, result: Analysis) -> np.ndarray | None:
    y = means[kpi].to_numpy(dtype=float)
    if np.isnan(y).any():
        result.notes.append(f"{kpi}: undefined at {int(np.isnan(y).sum())} points; skipped")
        return None
    return y


def _sobol(spec: Any, means: pd.DataFrame, kpis: list[str], result: Analysis) -> pd.DataFrame:
    from SALib.analyze import sobol  # heavy optional import (~2 s), only for sobol designs

    problem = spec.salib_problem()
    second = bool(spec.sampler_options.get("second_order", False))
    frames = []
    for kpi in kpis:
        y = _complete_y(means, kpi, result)
        if y is None:
            continue
        if np.var(y) == 0:
            result.notes.append(f"{kpi}: constant over the design; indices undefined")
            continue
        res = sobol.analyze(problem, y, calc_second_order=second, num_resamples=200,
                            conf_level=0.95, seed=spec.seed)
        frames.append(pd.DataFrame({
            "kpi": kpi, "factor": problem["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
            "ST": res["ST"], "ST_conf": res["ST_conf"],
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["kpi", "factor", "S1", "S1_conf", "ST", "ST_conf"])


def _morris(spec: Any, means: pd.DataFrame, kpis: list[str], result: Analysis) -> pd.DataFrame:
    from SALib.analyze import morris  # heavy optional import (~2 s), only for morris designs

    problem = spec.salib_problem()
    x = salib_sample(spec)
    levels = int(spec.sampler_options.get("levels", 4))
    frames = []
    for kpi in kpis:
        y = _complete_y(means, kpi, result)
        if y is None:
            continue
        res = morris.analyze(problem, x, y, num_resamples=200, conf_level=0.95,
                             num_levels=levels, seed=spec.seed)
        frames.append(pd.DataFrame({
            "kpi": kpi, "factor": problem["names"], "mu": res["mu"], "mu_star": res["mu_star"],
            "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"],
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["kpi", "factor", "mu", "mu_star", "mu_star_conf", "sigma"])


def _oat_levers(runs: pd.DataFrame, spec: SweepSpec, kpis: list[str]) -> pd.DataFrame:
    """Each single change against the base point 0: mean difference with a Student t 95 % CI.

    Replicate ``r`` of a point is matched with replicate ``r`` of the base point
    (:func:`dealersim.base.stats.paired_diff`). Their seeds differ, so the pairs are independent
    draws: the interval is a valid t interval on ``n - 1`` degrees of freedom (a little wider
    than Welch's).
    """
    points = design(spec)
    by_point = {p: g.sort_values("replicate") for p, g in runs.groupby("point", sort=True)}
    base = by_point[0]
    rows = []
    for kpi in kpis:
        a = base[kpi].to_numpy(dtype=float)
        for p, change in enumerate(points):
            if p == 0 or p not in by_point:
                continue
            b = by_point[p][kpi].to_numpy(dtype=float)
            (name, value), = change.items()
            diff, lo, hi, n = paired_diff(a, b, LEVEL)
            rows.append({"kpi": kpi, "factor": f"{name}={value}", "field": name,
                         "value": value, "base": float(np.nanmean(a)) if n else math.nan,
                         "mean": float(np.nanmean(b)) if n else math.nan, "effect": diff,
                         "effect_conf": (hi - lo) / 2, "n": n})
    return pd.DataFrame(rows)


def _marginal(means: pd.DataFrame, factor: str, kpi: str, grid: bool) -> pd.DataFrame:
    """Mean and 95 % CI (Student t) of the point means of ``kpi`` per level of ``factor``.

    Numeric factors of a non-grid design are cut into deciles first.
    """
    col = means[factor]
    if not grid and pd.api.types.is_numeric_dtype(col) and col.nunique() > 10:
        col = pd.qcut(col, 10, duplicates="drop").map(lambda iv: iv.mid).astype(float)
    rows = []
    for level, g in means.assign(level=col).groupby("level", sort=True)[kpi]:
        est, lo, hi = mean_ci(g.to_numpy(dtype=float), LEVEL)
        rows.append({"level": level, "mean": est, "conf": (hi - lo) / 2, "count": len(g)})
    return pd.DataFrame(rows)


def _main_effects(spec: SweepSpec, means: pd.DataFrame, kpis: list[str], dest: Path,
                  result: Analysis) -> pd.DataFrame:
    """Main effect of each factor: the range of its marginal means, with response curves."""
    grid = spec.sampler == "grid"
    rows = []
    for kpi in kpis:
        factors = spec.factor_names
        fig = Figure(figsize=(3.2 * len(factors), 3))
        axes = fig.subplots(1, len(factors), squeeze=False)
        for ax, f in zip(axes[0], factors, strict=True):
            m = _marginal(means, f, kpi, grid)
            values = next(x.values for x in spec.factors if x.name == f)
            if values is not None:  # listed values: keep the spec's order
                rank = {v: i for i, v in enumerate(values)}
                m = m.sort_values("level", key=lambda c: c.map(rank)).reset_index(drop=True)
            hi, lo = m["mean"].idxmax(), m["mean"].idxmin()
            rows.append({"kpi": kpi, "factor": f, "effect": m["mean"][hi] - m["mean"][lo],
                         "effect_conf": math.hypot(m["conf"][hi], m["conf"][lo]),
                         "levels": len(m)})
            x = m["level"].astype(str) if m["level"].dtype == object else m["level"]
            ax.errorbar(x, m["mean"], yerr=m["conf"], marker="o", capsize=3)
            ax.set_xlabel(f)
            ax.tick_params(axis="x", labelrotation=30)
        axes[0][0].set_ylabel(kpi)
        fig.suptitle(f"{_text(spec.name)}: response of {kpi} (mean of point means, 95 % CI)")
        fig.tight_layout()
        path = dest / f"response_{kpi}.png"
        fig.savefig(path, dpi=110)
        result.paths.append(path)
    return pd.DataFrame(rows)


# ====================================================================== charts
def _bar_chart(indices: pd.DataFrame, method: str, path: Path, top: int = 15) -> Path:
    kpis = list(dict.fromkeys(indices["kpi"]))
    rows = min(top, int(indices.groupby("kpi").size().max()))
    fig = Figure(figsize=(5.2 * len(kpis), 0.35 * rows + 2.0))
    axes = fig.subplots(1, len(kpis), squeeze=False)
    main_effects = "levels" in indices.columns
    for ax, kpi in zip(axes[0], kpis, strict=True):
        g = indices[indices.kpi == kpi]
        if method == "sobol":
            g = g.reindex(g["ST"].sort_values(ascending=False).index).head(top)[::-1]
            y = np.arange(len(g))
            ax.barh(y + 0.2, g["ST"], 0.4, xerr=g["ST_conf"], label="total (ST)", capsize=2)
            ax.barh(y - 0.2, g["S1"], 0.4, xerr=g["S1_conf"], label="first order (S1)",
                    capsize=2)
            ax.set_xlabel("Sobol index (95 % CI)")
            ax.legend(loc="lower right", fontsize=8)
        else:
            col, conf = ("mu_star", "mu_star_conf") if method == "morris" else (
                "effect", "effect_conf")
            g = g.reindex(g[col].abs().sort_values(ascending=False).index).head(top)[::-1]
            y = np.arange(len(g))
            ax.barh(y, g[col], xerr=g[conf], capsize=2,
                    color=["tab:red" if v < 0 else "tab:blue" for v in g[col]])
            ax.axvline(0, color="black", lw=0.8)
            ax.set_xlabel("Morris mu* (95 % CI)" if method == "morris" else
                          "main effect: max - min of marginal means (95 % CI)" if main_effects
                          else "effect vs base (95 % CI)")
        ax.set_yticks(y, g["factor"], fontsize=8)
        ax.set_title(kpi)
    fig.suptitle(f"sensitivity ({method})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _binary(runs: pd.DataFrame, kpi: str) -> bool:
    return runs[kpi].dtype == bool or set(runs[kpi].dropna().unique()) <= {0, 1}


def _grid_axes(spec: Any) -> tuple[str, str, list[str]] | None:
    """Heatmap axes of a grid: (y, x, facets), numeric factors preferred on the axes."""
    varied = [f for f in spec.factors if len(f.grid_values(spec.samples)) > 1]
    if len(varied) < 2:
        return None
    numeric = [f.name for f in varied if f.field.kind in ("int", "float")]
    other = [f.name for f in varied if f.name not in numeric]
    order = numeric + other
    return order[0], order[1], order[2:]


def _grid_charts(spec: Any, means: pd.DataFrame, kpis: list[str], runs: pd.DataFrame,
                 dest: Path, result: Analysis) -> None:
    axes_spec = _grid_axes(spec)
    if axes_spec is None:
        return
    ycol, xcol, facets = axes_spec
    facet_keys = (list(means.groupby(facets, sort=False).groups) if facets else [None])
    tipping_rows = []
    for kpi in kpis:
        binary = _binary(runs, kpi)
        ncol = min(4, len(facet_keys))
        nrow = math.ceil(len(facet_keys) / ncol)
        fig = Figure(figsize=(3.6 * ncol, 3.2 * nrow), layout="constrained")
        axes = fig.subplots(nrow, ncol, squeeze=False)
        vmin, vmax = (0.0, 1.0) if binary else (means[kpi].min(), means[kpi].max())
        im = None
        for ax, key in zip(axes.flat, facet_keys, strict=False):
            sub = means
            title = ""
            if key is not None:
                key = key if isinstance(key, tuple) else (key,)
                mask = np.logical_and.reduce([means[f] == v for f, v in zip(facets, key,
                                                                            strict=True)])
                sub = means[mask]
                title = ", ".join(f"{f}={v}" for f, v in zip(facets, key, strict=True))
            table = sub.pivot_table(index=ycol, columns=xcol, values=kpi, aggfunc="mean")
            xs, ys = list(table.columns), list(table.index)
            im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto",
                           cmap="RdYlGn" if binary else "viridis", vmin=vmin, vmax=vmax)
            ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, float) else str(v)
                                           for v in xs], fontsize=7)
            ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, float) else str(v)
                                           for v in ys], fontsize=7)
            ax.set_xlabel(xcol)
            ax.set_ylabel(ycol)
            ax.set_title(title, fontsize=9)
            if binary:
                z = table.to_numpy(dtype=float)
                if z.shape[0] > 1 and z.shape[1] > 1 and np.nanmin(z) < 0.5 < np.nanmax(z):
                    ax.contour(np.arange(len(xs)), np.arange(len(ys)), z, levels=[0.5],
                               colors="black", linewidths=2)
                for j, xv in enumerate(xs):
                    tipping_rows.append({
                        "kpi": kpi, **dict(zip(facets, key or (), strict=True)), xcol: xv,
                        f"{ycol}_at_50pct": _crossing(ys, table.iloc[:, j].to_numpy(float)),
                    })
        for ax in list(axes.flat)[len(facet_keys):]:
            ax.axis("off")
        if im is not None:
            fig.colorbar(im, ax=axes, shrink=0.8,
                         label=f"P({kpi})" if binary else f"mean {kpi}")
        line = " (black: 50 % tipping line)" if binary else ""
        fig.suptitle(f"{_text(spec.name)}: {kpi}, mean over replicates{line}")
        path = dest / f"heatmap_{kpi}.png"
        fig.savefig(path, dpi=110)
        result.paths.append(path)
    if tipping_rows:
        result.tipping = pd.DataFrame(tipping_rows)
        result.tipping.to_csv(dest / "tipping.csv", index=False)
        result.paths.append(dest / "tipping.csv")


def _crossing(levels: list[Any], p: np.ndarray) -> float:
    """The level at which ``p`` first crosses 0.5 (linear interpolation), NaN if it never does."""
    try:
        x = np.asarray(levels, dtype=float)
    except (TypeError, ValueError):
        return float("nan")
    for i in range(len(p) - 1):
        a, b = p[i], p[i + 1]
        if np.isnan(a) or np.isnan(b):
            continue
        if (a - 0.5) * (b - 0.5) <= 0 and a != b:
            return float(x[i] + (0.5 - a) / (b - a) * (x[i + 1] - x[i]))
    return float("nan")

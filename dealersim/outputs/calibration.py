"""Charts of a calibration: posterior marginals, pairwise scatter, posterior predictive check.

Each chart is a PNG written atomically into the calibration directory by :func:`write_plots`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dealersim.base.io import atomic_file
from dealersim.outputs.plots import new_figure, tidy
from dealersim.studies.calibrate import Calibration
from dealersim.studies.calibrate.predictive import judged_centre

PAIRWISE_MAX = 6
"""Parameters in the pairwise chart: the ones the patterns pin down most (smallest sd ratio)."""


def _save(fig: Figure, path: Path) -> Path:
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def marginals(cal: Calibration) -> Figure:
    """One panel per parameter: the weighted posterior histogram over the prior range."""
    p = cal.parameters
    n = len(p)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig = new_figure(3.2 * cols, 2.3 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = cal.posterior.weight.to_numpy(float)
    for ax, (_, r) in zip(axes, p.iterrows(), strict=False):
        x = cal.posterior[r.parameter].to_numpy(float)
        bins = np.linspace(r.prior_low, r.prior_high, 13)
        ax.hist(x, bins=bins, weights=w, density=True, color="tab:blue", alpha=0.7,
                label="posterior")
        ax.axhline(1.0 / (r.prior_high - r.prior_low), color="0.4", ls="--", lw=1,
                   label="prior")
        ax.axvline(r.default, color="tab:red", lw=1.4, label="today's default")
        ax.set_title(r.label + ("" if r.pinned_down else " (not pinned down)"), fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        tidy(ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Posterior of each parameter (bars) against its prior (dashed)", fontsize=10)
    return fig


def pairwise(cal: Calibration) -> Figure:
    """Pairwise scatter of the most pinned-down parameters (size: weight)."""
    names = list(cal.parameters.sort_values("sd_ratio").parameter[:PAIRWISE_MAX])
    labels = dict(zip(cal.parameters.parameter, cal.parameters.label, strict=True))
    prior = {r.parameter: (r.prior_low, r.prior_high) for _, r in cal.parameters.iterrows()}
    k = len(names)
    fig = new_figure(2.0 * k + 1, 2.0 * k + 1)
    axes = fig.subplots(k, k, squeeze=False)
    w = cal.posterior.weight.to_numpy(float)
    size = 8 + 200 * w / w.max()
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(cal.posterior[a], bins=np.linspace(*prior[a], 11), weights=w,
                        color="tab:blue", alpha=0.7)
            else:
                ax.scatter(cal.posterior[b], cal.posterior[a], s=size, alpha=0.5,
                           color="tab:blue", linewidths=0)
                ax.set_ylim(*prior[a])
            ax.set_xlim(*prior[b])  # the prior's range: how far the patterns narrow it
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(labels[b], fontsize=7)
            if j == 0:
                ax.set_ylabel(labels[a], fontsize=7)
            tidy(ax)
    fig.suptitle("Accepted parameter sets, pairwise over the prior ranges (dot size: weight)",
                 fontsize=10)
    return fig


def predictive(cal: Calibration) -> Figure:
    """Each pattern measure's simulated spread under the posterior against its target range."""
    c = cal.check.reset_index(drop=True)
    fig = new_figure(8.0, 0.45 * len(c) + 1.2)
    axes = fig.subplots(len(c), 1, squeeze=False).ravel()
    draws = cal.ppc
    for ax, (_, r) in zip(axes, c.iterrows(), strict=True):
        x = draws.loc[draws.stat == r.stat, "value"].to_numpy(float)
        x = x[np.isfinite(x)]
        lo = min(np.min(x) if x.size else 0.0, r.low if math.isfinite(r.low) else np.inf)
        hi = max(np.max(x) if x.size else 1.0, r.high if math.isfinite(r.high) else -np.inf)
        pad = 0.1 * (hi - lo if hi > lo else 1.0)
        ax.set_xlim(lo - pad, hi + pad)
        ax.axvspan(max(r.low, lo - pad), min(r.high, hi + pad), color="tab:green", alpha=0.15)
        ax.plot(x, np.zeros_like(x), "|", color="tab:blue", alpha=0.6, ms=10)
        key = judged_centre(r)
        centre, ok = r[key], r[f"{key}_inside"]
        ax.plot([centre], [0], "o", color="black" if ok else "tab:red", ms=5)
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
        ax.set_ylabel(f"{r.pattern} {r.what} ({r['size']} reps)", rotation=0, ha="right",
                      va="center", fontsize=7)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.suptitle("Posterior predictive check: draws (ticks), mean (dot), target (green)",
                 fontsize=10)
    return fig


def write_plots(cal: Calibration, out: str | Path) -> list[Path]:
    """Write ``marginals.png``, ``pairwise.png`` and ``predictive_check.png`` into ``out``."""
    out = Path(out)
    return [_save(marginals(cal), out / "marginals.png"),
            _save(pairwise(cal), out / "pairwise.png"),
            _save(predictive(cal), out / "predictive_check.png")]


def parameter_table(cal: Calibration) -> pd.DataFrame:
    """The parameter table for a reader: label, default, prior, posterior, pinned down."""
    p = cal.parameters
    return pd.DataFrame({
        "parameter": p.label, "default": p["default"],
        "prior": [f"{a:.3g} to {b:.3g}" for a, b in zip(p.prior_low, p.prior_high, strict=True)],
        "posterior median": p["median"],
        "90 % interval": [f"{a:.3g} to {b:.3g}" for a, b in zip(p.q05, p.q95, strict=True)],
        "pinned down": np.where(p.pinned_down, "yes", "no"),
    })

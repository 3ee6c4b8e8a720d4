"""A finished calibration: its tables from pyabc's history, on disk and back, and in words."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.io import atomic_file, write_text
from dealersim.model.results import package_version
from dealersim.studies.calibrate.predictions import (
    PREDICTIONS_FILE,
    prediction_markdown,
    prediction_table,
)
from dealersim.studies.calibrate.predictive import judged_centre
from dealersim.studies.calibrate.sampler import _pyabc
from dealersim.studies.calibrate.spec import (
    LOW_ESS,
    SPEC_COPY,
    CalibrationError,
    CalibrationSpec,
    parse_spec,
)
from dealersim.studies.posterior import MANIFEST
from dealersim.studies.validation import (
    PREDICTIONS_END,
    PREDICTIONS_START,
    update_marked_section,
)


# ====================================================================== the result
@dataclass
class Calibration:
    """A finished calibration, as written to its directory.

    Attributes:
        spec: The spec.
        posterior: One row per accepted parameter set of the last generation: ``particle``,
            ``weight`` (sums to 1), ``distance``, then one column per parameter.
        diagnostics: One row per generation: ``generation``, ``epsilon``, ``accepted``,
            ``simulations``, ``acceptance_rate``, ``ess``, ``distance_median``,
            ``distance_max``, ``inside_share`` (accepted sets with every pattern inside).
        parameters: One row per parameter: prior, posterior summary, today's default, whether
            the patterns pin it down.
        ppc: The posterior predictive check's draws, one row per draw and pattern statistic:
            ``draw``, ``particle``, ``stat``, ``value``.
        check: The posterior predictive check, one row per statistic (see :func:`ppc_table`).
        predictive: The predictions (``predictive.parquet``), one row per source (prior or
            posterior), draw, arm (``strategy``), team size and measure (see
            :func:`run_predictions`).
        seconds: Wall time of this invocation.
    """

    spec: CalibrationSpec
    posterior: pd.DataFrame
    diagnostics: pd.DataFrame
    parameters: pd.DataFrame
    ppc: pd.DataFrame
    check: pd.DataFrame
    predictive: pd.DataFrame
    seconds: float = 0.0

    @property
    def predictions(self) -> pd.DataFrame:
        """Planned's success and each lever's effect, prior and posterior (see below).

        See :func:`dealersim.studies.calibrate.predictions.prediction_table`.
        """
        return prediction_table(self.predictive)

    @property
    def ess_last(self) -> float:
        """The effective sample size of the last generation's weights."""
        w = self.posterior.weight.to_numpy(float)
        return float(w.sum() ** 2 / np.sum(w ** 2))

    @property
    def not_pinned(self) -> list[str]:
        """Parameters the patterns do not pin down (posterior about the prior)."""
        return list(self.parameters.loc[~self.parameters.pinned_down, "parameter"])


def spec_json_text(spec_: CalibrationSpec) -> str:
    """A TOML text equivalent to ``spec_`` (kept in the directory when no file was given)."""
    lines = [f"name = {json.dumps(spec_.name)}", f"seed = {spec_.seed}",
             *([f"years = {spec_.years!r}"] if spec_.years is not None else []),
             f"kernel = {json.dumps(spec_.kernel)}",
             f"sizes = {list(spec_.sizes)}", f"patterns = {json.dumps(list(spec_.checks))}",
             "[budget]"]
    lines += [f"{k} = {v}" for k, v in dataclasses.asdict(spec_.budget).items()]
    lines += ["[parameters]", f"include = {json.dumps([p.name for p in spec_.priors])}",
              "[parameters.ranges]"]
    lines += [f"{p.name} = [{p.low!r}, {p.high!r}]" for p in spec_.priors]
    return "\n".join(lines) + "\n"


# ====================================================================== tables
def posterior_frame(history: Any, spec_: CalibrationSpec) -> pd.DataFrame:
    """The last generation's accepted parameter sets, in the order they were accepted."""
    particles = history.get_population(t=history.max_t).particles
    names = [p.name for p in spec_.priors]
    w = np.array([q.weight for q in particles], dtype=float)
    out = pd.DataFrame({"particle": np.arange(len(particles), dtype="int64"),
                        "weight": w / w.sum(),
                        "distance": [float(q.distance) for q in particles]})
    for p in spec_.priors:
        col = np.array([float(q.parameter[p.name]) for q in particles])
        out[p.name] = np.rint(col).astype("int64") if p.integer else col
    return out[["particle", "weight", "distance", *names]]


def diagnostics_frame(history: Any, spec_: CalibrationSpec) -> pd.DataFrame:
    """Per generation: tolerance, acceptance, effective sample size, distances reached."""
    pyabc = _pyabc()
    pops = history.get_all_populations()
    rows = []
    for _, r in pops[pops.t >= 0].iterrows():
        t = int(r.t)
        d = history.get_weighted_distances(t=t)
        ess = float(pyabc.weighted_statistics.effective_sample_size(d.w.to_numpy()))
        rows.append(dict(generation=t + 1, epsilon=float(r.epsilon),
                         accepted=int(spec_.budget.population), simulations=int(r.samples),
                         acceptance_rate=spec_.budget.population / float(r.samples),
                         ess=ess, distance_median=float(d.distance.median()),
                         distance_max=float(d.distance.max()),
                         inside_share=float((d.distance <= 0).mean())))
    return pd.DataFrame(rows)


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_tables(cal: Calibration, out: Path) -> None:
    """Write the posterior, diagnostics, parameter table and predictive check (atomically).

    The manifest ``calibration.json`` is written last.
    """
    _parquet(cal.posterior, out / "posterior.parquet")
    _csv(cal.diagnostics, out / "diagnostics.csv")
    _csv(cal.parameters, out / "parameters.csv")
    _parquet(cal.ppc, out / "ppc.parquet")
    _csv(cal.check, out / "predictive_check.csv")
    _parquet(cal.predictive, out / "predictive.parquet")
    _csv(cal.predictions, out / PREDICTIONS_FILE)
    _csv(pd.DataFrame({"parameter": cal.not_pinned}), out / "not_pinned_down.csv")
    diag = {"generations": cal.diagnostics.to_dict(orient="records"),
            "final": {"ess": float(cal.diagnostics.ess.iloc[-1]),
                      "epsilon": float(cal.diagnostics.epsilon.iloc[-1]),
                      "distance_median": float(cal.posterior.distance.median()),
                      "distance_max": float(cal.posterior.distance.max()),
                      "simulations": int(cal.diagnostics.simulations.sum())}}
    write_text(out / "diagnostics.json", json.dumps(diag, indent=2) + "\n")
    write_text(out / "summary.md", summary_markdown(cal))
    manifest = {"name": cal.spec.name, "seed": cal.spec.seed, "digest": cal.spec.digest(),
                "version": package_version(), "seconds": round(cal.seconds, 1),
                "population": len(cal.posterior), "ess_last": round(cal.ess_last, 2),
                "sizes": list(cal.spec.sizes),
                "parameters": [p.name for p in cal.spec.priors],
                "patterns": list(cal.spec.checks),
                "spec": cal.spec.to_json()}
    write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def defaults_lines(cal: Calibration, limit: int | None = None) -> list[str]:
    """Plain lines comparing the posterior centre with today's defaults.

    Args:
        cal: The calibration.
        limit: List at most this many parameters whose default lies outside the posterior's
            90 % interval, the farthest first (``None``: all).
    """
    p = cal.parameters
    outside = p[~p.default_inside].sort_values("shift", key=abs, ascending=False)
    lines = [f"Today's default lies inside the posterior's 90 % interval for "
             f"{len(p) - len(outside)} of {len(p)} parameters."]
    if limit is not None and len(outside) > limit:
        lines.append(f"The {limit} farthest of the other {len(outside)} (all in parameters.csv):")
        outside = outside.iloc[:limit]
    for _, r in outside.iterrows():
        unit = f" {r.unit}" if r.unit else ""
        lines.append(f"{r.label}: default {_num(r.default)}{unit}, posterior median "
                     f"{_num(r['median'])} (90 % interval {_num(r.q05)} to {_num(r.q95)})")
    return lines


def summary_lines(cal: Calibration) -> list[str]:
    """The result in a few plain lines (printed by the command, opening summary.md)."""
    d, c = cal.diagnostics, cal.check
    centre = judged_centre(c)
    judged = c[f"{centre}_inside"]
    inside = int(judged.sum())
    lines = [
        f"{len(d)} generations, {int(d.simulations.sum())} parameter sets simulated "
        f"({cal.spec.runs_per_particle} runs each), {len(cal.posterior)} accepted in the last "
        f"(effective sample size {d.ess.iloc[-1]:.0f}, tolerance {d.epsilon.iloc[-1]:.3g}).",
        f"Posterior predictive check: the posterior predictive {centre} of {inside} of "
        f"{len(c)} pattern measures lies inside its target range.",
    ]
    for _, r in c[~judged].iterrows():
        lines.append(f"  outside: {r.stat} (target {r.target}; {centre} {r[centre]:.3g})")
    if d.ess.iloc[-1] < LOW_ESS:
        lines.append(f"The effective sample size is small ({d.ess.iloc[-1]:.0f} of "
                     f"{len(cal.posterior)}): a few sets carry most of the weight, so the "
                     "intervals below and the pinned-down verdicts are rough; run a larger "
                     "population.")
    for _, r in cal.predictions.iterrows():
        if r.what.startswith("planned launch success"):
            lines.append(
                f"Predicted (not fitted), planned launch success on money at {r.n_reps} reps: "
                f"prior {r.prior_mean:.0%} ({r.prior_low:.0%} to {r.prior_high:.0%}), "
                f"posterior {r.posterior_mean:.0%} ({r.posterior_low:.0%} to "
                f"{r.posterior_high:.0%}); every lever in summary.md.")
    pinned = len(cal.parameters) - len(cal.not_pinned)
    lines.append(f"The patterns pin down {pinned} of {len(cal.parameters)} parameters; the "
                 f"posterior of the other {len(cal.not_pinned)} is about their prior.")
    return lines + defaults_lines(cal, limit=10)


def summary_markdown(cal: Calibration) -> str:
    """``summary.md``: the result, the check and the parameter table in Markdown."""
    c, p = cal.check, cal.parameters
    centre = judged_centre(c)
    other = "median" if centre == "mean" else "mean"
    out = [f"# Calibration: {cal.spec.name}", "", *summary_lines(cal), "",
           "## Posterior predictive check", "",
           f"The verdict is on the posterior predictive {centre} (for a rate and the mean: the "
           "rate over all the draws' runs together); the 90 % of draws show the spread, and "
           "the last column the share of single draws inside the range.", "",
           f"| pattern | size | what | target | {centre} | verdict | {other} | 90 % of draws "
           "| draws inside |",
           "|---|---|---|---|---|---|---|---|---|"]
    out += [f"| {r.pattern} | {r['size']} | {r.what} | {r.target} | {r[centre]:.3g} | "
            f"{'inside' if r[f'{centre}_inside'] else '**outside**'} | "
            f"{r.get(other, float('nan')):.3g} | {r.q05:.3g} to {r.q95:.3g} | "
            f"{r.inside_share:.0%} |" for _, r in c.iterrows()]
    out += ["", "## Parameters", "",
            "| parameter | default | prior | posterior median | 90 % interval | pinned down |",
            "|---|---|---|---|---|---|"]
    out += [f"| {r.label} | {_num(r.default)} | {_num(r.prior_low)} to {_num(r.prior_high)} | "
            f"{_num(r['median'])} | {_num(r.q05)} to {_num(r.q95)} | "
            f"{'yes' if r.pinned_down else 'no'} |" for _, r in p.iterrows()]
    out += ["", "## Predictions: the plan out of sample", "",
            f"Not fitted: each of {cal.spec.budget.predictive} draws from the prior and as many "
            f"from the posterior run {cal.spec.budget.predictive_replicates} times per arm and "
            "size at the default horizon; a lever's effect is its arm minus the overlay, paired "
            "per draw (percentage points).", "", prediction_markdown(cal.predictions)]
    out += ["", f"Method: ABC-SMC (pyabc), master seed {cal.spec.seed}, see "
            "docs/calibration.md.", ""]
    return "\n".join(out)


def prediction_section(cal: Calibration) -> str:
    """The generated prediction section of docs/validation.md, markers included."""
    b, d = cal.spec.budget, cal.diagnostics
    sizes = ", ".join(str(n) for n in cal.spec.sizes)
    return "\n".join([
        PREDICTIONS_START,
        "## Predictions: the plan out of sample",
        "",
        f"Generated by `dealersim calibrate ... --docs` (spec {cal.spec.name!r}, master seed "
        f"{cal.spec.seed}, dealersim {package_version()}). The calibration fitted "
        f"{len(cal.spec.checks)} pattern checks of the world before the launch and of the "
        f"failed launch at {sizes} reps ({len(cal.spec.priors)} parameters; "
        f"{len(cal.posterior)} parameter sets in the last generation, effective sample size "
        f"{cal.ess_last:.0f}, {int(d.simulations.sum())} sets simulated). It never saw the "
        "planned launch, a lever or P9: those are predicted here, from "
        f"{b.predictive} draws of the prior and {b.predictive} of the posterior, each run "
        f"{b.predictive_replicates} times per arm and team size at the default horizon "
        "(common random numbers). Each cell gives the mean over the draws (for a rate: the rate "
        "over all their runs together) and, in brackets, the central 90 % of the draws, whose "
        f"{b.predictive_replicates}-run rates also carry the chance of so few runs; a lever's "
        "effect is the overlay with that lever alone "
        "minus the overlay, paired per draw, in percentage points of the story's launch (the "
        "first specialist still in the seat at month 12: what P9 speaks of). Where the "
        "posterior's interval is narrower than the prior's, the patterns inform the "
        "prediction; where planned falls short of the article's figure, the model does not "
        "support it.",
        "",
        prediction_markdown(cal.predictions),
        PREDICTIONS_END,
    ])


def write_prediction_docs(cal: Calibration, path: str | Path) -> None:
    """Replace (or append) the prediction section of the Markdown file ``path``."""
    update_marked_section(Path(path), prediction_section(cal))


def load_calibration(out: str | Path) -> Calibration:
    """Read a finished calibration directory back.

    Raises:
        CalibrationError: One line when ``out`` holds no finished calibration.
    """
    out = Path(out)
    try:
        text = (out / SPEC_COPY).read_text(encoding="utf-8")
        json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        spec_ = parse_spec(text)
        return Calibration(
            spec=spec_, posterior=pd.read_parquet(out / "posterior.parquet"),
            diagnostics=pd.read_csv(out / "diagnostics.csv"),
            parameters=pd.read_csv(out / "parameters.csv"),
            ppc=pd.read_parquet(out / "ppc.parquet"),
            check=pd.read_csv(out / "predictive_check.csv"),
            predictive=pd.read_parquet(out / "predictive.parquet"))
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{str(out)!r} holds no finished calibration "
                               f"({type(exc).__name__}); expected a directory written by "
                               "'dealersim calibrate'") from None

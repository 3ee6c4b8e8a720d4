"""Calibration with uncertainty: which parameter sets reproduce the story's patterns?

``dealersim calibrate SPEC --out DIR`` infers a posterior over the unsourced parameters (grades U
and C in ``Params``) by approximate Bayesian computation with a sequential Monte Carlo sampler
(ABC-SMC, Beaumont 2010), using pyabc. One particle is one parameter set; it is simulated on every
arm the chosen patterns need (``dealersim.studies.validation.ARMS``), ``replicates`` runs per arm
and team size with common random numbers, and the chosen patterns are measured exactly as
``dealersim validate`` measures them. Only patterns (the world before the launch and the failed
launch) are fitted; the planned launch and each lever are then predicted out of sample from the
prior and from the posterior (``predictive.parquet``). The distance is how far the patterns
fall outside their target ranges (zero when every pattern is inside), so the posterior is the
set of parameter sets that reproduce the story (pattern-oriented modelling, Grimm et al. 2005;
van der Vaart et al. 2015).

Determinism: pyabc's own parallel samplers reseed their workers from the operating system.
:class:`SeededSampler` replaces them: candidate *j* of generation *t* draws its proposal and its
runs' seeds from ``seed_for(master, t + 1, j)``, candidates are evaluated in rounds on the shared
engine (a local process pool or a Dask executor) and accepted in index order, exactly as a
single-core sampler would. The posterior therefore depends only on the spec and its master seed,
never on the worker count, the executor or the order in which tasks finish.

Stop and resume: pyabc keeps every finished generation in ``DIR/history.db`` (SQLite, one
transaction per generation). ``--resume`` loads it and runs the remaining generations; the
result equals an uninterrupted run. The outputs are written (each atomically) once the last
generation is done; ``DIR/calibration.json`` is written last and marks a finished calibration.

The package, by idea: ``spec`` (the spec: priors, targets, budget), ``patterns`` (one parameter
set simulated and its distance to the targets), ``sampler`` (the seeded ABC-SMC sampler and the
pyabc parts), ``run`` (:func:`run_calibration`: checks, start, resume), ``predictive`` (the
posterior's parameters and the predictive check), ``predictions`` (the plan and each lever
predicted out of sample from the prior and the posterior) and ``results``
(:class:`Calibration`, its tables on disk and its summary).
"""

from dealersim.studies.calibrate.patterns import (
    PatternDistance,
    PatternModel,
    particle_overrides,
    simulate_patterns,
)
from dealersim.studies.calibrate.predictions import (
    PREDICTED_ARMS,
    prediction_markdown,
    prediction_table,
    run_predictions,
)
from dealersim.studies.calibrate.predictive import (
    parameters_frame,
    ppc_table,
    run_predictive,
    weighted_quantile,
)
from dealersim.studies.calibrate.results import (
    Calibration,
    defaults_lines,
    diagnostics_frame,
    load_calibration,
    posterior_frame,
    prediction_section,
    spec_json_text,
    summary_lines,
    summary_markdown,
    write_prediction_docs,
    write_tables,
)
from dealersim.studies.calibrate.run import (
    check_directory,
    run_calibration,
)
from dealersim.studies.calibrate.sampler import (
    SeededSampler,
    standardised_transition,
    transition,
)
from dealersim.studies.calibrate.spec import (
    CHECKS_BY_NAME,
    DEFAULT_KERNEL,
    HISTORY,
    KERNELS,
    LOW_ESS,
    MAX_GENERATIONS,
    MAX_PARTICLES,
    MAX_REPLICATES,
    MAX_SIMULATIONS,
    PINNED_SD_RATIO,
    PINNED_SHIFT,
    PPC_KEY,
    SPEC_COPY,
    TARGETS,
    Budget,
    CalibrationError,
    CalibrationSpec,
    Prior,
    default_parameters,
    lever_fields,
    parse_spec,
    read_spec,
    stat_key,
)
from dealersim.studies.validation import NAN_GAP

__all__ = [
    "Budget",
    "CHECKS_BY_NAME",
    "Calibration",
    "CalibrationError",
    "CalibrationSpec",
    "DEFAULT_KERNEL",
    "HISTORY",
    "KERNELS",
    "LOW_ESS",
    "MAX_GENERATIONS",
    "MAX_PARTICLES",
    "MAX_REPLICATES",
    "MAX_SIMULATIONS",
    "NAN_GAP",
    "PINNED_SD_RATIO",
    "PINNED_SHIFT",
    "PPC_KEY",
    "PREDICTED_ARMS",
    "PatternDistance",
    "PatternModel",
    "Prior",
    "SPEC_COPY",
    "SeededSampler",
    "TARGETS",
    "check_directory",
    "default_parameters",
    "defaults_lines",
    "diagnostics_frame",
    "lever_fields",
    "load_calibration",
    "parameters_frame",
    "parse_spec",
    "particle_overrides",
    "posterior_frame",
    "prediction_markdown",
    "prediction_section",
    "prediction_table",
    "ppc_table",
    "read_spec",
    "run_calibration",
    "run_predictions",
    "run_predictive",
    "simulate_patterns",
    "spec_json_text",
    "stat_key",
    "summary_lines",
    "summary_markdown",
    "standardised_transition",
    "transition",
    "weighted_quantile",
    "write_prediction_docs",
    "write_tables",
]

"""Parameter sweeps: spec (TOML schema), design (samplers), store (Parquet parts), driver.

The public names are re-exported here::

    from dealersim.studies.sweeps import load_spec, run_sweep, read_runs

* :mod:`~dealersim.studies.sweeps.spec`: :class:`SweepSpec`, :class:`SpecError`, parsing and caps;
* :mod:`~dealersim.studies.sweeps.design`: the samplers, run ids and seeds;
* :mod:`~dealersim.studies.sweeps.store`: the directory (lock, parts, manifest, verified readers,
  repair);
* :mod:`~dealersim.studies.sweeps.driver`: :func:`run_sweep`.
"""

from dealersim.studies.sweeps.design import design, run_id, run_specs, salib_sample, unit_sample
from dealersim.studies.sweeps.driver import SchedulerUnreachable, SweepResult, run_sweep
from dealersim.studies.sweeps.spec import (
    MAX_DESIGN_VALUES,
    MAX_RUNS,
    SEED_MAX,
    Factor,
    SpecError,
    SweepSpec,
    load_spec,
    parse_spec,
    parse_spec_text,
    read_spec_text,
)
from dealersim.studies.sweeps.store import (
    SweepBusy,
    SweepLock,
    arrow_schema,
    load_sweep_spec,
    part_name,
    read_manifest,
    read_runs,
    read_series,
    repair,
)

__all__ = [
    "MAX_DESIGN_VALUES", "MAX_RUNS", "SEED_MAX", "Factor", "SchedulerUnreachable", "SpecError",
    "SweepBusy", "SweepLock", "SweepResult", "SweepSpec", "arrow_schema", "design",
    "load_spec", "load_sweep_spec", "parse_spec", "parse_spec_text", "part_name",
    "read_manifest", "read_runs", "read_series", "read_spec_text", "repair", "run_id",
    "run_specs", "run_sweep", "salib_sample", "unit_sample",
]

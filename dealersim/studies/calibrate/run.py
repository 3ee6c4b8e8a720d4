"""Running a calibration: the directory checks, the executor, start and resume."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path

from dealersim.base.io import write_text
from dealersim.base.procs import check_workers
from dealersim.studies.calibrate.predictions import run_predictions
from dealersim.studies.calibrate.predictive import parameters_frame, ppc_table, run_predictive
from dealersim.studies.calibrate.results import (
    Calibration,
    diagnostics_frame,
    posterior_frame,
    spec_json_text,
    write_tables,
)
from dealersim.studies.calibrate.sampler import SeededSampler, _abc, _epsilon
from dealersim.studies.calibrate.spec import (
    HISTORY,
    SPEC_COPY,
    CalibrationError,
    CalibrationSpec,
    parse_spec,
)
from dealersim.studies.engine import (
    _kill_pool,
    local_executor,
)
from dealersim.studies.posterior import MANIFEST


def check_directory(out: Path, spec_: CalibrationSpec, *, resume: bool, force: bool) -> None:
    """Refuse, before anything is written, a directory this calibration must not use.

    Raises:
        CalibrationError: One line naming ``--out``/``--resume`` and what is expected.
    """
    if out.exists() and not out.is_dir():
        raise CalibrationError(f"--out: {str(out)!r} is a file; expected a directory")
    busy = out.is_dir() and any(out.iterdir())
    if resume:
        if force:
            raise CalibrationError("--resume: cannot be combined with --force")
        if not (out / HISTORY).is_file() or not (out / SPEC_COPY).is_file():
            raise CalibrationError(f"--resume: {str(out)!r} holds no calibration to resume; "
                                   "expected a directory an interrupted calibrate left")
        try:
            old = parse_spec((out / SPEC_COPY).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, CalibrationError):
            raise CalibrationError(f"--resume: the spec kept in {str(out)!r} is damaged; "
                                   "start again with --force") from None
        if old.digest() != spec_.digest():
            raise CalibrationError(f"--resume: {str(out)!r} was started with a different "
                                   "spec; expected the same spec (or --force to start again)")
    elif busy and not force:
        what = ("an unfinished calibration; use --resume to continue it or --force to start "
                "again" if (out / HISTORY).exists() else "files; use --force to replace them")
        raise CalibrationError(f"--out: {str(out)!r} holds {what}")


def _start(out: Path, spec_text: str, *, resume: bool, force: bool) -> None:
    if force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / SPEC_COPY, spec_text)  # a resume may have changed the budget


@contextlib.contextmanager
def _executor(workers: int, executor: Executor | None) -> Iterator[Executor | None]:
    """The executor for the whole calibration: the given one, one local pool, or none."""
    if executor is not None or workers <= 1:
        yield executor
        return
    pool = local_executor(workers)
    try:
        yield pool
    except BaseException:
        _kill_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_calibration(
    spec_: CalibrationSpec,
    out: str | Path,
    *,
    spec_text: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
    say: Callable[[str], None] | None = None,
    stop: Callable[[], None] | None = None,
) -> Calibration:
    """Run (or resume) a calibration into ``out`` and write its tables (not its plots).

    Args:
        spec_: The spec (see :func:`parse_spec`).
        out: The calibration directory.
        spec_text: The spec's text, kept in ``out`` (default: rebuilt from ``spec_``).
        workers: Local worker processes (ignored with ``executor``).
        executor: Any ``concurrent.futures.Executor`` (e.g. a Dask client's executor).
        resume: Continue the calibration ``out`` holds.
        force: Replace whatever ``out`` holds.
        progress: Show a progress bar per round of candidates.
        say: Where to print one line per generation (default: nowhere).
        stop: Checked between candidates, generations and predictive draws; it raises
            (``KeyboardInterrupt``) to stop, leaving the finished generations for ``resume``
            (the command passes :meth:`dealersim.base.procs.StopFlag.check`).

    Returns:
        The :class:`Calibration`.

    Raises:
        CalibrationError: A refused directory or option (nothing written).
    """
    out = Path(out)
    try:
        workers = check_workers(workers, "--workers")
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    text = spec_text if spec_text is not None else spec_json_text(spec_)
    if spec_text is not None and parse_spec(spec_text).digest() != spec_.digest():
        raise CalibrationError("spec_text: it does not describe the spec given")
    check_directory(out, spec_, resume=resume, force=force)
    say = say or (lambda line: None)
    start_time = time.perf_counter()
    _start(out, text, resume=resume, force=force)
    (out / MANIFEST).unlink(missing_ok=True)
    db = f"sqlite:///{(out / HISTORY).resolve()}"
    b = spec_.budget
    stop = stop or (lambda: None)
    with _executor(workers, executor) as pool:
        sampler = SeededSampler(
            spec_.seed, executor=pool, workers=workers, progress=progress,
            on_round=lambda ok, n: say(f"  {ok} of {b.population} accepted, {n} simulated "
                                       f"({time.perf_counter() - start_time:.0f} s)"),
            stop=stop)
        abc = _abc(spec_, sampler)
        if resume:
            history = abc.load(db, 1)
        else:
            history = abc.new(db, {k: 0.0 for k in spec_.all_keys()},
                              meta_info={"dealersim_spec": spec_.digest()})
        done = history.max_t + 1
        say(f"{spec_.name}: {len(spec_.priors)} parameters, {len(spec_.checks)} checks x "
            f"{len(spec_.sizes)} size(s), {spec_.runs_per_particle} runs per parameter set; "
            f"{done} of {b.generations} generations on disk")
        left = b.generations - done
        if left > 0 and history.total_nr_simulations < b.max_simulations:
            for t in range(done, b.generations):
                stop()
                abc.eps = _epsilon(history, t)
                sampler.max_candidates = b.max_simulations - history.total_nr_simulations
                abc.run(minimum_epsilon=0.0, max_nr_populations=1,
                        max_total_nr_simulations=b.max_simulations)
                pops = history.get_all_populations()
                row = pops[pops.t == t]
                if row.empty:
                    say(f"generation {t + 1}/{b.generations}: the budget of "
                        f"{b.max_simulations} parameter sets ran out before {b.population} "
                        f"were accepted; the posterior is generation {t}")
                    break
                r = row.iloc[0]
                say(f"generation {t + 1}/{b.generations}: tolerance {r.epsilon:.3g}, "
                    f"{b.population} accepted of {int(r.samples)} simulated, "
                    f"{time.perf_counter() - start_time:.0f} s")
                if (r.epsilon <= 0.0 or history.total_nr_simulations >= b.max_simulations):
                    break
        posterior = posterior_frame(history, spec_)
        diagnostics = diagnostics_frame(history, spec_)
        say(f"posterior predictive check: {b.predictive} draws")
        ppc = run_predictive(spec_, posterior, executor=pool, workers=workers,
                             progress=progress, stop=stop)
        stop()
        say(f"predictions of the plan and each lever: {b.predictive} prior and "
            f"{b.predictive} posterior draws")
        predictive = run_predictions(spec_, posterior, executor=pool, workers=workers,
                                     progress=progress, stop=stop)
        stop()
    cal = Calibration(spec=spec_, posterior=posterior, diagnostics=diagnostics,
                      parameters=parameters_frame(spec_, posterior),
                      ppc=ppc, check=ppc_table(spec_, ppc), predictive=predictive,
                      seconds=time.perf_counter() - start_time)
    write_tables(cal, out)
    return cal

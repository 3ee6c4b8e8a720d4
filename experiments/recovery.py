"""Recovery test of the calibration on synthetic data (docs/calibration.md, "Recovery").

Draws N parameter sets from the spec's priors, simulates each once, then takes M of them in
turn as the truth and checks whether the 90 % intervals of rejection ABC on the others cover
it (see ``dealersim.studies.recovery``).

    python -m experiments.recovery --spec experiments/calibration.toml --n 400 --truths 100 \
        --out out/recovery --workers 2 [--docs docs/calibration.md]

    # redo the analysis (another k) without simulating again
    python -m experiments.recovery --spec experiments/calibration.toml --n 400 --truths 100 \
        --k 40 --table out/recovery/table.parquet --out out/recovery-k40

Bad input: one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from dealersim.base.extras import MissingExtra
from dealersim.base.procs import worker_cap
from dealersim.studies.calibrate import read_spec
from dealersim.studies.recovery import DISTANCES, run_recovery
from dealersim.studies.sweeps.driver import connect


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints the usage too)
        sys.stderr.write(f"recovery: {message}\n")
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    """The command's options."""
    p = _Parser(prog="python -m experiments.recovery", description=__doc__.split("\n")[0])
    p.add_argument("--spec", required=True, help="the calibration spec (TOML)")
    p.add_argument("--out", required=True, help="directory for the results (must be new or "
                   "empty unless --force)")
    p.add_argument("--n", type=int, default=400, help="parameter sets in the reference table")
    p.add_argument("--truths", type=int, default=100, help="sets taken in turn as the truth")
    p.add_argument("--k", type=int, default=20, help="nearest sets accepted per truth")
    p.add_argument("--replicates", type=int, default=None,
                   help="runs per arm and team size for one set (default: the spec's)")
    p.add_argument("--workers", type=int, default=1,
                   help=f"local worker processes (1 to {worker_cap()})")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the table on this Dask scheduler (e.g. tcp://host:8786) instead "
                   "of local workers")
    p.add_argument("--seed", type=int, default=None, help="master seed (default: the spec's)")
    p.add_argument("--distance", default="auto", choices=DISTANCES,
                   help="range: the calibration's gaps outside synthetic ranges; euclidean: "
                   "statistics standardised by their prior-predictive sd; auto: range if "
                   "every statistic has a target")
    p.add_argument("--table", default=None, help="reuse this reference table (Parquet)")
    p.add_argument("--docs", default=None,
                   help="replace the recovery section of this Markdown file")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 2 on bad input."""
    args = parser().parse_args(argv)
    command = ("python -m experiments.recovery --spec " + args.spec + f" --n {args.n} "
               f"--truths {args.truths} --k {args.k} --workers {args.workers} --out "
               + args.out)
    try:
        _, spec = read_spec(args.spec)
        with contextlib.ExitStack() as stack:
            executor: Any = None
            workers = args.workers
            if args.scheduler is not None and args.table is None:
                client = stack.enter_context(contextlib.closing(connect(args.scheduler)))
                workers = max(1, sum(client.nthreads().values()))
                executor = client.get_executor()
            run_recovery(spec, args.out, n=args.n, truths=args.truths, k=args.k,
                         replicates=args.replicates, workers=workers, seed=args.seed,
                         distance=args.distance, table=args.table, force=args.force,
                         executor=executor, docs=args.docs, command=command, say=print)
    except (ValueError, MissingExtra) as exc:
        sys.stderr.write(f"recovery: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("recovery: interrupted; nothing was written\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

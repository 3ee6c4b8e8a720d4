"""Move the shipped defaults to the posterior median where the calibration is informative.

    python experiments/adopt_posterior.py out/cal [--docs docs/calibration.md] [--dry-run]

Reads ``DIR/parameters.csv`` (written by ``dealersim calibrate``). A parameter moves when the
posterior pins it down (``pinned_down``: its sd is well below the prior's, or its centre moved),
or when its default sits at a bound of its ``Params`` range (a default at a bound is not a
reading of any source, and the calibration is then the best source there is);
its new default is the weighted posterior median, rounded to three significant figures (whole
numbers for integer fields), and always inside the field's bounds. Each moved field's ``source``
ends with "posterior median of the calibration" (grade C; an estimate keeps U). The old
and new values are printed and, with ``--docs``, written as a table between the markers
``<!-- adopted:start -->`` and ``<!-- adopted:end -->`` of the given Markdown file.

It edits ``dealersim/model/params.py`` in place (review the diff, then run ``dealersim docs``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import pandas as pd

from dealersim.base.io import update_marked
from dealersim.model.params import spec

PARAMS = Path(__file__).resolve().parent.parent / "dealersim" / "model" / "params.py"
START, END = "<!-- adopted:start -->", "<!-- adopted:end -->"


def rounded(value: float, kind: type) -> float | int:
    """Three significant figures (a whole number for an integer field)."""
    if kind is int:
        return int(round(value))
    if value == 0:
        return 0.0
    digits = 2 - int(math.floor(math.log10(abs(value))))
    return float(round(value, digits))


def _mark_source(text: str, name: str, estimate: bool) -> str:
    """End the field's source with "; posterior median of the calibration" and its grade (C
    for a sourced field, U kept for an estimate: the docs check requires it)."""
    start = text.index(f"    {name}: ")
    end = text.index("\n    )\n", start)
    block = text[start:end]
    at = max(block.rfind("[U]\""), block.rfind("[C/U]\""), block.rfind("[C]\""))
    if at < 0:
        raise SystemExit(f"{name}: its source's grade was not found in {PARAMS}")
    grade = "U" if estimate else "C"
    close = block.index("]\"", at) + 2
    block = (block[:at].rstrip() + f"; posterior median of the calibration [{grade}]\""
             + block[close:])
    return text[:start] + block + text[end:]


def adopt(out: Path, dry_run: bool = False) -> list[tuple[str, str, object, object, str, str]]:
    """Edit params.py; return (name, label, old, new, interval, why) of each moved field."""
    table = pd.read_csv(out / "parameters.csv")
    text = PARAMS.read_text()
    moved = []
    at_bound = table.parameter.map(lambda n: spec(n).default in (spec(n).low, spec(n).high))
    for _, r in table[table.pinned_down | at_bound].iterrows():
        f = spec(r.parameter)
        kind = type(f.default)
        why = "pinned down" if r.pinned_down else "its default sat at a bound"
        new = rounded(float(r["median"]), kind)
        new = min(max(new, f.low), f.high)
        if new == f.default:
            continue
        pattern = re.compile(rf"(    {r.parameter}: \w+ = _p\(\n        )([^,\n]+),")
        if not pattern.search(text):
            raise SystemExit(f"{r.parameter}: its default was not found in {PARAMS}")
        text = pattern.sub(lambda m, v=new: f"{m.group(1)}{v!r},", text, count=1)
        text = _mark_source(text, r.parameter, f.source.startswith("estimate:"))
        interval = f"{rounded(float(r.q05), float)} to {rounded(float(r.q95), float)}"
        moved.append((r.parameter, f.label, f.default, new, interval, why))
    if not dry_run:
        PARAMS.write_text(text)
    return moved


def markdown(moved: list[tuple[str, str, object, object, str, str]], out: Path) -> str:
    """The table of moved defaults, between the markers."""
    lines = [START, "", f"Adopted from `{out}` by `python experiments/adopt_posterior.py`: each "
             "parameter the calibration pins down, or whose default sat at a bound of its "
             "range, moves to its posterior median; the others keep their defaults.", "",
             "| parameter | old default | new default (posterior median) | posterior 90 % "
             "interval | why |", "|---|---|---|---|---|"]
    lines += [f"| `{n}` ({label}) | {old} | {new} | {iv} | {why} |"
              for n, label, old, new, iv, why in moved]
    return "\n".join(lines + ["", END])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the calibration directory")
    ap.add_argument("--docs", type=Path, help="write the old -> new table into this page")
    ap.add_argument("--dry-run", action="store_true", help="print, edit nothing")
    args = ap.parse_args(argv)
    if not (args.out / "parameters.csv").is_file():
        ap.error(f"{args.out}: no parameters.csv (run 'dealersim calibrate' first)")
    moved = adopt(args.out, args.dry_run)
    for n, _, old, new, iv, why in moved:
        print(f"{n}: {old} -> {new} (90 % interval {iv}; {why})")
    if args.docs and not args.dry_run:
        update_marked(args.docs, markdown(moved, args.out), START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

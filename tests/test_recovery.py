"""The recovery (coverage) test of the calibration: its statistics on toy models, its outputs
on the real model with a tiny spec, and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dealersim.studies.calibrate import Prior, parse_spec
from dealersim.studies.recovery import (
    CSV,
    END,
    JSON,
    MIN_K,
    START,
    SUMMARY_COLUMNS,
    TABLE,
    TRUTHS,
    draw_parameters,
    range_targets,
    recover,
    run_recovery,
    write_docs_section,
)
from experiments.recovery import main

TINY = """
name = "tiny"
seed = 11
sizes = [4]
patterns = ["P5", "overlay launch success"]
[budget]
population = 4
replicates = 1
[parameters]
include = ["renewal_loss", "specialist_skill", "quit_base_rate"]
around_default = 0.3
"""

N_TOY = 2000
TRUTHS_TOY = 200


def _toy(seed: int, informative: bool) -> pd.DataFrame:
    """A parameter a ~ U(0, 1) and one statistic: a + N(0, 0.1) or, uninformative, N(0, 1)."""
    rng = np.random.default_rng(seed)
    a = rng.random(N_TOY)
    stat = a + rng.normal(0, 0.1, N_TOY) if informative else rng.normal(0, 1, N_TOY)
    return pd.DataFrame({"a": a, "s": stat})


PRIOR = [Prior("a", 0.0, 1.0, False)]


# ------------------------------------------------------------------ the statistics
@pytest.mark.parametrize("targets", [None, {"s": (0.02, 0.1)}], ids=["euclidean", "range"])
def test_intervals_cover_a_known_truth_about_90_percent_of_the_time(targets):
    # 2,000 sets, the first 200 as truths, the 50 nearest accepted, seed 0: the coverage of
    # the 90 % intervals is within 0.9 +- 0.065 (three binomial sds of 200 truths; 0.895 to
    # 0.92 over seeds 0-5 with the euclidean distance), and the interval is far narrower than
    # the prior (the statistic's noise, sd 0.1, allows about 0.3 of it)
    rec = recover(_toy(0, True), PRIOR, ["s"], truths=TRUTHS_TOY, k=50, targets=targets)
    row = rec.summary.iloc[0]
    assert row.truths == TRUTHS_TOY and 0.835 <= row.coverage <= 0.965
    assert row.coverage_low < row.coverage < row.coverage_high
    assert row.median_width_share < 0.45
    assert row.verdict == "calibrated"
    assert rec.info["distance"] == ("euclidean" if targets is None else "range")


def test_a_statistic_that_ignores_the_parameter_leaves_the_prior_width():
    # same sizes and seed; the statistic is pure noise, so the accepted sets are a random
    # sample of the prior: the 90 % interval spans about 0.9 of it (within 0.8 to 0.97)
    rec = recover(_toy(0, False), PRIOR, ["s"], truths=TRUTHS_TOY, k=50)
    row = rec.summary.iloc[0]
    assert 0.8 <= row.median_width_share <= 0.97
    assert row.verdict in ("not identifiable", "overconfident")
    assert row.verdict == "not identifiable" or row.coverage < 0.8


def test_intervals_that_ignore_the_data_are_caught_as_overconfident():
    # a model that does not describe the data: the 40 truths' statistics come from 1 - a, the
    # other sets' from a + noise, so the narrow intervals point at 1 - a and miss the truth
    # unless it is near 0.5 (coverage about 0.2 expected; the truths are 2 % of the table, too
    # few to reach the 5 % tail of one another's accepted sets)
    table = _toy(1, True)
    table.loc[:39, "s"] = 1 - table.a[:40]
    rec = recover(table, PRIOR, ["s"], truths=40, k=50)
    row = rec.summary.iloc[0]
    assert row.coverage < 0.5 and row.verdict == "overconfident"


def test_the_truth_is_left_out_and_ties_are_accepted():
    # 30 sets: the statistic is 0 for 25 of them, so all 24 others tie for a truth among them
    a = np.linspace(0, 1, 30)
    table = pd.DataFrame({"a": a, "s": np.where(a < 0.8, 0.0, a)})
    rec = recover(table, PRIOR, ["s"], truths=3, k=MIN_K)
    assert (rec.truths.accepted == 23).all()


def test_too_few_accepted_sets_for_a_90_percent_interval_are_refused():
    # below 19 sets, the 5 % and 95 % order statistics do not exist
    with pytest.raises(ValueError, match=r"^k: 18 is not allowed; expected an integer from 19"):
        recover(_toy(0, True), PRIOR, ["s"], truths=5, k=MIN_K - 1)
    assert MIN_K == 19


def test_draws_are_a_prefix_and_inside_the_priors():
    spec = parse_spec(TINY)
    short, long = (draw_parameters(spec.priors, n, 5) for n in (7, 40))
    pd.testing.assert_frame_equal(short, long.head(7))
    for p in spec.priors:
        assert long[p.name].between(p.low, p.high).all()
    assert range_targets(spec.stat_keys()) is not None
    assert range_targets(["P0 something unknown @4"]) is None


# ------------------------------------------------------------------ the real model
@pytest.mark.slow  # 10-20 s on a busy 2-core machine: kept out of ``make check``
def test_outputs_on_the_real_model_with_a_tiny_spec(tmp_path):
    # 30 sets of 1 run on 2 arms at team size 4 (about 10 s), 5 truths, 19 accepted
    spec = parse_spec(TINY)
    docs = tmp_path / "doc.md"
    docs.write_text(f"# Title\n\nbefore\n\n{START}\nold\n{END}\n\nafter\n")
    lines: list[str] = []
    rec = run_recovery(spec, tmp_path / "out", n=30, truths=5, k=19, workers=2, docs=docs,
                       say=lines.append)
    out = tmp_path / "out"
    table = pd.read_parquet(out / TABLE)
    assert len(table) == 30
    assert {p.name for p in spec.priors} | set(spec.stat_keys()) <= set(table.columns)
    summary = pd.read_csv(out / CSV)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert list(summary.parameter) == [p.name for p in spec.priors]
    assert summary.coverage.between(0, 1).all() and (summary.truths == 5).all()
    assert summary.median_width_share.between(0, 1).all()
    truths = pd.read_parquet(out / TRUTHS)
    assert len(truths) == 5 * len(spec.priors) and (truths.low <= truths.high).all()
    info = json.loads((out / JSON).read_text())
    assert info["sets"] == 30 and info["distance"] == "range" and info["seconds_per_set"] > 0
    assert info["verdict"] == lines[-1] == rec.info["verdict"]
    assert [r["parameter"] for r in info["results"]] == list(summary.parameter)
    text = docs.read_text()
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old" not in text and "| renewal_loss |" in text and text.count(START) == 1

    # the same table again, analysed with another k: nothing simulated, same table
    again = run_recovery(spec, tmp_path / "again", n=30, truths=5, k=25,
                         table=out / TABLE, say=lines.append)
    assert again.info["table_reused"] and (again.truths.accepted >= 25).all()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "again" / TABLE), table)
    assert (table.replicates == 1).all() and again.info["replicates"] == 1
    with pytest.raises(ValueError, match="^replicates: 2 does not match the table's 1"):
        run_recovery(spec, tmp_path / "other", n=30, truths=5, k=19, replicates=2,
                     table=out / TABLE, say=lines.append)
    assert not (tmp_path / "other").exists()


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("kwargs, where", [
    ({"n": 2}, "n:"), ({"truths": 0}, "truths:"), ({"truths": 31}, "truths:"),
    ({"k": 30}, "k:"), ({"k": 1}, "k:"), ({"replicates": 0}, "replicates:"),
    ({"workers": 0}, "workers:"), ({"distance": "manhattan"}, "distance:"),
    ({"docs": "nope.md"}, "docs:"), ({"table": "nope.parquet"}, "table:"),
])
def test_bad_settings_are_refused_in_one_line_and_nothing_is_written(tmp_path, kwargs, where):
    settings = {"n": 30, "truths": 5, "k": 19, **kwargs}
    if "docs" in kwargs:
        settings["docs"] = tmp_path / kwargs["docs"]
    if "table" in kwargs:
        settings["table"] = tmp_path / kwargs["table"]
    with pytest.raises(ValueError, match=f"^{where}") as exc:
        run_recovery(parse_spec(TINY), tmp_path / "out", say=lambda _: None, **settings)
    assert "\n" not in str(exc.value)
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_bad_input_with_one_line_and_exit_2(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY)
    assert main(["--spec", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert main(["--spec", str(spec), "--out", str(tmp_path / "o"), "--k", "500"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["--spec", str(spec), "--n", "many", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("recovery: ") for line in err)
    assert not (tmp_path / "o").exists()


def test_write_docs_section_appends_when_the_markers_are_missing(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("# Doc\n")
    write_docs_section(doc, f"{START}\nnew\n{END}\n")
    assert doc.read_text() == f"# Doc\n\n{START}\nnew\n{END}\n"


@pytest.mark.dask
def test_the_table_on_a_dask_cluster_equals_the_local_one(tmp_path):
    # a real scheduler and 2 worker processes on 127.0.0.1; 24 sets of the tiny spec
    import distributed  # the dask extra, which make test installs
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert main(["--spec", str(spec), "--n", "24", "--truths", "5", "--k", "19",
                     "--scheduler", cluster.scheduler_address, "--out",
                     str(tmp_path / "dask")]) == 0
    run_recovery(parse_spec(TINY), tmp_path / "local", n=24, truths=5, k=19, workers=1,
                 say=lambda _: None)
    dask, local = (pd.read_parquet(tmp_path / d / TABLE).drop(columns="seconds")
                   for d in ("dask", "local"))
    pd.testing.assert_frame_equal(dask, local)
    assert json.loads((tmp_path / "dask" / JSON).read_text())["workers"] == 2

"""Tests of the blame factorial (dealersim.studies.blame, outputs.blame, ``dealersim blame``)."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from dealersim.cli.main import main
from dealersim.model.params import spec
from dealersim.model.strategies import make_params, strategy_overrides
from dealersim.outputs.blame import write_blame
from dealersim.studies import blame
from dealersim.studies.engine import seed_for


def test_factor_levels_come_from_metadata_and_presets():
    table = blame.factor_table()
    s = spec("specialist_skill")
    assert table["skill"].off == {"specialist_skill": s.low}
    assert table["skill"].on == {"specialist_skill": s.high}
    assert table["manager"].off["manager_leadership"] == make_params("overlay").manager_leadership
    assert table["manager"].on["manager_leadership"] == make_params("planned").manager_leadership
    planned = set(strategy_overrides("planned"))
    # the default split covers the planned preset's levers exactly once, the manager aside
    split = [table[k].fields for k in ("credit", "quota", "prep")]
    assert set().union(*split) == planned - {"manager_leadership"} == table["owner"].fields
    assert sum(len(f) for f in split) == len(planned) - 1
    # everything on (at default skill) is exactly the planned preset; everything off the overlay
    keys = ("manager", "credit", "quota", "prep")
    on = make_params("overlay", **blame.cell_overrides(keys, (1, 1, 1, 1)))
    assert on == make_params("planned")
    off = make_params("overlay", **blame.cell_overrides(keys, (0, 0, 0, 0)))
    assert off == make_params("overlay")


@pytest.mark.parametrize(("keys", "needle"), [
    ((), "1 to"),
    (("skill", "nosuch"), "'nosuch' is unknown"),
    (("skill", "skill"), "twice"),
    (("owner", "credit"), "both set credit_policy"),
    (("prep", "rules"), "both set rules_of_engagement"),
    (("skill", "manager", "credit", "quota", "prep", "territory", "rules", "training",
      "intervention"), "1 to"),
])
def test_bad_factor_lists(keys, needle):
    with pytest.raises(ValueError, match=re.escape(needle)) as exc:
        blame.check_factors(keys)
    assert str(exc.value).startswith("factors: ") and "\n" not in str(exc.value)


def test_specs_share_seeds_across_cells():
    specs = blame.blame_specs(3, seed=4, factors=("skill", "credit", "quota"))
    assert len(specs) == 8 * 3
    by_rep = {}
    for sp in specs:
        by_rep.setdefault(dict(sp.labels)["replicate"], set()).add(sp.seed)
    assert by_rep == {i: {seed_for(4, i)} for i in range(3)}
    assert {tuple(sorted(dict(sp.labels))) for sp in specs} == {
        ("cell", "credit", "fraction", "quota", "replicate", "skill")}


FACTORS = ("manager", "credit", "prep")


def _synthetic(rule, reps=5, factors=FACTORS):
    table = blame.factor_table()
    rows = []
    for c, cell in enumerate(blame.cells(factors)):
        levels = {k: table[k].levels[on] for k, on in zip(factors, cell, strict=True)}
        for i in range(reps):
            rows.append(dict(cell=c, **levels, replicate=i,
                             launch_succeeded=bool(rule(dict(zip(factors, cell, strict=True)),
                                                        i))))
    return pd.DataFrame(rows)


def test_effects_from_cell_means_exact():
    """Effects are exact contrasts: a pure credit effect shows up as +1 and nothing else."""
    eff = blame.effect_table(_synthetic(lambda on, i: on["credit"]), FACTORS).set_index("name")
    assert eff.loc["credit", "effect"] == 1.0
    assert eff.loc[["manager", "prep", "manager x credit", "credit x prep"], "effect"].eq(0).all()
    assert eff.loc["credit|others off", "effect"] == eff.loc["credit|others on", "effect"] == 1.0
    # an interaction: success only when credit AND preparation are in place
    eff = blame.effect_table(_synthetic(lambda on, i: on["credit"] and on["prep"]),
                             FACTORS).set_index("name")
    assert eff.loc["credit", "effect"] == 0.5 and eff.loc["prep", "effect"] == 0.5
    assert eff.loc["credit x prep", "effect"] == 1.0
    assert eff.loc["credit|others on", "effect"] == 1.0
    assert eff.loc["credit|others off", "effect"] == 0.0


def _fake(rule, reps=40, factors=FACTORS):
    runs = _synthetic(rule, reps, factors)
    runs["first_specialist_tenure_days"] = 365
    runs["first_specialist_censored"] = True
    runs["managed_mrr"] = 0.0
    return blame.Blame(runs=runs, cells=blame.cell_table(runs, factors),
                       effects=blame.effect_table(runs, factors), logit=None, replicates=reps,
                       seed=0, overrides={}, version="test", command="test", factors=factors)


@pytest.mark.slow
def test_verdict_names_the_lever_only_when_nothing_else_is_enough():
    """The verdict follows the numbers it quotes (synthetic outcomes, 40 replicates a cell)."""
    # credit is necessary and sufficient: "without it nothing else is enough"
    b = _fake(lambda on, i: on["credit"])
    verdict = b.sentences()[-1]
    assert "largest lever is the credit for reps" in verdict
    assert "nothing else is enough" in verdict and "shared" not in verdict
    # credit helps most, but preparation alone also works: the blame is shared
    b = _fake(lambda on, i: on["credit"] or (on["prep"] and i % 4 != 0))
    verdict = b.sentences()[-1]
    assert "shared" in verdict and "nothing else is enough" not in verdict
    assert "75%" in verdict  # the best cell without credit, quoted
    # credit is clearly best, and without it the others reach only 25 %: it is blamed
    b = _fake(lambda on, i: on["credit"] or (on["prep"] and i % 4 == 0))
    verdict = b.sentences()[-1]
    assert "nothing else is enough" in verdict and "25%" in verdict
    # nothing matters: no factor is blamed
    b = _fake(lambda on, i: i % 2 == 0)
    verdict = b.sentences()[-1]
    assert "no single factor clearly" in verdict and "lever" not in verdict
    assert len(b.sentences()) == len(FACTORS) + 1
    for s in b.sentences():
        assert "_" not in s  # no code names


@pytest.fixture(scope="module")
def small_blame():
    """A real two-factor study: manager x the owner's whole preparation, 8 replicates, seed 2."""
    return blame.run_blame(8, seed=2, overrides={"years": 1.0}, factors=("manager", "owner"),
                           workers=1, progress=False)


@pytest.mark.slow
def test_run_blame(small_blame, tmp_path):
    b = small_blame
    assert len(b.runs) == 32 and len(b.cells) == 4
    assert (b.cells.n == 8).all()
    assert ((b.cells.ci_low <= b.cells.rate) & (b.cells.rate <= b.cells.ci_high)).all()
    assert len(b.sentences()) == 3
    # everything off is the overlay preset: the same seeds give the same summaries
    base = b.runs[(b.runs.manager == "keeps the peace") & (b.runs.owner == "none")]
    from dealersim.studies.compare import run_compare

    plain = run_compare(["overlay"], replicates=8, seed=2, overrides={"years": 1.0},
                        series_stride=0, progress=False).runs
    base = base.sort_values("replicate")
    assert base.gross_profit.tolist() == plain.gross_profit.tolist()
    out = write_blame(b, tmp_path / "blame")
    names = set(os.listdir(out))
    assert {"runs.parquet", "cells.csv", "effects.csv", "logit.csv", "report.html",
            "blame_cells.png", "blame_effects.png"} <= names
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "Whose fault is it?" in html
    assert "owner&#39;s whole preparation" in html or "owner's whole preparation" in html


@pytest.mark.slow
def test_owner_preparation_matters(small_blame):
    """The story's claim, with a loose tolerance: preparing the launch keeps the specialist.

    8 paired replicates per cell (16 per owner level, seed 2, one-year horizon). Success on
    money is judged at month 36 (or the run's end), which a one-year run cannot reach, so the
    claim is checked on the story's own measure: the first specialist still in the seat at
    month 12 with the program running. We require at least 30 points more with the owner's
    preparation.
    """
    runs = small_blame.runs
    kept = runs.groupby("owner")["first_specialist_year_one"].mean()
    assert kept["planned"] - kept["none"] >= 0.3, kept


@pytest.mark.slow
def test_cli_factor_selection(tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["blame", "--factors", "credit,quota", "--replicates", "2", "--years", "1",
                 "--set", "n_reps=4", "--workers", "1", "--out", str(out)])
    assert code == 0
    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) == 4 and {"credit", "quota"} <= set(cells.columns)
    assert "skill" not in cells.columns
    printed = capsys.readouterr().out
    html = (out / "report.html").read_text()
    assert "--factors credit,quota" in html
    assert "Verdict" in printed
    # the command counts the story's launch (the first specialist at month 12), not money
    assert "First specialist still in the seat at month 12, per combination" in html
    assert "keep their first specialist to month 12" in printed


@pytest.mark.parametrize(("factors", "needle"), [
    ("owner,credit", "both set credit_policy"),
    ("nosuch", "unknown"),
    ("", "unknown"),
])
def test_cli_bad_factors(factors, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["blame", "--factors", factors, "--out", "o"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--factors" in err[0] and needle in err[0]
    assert list(tmp_path.iterdir()) == []


def test_cli_set_on_a_factor_field_refused(tmp_path, capsys):
    code = main(["blame", "--factors", "credit", "--set", "credit_policy=split",
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "credit_policy" in err[0]
    assert not (tmp_path / "o").exists()


def test_default_factors_split_the_owner():
    assert blame.DEFAULT_FACTORS == ("skill", "manager", "credit", "quota", "prep")
    assert blame.check_factors(blame.DEFAULT_FACTORS) == blame.DEFAULT_FACTORS

"""Tests of the plan as a factorial (``blame --factors plan --design``) and of the culture table.

Synthetic responses check the design and the arithmetic exactly; one tiny real run (2 seeds a
cell, 1 year, 64 cells) checks that ``dealersim factorial`` writes the page.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from dealersim.cli.main import main
from dealersim.model.strategies import make_params
from dealersim.studies import blame
from dealersim.studies.culture import culture_table, newcombe, thirds
from dealersim.studies.engine import seed_for

PLAN = blame.PLAN_FACTORS
K = len(PLAN)
EIGHT = (*PLAN, "skill")
"""Eight factors (the plan's seven and the specialist's skill): the resolution-V design."""


def _pm(cells):
    """The -1/+1 columns of a list of 0/1 cells."""
    return 2 * np.asarray(cells, dtype=float) - 1


def test_plan_factors_are_the_planned_preset():
    """All seven levers on is exactly the planned preset; all off the overlay."""
    assert K == 7 and blame.check_factors(["plan"]) == PLAN
    assert make_params("overlay", **blame.cell_overrides(PLAN, (1,) * K)) == make_params("planned")
    assert make_params("overlay", **blame.cell_overrides(PLAN, (0,) * K)) == make_params("overlay")


def test_full_design_has_every_cell():
    full = blame.cells(PLAN, "full")
    assert len(full) == 128 == len(set(full))
    assert blame.resolution(K, "full") is None and blame.defining_words(K, "full") == []


def test_resv_design_has_resolution_five():
    """64 distinct cells; no main effect or two-factor interaction aliased with another.

    Checked twice: from the defining relation (every word has 5 or more letters, and every
    alias of an effect of order <= 2 has order >= 3), and directly: the -1/+1 columns of the
    intercept, 8 main effects and 28 two-factor interactions are mutually orthogonal over the
    64 cells (X'X = 64 I), so each is estimated free of all the others.
    """
    frac = blame.cells(EIGHT, "resv")
    assert len(frac) == 64 == len(set(frac))
    assert (1,) * 8 in frac  # the whole plan is run
    assert blame.resolution(8) == 5
    assert sorted(len(w) for w in blame.defining_words(8)) == [5, 5, 6]
    for order in (1, 2):
        for e in itertools.combinations(range(8), order):
            assert all(len(a) >= 3 for a in blame.aliases(e, 8)), e
    z = _pm(frac)
    cols = [np.ones(64)] + [z[:, i] for i in range(8)] + [
        z[:, i] * z[:, j] for i, j in itertools.combinations(range(8), 2)]
    X = np.column_stack(cols)
    assert X.shape == (64, 37)
    np.testing.assert_array_equal(X.T @ X, 64 * np.eye(37))
    # a three-factor interaction is NOT free: ABC is aliased with DG (word ABCDG)
    assert frozenset({3, 6}) in blame.aliases((0, 1, 2), 8)
    # the 6- and 7-factor fractions are resolution VI and VII
    assert blame.resolution(6) == 6 and blame.resolution(7) == 7
    # the plan's seven levers: a half fraction, I = ABCDEFG, so no interaction of up to three
    # levers is aliased with another of up to three
    plan = blame.cells(PLAN, "resv")
    assert len(plan) == 64 == len(set(plan)) and (1,) * K in plan
    assert [len(w) for w in blame.defining_words(K)] == [7]


@pytest.mark.parametrize(("design", "k", "needle"), [
    ("half", 8, "'half' is unknown"),
    ("resv", 5, "resv needs 6 to 8 factors"),
])
def test_bad_design(design, k, needle):
    with pytest.raises(ValueError, match=needle) as exc:
        blame.cells(PLAN[:k], design)
    assert str(exc.value).startswith("design: ") and "\n" not in str(exc.value)


def test_specs_share_seeds_across_cells_in_both_designs():
    """Common random numbers: replicate i has the same seed in every cell."""
    # the fraction's 64 cells (an even number of levers off), plus the 8 of the 16 plan cells
    # it lacks: nothing on and everything but each lever
    for design, n, proper in (("resv", 64 + 8, 64), ("full", 128, 128)):
        specs = blame.blame_specs(3, seed=7, factors=PLAN, design=design)
        assert len(specs) == n * 3
        by_rep: dict[int, set[int]] = {}
        for sp in specs:
            by_rep.setdefault(dict(sp.labels)["replicate"], set()).add(sp.seed)
        assert by_rep == {i: {seed_for(7, i)} for i in range(3)}
        assert len({dict(sp.labels)["cell"] for sp in specs}) == n
        assert len({dict(sp.labels)["cell"] for sp in specs
                    if dict(sp.labels)["fraction"]}) == proper


def test_a_fraction_runs_the_plan_cells_beside_it_and_estimates_effects_without_them():
    added = [c for c, proper in blame.design_cells(PLAN, "resv") if not proper]
    assert set(blame.plan_cells(K)) <= set(blame.cells(PLAN, "resv")) | set(added)
    assert len(added) == 8 and (0,) * K in added and (1,) * K not in added
    table = blame.factor_table()
    runs = _response("resv").assign(fraction=True)
    extra = pd.DataFrame([dict(cell=100 + n, replicate=r, fraction=False,
                               booked_mrr_year1=-1e6,  # would wreck any effect it entered
                               **{f: table[f].levels[on] for f, on in zip(PLAN, c, strict=True)})
                          for n, c in enumerate(added) for r in range(6)])
    both = pd.concat([runs, extra], ignore_index=True)
    proper = blame.fraction_runs(both)
    assert len(proper) == len(runs)
    eff = blame.effect_table(proper, PLAN, "booked_mrr_year1").set_index("name")
    assert eff.loc["credit", "effect"] == pytest.approx(MAIN["credit"], abs=1e-6)


MAIN = {"credit": 3000.0, "manager": -1200.0, "quota": 500.0, "territory": 0.0}
INTER = {("credit", "manager"): 800.0, ("rules", "intervention"): -400.0,
         ("quota", "territory"): 250.0}


def _response(design, reps=6, three=0.0, factors=PLAN):
    """Runs with booked MRR = known main effects and interactions (-1/2, +1/2 coding) + a seed
    term shared by every cell (which paired contrasts must cancel exactly) + optionally a
    credit x manager x rules three-factor term."""
    table = blame.factor_table()
    idx = {f: i for i, f in enumerate(factors)}
    rows = []
    for c, cell in enumerate(blame.cells(factors, design)):
        z = (np.asarray(cell) - 0.5)
        y = 5000.0 + sum(m * z[idx[f]] for f, m in MAIN.items())
        y += sum(g * z[idx[a]] * z[idx[b]] for (a, b), g in INTER.items())
        y += three * z[0] * z[1] * z[2]
        for r in range(reps):
            rows.append(dict(cell=c, replicate=r, booked_mrr_year1=y + 1000.0 * r ** 2,
                             **{f: table[f].levels[on]
                                for f, on in zip(factors, cell, strict=True)}))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("design", ["full", "resv"])
def test_known_effects_recovered_exactly(design):
    eff = blame.effect_table(_response(design), PLAN, "booked_mrr_year1").set_index("name")
    for f in PLAN:
        assert eff.loc[f, "effect"] == pytest.approx(MAIN.get(f, 0.0), abs=1e-6)
    for a, b in itertools.combinations(PLAN, 2):
        assert eff.loc[f"{a} x {b}", "effect"] == pytest.approx(
            INTER.get((a, b), 0.0), abs=1e-6), (a, b)
    # the seed term is the same in every cell: each per-seed contrast is identical, so the
    # interval collapses onto the estimate
    assert np.allclose(eff.ci_low, eff.effect) and np.allclose(eff.ci_high, eff.effect)
    assert (eff.n == 6).all()
    assert ("credit|others on" in eff.index) == (design == "full")


def test_three_factor_term_lands_on_its_alias_only_in_the_fraction():
    """Eight factors (resolution V): credit x manager x rules (ABC) is aliased with training x
    territory (DG, from the word ABCDG) in the fraction only."""
    full = blame.effect_table(_response("full", three=600.0, factors=EIGHT), EIGHT,
                              "booked_mrr_year1").set_index("name")
    frac = blame.effect_table(_response("resv", three=600.0, factors=EIGHT), EIGHT,
                              "booked_mrr_year1").set_index("name")
    assert full.loc["training x territory", "effect"] == pytest.approx(0.0, abs=1e-6)
    # 600 zA zB zC = 600/8 xA xB xC (x = +-1) = 600/8 xD xG in the fraction = 600/2 zD zG
    assert frac.loc["training x territory", "effect"] == pytest.approx(600.0 / 2, abs=1e-6)
    for name in ("credit", "credit x manager", "rules x intervention"):
        assert frac.loc[name, "effect"] == pytest.approx(full.loc[name, "effect"], abs=1e-6)


def test_the_plans_fraction_keeps_three_factor_terms_off_the_two_factor_ones():
    """The plan's seven levers (resolution VII): the same three-factor term leaves every main
    effect and two-factor interaction as in the full design."""
    full = blame.effect_table(_response("full", three=600.0), PLAN,
                              "booked_mrr_year1").set_index("name")
    frac = blame.effect_table(_response("resv", three=600.0), PLAN,
                              "booked_mrr_year1").set_index("name")
    names = [*PLAN, *(f"{a} x {b}" for a, b in itertools.combinations(PLAN, 2))]
    for name in names:
        assert frac.loc[name, "effect"] == pytest.approx(full.loc[name, "effect"], abs=1e-6)


def _plan_blame(rule, reps=30):
    table = blame.factor_table()
    rows = []
    for c, cell in enumerate(blame.cells(PLAN)):
        on = dict(zip(PLAN, cell, strict=True))
        for i in range(reps):
            rows.append(dict(cell=c, replicate=i, launch_succeeded=bool(rule(on, i)),
                             first_specialist_tenure_days=365, first_specialist_censored=True,
                             managed_mrr=0.0, booked_mrr_year1=0.0, cash_vs_hardware_only=0.0,
                             **{f: table[f].levels[v] for f, v in on.items()}))
    runs = pd.DataFrame(rows)
    return blame.Blame(runs=runs, cells=blame.cell_table(runs, PLAN),
                       effects=blame.effect_table(runs, PLAN), logit=None, replicates=reps,
                       seed=0, overrides={}, version="test", command="test", factors=PLAN,
                       measures=blame.measure_effects(runs, PLAN))


@pytest.mark.slow
def test_plan_sentence_follows_the_cells():
    """Synthetic outcomes, 30 seeds a cell: the verdict is chosen from the cells it quotes."""
    # success needs every lever: supported, and every lever is needed
    s = " ".join(_plan_blame(lambda on, i: all(on.values())).plan_sentences())
    assert "is supported" in s and "100% of launches" in s and "reaches 0%" in s
    assert "clearly needs" in s
    # credit alone is as good as the plan: refuted, naming credit
    s = " ".join(_plan_blame(lambda on, i: on["credit"]).plan_sentences())
    assert "is refuted: credit for reps alone is not clearly worse" in s
    assert "clearly needs credit for reps" in s
    # half the levers suffice in most seeds: no lever is needed given the rest
    s = " ".join(_plan_blame(lambda on, i: sum(on.values()) >= 4).plan_sentences())
    assert "no lever is clearly needed" in s
    for t in _plan_blame(lambda on, i: i % 2 == 0).plan_sentences():
        assert "_" not in t


def test_culture_thirds_and_gap():
    """Teams keep their third across strategies; rates and Newcombe's gap are exact."""
    rng = np.random.default_rng(3)
    wall = rng.uniform(0.0, 0.6, 90)
    rows = []
    for s in ("overlay", "planned"):
        for r, w in enumerate(wall):
            # the planned run of a seed reports a slightly different wall: its third must
            # still be the overlay run's
            rows.append(dict(strategy=s, replicate=r, seed=r,
                             guard_day0=w + (0.05 if s == "planned" else 0.0),
                             first_specialist_year_one=bool(w < 0.2) if s == "overlay" else True,
                             launch_succeeded=False))
    runs = pd.DataFrame(rows)
    third = thirds(runs)
    assert (third[runs.strategy == "overlay"].to_numpy()
            == third[runs.strategy == "planned"].to_numpy()).all()
    assert (third == "open").sum() == 60  # 30 teams per third, in both strategies
    t = culture_table(runs).set_index(["strategy", "third"])
    order = np.sort(wall)
    assert t.loc[("overlay", "open"), "wall_high"] == pytest.approx(order[29])
    assert t.loc[("overlay", "open"), "n"] == 30
    open_rate = float((order[:30] < 0.2).mean())
    assert t.loc[("overlay", "open"), "rate"] == pytest.approx(open_rate)
    assert t.loc[("overlay", "guarded"), "rate"] == 0.0
    gap = t.loc[("overlay", "open - guarded")]
    assert gap.rate == pytest.approx(open_rate)
    assert gap.share_of_successes == pytest.approx(
        (order[:30] < 0.2).sum() / (wall < 0.2).sum())
    assert t.loc[("planned", "open - guarded"), "rate"] == 0.0
    assert set(t.outcome) == {"first_specialist_year_one"}  # the story's launch by default
    money = culture_table(runs, outcome="launch_succeeded")
    assert (money.rate.fillna(0.0) == 0.0).all() and set(money.outcome) == {"launch_succeeded"}
    # Newcombe (1998), table II, example (f): 56/70 - 48/80 -> 0.2000, 0.0524 to 0.3339
    d, lo, hi = newcombe(56, 70, 48, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)


def test_culture_table_refuses_runs_without_the_columns():
    with pytest.raises(ValueError, match="missing column 'guard_day0'"):
        culture_table(pd.DataFrame({"strategy": ["overlay"], "replicate": [0],
                                    "first_specialist_year_one": [True]}))
    with pytest.raises(ValueError, match="outcome: 'tenure' is not allowed; expected one of "
                       "launch_succeeded, first_specialist_year_one"):
        culture_table(pd.DataFrame({"strategy": ["overlay"]}), outcome="tenure")


def test_cli_bad_design_is_one_line(tmp_path, capsys):
    code = main(["blame", "--design", "resv", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "resv needs 6 to 8 factors" in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_tiny_real_factorial_page(tmp_path, capsys):
    """A real run: the 64-cell fraction, 2 seeds a cell, 1 year, 4 reps; 6 culture runs."""
    page = tmp_path / "factorial.md"
    code = main(["factorial", "--design", "resv", "--replicates", "2",
                 "--culture-replicates", "6", "--years", "1", "--set", "n_reps=4",
                 "--workers", "1", "--path", str(page)])
    assert code == 0
    text = page.read_text()
    assert "dealersim factorial --replicates 2 --culture-replicates 6" in text
    assert "resolution-VII fraction: 64 of the 128 combinations" in text
    assert "beside it, the 8 combinations the verdict reads" in text
    assert "Each of these combinations was run, on the same seeds as the fraction." in text
    assert "I = ABCDEFG" in text
    for label in ("Launch succeeded", "First specialist still in the seat at month 12",
                  "First specialist's days in the seat",
                  "Managed revenue a month booked in year 1", "Cash against doing nothing"):
        assert label in text
    for lever in ("credit for reps (double vs none)", "hardware fallback (closed vs open)"):
        assert f"| {lever} |" in text
    assert "open minus guarded" in text and "The story's launch" in text
    # the verdicts count the story's launch, not money
    assert "of launches keep their first specialist to month 12 (2 simulated" in text
    assert "It takes the plan, not one fix" in text
    assert "wrote:" in capsys.readouterr().out


def test_blame_refuses_an_unknown_outcome_in_one_line():
    from dealersim.studies.blame import run_blame

    with pytest.raises(ValueError) as exc:
        run_blame(1, outcome="managed_mrr")
    assert str(exc.value) == ("outcome: 'managed_mrr' is not allowed; expected one of "
                              "launch_succeeded, first_specialist_year_one")


def test_report_culture_section():
    """The consultant's report shows the culture table from the same studies function."""
    from types import SimpleNamespace

    from dealersim.outputs.report.render import ENV, culture_context

    rows = [dict(strategy=s, replicate=r, guard_day0=r / 60, first_specialist_year_one=r < 20,
                 launch_succeeded=False)
            for s in ("overlay", "planned") for r in range(60)]
    comp = SimpleNamespace(replicates=60, runs=pd.DataFrame(rows),
                           strategies=["overlay", "planned"], title=str.capitalize)
    ctx = culture_context(comp)
    assert ctx is not None and len(ctx["sentences"]) == 2
    assert ("keep their first specialist to month 12: teams that start in the most open third "
            "reach 100%") in ctx["sentences"][0]
    assert ctx["outcome_label"] == "first specialist still in the seat at month 12"
    assert "goodwill" in ctx["observe"] and "guarded" in ctx["observe"]
    assert {r["third"] for r in ctx["rows"]} == {"open", "middle", "guarded", "open - guarded"}
    assert culture_context(SimpleNamespace(replicates=10, runs=comp.runs,
                                           strategies=comp.strategies, title=comp.title)) is None
    source = ENV.loader.get_source(ENV, "compare.html.j2")[0]
    assert "culture.observe" in source and "culture.sentences" in source
    assert "culture.outcome_label" in source


def test_cli_factorial_set_on_a_lever_refused(tmp_path, capsys):
    page = tmp_path / "f.md"
    code = main(["factorial", "--set", "credit_policy=split", "--path", str(page)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "credit_policy" in err[0]
    assert not page.exists()


@pytest.mark.slow
def test_predicted_plan_contrasts_exact_without_higher_interactions():
    """In the fraction, 'lever alone' and 'all but one' against the whole plan are predicted
    from mains and two-factor interactions; with no higher-order terms they are exact."""
    idx = {f: i for i, f in enumerate(PLAN)}

    def truth(cell):
        z = np.asarray(cell) - 0.5
        return (sum(m * z[idx[f]] for f, m in MAIN.items())
                + sum(g * z[idx[a]] * z[idx[b]] for (a, b), g in INTER.items()))

    pred = blame.predicted_plan_contrasts(_response("resv"), PLAN, "booked_mrr_year1")
    plan = truth((1,) * K)
    for i, f in enumerate(PLAN):
        alone, without = pred[f]
        assert alone[0] == pytest.approx(truth(tuple(int(j == i) for j in range(K))) - plan)
        assert without[0] == pytest.approx(truth(tuple(int(j != i) for j in range(K))) - plan)
    # a fraction's plan sentence says it is a prediction
    b = _plan_blame(lambda on, i: all(on.values()))
    frac_runs = b.runs[[tuple(int(r[f] == blame.factor_table()[f].levels[1]) for f in PLAN)
                        in set(blame.cells(PLAN, "resv")) for _, r in b.runs.iterrows()]]
    fb = blame.Blame(runs=frac_runs, cells=blame.cell_table(frac_runs, PLAN),
                     effects=blame.effect_table(frac_runs, PLAN), logit=None, replicates=30,
                     seed=0, overrides={}, version="test", command="test", factors=PLAN,
                     design="resv")
    assert "Predicted from the main effects" in fb.plan_sentences()[-1]

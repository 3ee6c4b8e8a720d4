"""The knock-out switches and ``dealersim validate --knockouts``.

Each switch test runs the strategy where the mechanism acts, with and without the switch, on
the same seed (4 reps, 1 year), and checks that the mechanism shows in the first run and is
gone in the second. Deterministic: fixed seeds, no tolerance needed.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from dealersim.cli.main import main
from dealersim.model.dealership import DealershipModel
from dealersim.model.people.hardware_rep import HardwareRep
from dealersim.model.results import summarize
from dealersim.studies.knockouts import (
    COLUMNS,
    MEASURES,
    MECHANISMS,
    REMOVED,
    csv_text,
    knockouts,
    mechanism,
    section,
)

SHORT = {"n_reps": 4, "years": 1.0}
SEED = 7


def _run(name: str, off: bool, seed: int = SEED, **extra):
    m = mechanism(name)
    over = {**SHORT, **extra, **(dict(m.off) if off else {})}
    model = DealershipModel(m.strategy, rng=seed, **over)
    model.run()
    return model


def _pair(name: str, seed: int = SEED, **extra):
    return _run(name, False, seed, **extra), _run(name, True, seed, **extra)


def _first_seed(pred, name: str, **extra):
    """The first of seeds 1-40 whose run with the mechanism shows it (pred true)."""
    for seed in range(1, 41):
        model = _run(name, False, seed, **extra)
        if pred(model):
            return seed, model
    pytest.fail(f"{name}: the mechanism never showed in 40 seeds")


def test_every_mechanism_has_a_switch():
    """The story's 13 mechanisms of the issue: 11 in the table (the call for help and the
    owner's reply as three rows: the shrug, and the call with both replies), 2 removed with a
    line each (the earlier failures, the announcement as a lever of its own)."""
    assert len(MECHANISMS) == 12 and len(REMOVED) == 2
    assert len({m.name for m in MECHANISMS}) == 12
    names = {m.name for m in MECHANISMS}
    for m in MECHANISMS:
        assert m.strategy in ("overlay", "planned") and m.off
        assert set(m.parts) <= names - {m.name}
    assert mechanism("call_for_help").parts == ("owners_shrug", "extension")


def test_the_shrug_off_keeps_the_beat_and_his_morale():
    """Without the shrug's cost the owner still shrugs, and the specialist's morale is as
    before the call."""
    seed, model = _first_seed(lambda m: "shrug" in m.events.kinds(), "owners_shrug")
    off = _run("owners_shrug", True, seed)
    assert "shrug" in off.events.kinds() and off.params.morale_no_help == 0.0
    s = off.specialists[0]
    before = s.morale
    off.owner.answer_help(s)
    assert s.morale == before


def test_a_mechanism_acting_through_its_parts_is_explained_when_they_cancel():
    """The call for help: its knock-out is inert at 8 reps while the shrug and the extension
    each matter (made-up rows); the section says why instead of listing it as inert."""
    def rows(name, low, high):
        return [{"mechanism": name, "n_reps": 8, "measure": key, "effect": (low + high) / 2,
                 "low": low, "high": high} for key in MEASURES]

    text = section(rows("owners_shrug", 1.0, 2.0) + rows("extension", -2.0, -1.0)
                   + rows("call_for_help", -1.0, 1.0), 100, 5.0, 1.0)
    assert "acts only through its parts" in text and "their effects cancel" in text
    assert "no interval excludes 0 for" not in text
    lone = section(rows("owners_shrug", -1.0, 1.0) + rows("extension", -2.0, -1.0)
                   + rows("call_for_help", -1.0, 1.0), 100, 5.0, 1.0)
    assert "acts only through its parts" not in lone  # a part is inert: both are listed
    assert "no interval excludes 0 for: The owner's shrug" in lone


def test_walls_from_calls_and_deals(monkeypatch):
    rises: list[float] = []
    real = HardwareRep.raise_wall

    def record(self, amount):
        rises.append(amount)
        real(self, amount)

    monkeypatch.setattr(HardwareRep, "raise_wall", record)
    _run("walls_from_calls_and_deals", False, launch_surprise=0.0)
    assert max(rises) > 0  # calls and deals raise walls
    rises.clear()
    _run("walls_from_calls_and_deals", True, launch_surprise=0.0)
    assert max(rises, default=0.0) <= 0  # nothing but relief is left


def test_ask_permission_rule():
    seed, _ = _first_seed(lambda m: summarize(m)["permission_requests"] > 0,
                          "ask_permission_rule")
    assert summarize(_run("ask_permission_rule", True, seed))["permission_requests"] == 0


def test_open_territory():
    def hardware(model):
        return sum(s.hw_commission for s in model.specialists)

    seed, _ = _first_seed(lambda m: hardware(m) > 0, "open_territory")
    assert hardware(_run("open_territory", True, seed)) == 0


@pytest.mark.parametrize(("name", "kinds"), [
    ("salary_cut", {"salary_cut", "extension"}),
    ("extension", {"extension"}),
    ("call_for_help", {"asks_for_help", "shrug"}),
])
def test_story_beats_removed(name, kinds):
    seed, _ = _first_seed(lambda m: kinds <= m.events.kinds(), name)
    assert not kinds & _run(name, True, seed).events.kinds()


def test_extension_off_cuts_at_once():
    seed, _ = _first_seed(lambda m: "extension" in m.events.kinds(), "extension")
    assert "salary_cut" in _run("extension", True, seed).events.kinds()


def test_a_removed_mechanism_is_gone_and_listed_with_why():
    from dealersim.model.params import Params
    from dealersim.studies.knockouts import REMOVED, section

    assert "prior_failed_specialists" not in Params.__dataclass_fields__
    assert "earlier_failures" not in {m.name for m in MECHANISMS}
    text = section([], 100, 5.0, 1.0)
    for label, why in REMOVED:
        assert f"- **{label}**: {why}" in text


def test_credit():
    on, off = _pair("credit")
    assert all(r.credit > 0 for r in on.reps)
    assert all(r.credit == 0 for r in off.reps)


def test_leading_manager():
    on, off = _pair("leading_manager")
    assert on.manager.leads and not off.manager.leads


def test_rules_of_engagement():
    on, off = _pair("rules_of_engagement")
    rises = []
    for model in (on, off):
        rep = model.reps[0]
        rep.raise_wall(-1.0)  # from the floor, so the rise is not clipped at 1
        rep.touched(1, asked=False)
        rises.append(float(model.team.wall[0]))
    assert rises[0] < rises[1]  # a call upsets the rep less under the rules


def test_training():
    on, off = _pair("training")
    assert on.reps[0].spotting() > off.reps[0].spotting() == off.params.untrained_spotting


def test_owner_steps_in():
    """Before the launch he announces the role (no surprise); switched off, the reps learn of
    it on the day and every guard rises by the launch surprise."""
    on, off = _pair("owner_steps_in")
    assert on.owner.interventions > 0
    assert off.owner.interventions == 0
    assert "announcement" in on.events.kinds() and "launch" not in on.events.kinds()
    assert "launch" in off.events.kinds() and "announcement" not in off.events.kinds()


def test_the_announcement_is_part_of_stepping_in_before_the_launch():
    """Every launch is announced exactly when the owner steps in before it: a surprise launch
    raises every guard by ``launch_surprise`` on day 1, an announced one does not."""
    for intervention in ("never", "reactive", "before_launch"):
        model = DealershipModel("overlay", rng=5, n_reps=4, accounts_per_rep=30,
                                intervention=intervention, owner_today_priority=1.0)
        before = model.team.base_wall.copy()
        model.step()
        kinds = model.events.kinds()
        announced = intervention == "before_launch"
        assert ("announcement" in kinds) is announced and ("launch" in kinds) is not announced
        # priority 1: an intervention drops nothing; a guard stays at most 1
        surprise = 0.0 if announced else model.params.launch_surprise
        np.testing.assert_allclose(model.team.base_wall, np.minimum(before + surprise, 1.0))
        assert announced or (model.team.base_wall > before).any()


def test_unknown_mechanism_one_line():
    with pytest.raises(ValueError, match="^mechanism: 'x' is unknown; expected one of walls"):
        knockouts(2, (4,), 0.25, mechanisms=["x"], workers=1)


def test_rows_and_csv():
    names = ["ask_permission_rule", "credit"]
    rows = knockouts(3, (4, 5), 0.25, mechanisms=names, workers=1, progress=False)
    assert len(rows) == len(names) * 2 * len(MEASURES)
    for r in rows:
        assert r["low"] <= r["effect"] <= r["high"] or r["low"] != r["low"]  # NaN if undefined
    lines = list(csv.DictReader(csv_text(rows).splitlines()))
    assert tuple(lines[0]) == COLUMNS
    assert {(r["mechanism"], r["n_reps"], r["measure"]) for r in lines} == {
        (n, str(k), m) for n in names for k in (4, 5) for m in MEASURES}


@pytest.mark.slow
def test_cli_writes_csv(tmp_path, capsys):
    out = tmp_path / "ko"
    docs = tmp_path / "validation.md"
    docs.write_text("# Validation\n\nthe patterns\n")
    code = main(["validate", "--knockouts", "--out", str(out), "--replicates", "2",
                 "--sizes", "4", "--years", "0.25", "--docs", str(docs)])
    assert code == 0
    lines = list(csv.DictReader((out / "knockouts.csv").read_text().splitlines()))
    assert tuple(lines[0]) == COLUMNS
    assert len(lines) == len(MECHANISMS) * len(MEASURES)
    text = docs.read_text()
    assert text.startswith("# Validation\n\nthe patterns\n")
    assert "Budget of this table: 2 replicates, team size 4 (hardware reps), 0.25 years" in text
    overlay = sum(m.strategy == "overlay" for m in MECHANISMS)
    assert overlay == 7  # the earlier failures are removed (REMOVED)
    assert text.count("| overlay | 4 |") == overlay
    assert text.count("| planned | 4 |") == len(MECHANISMS) - overlay == 5


@pytest.mark.parametrize(("argv", "needle"), [
    (["--knockouts"], "--knockouts needs --out"),
    (["--knockouts", "--out", "ko", "--replicates", "1"], "at least 2"),
    (["--knockouts", "--out", "ko", "--sizes", "0"], "--sizes"),
    (["--knockouts", "--out", "ko", "--years", "99"], "--years"),
    (["--years", "2"], "--years applies only with --knockouts"),
])
def test_bad_input_one_line(tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["validate", *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_patterns_page_keeps_the_knockout_section(tmp_path):
    from dealersim.studies.knockouts import END, START
    from dealersim.studies.validation import write_markdown

    page = tmp_path / "validation.md"
    page.write_text(f"old patterns\n\n{START}\nthe knock-out table\n{END}\n")
    write_markdown([], page, 1, 0.0)
    text = page.read_text()
    assert "old patterns" not in text and text.startswith("# Validation")
    assert f"{START}\nthe knock-out table\n{END}" in text


def test_the_section_names_the_mechanisms_with_no_measurable_effect_at_8_reps():
    """Two mechanisms at 8 reps: one whose tenure interval excludes 0, one whose intervals all
    include it; the page says which changes nothing."""
    from dealersim.studies.knockouts import MEASURES, section

    rows = []
    for name, low in (("salary_cut", 5.0), ("extension", -5.0)):
        for key in MEASURES:
            hit = key == "first_specialist_tenure_days"
            rows.append({"mechanism": name, "n_reps": 8, "measure": key,
                         "effect": 10.0 if hit else 0.0,
                         "low": low if hit else -1.0, "high": 15.0 if hit else 1.0})
    text = section(rows, 100, 5.0, 1.0, 7)
    assert "--seed 7" in text
    line = next(x for x in text.splitlines() if x.startswith("At 8 reps no interval"))
    assert "The extension before the cut" in line and "salary cut" not in line
    assert "| The salary cut | overlay | 8 |" in text and text.count("| yes |") == 1

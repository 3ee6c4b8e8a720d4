"""Dashboard logic and components rendered in-process with ``solara.render`` (no browser).

Outcome numbers are not pinned (the model's defaults are still tuned): the tests assert
identities (the replay's last day is the run's end, a run equals ``simulate``'s), directions
and the words on the page.
"""

from __future__ import annotations

import json
import time

import ipyvuetify as v
import numpy as np
import pytest
import solara
from solara.components.echarts import EchartsWidget

from dealersim.cli import dashboard as dash_cli
from dealersim.dashboard import charts, words
from dealersim.dashboard import state as st
from dealersim.dashboard.components import Dashboard
from dealersim.model import kpis
from dealersim.model.params import GROUPS, field_specs, spec
from dealersim.model.results import simulate
from dealersim.model.strategies import strategy_doc, strategy_names, strategy_overrides
from dealersim.outputs.plots import EVENT_STYLES

WAIT = {"timeout": 90, "iteration_delay": 0.2}


def wait_until(fn, timeout: float = 90) -> None:
    start = time.time()
    while time.time() - start < timeout:
        try:
            if fn():
                return
        except (ValueError, AssertionError, IndexError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


def text_of(rc, cls: str) -> str:
    return rc.find(v.Html, class_=cls).widget.children[0]


def wait_text(rc, cls: str, text: str):
    return rc.find(v.Html, class_=cls, children=[text]).wait_for(**WAIT)


@pytest.fixture(scope="module")
def overlay() -> st.Outcome:
    return st.run_config("overlay", 0, st.default_values("overlay"))


@pytest.fixture
def page():
    box, rc = solara.render(Dashboard(), handle_error=False)
    rc.find(v.Html, class_="ds-value-launch").wait_for(**WAIT)
    yield rc
    rc.close()


# ---------------------------------------------------------------- controls vs Params
def test_every_params_field_has_exactly_one_control_in_its_group():
    groups = st.controls_by_group()
    assert list(groups) == [g for g in GROUPS if any(s.group == g for s in field_specs())]
    seen = [c.name for cs in groups.values() for c in cs]
    assert seen == [s.name for s in field_specs()]
    for c in seen:
        control = st.control_for(spec(c))
        assert control.widget in ("slider", "number") or spec(c).kind in ("bool", "choice")
        if words.is_percent(spec(c)):
            assert control.widget == "slider"


def test_the_main_levers_are_the_ones_the_presets_set():
    levers = words.key_levers()
    union = {k for n in strategy_names() for k in strategy_overrides(n)}
    assert set(levers) == union and len(levers) == len(union) <= 15


# ---------------------------------------------------------------- plain words
def test_presets_and_choices_in_words_from_docstrings_and_help():
    titles = words.strategy_by_title()
    assert sorted(titles.values()) == sorted(strategy_names())
    for title, name in titles.items():
        assert "_" not in title and words.strategy_line(name)
        # the owner's words of the presets (model.strategies), not their code names
        assert strategy_doc(name).startswith(title) and name not in title.lower()
        assert "`" not in words.strategy_line(name)
    credit = words.choice_titles(spec("credit_policy"))
    assert credit["Split (shares sum to 100 %)"] == "split"
    assert credit["Double (both full)"] == "double"
    for s in field_specs():
        if s.kind == "choice":
            shown = words.choice_titles(s)
            assert sorted(shown.values()) == sorted(s.choices)  # one title per choice
            assert not [t for t in shown if "_" in t], shown


def test_units_say_what_a_scale_means():
    assert words.unit_words(spec("wall_initial")) == kpis.column("wall_mean").unit
    assert words.label_with_value(spec("hw_margin"), 0.3) == "Hardware gross margin: 30 %"
    assert words.shown_value(spec("accounts_per_rep"), 200) == "200"
    assert words.shown_value(spec("base_salary"), 75000.0) == "75,000"
    assert "0-1" not in words.label_with_value(spec("rep_training"), 0.6)


@pytest.mark.parametrize("typed, needle", [
    ("150.7", "150.7 is not a whole number: enter a whole number from 25 to 5,000"),
    ("1e3", "1e3 is not a number: enter a whole number from 25 to 5,000"),
    ("nan", "nan is not a number"),
    ("-5", "-5 is too small"),
    ("999999", "999999 is too large"),
    ("", "the box is empty"),
])
def test_bad_numbers_are_refused_in_the_owners_words(typed, needle):
    with pytest.raises(ValueError) as err:
        words.read_number(spec("accounts_per_rep"), typed)
    assert needle in str(err.value)
    assert "accounts_per_rep" not in str(err.value) and "[" not in str(err.value)


def test_numbers_are_read_as_people_write_them():
    assert words.read_number(spec("accounts_per_rep"), " 1,000 ") == 1000
    assert words.read_number(spec("hw_margin"), "30%") == pytest.approx(0.3)
    assert words.read_number(spec("base_salary"), "$80,000") == 80000.0
    with pytest.raises(ValueError, match="a percentage from 5 to 60"):
        words.read_number(spec("hw_margin"), "0.5")


def test_first_screen_words_have_no_code_names():
    shown = [s for s in field_specs()
             if s.name in words.key_levers() or s.name in st.DEALERSHIP_FIELDS]
    texts = [words.field_line(s) for s in shown] + [s.label for s in shown]
    texts += [words.unit_words(s) for s in shown]
    texts += [t for s in shown if s.kind == "choice" for t in words.choice_titles(s)]
    texts += [words.strategy_title(n) + " " + words.strategy_line(n) for n in strategy_names()]
    texts += [f"{w} {m}" for w, m in words.GLOSSARY]
    found = words.code_names_in("\n".join(texts))
    assert not found, found
    assert words.code_names_in("intervention = before_launch, accounts_per_rep") == [
        "accounts_per_rep", "before_launch"]


def test_glossary_explains_the_words():
    assert {w for w, _ in words.GLOSSARY} >= {"Wall", "MRR", "Overlay", "Specialist", "Seed"}


# ---------------------------------------------------------------- runs and replay
def test_a_dashboard_run_is_the_same_run_as_simulate(overlay):
    ref = simulate("overlay", seed=0)
    assert overlay.result.summary == ref.summary
    assert overlay.result.timeseries.equals(ref.timeseries)
    assert overlay.result.events.equals(ref.events)


def test_replay_snapshots_end_where_the_run_ends(overlay):
    r, rep = overlay.result, overlay.replay
    s = r.summary
    days = len(r.timeseries)
    assert len(rep.hired) == len(rep.lost) == len(rep.accounts_lost) == rep.counts.shape[0] == days
    assert (rep.hired[-1], rep.lost[-1]) == (s["specialists_hired"], s["specialists_lost"])
    assert rep.accounts_lost[-1] == s["accounts_lost_to_competitors"]
    for series in (rep.hired, rep.lost, rep.accounts_lost):
        assert (np.diff(series) >= 0).all()
    # every account in exactly one holder every day; the last day is the account map
    assert (rep.counts.sum(axis=(1, 2)) == len(r.account_map)).all()
    managed = int(r.account_map["managed"].sum())
    assert rep.counts[-1, :, 0].sum() == managed
    assert rep.counts[:, :, 1].sum(axis=1)[-1] + managed == s["hardware_accounts_end"]


def test_replayed_cards_count_rehires_on_their_day(overlay):
    r, rep = overlay.result, overlay.replay
    ev = r.events
    rehires = ev["day"][ev["kind"] == "rehire"].to_numpy()
    assert len(rehires), "the overlay on seed 0 hires a successor (the card needs one)"
    day = int(rehires[0])
    before = {c.key: c.value for c in st.headline(r, day - 1, rep)}
    on = {c.key: c.value for c in st.headline(r, day, rep)}
    hired_before = int(before["specialists"].split(" / ")[0])
    hired_on = int(on["specialists"].split(" / ")[0])
    assert hired_on == hired_before + 1 == rep.hired[day]
    lost_day = int(np.argmax(rep.accounts_lost > 0))
    assert st.headline(r, lost_day, rep)[3].value == f"{rep.accounts_lost[lost_day]:,}"
    assert st.headline(r, lost_day - 1, rep)[3].value == "0"


def test_a_newer_change_stops_a_run_and_nothing_is_cached():
    values = st.default_values("overlay") | {"n_reps": 3}
    st.clear_cache()
    with pytest.raises(st.Cancelled):
        st.run_config("overlay", 99, values, stop=lambda: True)
    out = st.run_config("overlay", 99, values)
    assert out.result is not None
    assert st.run_config("overlay", 99, values) is out  # the second call is a cache hit


def test_a_model_error_is_shown_on_the_page_not_raised(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    st.clear_cache()
    monkeypatch.setattr(st, "simulate_with_replay", boom)
    box, rc = solara.render(Dashboard(initial_seed=424242), handle_error=False)
    try:
        err = rc.find(v.Alert, class_="ds-model-error").wait_for(**WAIT)
        assert "RuntimeError: kaput" in str(err.widget.children)
    finally:
        rc.close()


def test_model_errors_come_back_as_one_line(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(st, "simulate_with_replay", boom)
    out = st.run_config("overlay", 12345, st.default_values("overlay"))
    assert out.error == "RuntimeError: kaput" and out.result is None


# ---------------------------------------------------------------- comparisons
def test_presets_keep_the_owners_numbers_and_pinned_plans_keep_every_lever():
    mine = st.default_values("overlay") | {"n_reps": 12, "rep_training": 0.4, "years": 2.0}
    planned = st.apply_preset("planned", mine)
    assert planned["n_reps"] == 12 and planned["years"] == 2.0
    assert planned["rep_training"] == st.default_values("planned")["rep_training"]
    pinned = st.Plan("Pinned plan", "overlay", dict(mine))
    titles = words.strategy_by_title()
    options = st.compare_titles(pinned, None, {}, titles)
    assert options[0] == "Pinned plan" and "Preset: The author's prescription" in options
    got = st.compare_plan("Pinned plan", st.default_values("planned"), pinned, None, {}, titles)
    assert got.values == mine  # all levers included, whatever the current settings are
    assert st.compare_plan("Preset: The author's prescription", mine, pinned, None, {},
                           titles).values == planned
    assert st.compare_plan("nothing like it", mine, pinned, None, {}, titles) is None


@pytest.mark.slow
def test_cards_show_the_change_against_the_baseline(overlay):
    planned = st.run_config("planned", 0, st.default_values("planned"))
    cards = {c.key: c for c in st.headline(planned.result, None, planned.replay,
                                           overlay.result, overlay.replay)}
    # the cards read the last day of each run's series (the summary rounds to cents)
    d = (float(planned.result.timeseries["managed_mrr"].iloc[-1])
         - float(overlay.result.timeseries["managed_mrr"].iloc[-1]))
    arrow = "▲" if d > 0 else "▼"
    assert cards["mrr"].change == f"{arrow} {kpis.money(abs(d))}/mo vs the baseline"
    assert cards["mrr"].better is (d > 0)
    same = st.headline(overlay.result, None, overlay.replay, overlay.result, overlay.replay)
    assert {c.change for c in same} == {st.SAME}


def test_hardware_only_says_no_program():
    hw = st.run_config("hardware_only", 0, st.default_values("hardware_only"))
    card = st.headline(hw.result, None, hw.replay)[0]
    assert card.value == "No program" and "failed" not in card.detail.lower()


@pytest.mark.slow
def test_how_sure_says_it_in_one_plain_sentence():
    values = st.default_values("planned") | {"years": 1.0}
    out = st.run_replicates("planned", 1, values, n=4, workers=1)
    text = out.text()
    assert out.n == 4 and 0 <= out.successes <= 4 and out.low <= out.rate <= out.high
    assert text.startswith("We ran your plan 4 times") and text.count(".") <= 2
    assert "Wilson" not in text and "dealersim" not in text


# ---------------------------------------------------------------- charts
def test_charts_are_json_data_in_months(overlay):
    r = overlay.result
    opts = charts.main_charts(r) | {"map": charts.account_map_chart(r, overlay.replay)}
    json.dumps(opts)  # data, not pictures
    mrr = opts["mrr"]
    assert mrr["xAxis"]["name"] == "months since the launch" and mrr["xAxis"]["max"] == 36
    xs = [p[0] for p in mrr["series"][0]["data"]]
    assert xs[0] == 0 and xs[-1] == pytest.approx(1095 / charts.DAYS_PER_MONTH, abs=0.01)
    assert opts["funnel"]["xAxis"].get("type") == "value"  # a plain scale, not log
    legend = {s["name"] for s in mrr["series"]}
    kinds = set(r.events["kind"]) & set(EVENT_STYLES)
    assert {EVENT_STYLES[k]["label"] for k in kinds} <= legend  # event lines have a legend


def test_charts_replay_hides_the_future_and_keeps_the_axes(overlay):
    r = overlay.result
    full, part = charts.mrr_chart(r), charts.mrr_chart(r, upto=100)
    assert full["yAxis"] == part["yAxis"] and full["xAxis"] == part["xAxis"]
    assert part["series"][0]["data"][-1][0] == pytest.approx(100 / charts.DAYS_PER_MONTH,
                                                            abs=0.01)
    funnel = charts.funnel_counts(r, 100)
    row = r.timeseries.iloc[100]
    assert [c for _, c in funnel] == [int(row[c]) for c in (
        "dials", "conversations", "first_appointments_total", "proposals", "deals")]
    amap = charts.account_map_chart(r, overlay.replay, 100)
    assert sum(sum(s["data"]) for s in amap["series"]) == len(r.account_map)
    assert "day 100" in amap["title"]["text"]


# ---------------------------------------------------------------- the page
@pytest.mark.slow
def test_page_uses_friendly_names_and_recomputes_on_a_preset(page):
    rc = page
    sel = rc.find(v.Select, label="Start from a plan").widget
    assert sel.items == list(words.strategy_by_title()) and sel.v_model == "The story's launch"
    assert text_of(rc, "ds-value-launch") == "Failed"
    before = text_of(rc, "ds-value-mrr")
    sel.v_model = "The author's prescription"
    # the planned run is shown when its managed revenue replaces the overlay's (the launch card
    # reads "Failed" for both at this seed: success is judged on money)
    wait_until(lambda: text_of(rc, "ds-value-mrr") != before, timeout=WAIT["timeout"])
    credit = rc.find(v.Html, class_="ds-control ds-field-credit_policy").find(v.Select)
    assert credit.widget.v_model == "Double (both full)"


@pytest.mark.slow
def test_an_idle_page_runs_the_presets_in_advance():
    st.clear_cache()
    values = st.default_values("overlay") | {"n_reps": 5}
    wanted = {n: st.apply_preset(n, values) for n in strategy_names()}
    assert not any(st.is_cached(n, 7, v) for n, v in wanted.items())
    box, rc = solara.render(Dashboard(initial_seed=7), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-launch").wait_for(**WAIT)
        slider = rc.find(v.Html, class_="ds-control ds-field-n_reps").find(v.Slider)
        if not slider.widgets:  # the dealership's numbers are folded: open them
            rc.find(v.Btn, class_="ds-fold-title",
                    children=[f"▸ Your dealership's numbers "
                              f"({len(st.DEALERSHIP_FIELDS)})"]) \
                .widget.click()
            slider = rc.find(v.Html, class_="ds-control ds-field-n_reps").find(v.Slider)
        slider.wait_for(**WAIT).widget.v_model = 5
        wait_until(lambda: all(st.is_cached(n, 7, v) for n, v in wanted.items()), timeout=120)
    finally:
        rc.close()


@pytest.mark.slow
def test_pinned_baseline_against_a_changed_lever(page):
    rc = page
    before = text_of(rc, "ds-value-mrr")
    rc.find(v.Select, label="Start from a plan").widget.v_model = "The author's prescription"
    wait_until(lambda: text_of(rc, "ds-value-mrr") != before, timeout=WAIT["timeout"])
    rc.find(v.Btn, class_="ds-pin").widget.click()
    wait_until(lambda: text_of(rc, "ds-change-mrr") == st.SAME)
    # change one lever of the pinned plan: the manager keeps the peace
    slider = rc.find(v.Html, class_="ds-control ds-field-manager_leadership").find(v.Slider)
    slider.widget.v_model = 0.1
    wait_until(lambda: text_of(rc, "ds-change-mrr") != st.SAME)
    change = text_of(rc, "ds-change-mrr")
    assert change[0] in "▲▼" and change.endswith("/mo vs the baseline")
    assert rc.find(v.Select, label="Compare with").widget.v_model.startswith("Pinned plan")
    # the comparison view shows both runs; a hardware-only baseline says "no program"
    rc.find(v.BtnToggle, class_="ds-views").widget.v_model = 2  # Compare
    rc.find(v.Select, label="Compare with").widget.v_model = "Preset: No managed-services program"
    wait_text(rc, "ds-value-base-launch", "No program")


@pytest.mark.slow
def test_an_invalid_number_greys_the_results_and_says_why(page):
    rc = page
    n = len([f for f in st.DEALERSHIP_FIELDS
             if f not in words.key_levers()])
    rc.find(v.Btn, class_="ds-fold-title", children=[f"▸ Your dealership's numbers ({n})"]) \
        .widget.click()
    box = rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep").find(v.TextField)
    box.wait_for(**WAIT)
    box.widget.v_model = "150.7"
    box.widget.fire_event("focusout", None)  # a number box commits on blur or Enter
    wait_until(lambda: rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep")
               .find(v.TextField).widget.error)
    box = rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep").find(v.TextField)
    assert "a whole number from 25 to 5,000" in str(box.widget.messages)
    rc.find(v.Html, class_="ds-results ds-stale").wait_for(**WAIT)
    warning = rc.find(v.Alert, class_="ds-not-updated").widget
    assert "Not updated" in str(warning.children)
    box.widget.v_model = "150"
    box.widget.fire_event("focusout", None)
    rc.find(v.Html, class_="ds-results").wait_for(**WAIT)
    wait_until(lambda: not rc.find(v.Html, class_="ds-results ds-stale").widgets)


@pytest.mark.slow
def test_a_bad_seed_says_not_updated(page):
    rc = page
    seed = rc.find(v.TextField, label="Seed (the run's luck)").widget
    seed.v_model = "1e3"
    seed.fire_event("keyup.enter", None)
    seed.fire_event("focusout", None)
    rc.find(v.Alert, class_="ds-not-updated").wait_for(**WAIT)
    seed = rc.find(v.TextField, label="Seed (the run's luck)").widget
    assert seed.error and "a whole number from 0 to" in str(seed.messages)
    seed.v_model = "5"
    seed.fire_event("focusout", None)
    wait_until(lambda: text_of(rc, "ds-computed").endswith("seed 5"))
    assert not rc.find(v.Alert, class_="ds-not-updated").widgets


@pytest.mark.slow
def test_replay_slider_shows_the_day_in_cards_and_every_chart(page, overlay):
    rc = page
    rc.find(v.Slider, label="Replay day").widget.v_model = 40
    wait_text(rc, "ds-value-launch", "Replaying")
    wait_until(lambda: text_of(rc, "ds-day").startswith("day 40 of 1095"))

    def tokens() -> list[str]:
        return [w.option.get("dsToken", "") for w in rc.find(EchartsWidget).widgets]

    wait_until(lambda: len(tokens()) == len(charts.main_charts(overlay.result))
               and all("|40|" in t for t in tokens()))
    rc.find(v.Slider, label="Replay day").widget.v_model = 41
    wait_until(lambda: all("|41|" in t for t in tokens()))
    time.sleep(1)  # later renders (replay state, busy line) must not reset an option
    assert all("|41|" in t for t in tokens()), tokens()


@pytest.mark.slow
def test_scenario_paste_bad_then_good(page):
    rc = page
    rc.find(v.Btn, class_="ds-fold-title",
            children=["▸ Save or load these settings (scenario file)"]).widget.click()
    area = rc.find(v.Textarea).wait_for(**WAIT).widget
    area.v_model = '[params]\nn_reps = 999\n'
    rc.find(v.Btn, class_="ds-load-scenario").widget.click()
    err = rc.find(v.Alert, class_="ds-scenario-error").wait_for(**WAIT)
    assert "999" in str(err.widget.children)
    assert text_of(rc, "ds-value-launch") == "Failed"  # still working
    before = text_of(rc, "ds-value-mrr")
    area.v_model = 'strategy = "planned"\nseed = 0\n'
    rc.find(v.Btn, class_="ds-load-scenario").widget.click()
    wait_until(lambda: rc.find(v.Select, label="Start from a plan").widget.v_model
               == "The author's prescription")
    wait_until(lambda: text_of(rc, "ds-value-mrr") != before, timeout=WAIT["timeout"])
    assert "Scenario: pasted text" in rc.find(v.Select, label="Compare with").widget.items


def test_the_plans_and_the_glossary_are_one_click_away(page):
    rc = page
    rc.find(v.Btn, class_="ds-fold-title", children=["▸ The plans, one line each"]).widget.click()
    rc.find(v.Btn, class_="ds-fold-title", children=["▸ What the words mean"]).widget.click()
    wait_until(lambda: rc.find(v.Btn, class_="ds-fold-title",
                               children=["▾ What the words mean"]).widgets)
    text = " ".join(str(w.template) for w in rc.find(v.VuetifyTemplate).widgets)  # Markdown
    for name in strategy_names():
        assert words.strategy_line(name) in text
    assert "Seed" in text and words.WALL_SCALE in text


@pytest.mark.slow
def test_story_view_filters_by_actor(page):
    rc = page
    rc.find(v.BtnToggle, class_="ds-views").widget.v_model = 3  # Story
    count = rc.find(v.Html, class_="ds-story-count").wait_for(**WAIT)
    n_all = int(count.widget.children[0].split()[0])
    rc.find(v.Select, label="Who").widget.v_model = "owner"

    def owner_count() -> int:
        return int(rc.find(v.Html, class_="ds-story-count").widget.children[0].split()[0])

    wait_until(lambda: 0 < owner_count() < n_all)


# ---------------------------------------------------------------- the command
def test_dashboard_cli_checks(capsys):
    from dealersim.cli import main

    assert main(["dashboard", "--port", "0"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["dashboard", "--host", "a b"]) == 2
    assert dash_cli.is_loopback("127.0.0.1") and dash_cli.is_loopback("localhost")
    assert dash_cli.is_loopback("::1") and not dash_cli.is_loopback("0.0.0.0")
    assert dash_cli.server_command()[1:] == ["-m", "dealersim.dashboard.server"]
    assert "NOT a loopback" in dash_cli.warning_text("0.0.0.0", 1)


@pytest.mark.parametrize(("strategy", "years"), [("overlay", 3.0), ("planned", 3.0),
                                                 ("planned", 1.0)])
def test_the_launch_card_explains_success_by_what_decides_it(strategy, years):
    # the card gives the two halves of launch_succeeded (its KPI help): the seat at month 12
    # and the money in the month it is judged on (the last month of a shorter run)
    r = simulate(strategy, seed=0, years=years)
    s, p = r.summary, r.params
    card = st.headline(r)[0]
    month = min(p.success_month, len(r.ledger))
    seat = "still there" if s["first_specialist_year_one"] else "gone"
    assert card.detail.startswith(f"first specialist {seat} at month 12; month {month}: ")
    cover = s["run_rate_cover"]  # None: no running cost then (the program was given up)
    if cover is None:
        assert "nothing left to judge" in card.detail
    elif cover < 0:
        assert "managed gross profit below zero (success needs 100 %)" in card.detail
    else:  # rounded down, so that 0.996 does not read as the 100 % success needs
        assert (f"managed gross profit {int(cover * 100)} % of the running cost (success needs "
                "100 %)") in card.detail
    assert ("program abandoned" in card.detail) is bool(s["program_abandoned"])
    assert card.value == ("Succeeded" if s["launch_succeeded"] else "Failed")
    assert "bookings" not in card.detail and "bar" not in card.detail

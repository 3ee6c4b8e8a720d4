"""Dashboard components rendered in-process with ``solara.render`` (no browser)."""

from __future__ import annotations

import time
import types

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from dealersim.cli import dashboard as dash_cli
from dealersim.dashboard import charts
from dealersim.dashboard import state as st
from dealersim.dashboard.components import Dashboard
from dealersim.model.kpis import kpi
from dealersim.model.params import GROUPS, field_specs

WAIT = {"timeout": 60, "iteration_delay": 0.2}


def wait_until(fn, timeout: float = 60) -> None:
    start = time.time()
    while time.time() - start < timeout:
        try:
            if fn():
                return
        except (ValueError, AssertionError, IndexError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def launch_text(rc) -> str:
    return rc.find(v.Html, class_="ds-value-launch").widget.children[0]


def wait_text(rc, cls: str, text: str):
    return rc.find(v.Html, class_=cls, children=[text]).wait_for(**WAIT)


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
    for group, controls in groups.items():
        for c in controls:
            assert c.spec.group == group
            assert c.widget == {"bool": "switch", "choice": "select"}.get(
                c.spec.kind, c.widget)
            assert c.widget in ("slider", "number") or c.spec.kind in ("bool", "choice")


def test_rendered_controls_match_params_field_by_field(page):
    rc = page
    for s in field_specs():
        box = rc.find(v.Html, class_=f"ds-control ds-field-{s.name}")
        box.assert_single()
        if s.kind == "bool":
            w = box.find(v.Switch).widget
            assert w.v_model is s.default
        elif s.kind == "choice":
            w = box.find(v.Select).widget
            assert w.items == list(s.choices) and w.v_model == s.default
        else:
            sliders = box.find(v.Slider)
            if len(sliders):
                w = sliders.widget
                assert (w.min, w.max) == (s.low, s.high), s.name
                assert w.v_model == s.default, s.name
            else:
                w = box.find(v.TextField).widget
                assert float(w.v_model) == s.default, s.name
                assert s.allowed() in w.messages[0], s.name
        assert s.label in w.label, s.name


def test_preset_picker_fills_the_controls(page):
    rc = page
    rc.find(v.Select, label="Strategy preset").widget.v_model = "planned"
    wait_until(lambda: rc.find(v.Html, class_="ds-control ds-field-rules_of_engagement")
               .find(v.Switch).widget.v_model is True)
    credit = rc.find(v.Html, class_="ds-control ds-field-credit_policy").find(v.Select)
    assert credit.widget.v_model == "double"
    training = rc.find(v.Html, class_="ds-control ds-field-rep_training").find(v.Slider)
    assert training.widget.v_model == 0.6


# ---------------------------------------------------------------- outcome updates
def test_strategy_change_recomputes_headline(page):
    rc = page
    assert launch_text(rc) == "Failed"
    mrr_before = rc.find(v.Html, class_="ds-value-mrr").widget.children[0]
    rc.find(v.Select, label="Strategy preset").widget.v_model = "planned"
    wait_text(rc, "ds-value-launch", "Succeeded")
    assert rc.find(v.Html, class_="ds-value-mrr").widget.children[0] != mrr_before


def test_changing_a_control_updates_the_result(page):
    rc = page
    before = rc.find(v.Html, class_="ds-value-lost").widget.children[0]
    slider = rc.find(v.Html, class_="ds-control ds-field-n_reps").find(v.Slider).widget
    slider.v_model = 3
    wait_until(lambda: rc.find(v.Html, class_="ds-value-lost").widget.children[0] != before)
    lost = int(rc.find(v.Html, class_="ds-value-lost").widget.children[0].replace(",", ""))
    assert lost < int(before.replace(",", ""))  # 3 reps lose fewer accounts than 8


def test_number_box_rejects_out_of_range_in_place(page):
    rc = page
    box = rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep").find(v.TextField)
    box.widget.v_model = "999999"
    box.widget.fire_event("focusout", None)  # a number box commits on blur or Enter
    wait_until(lambda: rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep")
               .find(v.TextField).widget.error)
    box = rc.find(v.Html, class_="ds-control ds-field-accounts_per_rep").find(v.TextField)
    assert box.widget.error is True or "not allowed" in str(box.widget.messages)
    assert "[25, 5000]" in " ".join(box.widget.messages)
    assert launch_text(rc) == "Failed"  # the page keeps working


def test_replay_slider_shows_the_day(page):
    rc = page
    rc.find(v.Slider, label="Replay day").widget.v_model = 40
    wait_text(rc, "ds-value-launch", "Replaying")
    wait_until(lambda: rc.find(v.Html, class_="ds-day").widget.children == ["day 40 of 1095"])


def test_scenario_paste_bad_then_good(page):
    rc = page
    area = rc.find(v.Textarea).widget
    area.v_model = '[params]\nn_reps = 999\n'
    rc.find(v.Btn, class_="ds-load-scenario").widget.click()
    err = rc.find(v.Alert, class_="ds-scenario-error").wait_for(**WAIT)
    assert "params.n_reps: 999 is not allowed; expected [2, 50]" in str(err.widget.children)
    assert launch_text(rc) == "Failed"  # still working
    area.v_model = 'strategy = "planned"\nseed = 0\n'
    rc.find(v.Btn, class_="ds-load-scenario").widget.click()
    wait_until(lambda: rc.find(v.Select, label="Strategy preset").widget.v_model == "planned")
    wait_text(rc, "ds-value-launch", "Succeeded")


def test_model_error_is_shown_not_raised(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(st, "simulate", boom)
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        err = rc.find(v.Alert, class_="ds-model-error").wait_for(**WAIT)
        assert "RuntimeError: kaput" in str(err.widget.children)
    finally:
        rc.close()


def test_story_and_account_map_views(page):
    rc = page
    rc.find(v.BtnToggle, class_="ds-views").widget.v_model = 2  # Story
    count = rc.find(v.Html, class_="ds-story-count").wait_for(**WAIT)
    n_all = int(count.widget.children[0].split()[0])
    rc.find(v.Select, label="Who").widget.v_model = "owner"

    def owner_count() -> int:
        return int(rc.find(v.Html, class_="ds-story-count").widget.children[0].split()[0])

    wait_until(lambda: 0 < owner_count() < n_all)


# ---------------------------------------------------------------- pure logic
def test_wilson_interval():
    # "How sure?" uses the registry's interval of launch_succeeded: Wilson for a flag
    _, lo, hi = kpi("launch_succeeded").interval([True] * 8 + [False] * 2)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    _, lo, hi = kpi("launch_succeeded").interval([False] * 50)
    assert lo == 0.0 and 0.05 < hi < 0.1


def test_replicates_through_engine():
    values = st.default_values("planned") | {"years": 1.0}
    out = st.run_replicates("planned", 1, values, n=4, workers=1)
    assert out.n == 4 and 0 <= out.successes <= 4 and out.low <= out.rate <= out.high
    assert "of 4 runs" in out.text()


def test_account_map_downsamples_big_books():
    n_reps, per = 50, 2000
    rep = np.repeat(np.arange(n_reps), per)
    rng = np.random.default_rng(0)
    holder = rng.integers(0, 2, rep.size)
    managed = (holder == 1) & (rng.random(rep.size) < 0.1)
    fake = types.SimpleNamespace(
        account_map=pd.DataFrame({"rep": rep, "holder": holder, "managed": managed}),
        walls=rng.random((11, n_reps)), params=types.SimpleNamespace(wall_block_level=0.65))
    groups = charts.account_cells(fake)
    assert len(groups) == n_reps
    for g in groups:
        assert len(g["cells"]) == charts.MAX_CELLS_PER_GROUP and g["n"] == per
        share = (g["cells"] == 1).mean()
        assert share == pytest.approx(g["counts"][1] / per, abs=0.002)
    fig = charts.account_map_figure(fake)
    assert "to scale" in fig.axes[0].get_title()


def test_headline_cards():
    from dealersim.model.results import simulate

    r = simulate("overlay", seed=0, years=1)
    cards = {c.key: c for c in st.headline(r)}
    assert set(cards) == {"launch", "mrr", "specialists", "lost", "gp"}
    assert cards["specialists"].value == (f"{r.summary['specialists_hired']} / "
                                          f"{r.summary['specialists_lost']}")
    assert st.headline(r, 10)[0].value == "Replaying"


# ---------------------------------------------------------------- the command
def test_dashboard_cli_checks(capsys):
    from dealersim.cli import main

    assert main(["dashboard", "--port", "0"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["dashboard", "--host", "a b"]) == 2
    assert dash_cli.is_loopback("127.0.0.1") and dash_cli.is_loopback("localhost")
    assert dash_cli.is_loopback("::1") and not dash_cli.is_loopback("0.0.0.0")
    cmd = dash_cli.server_command("127.0.0.1", 9999)
    assert cmd[1:4] == ["-m", "solara", "run"] and "--production" in cmd
    assert "NOT a loopback" in dash_cli.warning_text("0.0.0.0", 1)

"""The dashboard's money (issue 12 item 4): cards, the J-curve, the report button, the file
picker and the advice, in-process (``solara.render``; the browser test drives the same page).

Outcome numbers are not pinned (the model's internals may change): the tests assert identities
(cards against the run's summary, the J-curve's end against the cash figure, the payback mark
against the KPI) and directions.
"""

from __future__ import annotations

import dataclasses
import io
import json

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from ipyvuetify.extra import FileInput
from solara.components.echarts import EchartsWidget
from solara.components.file_download import FileDownloadWidget
from test_dashboard_unit import text_of, wait_until

from dealersim.cli import dashboard as dash_cli
from dealersim.cli import main
from dealersim.dashboard import ADVICE_ENV, app, charts, words
from dealersim.dashboard import state as st
from dealersim.dashboard.components import Dashboard
from dealersim.model import kpis
from dealersim.model import scenario as scenario_io
from dealersim.model.ledger import cash_bottom, payback_month
from dealersim.model.results import simulate
from dealersim.outputs.advice import THREE_THINGS

WAIT = {"timeout": 90, "iteration_delay": 0.2}
THINGS = ["Give the reps credit for managed deals.", "Announce the program before the launch.",
          "Hire a specialist who has sold managed services."]


@pytest.fixture(scope="module")
def overlay() -> st.Outcome:
    return st.run_config("overlay", 0, st.default_values("overlay"))


@pytest.fixture(scope="module")
def planned() -> st.Outcome:
    return st.run_config("planned", 0, st.default_values("planned"))


def with_cash(result, diff: np.ndarray):
    """``result`` with a ledger whose monthly cash against the twin is ``diff`` (and its KPIs)."""
    led = result.ledger.copy()
    led["baseline_net"] = led["net"] - diff
    summary = dict(result.summary, payback_month=payback_month(diff),
                   cash_vs_hardware_only=float(diff.sum()))
    return dataclasses.replace(result, ledger=led, summary=summary)


# ---------------------------------------------------------------- the run's money
def test_a_dashboard_run_keeps_the_ledger_of_simulate(overlay):
    pd.testing.assert_frame_equal(overlay.result.ledger, simulate("overlay", seed=0).ledger)


@pytest.mark.parametrize("name", ["overlay", "planned", "hardware_only"])
def test_money_cards_match_the_runs_summary(name):
    r = st.run_config(name, 0, st.default_values(name)).result
    s = r.summary
    m = st.money_at(r)
    assert m.end and m.month == m.months == len(r.ledger)
    assert m.cost == pytest.approx(s["program_cost"], abs=0.01)
    assert m.cash == pytest.approx(s["cash_vs_hardware_only"], abs=0.01)
    assert m.low == pytest.approx(s["monthly_cash_flow_min"], abs=0.01)
    assert m.low_month == s["cash_bottom_month"]
    cards = {c.key: c for c in st.money_cards(r)}
    assert list(cards) == ["cost", "cash", "low", "payback", "value"]
    assert cards["cost"].value == kpis.money(s["program_cost"])
    assert cards["cash"].value == kpis.fmt("cash_vs_hardware_only", s["cash_vs_hardware_only"],
                                           diff=True)
    assert cards["value"].value == kpis.fmt("enterprise_value_added",
                                            s["enterprise_value_added"], diff=True)
    if s["cash_bottom_month"]:
        assert cards["low"].value == kpis.money(s["monthly_cash_flow_min"])
        assert f"month {s['cash_bottom_month']}" in cards["low"].detail
    else:
        assert cards["low"].value == "never below"
    if name == "hardware_only":
        assert cards["payback"].value == "no program" and s["program_cost"] == 0
    elif s["payback_month"] is None:
        assert cards["payback"].value == "not within 3 years"
    else:
        assert cards["payback"].value == f"month {s['payback_month']}"
    text = " ".join(f"{c.title} {c.value} {c.detail}" for c in cards.values())
    assert not words.code_names_in(text), words.code_names_in(text)


def test_money_cards_show_the_change_against_the_baseline(overlay, planned):
    now, then = planned.result.summary, overlay.result.summary
    cards = {c.key: c for c in st.money_cards(planned.result, None, overlay.result)}
    d = now["program_cost"] - then["program_cost"]
    assert cards["cost"].change == f"{'▲' if d > 0 else '▼'} {kpis.money(abs(d))} vs the baseline"
    assert cards["cost"].better is (d < 0)  # a dearer program is not good news
    d = now["enterprise_value_added"] - then["enterprise_value_added"]
    assert cards["value"].change.startswith("▲" if d > 0 else "▼")
    assert cards["value"].better is (d > 0)
    d = now["cash_vs_hardware_only"] - then["cash_vs_hardware_only"]
    assert cards["cash"].change == f"{'▲' if d > 0 else '▼'} {kpis.money(abs(d))} vs the baseline"
    same = st.money_cards(overlay.result, None, overlay.result)
    assert {c.change for c in same} == {st.SAME}


def test_payback_change_reads_earlier_or_later():
    def snap(payback, program=True):
        return st.MoneySnapshot(36, 36, True, program, 0.0, 0.0, 0.0, 0, payback, 0.0, 0.0, 0.0)

    assert st._payback_change(snap(20), snap(30), 3) == ("▼ 10 months vs the baseline", True)
    assert st._payback_change(snap(None), snap(30), 3) == ("baseline: month 30", False)
    assert st._payback_change(snap(30), snap(None), 3) == ("baseline: not within 3 years", True)
    assert st._payback_change(snap(None), snap(None, False), 3) == ("baseline: no program", None)


def test_money_on_a_replayed_day_adds_up_the_months_done(planned):
    r = planned.result
    led = r.ledger
    costs, previous = [], -1.0
    for day in (0, 29, 31, 200, 400, 800, 1094):
        m = st.money_at(r, day)
        assert not m.end and m.month == st.months_done(r, day) < len(led)
        assert m.cost == pytest.approx(-led[list(kpis.PROGRAM_LINES)].iloc[:m.month]
                                       .to_numpy().sum(), abs=0.01)
        assert m.cash == pytest.approx(st.cash_curve(r)[m.month], abs=0.01)
        assert m.cost >= previous  # what a program has cost never goes down
        previous = m.cost
        costs.append(m.cost)
        cards = {c.key: c for c in st.money_cards(r, day)}
        assert cards["payback"].detail.startswith("whole run")
        assert cards["value"].detail.startswith("whole run")
        assert f"month {m.month}" in cards["cost"].detail
    assert st.months_done(r, 0) == 0 and st.money_at(r, 0).cost == 0
    assert st.months_done(r, 31) == 1 and costs[-1] < st.money_at(r).cost + 0.01


# ---------------------------------------------------------------- the J-curve
def test_jcurve_ends_at_the_cash_figure_and_marks_the_payback_month(planned):
    r = planned.result
    s = r.summary
    curve = st.cash_curve(r)
    assert len(curve) == len(r.ledger) + 1 and curve[0] == 0
    assert curve[-1] == pytest.approx(s["cash_vs_hardware_only"], abs=0.01)
    assert payback_month(np.diff(curve)) == s["payback_month"]
    assert cash_bottom(np.diff(curve)) == pytest.approx(
        (s["monthly_cash_flow_min"], s["cash_bottom_month"]), abs=0.01)
    opt = charts.cash_chart([("your plan", r)])
    json.dumps(opt)  # data, not a picture
    data = opt["series"][0]["data"]
    assert [x for x, _ in data] == list(range(len(curve)))
    assert data[-1][1] == pytest.approx(s["cash_vs_hardware_only"] / 1000, abs=0.06)
    assert opt["xAxis"]["name"] == "months since the launch"
    low = opt["yAxis"]["min"]
    assert low <= min(y for _, y in data) and opt["yAxis"]["max"] >= max(y for _, y in data)
    marks = [d["xAxis"] for d in opt["series"][0]["markLine"]["data"] if "xAxis" in d]
    assert marks == ([] if s["payback_month"] is None else [s["payback_month"]])


def test_jcurve_payback_mark_is_the_kpi_and_waits_for_the_replay(overlay):
    diff = np.array([-10_000.0] * 10 + [5_000.0] * 26)  # 36 months: back to 0 in month 30
    r = with_cash(overlay.result, diff)
    assert r.summary["payback_month"] == 31
    opt = charts.cash_chart([("your plan", r)])
    marks = opt["series"][0]["markLine"]["data"]
    assert [m for m in marks if m.get("xAxis") == 31]
    assert "pays back: month 31" in json.dumps(opt)
    assert opt["series"][0]["markPoint"]["data"][0]["coord"] == [10, -100.0]
    assert {c.key: c.value for c in st.money_cards(r)}["payback"] == "month 31"
    early = charts.cash_chart([("your plan", r)], upto=400)  # month 13: not paid back yet
    assert "pays back" not in json.dumps(early)
    assert early["yAxis"] == opt["yAxis"] and early["xAxis"] == opt["xAxis"]
    assert len(early["series"][0]["data"]) == st.months_done(r, 400) + 1


def test_main_view_starts_with_the_jcurve_and_compare_overlays_it(overlay, planned):
    assert next(iter(charts.main_charts(overlay.result))) == "cash"
    opt = charts.cash_chart([("your settings", planned.result), ("baseline", overlay.result)])
    assert [s["name"] for s in opt["series"]] == ["your settings", "baseline"]
    assert opt["series"][1]["data"][-1][1] == pytest.approx(
        overlay.result.summary["cash_vs_hardware_only"] / 1000, abs=0.06)


# ---------------------------------------------------------------- the page
@pytest.mark.slow
def test_page_shows_the_money_cards_and_the_jcurve(overlay):
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-cost").wait_for(**WAIT)
        s = overlay.result.summary
        assert text_of(rc, "ds-value-cost") == kpis.money(s["program_cost"])
        assert text_of(rc, "ds-value-value") == kpis.fmt("enterprise_value_added",
                                                         s["enterprise_value_added"], diff=True)
        wait_until(lambda: any(w.option.get("dsToken", "").startswith("cash|")
                               for w in rc.find(EchartsWidget).widgets))
        assert not rc.find(v.Html, class_="ds-advice").widgets  # no advice folder: nothing
        # pin, change a lever: the money cards show the change against the baseline
        rc.find(v.Btn, class_="ds-pin").widget.click()
        wait_until(lambda: text_of(rc, "ds-change-cost") == st.SAME)
        rc.find(v.Select, label="Start from a plan").widget.v_model = "The author's prescription"
        wait_until(lambda: text_of(rc, "ds-change-cost").startswith("▲"))
        assert text_of(rc, "ds-change-cost").endswith("vs the baseline")
    finally:
        rc.close()


def open_scenarios(rc) -> None:
    rc.find(v.Btn, class_="ds-fold-title",
            children=["▸ Save or load these settings (scenario file)"]).widget.click()
    rc.find(FileInput, accept=".toml").wait_for(**WAIT)


def pick_file(rc, name: str, data: bytes) -> None:
    """What the browser's file dialog does: the widget learns of one file and reads it."""
    widget = rc.find(FileInput, accept=".toml").widget
    widget.get_files = lambda timeout=30: [{"name": name, "size": len(data),
                                            "file_obj": io.BytesIO(data)}]
    widget.file_info = [{"name": name, "size": len(data), "type": "application/toml"}]


@pytest.mark.slow
@pytest.mark.parametrize("name, data, needle", [
    ("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "not a text file"),
    ("plan.toml", b"[params]\nn_reps = 999\n", 'Hardware reps ("n_reps" in the file): 999 is '
                                               "not allowed; expected a value from"),
    ("notes.toml", b"this is not toml", "not valid TOML"),
])
def test_the_file_picker_refuses_a_bad_file_in_one_line_and_changes_nothing(name, data, needle):
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-cost").wait_for(**WAIT)
        before = {k: text_of(rc, f"ds-value-{k}") for k in ("launch", "mrr", "cost", "cash")}
        options = list(rc.find(v.Select, label="Compare with").widget.items)
        open_scenarios(rc)
        pick_file(rc, name, data)
        err = rc.find(v.Alert, class_="ds-scenario-error").wait_for(**WAIT).widget
        message = " ".join(str(c) for c in err.children)
        assert message.startswith(f"{name} was not loaded, nothing changed: ") and needle in message
        assert "\n" not in message
        assert rc.find(v.Select, label="Start from a plan").widget.v_model == "The story's launch"
        assert rc.find(v.Select, label="Compare with").widget.items == options
        assert {k: text_of(rc, f"ds-value-{k}") for k in before} == before
    finally:
        rc.close()


@pytest.mark.slow
def test_the_file_picker_loads_a_good_file():
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-cost").wait_for(**WAIT)
        open_scenarios(rc)
        text = st.scenario_text("planned", 4, st.default_values("planned"))
        pick_file(rc, "mine.toml", text.encode())
        wait_until(lambda: rc.find(v.Select, label="Start from a plan").widget.v_model
                   == "The author's prescription")
        wait_until(lambda: text_of(rc, "ds-computed").endswith("seed 4"))
    finally:
        rc.close()


@pytest.mark.slow
def test_the_report_button_writes_a_real_report(monkeypatch):
    monkeypatch.setattr(st, "REPORT_REPLICATES", 3)
    written: list[bytes] = []
    real = st.report_html

    def spy(*args, **kwargs):
        written.append(real(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(st, "report_html", spy)
    box, rc = solara.render(Dashboard(advice=THINGS), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-cost").wait_for(**WAIT)
        shown = text_of(rc, "ds-value-cost")
        advice = rc.find(v.Html, class_="ds-advice").widget
        assert "three things" in str(advice.children[0].children)
        rc.find(v.Btn, class_="ds-report").widget.click()
        rc.find(v.Html, class_="ds-help ds-report-ready").wait_for(timeout=300, iteration_delay=0.5)
        assert rc.find(FileDownloadWidget, filename="report.html").widgets
        assert text_of(rc, "ds-value-cost") == shown  # the page kept its run
    finally:
        rc.close()
    assert len(written) == 1
    html = written[0].decode("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "simulated dealerships like yours" in html and "3 simulated dealerships" in html
    assert all(t in html for t in THINGS)  # the advice goes into the report too
    assert "data:image/png;base64," in html and len(written[0]) > 50_000  # charts embedded
    assert "run_compare([&#39;overlay&#39;], replicates=3, seed=0" in html  # reproducible


def test_report_html_refuses_bad_settings_in_one_line():
    with pytest.raises(ValueError) as err:
        st.report_html("overlay", 0, st.default_values("overlay") | {"n_reps": 999}, n=1)
    assert "\n" not in str(err.value) and "999" in str(err.value)


def test_scenario_text_round_trips():
    values = st.default_values("planned") | {"n_reps": 11}
    sc = scenario_io.loads(st.scenario_text("planned", 9, values))
    assert (sc.strategy, sc.seed, sc.to_params().to_dict()) == ("planned", 9, values)


# ---------------------------------------------------------------- advice
def test_dashboard_advice_folder(tmp_path, monkeypatch, capsys):
    (tmp_path / THREE_THINGS).write_text(json.dumps(THINGS))
    assert dash_cli.advice_dir_type(str(tmp_path)) == str(tmp_path)
    monkeypatch.setenv(ADVICE_ENV, str(tmp_path))
    assert app.advice_sentences() == THINGS
    monkeypatch.setenv(ADVICE_ENV, str(tmp_path / "gone"))
    assert app.advice_sentences() == []
    monkeypatch.delenv(ADVICE_ENV)
    assert app.advice_sentences() == []
    assert main(["dashboard", "--advice", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--advice" in err[-1] and "dealersim advise" in err[-1] and "Traceback" not in err[-1]


def test_words_say_why_a_file_was_not_loaded():
    line = words.file_problem("a.toml", "params.hw_margin: 'a' is not allowed; expected "
                                        "[0.05, 0.6]")
    assert line == ('a.toml was not loaded, nothing changed: Hardware gross margin ("hw_margin" '
                    "in the file): 'a' is not allowed; expected a value from 0.05 to 0.6")

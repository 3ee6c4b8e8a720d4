"""The dashboard's verdict card, its money horizon and the report written from the page.

The card and the report come from the same runs (``state.comparison_for``) through the same
decision (``studies.decision.decide``) and the same first screen
(``outputs.report.render.first_screen``): for 3 replicates of one year of the author's
prescription on a four-rep dealership (seed 2), every word and number on the card must be on
the report's first screen. The report written from the page runs the owner's plan only, so it
compares it with doing nothing and recommends it or nothing.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import ipyvuetify as v
import pytest
import solara

from dealersim.dashboard import state as st
from dealersim.dashboard import words
from dealersim.dashboard.components import Dashboard
from dealersim.model.kpis import money
from dealersim.studies.decision import decide

pytestmark = pytest.mark.timeout(600)
SMALL = {"years": 1.0, "n_reps": 4}


@pytest.fixture(scope="module")
def card_and_report():
    values = st.default_values("planned") | SMALL
    verdict = st.verdict_for("planned", 2, values, n=3, workers=1)
    page = st.report_html("planned", 2, values, n=3, workers=1).decode("utf-8")
    first = page.split("<h2>", 1)[0]  # the first screen: everything before the first section
    text = html.unescape(re.sub(r"<[^>]+>", " ", first))
    return verdict, " ".join(text.split()), values


@pytest.mark.slow
def test_the_card_and_the_report_say_the_same(card_and_report):
    verdict, report, _ = card_and_report
    assert verdict.headline and verdict.headline in report
    assert verdict.rule in report
    assert verdict.horizon in report
    assert len(verdict.cards) >= 4
    for card in verdict.cards:
        assert card.title in report and card.value in report and card.detail in report


@pytest.mark.slow
def test_the_page_report_compares_the_plan_with_doing_nothing(card_and_report):
    _, report, values = card_and_report
    comp = st.comparison_for("planned", 2, values, n=3, workers=1)  # cached: the same runs
    d = decide(comp)
    assert comp.strategies == ["planned"] and d.plans == ["planned"]
    assert d.recommendation in ("planned", None)
    assert "doing nothing" in report and "no other plan was run" in report
    assert "Every plan was tried" not in report
    for other in ("The story's launch", "Retrain the hardware reps"):
        assert other not in report


@pytest.mark.slow
def test_how_sure_gives_the_reports_success_rate_and_revenue(card_and_report):
    # "How sure?" reads the runs of the verdict and the report (cached), so its rate, interval
    # and average managed revenue are the report's table cells for the same settings
    _, _, values = card_and_report
    out = st.run_replicates("planned", 2, values, n=3, workers=1)
    comp = st.comparison_for("planned", 2, values, n=3, workers=1)
    table = comp.summary().set_index(["strategy", "kpi"])
    rate, low, high = table.loc[("planned", "launch_succeeded"),
                                ["estimate", "ci_low", "ci_high"]]
    assert out.n == 3 and (out.rate, out.low, out.high) == pytest.approx((rate, low, high))
    assert out.successes == int(comp.arm("planned")["launch_succeeded"].sum())
    assert out.mean_mrr == pytest.approx(comp.arm("planned")["managed_mrr"].mean())
    assert f"{money(out.mean_mrr)}/mo" in out.text()


def test_a_changed_plan_is_called_your_plan():
    values = st.default_values("planned") | SMALL
    assert st.plan_title("planned", values) == "The author's prescription"
    changed = values | {"rep_training": 0.3}
    assert st.plan_title("planned", changed).startswith("Your plan (started from the author's")


def test_the_owner_numbers_and_the_horizon():
    mine = st.default_values("overlay") | {"n_reps": 5, "years": 5.0}
    after = st.apply_preset("planned", mine)
    assert after["n_reps"] == 5 and after["years"] == 5.0
    assert st.horizon_words(5.0) == "5 years" and st.horizon_years("10 years") == 10.0
    assert words.strategy_title("overlay") == "The story's launch"
    assert "_" not in "".join(words.strategy_title(n) for n in st.strategy_choices())


def test_the_page_has_one_horizon_at_the_top_and_the_verdict_card():
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        horizon = rc.find(v.BtnToggle, class_="ds-horizon").wait_for(timeout=90)
        note = rc.find(v.Html, class_="ds-help ds-horizon-note").widget
        assert note.children[0].endswith("shows 3 years.")
        buttons = rc.find(v.Btn, children=["5 years"])
        assert buttons.widgets
        horizon.widget.v_model = 1  # 3, 5, 10 years: pick 5
        rc.find(v.Html, class_="ds-help ds-horizon-note",
                children=["Money horizon: every card, chart, verdict and report shows 5 "
                          "years."]).wait_for(timeout=60)
        rc.find(v.Html, class_="ds-value-launch").wait_for(timeout=300)  # reran for 5 years
        rc.find(v.Btn, class_="ds-verdict-button").wait_for(timeout=90)
        n = len([f for f in st.DEALERSHIP_FIELDS if f not in words.key_levers()])
        own = rc.find(v.Btn, class_="ds-fold-title",
                      children=[f"▸ Your dealership's numbers ({n})"])
        assert own.widgets
    finally:
        rc.close()


@pytest.mark.browser
def test_without_its_front_end_the_page_says_what_is_missing(tmp_path):
    """The page served with an empty front-end cache and no CDN: a line, never a blank page.

    The Solara server runs with ``SOLARA_ASSETS_PROXY_CACHE_DIR`` pointing at an empty folder,
    so every front-end file must come from the public CDN, which this machine cannot reach (as
    an offline office); the browser is the one scripts/find_browser.py finds.
    """
    from playwright.sync_api import sync_playwright

    browser_path = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "find_browser.py"),
         "--no-install"], capture_output=True, text=True, timeout=120).stdout.strip()
    if not browser_path:
        pytest.fail("no Chromium: set DEALERSIM_CHROMIUM", pytrace=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, SOLARA_ASSETS_PROXY_CACHE_DIR=str(tmp_path / "empty"),
               SOLARA_APP="dealersim.dashboard.app", SOLARA_THEME_SHOW_BANNER="False",
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    server = subprocess.Popen([sys.executable, "-m", "solara", "run", "dealersim.dashboard.app",
                               "--host", "127.0.0.1", "--port", str(port), "--production",
                               "--no-open"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.time() < deadline, "the server did not start"
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path,
                                        args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
                box = page.wait_for_selector("#ds-frontend-missing", state="visible",
                                             timeout=120_000)
                text = box.inner_text()
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "front end did not load" in text and "make frontend" in text
    assert "solara-vuetify-app" in text  # what is missing, by name

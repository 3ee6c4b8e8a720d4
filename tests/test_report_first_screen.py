"""The compare report as an owner sees it: its first screen, opened in a real Chromium.

The browser is ``$DEALERSIM_CHROMIUM`` or what ``scripts/find_browser.py --no-install`` finds
(as in tests/test_dashboard_browser.py); without one the test fails with the script's line.
One small comparison (overlay vs planned, 4 paired replicates of 2 years, master seed 5) is
written with three plans for the optional section, opened at 1280 x 800, and read from the
page's layout: the first screen must hold the verdict, the rule, the keep and sell views and
the robustness share (from the decision module, as in decision.json); the text above the
methods appendix must hold no code names, seeds, paths, grade codes or statistics jargon, and
every percentage in it must lie in [0, 100]. A screenshot goes to the test's tmp dir.

On a phone (390 x 844) the page must not scroll sideways, its body text must be at least
12 px and no text above the methods may be smaller; it must print to a PDF.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dealersim.model import kpis
from dealersim.model.params import field_specs
from dealersim.model.strategies import strategy_line, strategy_names, strategy_title
from dealersim.outputs import report
from dealersim.studies import compare

pytestmark = [pytest.mark.timeout(300), pytest.mark.browser]

FIND_BROWSER = Path(__file__).resolve().parents[1] / "scripts" / "find_browser.py"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SMALLEST_TEXT_JS = """() => {
  let smallest = 1000;
  const methods = document.querySelector('#methods');
  for (const el of document.body.querySelectorAll('*')) {
    if (methods && (methods.contains(el) || methods.compareDocumentPosition(el) & 4)) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
  }
  return smallest;
}"""
PLANS = ("Announce the role before you hire.", "Pay reps credit on managed deals.",
         "Let the sales manager lead.")

# Text of every element whose box starts inside the first screen, and the text of the page
# above the methods appendix (the body with #methods and everything after it removed).
FIRST_SCREEN_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.height > 0 && r.top < window.innerHeight) out.push(node.textContent.trim());
  }
  return out.join(' ');
}"""
ABOVE_METHODS_JS = """() => {
  const body = document.body.cloneNode(true);
  const methods = body.querySelector('#methods');
  let node = methods;
  while (node) { const next = node.nextSibling; node.remove(); node = next; }
  body.querySelectorAll('details').forEach(d => d.setAttribute('open', ''));
  return body.textContent;
}"""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    """The browser scripts/find_browser.py finds (it never installs anything here)."""
    proc = subprocess.run([sys.executable, str(FIND_BROWSER), "--no-install"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"{FIND_BROWSER} exited {proc.returncode}"]
        pytest.fail(lines[-1], pytrace=False)
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def page_text(chromium_path, tmp_path_factory):
    """``(first screen text, text above the methods appendix, verdict box bottom)``."""
    from playwright.sync_api import sync_playwright

    comp = compare.run_compare(["overlay", "planned"], replicates=4, seed=5,
                               overrides={"years": 2.0}, workers=1, progress=False)
    out = report.write_compare(comp, tmp_path_factory.mktemp("rep") / "cmp", plans=PLANS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto((out / "report.html").as_uri())
            page.screenshot(path=str(out / "first_screen.png"))
            first = page.evaluate(FIRST_SCREEN_JS)
            above = page.evaluate(ABOVE_METHODS_JS)
            cards = page.locator("#verdict .cards").bounding_box()
            phone = browser.new_page(viewport=PHONE)
            phone.goto((out / "report.html").as_uri())
            phone.screenshot(path=str(out / "phone.png"), full_page=True)
            mobile = {
                "scroll_width": phone.evaluate("document.documentElement.scrollWidth"),
                "body_px": phone.evaluate(
                    "parseFloat(getComputedStyle(document.body).fontSize)"),
                "smallest_px": phone.evaluate(SMALLEST_TEXT_JS),
                "pdf": phone.pdf(),
            }
        finally:
            browser.close()
    decision = json.loads((out / "decision.json").read_text())
    return first, above, cards, mobile, decision


def test_first_screen_holds_the_decision(page_text):
    first, _, cards, _, decision = page_text
    assert decision["verdict"] in first, first
    assert decision["rule"] in first, first
    for needle in ("The rule.", "Keep the business: paid back within 2 years",
                   "Cash in today's dollars against doing nothing",
                   "Cash low point against doing nothing", "Sell in year 2: value added",
                   "The verdict holds under", "times earnings"):
        assert needle in first, (needle, first)
    assert re.search(r"-?\$[\d,]+", first), first
    assert cards is not None and cards["y"] + cards["height"] <= VIEWPORT["height"], cards


def test_the_payback_row_is_the_probability_curve(page_text):
    _, above, _, _, decision = page_text
    assert "share of dealerships paid back by" in above
    for plan in decision["plans"]:
        curve = decision["keep"][plan]["payback_probability"]
        for month in (12, 24):
            assert f"month {month}" in above
            assert f"{round(100 * curve[str(month)])}%" in above


def test_the_report_reads_on_a_phone_and_prints(page_text):
    _, _, _, mobile, _ = page_text
    assert mobile["scroll_width"] <= PHONE["width"], mobile["scroll_width"]
    assert mobile["body_px"] >= 12, mobile["body_px"]
    assert mobile["smallest_px"] >= 12, mobile["smallest_px"]
    assert mobile["pdf"][:5] == b"%PDF-" and len(mobile["pdf"]) > 10_000


def test_no_code_names_seeds_paths_or_grades_above_the_methods(page_text):
    _, above, *_ = page_text
    words = set(re.findall(r"[A-Za-z_]+", above))
    code = {*strategy_names(), *(s.name for s in field_specs()), *kpis.SUMMARY_KEYS,
            *kpis.SERIES_COLUMNS, *kpis.LEDGER_LINES}
    leaked = sorted(w for w in words & code if "_" in w or w in strategy_names())
    assert not leaked, leaked
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", above)
    assert not re.findall(r"\b\d{7,}\b", above), "a seed-like number"
    for path in ("shared/", "numbers.md", ".py", ".parquet", "/work", "docs/"):
        assert path not in above, path
    assert not re.findall(r"\[[ABCU](/[ABCU])?\]", above), "a grade code"
    for jargon in ("Wilson", "Student", "Kaplan", "censored", "replicate", "seed", " pts",
                   "95 %"):
        assert jargon not in above, jargon


@pytest.mark.browser
def test_percentages_above_the_methods_lie_in_0_to_100(page_text):
    _, above, *_ = page_text
    values = [float(v) for v in re.findall(r"(-?\d+(?:\.\d+)?) ?%", above)]
    assert values, "no percentage on the page"
    assert all(0 <= v <= 100 for v in values), values


@pytest.mark.browser
def test_three_things_section_renders_the_plans_and_only_when_given(page_text, tmp_path):
    _, above, *_ = page_text
    assert "If you can only change three things" in above
    assert all(plan in above for plan in PLANS)
    comp = compare.run_compare(["overlay", "planned"], replicates=1, seed=5,
                               overrides={"years": 0.5}, workers=1, progress=False)
    html = (report.write_compare(comp, tmp_path / "c", stories=False) / "report.html").read_text()
    assert "If you can only change three things" not in html


@pytest.mark.parametrize("name", strategy_names())
def test_every_strategy_has_a_plain_title_and_line(name):
    title, line = strategy_title(name), strategy_line(name)
    assert 3 <= len(title) <= 90 and title[0].isupper(), title
    assert len(line.split()) >= 4 and line.endswith("."), line
    for text in (title, line):
        assert "`" not in text and not re.findall(r"\b[a-z]+_[a-z_]+\b", text), text
    assert len({strategy_title(s) for s in strategy_names()}) == len(strategy_names())

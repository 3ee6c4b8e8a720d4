"""Real-browser test of ``dealersim dashboard``: Chromium driven by Playwright.

The browser is ``$DEALERSIM_CHROMIUM`` (``make test`` sets it from ``scripts/find_browser.py``,
which installs Chromium where it may) or, in a bare pytest run, what that script finds without
installing anything; when there is none the test fails with the script's one line saying what to
install.

The server and the measurements come from ``benchmarks/dashboard.py`` (what ``make bench``
uses). At 1366 x 768 the test checks the first screen has no code names and no layout problem,
measures the change-to-redraw median over 10 seed changes and the replay's frame interval (both
printed with the machine's load; the redraw must stay within 1.5 s beside a CI run and the
replay must move forward at its pace, while the frame interval's bar is ``make bench``'s),
switches to a preset, pins a baseline and changes a lever (the cards show the change), compares
with the hardware-only preset ("No program"), types a number that is not allowed (results
greyed, "Not updated"), then checks the phone layout at 390 x 844. Money: the cards, the J-curve
(drawn, at least 300 px wide), the consultant's report written in the background and downloaded
(a real report.html), the scenario file downloaded, and a bad then a good scenario picked with
the file picker. Screenshots stay in the test's tmp dir (their paths are printed).
It fails on any page error, server traceback or asset the
server could not load.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import dashboard as bench
from dealersim.dashboard import words
from dealersim.dashboard.components import PLAY_FRAME_SECONDS, PLAY_SPEEDS

pytestmark = pytest.mark.timeout(600)

FIND_BROWSER = Path(__file__).resolve().parents[1] / "scripts" / "find_browser.py"


@pytest.fixture
def chromium() -> tuple[str | None, str]:
    """``(path, "")`` of the browser scripts/find_browser.py finds, or ``(None, its one line)``.

    The script checks ``$DEALERSIM_CHROMIUM`` first; here it never installs anything.
    """
    proc = subprocess.run([sys.executable, str(FIND_BROWSER), "--no-install"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        return proc.stdout.strip(), ""
    lines = proc.stderr.strip().splitlines() or [f"{FIND_BROWSER} exited {proc.returncode}"]
    return None, lines[-1]


def run_finder(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """scripts/find_browser.py with no browser on PATH or in Playwright's cache, plus ``env``."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k != "DEALERSIM_CHROMIUM"}
    base.update(PATH=str(tmp_path / "bin"), PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "pw"),
                DEALERSIM_NO_INSTALL="1")
    return subprocess.run([sys.executable, str(FIND_BROWSER)], env=base | env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_finder_without_a_browser_says_what_to_install_in_one_line(tmp_path):
    proc = run_finder(tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "needs Chromium" in lines[0] and "DEALERSIM_NO_INSTALL" in lines[0], lines[0]
    assert "install" in lines[0] and "DEALERSIM_CHROMIUM=/path/to/chrome" in lines[0], lines[0]


def test_finder_refuses_a_dealersim_chromium_that_does_not_run(tmp_path):
    proc = run_finder(tmp_path, DEALERSIM_CHROMIUM=str(tmp_path / "no-such-chrome"))
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"DEALERSIM_CHROMIUM={tmp_path}/no-such-chrome" in lines[0], lines


def test_finder_takes_dealersim_chromium_then_path(tmp_path):
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Chromium 1.2.3 fake'\n")
    fake.chmod(0o755)
    other = tmp_path / "chrome"
    other.write_text("#!/bin/sh\necho 'Google Chrome 4.5.6 fake'\n")
    other.chmod(0o755)
    found = run_finder(tmp_path)
    assert (found.returncode, found.stdout.strip()) == (0, str(fake)), found.stderr
    assert "Chromium 1.2.3 fake" in found.stderr and "from PATH" in found.stderr
    chosen = run_finder(tmp_path, DEALERSIM_CHROMIUM=str(other))
    assert (chosen.returncode, chosen.stdout.strip()) == (0, str(other)), chosen.stderr


REDRAW_LIMIT = float(os.environ.get("DEALERSIM_REDRAW_LIMIT", "1.5"))
"""Largest change-to-redraw median the test accepts (s): the bound with a CI run beside the
page. The bar on 2 quiet cores (1 s, 0.5 s wanted) is ``make bench``'s."""

MIN_REPLAY_FRAMES = 6
"""Fewest frames a 4-second replay must show: a replay that has stalled, not a frame-rate bar
(at 150 ms a frame, 4 s is about 26 frames; ``make bench`` measures the rate)."""


def pick(page, select_class: str, option: str) -> None:
    """Choose ``option`` in the Vuetify select carrying ``select_class``."""
    page.locator(f".{select_class}").first.click()
    item = page.get_by_role("option", name=option, exact=True)
    item.wait_for(timeout=10_000)
    item.click()


def card(page, key: str) -> str:
    return page.locator(f".ds-value-{key}").first.inner_text().strip()


@pytest.mark.browser
def test_dashboard_in_chromium(chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    executable, why_none = chromium
    if executable is None:
        pytest.fail(why_none, pytrace=False)
    errors: list[str] = []
    shots: list[Path] = []

    def shot(page, name: str, element: str | None = None) -> None:
        shots.append(tmp_path / f"dashboard_{name}.png")
        target = page.locator(element).first if element else page
        target.screenshot(path=str(shots[-1]))

    with bench.serve(tmp_path / "server.log") as (url, log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=bench.CHROMIUM_ARGS)
        try:
            page = bench.open_page(browser, url, bench.LAPTOP)
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            shot(page, "laptop")
            first_screen = page.locator("body").inner_text()
            assert not words.code_names_in(first_screen), words.code_names_in(first_screen)
            assert "Pick a plan" in first_screen and "The main levers" in first_screen
            assert "runs on Solara" not in first_screen  # the badge covered a chart
            assert bench.layout_problems(page) == []
            assert bench.blank_charts(page) == 0
            assert card(page, "launch") in ("Failed", "Succeeded")

            # instant: 10 seed changes, each a new run of the whole horizon
            times = bench.redraw_times(page, 10)
            median = statistics.median(times)
            print(f"\nchange-to-redraw median over {len(times)} seed changes: {median:.3f} s "
                  f"(min {min(times):.3f}, max {max(times):.3f}; 1366x768; "
                  f"{bench.machine_load()})")

            # the replay plays: the day shown moves forward frame after frame. Its frame rate
            # is printed; ``make bench`` measures it (a timed assertion here would fail on load)
            frames = bench.replay_frames(page, 4.0)
            days = [d for _, d in frames]
            gaps = [b - a for (a, _), (b, _) in zip(frames[1:], frames[2:], strict=False)]
            print(f"replay frame interval median {statistics.median(gaps) * 1000:.0f} ms over "
                  f"{len(gaps)} frames (intended {PLAY_FRAME_SECONDS * 1000:.0f} ms; "
                  f"{bench.machine_load()})")
            assert len(frames) >= MIN_REPLAY_FRAMES, f"{len(frames)} replay frames in 4 s: {days}"
            assert min(days) >= 0 and days == sorted(days) and days[-1] > days[0], days
            # a late frame skips ahead, so the days shown keep the replay's pace under load
            pace = (days[-1] - days[0]) / (frames[-1][0] - frames[0][0])
            intended = PLAY_SPEEDS["1 week"] / PLAY_FRAME_SECONDS
            assert 0.5 * intended <= pace <= 1.5 * intended, (
                f"the replay moved {pace:.0f} days a second; intended {intended:.0f}: {frames}")
            assert card(page, "launch") == "Replaying"
            bench.wait_charts_show_the_day(page)
            assert bench.blank_charts(page) == 0, page.locator(".ds-day").first.inner_text()
            shot(page, "replay")
            page.locator(".ds-end").first.click()

            # money: the cards and the J-curve, drawn in the browser like the other charts
            assert card(page, "cost").startswith("$"), card(page, "cost")
            assert card(page, "payback").startswith(("month ", "not within", "no program"))
            page.wait_for_function("() => { const el = document.querySelector('.ds-chart-cash');"
                                   " const opt = el && el.__vue__ && el.__vue__.option;"
                                   " return opt && opt.dsToken.startsWith('cash|'); }",
                                   timeout=30_000)
            jcurve = page.locator(".ds-chart-cash").first.bounding_box()
            assert jcurve["width"] >= bench.MIN_CHART_WIDTH, jcurve
            assert bench.blank_charts(page) == 0
            shot(page, "jcurve", ".ds-chart-cash")

            # take it away: the consultant's report (written in the background), the scenario
            page.locator(".ds-report").first.click()
            button = page.get_by_role("button", name="Download report.html")
            button.wait_for(timeout=300_000)
            with page.expect_download(timeout=60_000) as got:
                button.click()
            report = got.value
            html = Path(report.path()).read_text(encoding="utf-8")
            assert report.suggested_filename == "report.html"
            assert html.lstrip().lower().startswith("<!doctype html") and len(html) > 50_000
            assert "simulated dealerships like yours" in html
            print(f"report.html downloaded: {len(html) // 1024} kB")
            with page.expect_download(timeout=60_000) as got:
                page.locator(".ds-takeaway").get_by_role("button",
                                                         name="Save these settings").click()
            saved = Path(got.value.path()).read_text(encoding="utf-8")
            assert got.value.suggested_filename == "dealersim-scenario.toml"
            assert 'strategy = "overlay"' in saved, saved

            # my plan against anything: pin, change one lever, the cards show the change
            bench.change_seed(page, 0)
            mrr_before = page.locator(".ds-value-mrr").first.inner_text().strip()
            pick(page, "ds-strategy", "The author's prescription")
            # the planned run is on the page when its managed MRR replaces the overlay's and its
            # verdict is final (success is judged on money, so it may be either)
            page.wait_for_function(
                "(before) => { const mrr = document.querySelector('.ds-value-mrr');"
                " const launch = document.querySelector('.ds-value-launch');"
                " return mrr && launch && mrr.innerText.trim() !== before"
                " && ['Succeeded', 'Failed'].includes(launch.innerText.trim()); }",
                arg=mrr_before, timeout=60_000)
            page.locator(".ds-pin").first.click()
            page.locator(".ds-change-mrr").first.wait_for(timeout=60_000)
            page.locator(".ds-field-rules_of_engagement .v-input__slot").first.click()
            page.wait_for_function(
                "() => { const c = document.querySelector('.ds-change-mrr');"
                "        return c && /^[▲▼]/.test(c.innerText.trim()); }", timeout=60_000)
            change = page.locator(".ds-change-mrr").first.inner_text()
            assert change.endswith("/mo vs the baseline"), change
            page.get_by_role("button", name="Compare", exact=True).click()
            page.locator(".ds-value-now-mrr").first.wait_for(timeout=30_000)
            pick(page, "ds-compare", "Preset: No managed-services program")
            page.wait_for_function("() => { const c = document.querySelector("
                                   "'.ds-value-base-launch'); return c && "
                                   "c.innerText.trim() === 'No program'; }", timeout=60_000)
            page.wait_for_function(bench._CHARTS_SHOW, arg=["|"], timeout=60_000)
            shot(page, "compare")
            assert bench.layout_problems(page) == []

            # a number that is not allowed: the field says why, the results say "not updated"
            page.get_by_role("button", name="Charts", exact=True).click()
            page.locator(".ds-fold-title", has_text="Your dealership's numbers").first.click()
            box = page.locator(".ds-field-accounts_per_rep input").first
            box.fill("150.7")
            box.press("Enter")
            page.locator(".ds-not-updated").first.wait_for(timeout=30_000)
            message = page.locator(".ds-field-accounts_per_rep").first.inner_text()
            assert "a whole number from 25 to 5,000" in message, message
            page.locator(".ds-results.ds-stale").first.wait_for(timeout=10_000)
            shot(page, "not_updated")

            # a normal file picker loads a saved scenario (and clears the bad box)
            plan = tmp_path / "my-plan.toml"
            plan.write_text('strategy = "planned"\nseed = 3\n')
            page.locator(".ds-fold-title", has_text="Save or load").first.click()
            bad = tmp_path / "bad-plan.toml"
            bad.write_text("[params]\nn_reps = 999\n")
            page.locator(".ds-file-picker input[type=file]").first.set_input_files(str(bad))
            problem = page.locator(".ds-scenario-error").first
            problem.wait_for(timeout=60_000)
            assert "bad-plan.toml was not loaded, nothing changed" in problem.inner_text()
            page.locator(".ds-file-picker input[type=file]").first.set_input_files(str(plan))
            page.get_by_text("loaded my-plan.toml").first.wait_for(timeout=60_000)
            page.wait_for_function("() => document.querySelector('.ds-computed')"
                                   ".innerText.endsWith('seed 3')", timeout=60_000)
            assert page.locator(".ds-not-updated").count() == 0

            # the phone: controls stacked above the results, charts as wide as the screen
            phone = bench.open_page(browser, url, bench.PHONE)
            phone.on("pageerror", lambda exc: errors.append(f"pageerror (phone): {exc}"))
            assert bench.layout_problems(phone) == []
            controls = phone.locator(".ds-controls").first.bounding_box()
            results = phone.locator(".ds-main").first.bounding_box()
            assert controls["y"] + controls["height"] <= results["y"] + 1, (controls, results)
            shot(phone, "phone")
            assert not words.code_names_in(phone.locator("body").inner_text())
            phone.locator(".ds-jump").first.click()  # "See the results" jumps down
            phone.wait_for_function("() => { const r = document.querySelector('.ds-value-launch')"
                                    ".getBoundingClientRect(); return r.top >= 0 && "
                                    "r.bottom <= window.innerHeight; }", timeout=10_000)
            shot(phone, "phone_results")
            shot(phone, "phone_main", ".ds-main")
        finally:
            browser.close()
    for s in shots:
        assert s.stat().st_size > 10_000, f"{s} looks empty"
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log
    assert "Could not load URL" not in server_log, server_log
    assert not errors, errors
    assert median <= REDRAW_LIMIT, (f"change-to-redraw median {median:.2f} s > {REDRAW_LIMIT} s "
                                    f"({bench.machine_load()})")
    print(f"screenshots: {[str(s) for s in shots]}")

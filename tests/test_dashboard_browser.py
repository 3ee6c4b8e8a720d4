"""Real-browser test of ``dealersim dashboard``: Chromium driven by Playwright.

The browser is ``$DEALERSIM_CHROMIUM`` (``make test`` sets it from ``scripts/find_browser.py``,
which installs Chromium where it may) or, in a bare pytest run, what that script finds without
installing anything; when there is none the test fails with the script's one line saying what to
install.

Starts the server on a free loopback port, opens the page, switches the strategy from overlay to
planned, checks a headline card changes, plays a few days, and fails on any page error or server
traceback. Screenshots go to the test's tmp dir (one is copied to /tmp/dashboard_*.png). The
change-to-redraw latency is printed as a benchmark figure (not pass/fail).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import urllib.request

    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server did not answer within {timeout} s:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    exe = Path(sys.executable).with_name("dealersim")
    with log.open("w") as fh:
        proc = subprocess.Popen([str(exe), "dashboard", "--port", str(port)], stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, proc, log)
        yield url, log
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def card_text(page, key: str) -> str:
    return page.locator(f".ds-value-{key}").first.inner_text().strip()


def test_dashboard_in_chromium(chromium, server, tmp_path):
    from playwright.sync_api import sync_playwright

    executable, why_none = chromium
    if executable is None:
        pytest.fail(why_none, pytrace=False)
    url, log = server
    errors: list[str] = []
    shots: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.goto(url, timeout=90_000)
            page.get_by_text("Pick a launch policy").first.wait_for(timeout=90_000)
            page.locator(".ds-value-launch").first.wait_for(timeout=60_000)
            page.locator("img").first.wait_for(timeout=60_000)  # the charts
            assert card_text(page, "launch") == "Failed", card_text(page, "launch")
            before = card_text(page, "mrr")
            shots.append(tmp_path / "dashboard_overlay.png")
            page.screenshot(path=str(shots[-1]), full_page=True)

            # change overlay -> planned and time it until the headline and chart are redrawn
            old_img = page.locator(".ds-view-charts img").first.get_attribute("src")
            page.locator(".ds-strategy").first.click()
            option = page.get_by_role("option", name="planned", exact=True)
            option.wait_for(timeout=10_000)
            start = time.perf_counter()
            t0 = page.evaluate("performance.now()")
            option.click()
            page.wait_for_function(
                """([old]) => {
                    const v = document.querySelector('.ds-value-launch');
                    const img = document.querySelector('.ds-view-charts img');
                    return v && v.innerText.trim() === 'Succeeded' && img && img.src !== old;
                }""", arg=[old_img], timeout=30_000, polling="raf")
            t1 = page.evaluate("performance.now()")
            wall = time.perf_counter() - start
            after = card_text(page, "mrr")
            assert after != before, (before, after)
            print(f"\nchange-to-redraw latency (browser clock): {(t1 - t0) / 1000:.2f} s "
                  f"(wall {wall:.2f} s; strategy overlay -> planned, default size)")
            shots.append(tmp_path / "dashboard_planned.png")
            page.screenshot(path=str(shots[-1]), full_page=True)

            # play a few days of the replay
            page.locator(".ds-play").first.click()
            page.wait_for_function(
                """() => { const d = document.querySelector('.ds-day');
                           if (!d) return false;
                           const m = d.innerText.match(/day (\\d+) of (\\d+)/);
                           return m && +m[1] >= 14 && +m[1] < +m[2]; }""",
                timeout=30_000, polling=200)
            page.locator(".ds-play").first.click()  # pause
            day_text = page.locator(".ds-day").first.inner_text()
            assert "Replaying" == card_text(page, "launch")
            shots.append(tmp_path / "dashboard_replay.png")
            page.screenshot(path=str(shots[-1]), full_page=True)

            # the account map and the story render too
            page.get_by_role("button", name="Account map").click()
            page.locator(".ds-view-account-map img").first.wait_for(timeout=30_000)
            shots.append(tmp_path / "dashboard_account_map.png")
            page.screenshot(path=str(shots[-1]), full_page=True)
            page.get_by_role("button", name="Story").click()
            page.get_by_text("events", exact=False).first.wait_for(timeout=20_000)
        finally:
            browser.close()
    for shot in shots:
        assert shot.stat().st_size > 20_000, f"{shot} looks empty"
        shutil.copy(shot, Path("/tmp") / shot.name)
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log
    assert "Could not load URL" not in server_log, server_log
    assert not errors, errors
    print(f"replay paused at: {day_text}; screenshots: {[str(s) for s in shots]}")

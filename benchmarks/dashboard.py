"""Measure the dashboard in a real browser: change-to-redraw latency, replay frames, layout.

``measure()`` is what ``make bench`` calls (``python -m benchmarks.dashboard`` prints it): it
serves the page on a free loopback port (``dealersim dashboard``), opens it in Chromium through
Playwright, changes the seed ``n`` times and returns the median seconds from each change to the
moment the browser holds the new run in every card and chart and has painted it. The browser test
uses the same helpers.

Playwright is an optional (dev) dependency: it is imported inside the functions that drive a
browser, so importing this module never needs it. The browser is ``$DEALERSIM_CHROMIUM`` or
``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dealersim.dashboard.components import PLAY_FRAME_SECONDS

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MIN_CHART_WIDTH = 300

# every chart holds the option whose token names the run (see components.ChartData), read
# from the Vue component behind each chart's element
_CHARTS_SHOW = """([needle]) => {
    const charts = [...document.querySelectorAll('.ds-chart')];
    if (!charts.length) return false;
    return charts.every(el => {
        const vm = el.__vue__;
        const opt = vm && (vm.option || (vm.$props && vm.$props.option));
        return opt && typeof opt.dsToken === 'string' && opt.dsToken.includes(needle);
    });
}"""
_CHARTS_SHOW_THE_DAY = """() => {
    const m = document.querySelector('.ds-day').innerText.match(/day (\\d+) of (\\d+)/);
    const needle = +m[1] >= +m[2] ? '|None|' : `|${m[1]}|`;
    return [...document.querySelectorAll('.ds-chart')].every(el => {
        const opt = el.__vue__ && el.__vue__.option;
        return opt && typeof opt.dsToken === 'string' && opt.dsToken.includes(needle);
    });
}"""
_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def chromium_path() -> str:
    """The browser to drive: ``$DEALERSIM_CHROMIUM`` or ``/usr/bin/chromium``."""
    return os.environ.get("DEALERSIM_CHROMIUM") or "/usr/bin/chromium"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(log: Path | None = None, timeout: float = 90) -> Iterator[tuple[str, Path]]:
    """Run ``dealersim dashboard`` on a free loopback port; yield ``(url, server log)``.

    The server and its children are stopped on exit (their own process group).
    """
    port = free_port()
    log = log or Path(tempfile.mkdtemp(prefix="dealersim-dash-")) / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "dealersim", "dashboard", "--port",
                                 str(port)], stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        start = time.time()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the dashboard server exited with {proc.returncode}:\n"
                                   f"{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.time() - start > timeout:
                    raise RuntimeError(f"the dashboard did not answer within {timeout:.0f} s:\n"
                                       f"{log.read_text()}") from None
                time.sleep(0.3)
        yield url, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def open_page(browser: Any, url: str, viewport: dict[str, int] = LAPTOP) -> Any:
    """A new page at ``url``, waited on until the first run's cards and charts are drawn."""
    page = browser.new_page(viewport=viewport)
    page.goto(url, timeout=90_000)
    page.locator(".ds-value-launch").first.wait_for(timeout=90_000)
    page.wait_for_function(_CHARTS_SHOW, arg=["|"], timeout=60_000)
    page.locator(".ds-chart canvas").first.wait_for(timeout=60_000)
    return page


def seed_box(page: Any) -> Any:
    """The seed's text box."""
    return page.locator(".ds-seed input").first


def change_seed(page: Any, seed: int, timeout: float = 60) -> float:
    """Type a new seed and press Enter; seconds until every card and chart show its run.

    The clock is the browser's: from the key press to two animation frames after the last
    chart holds the new run (so it has been painted).
    """
    box = seed_box(page)
    box.fill(str(seed))
    t0 = page.evaluate("performance.now()")
    box.press("Enter")
    page.wait_for_function(
        """([s]) => { const c = document.querySelector('.ds-computed');
                      return c && c.innerText.includes('seed ' + s + ' ')
                             || c && c.innerText.endsWith('seed ' + s); }""",
        arg=[seed], timeout=timeout * 1000, polling="raf")
    page.wait_for_function(_CHARTS_SHOW, arg=[f"|{seed}|"], timeout=timeout * 1000,
                           polling="raf")
    page.evaluate(_TWO_FRAMES)
    return (page.evaluate("performance.now()") - t0) / 1000


def redraw_times(page: Any, n: int = 10, first_seed: int = 1) -> list[float]:
    """Seconds from change to redraw for ``n`` seed changes (each a new run of the model)."""
    return [change_seed(page, first_seed + i) for i in range(n)]


def replay_frames(page: Any, seconds: float = 4.0) -> list[tuple[float, int]]:
    """Each replay frame over ``seconds`` of play: (browser clock in s, the day it shows)."""
    page.evaluate("""() => {
        window.__dsFrames = [];
        const el = document.querySelector('.ds-day');
        window.__dsObs = new MutationObserver(() => {
            const day = /day (\\d+)/.exec(el.innerText);
            window.__dsFrames.push([performance.now(), day ? Number(day[1]) : -1]);
        });
        window.__dsObs.observe(el, {childList: true, characterData: true, subtree: true});
    }""")
    page.locator(".ds-play").first.click()
    time.sleep(seconds)
    page.locator(".ds-play").first.click()
    frames = page.evaluate("() => { window.__dsObs.disconnect(); return window.__dsFrames; }")
    return [(t / 1000, int(d)) for t, d in frames]


def replay_intervals(page: Any, seconds: float = 4.0) -> list[float]:
    """Seconds between replay frames (changes of the day shown) over ``seconds`` of play.

    The first frame (the click, which starts the clock) is left out.
    """
    times = [t for t, _ in replay_frames(page, seconds)]
    return [b - a for a, b in zip(times[1:], times[2:], strict=False)]


def blank_charts(page: Any) -> int:
    """How many charts on the page have nothing painted on their canvas."""
    return page.evaluate("""() => [...document.querySelectorAll('.ds-chart')].filter(el => {
        const c = el.querySelector('canvas');
        if (!c || !c.width || !c.height) return true;
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return false;
        return true;
    }).length""")


def wait_charts_show_the_day(page: Any, timeout: float = 30) -> None:
    """Wait until every chart holds the day the replay bar shows, and has painted it."""
    page.wait_for_function(_CHARTS_SHOW_THE_DAY, timeout=timeout * 1000, polling=100)
    page.evaluate(_TWO_FRAMES)


def layout_problems(page: Any) -> list[str]:
    """What is wrong with the layout at the page's size: sideways scroll, narrow charts."""
    found = page.evaluate("""([minWidth]) => {
        const out = [];
        // the document and every box around the page (Solara scrolls an inner container)
        const boxes = [document.documentElement, document.body];
        for (let el = document.querySelector('.ds-page'); el; el = el.parentElement)
            boxes.push(el);
        for (const el of new Set(boxes)) {
            const style = getComputedStyle(el);
            if (el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'hidden'
                    && style.overflowX !== 'clip')
                out.push(`the page scrolls sideways: ${el.scrollWidth} px of content in a `
                         + `${el.clientWidth} px wide ${el.tagName.toLowerCase()}`);
        }
        const page = document.querySelector('.ds-page').getBoundingClientRect();
        if (page.right > window.innerWidth + 1)
            out.push(`the page is ${Math.round(page.right)} px wide in a `
                     + `${window.innerWidth} px window`);
        document.querySelectorAll('.ds-chart').forEach(el => {
            const w = el.getBoundingClientRect().width;
            if (w < minWidth) out.push(`a chart is ${Math.round(w)} px wide`);
        });
        return out;
    }""", [MIN_CHART_WIDTH])
    return list(found)


def machine_load() -> str:
    """The 1-minute load average and the CPU count, for the record next to a figure."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return f"{os.cpu_count()} CPUs"
    return f"load {load:.2f} on {os.cpu_count()} CPUs"


def measure(n: int = 10, replay_seconds: float = 4.0) -> dict[str, Any]:
    """Everything ``make bench`` records about the dashboard, measured in Chromium.

    Serves the page, opens it at 1366 x 768, changes the seed ``n`` times (each change runs
    the model for the whole horizon) and plays the replay for ``replay_seconds``.

    Returns:
        ``redraw_median``, ``redraw_min``, ``redraw_max`` (seconds from a change to the
        redrawn page), ``frame_median`` and ``frame_intended`` (seconds between replay frames),
        ``changes``, ``frames`` and ``load`` (the machine's load, in words).
    """
    from playwright.sync_api import sync_playwright  # optional (dev) dependency

    with serve() as (url, _log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, url)
            times = redraw_times(page, n)
            gaps = replay_intervals(page, replay_seconds) if replay_seconds > 0 else []
        finally:
            browser.close()
    return {"redraw_median": statistics.median(times), "redraw_min": min(times),
            "redraw_max": max(times), "changes": len(times),
            "frame_median": statistics.median(gaps) if gaps else float("nan"),
            "frame_intended": PLAY_FRAME_SECONDS, "frames": len(gaps), "load": machine_load()}


def redraw_median(n: int = 10) -> float:
    """Median seconds from a change to the redrawn page over ``n`` seed changes (``measure``)."""
    return float(measure(n, replay_seconds=0.0)["redraw_median"])


if __name__ == "__main__":
    m = measure()
    print(f"dashboard change-to-redraw median: {m['redraw_median']:.3f} s over {m['changes']} "
          f"changes (min {m['redraw_min']:.3f}, max {m['redraw_max']:.3f}); replay frames every "
          f"{m['frame_median'] * 1000:.0f} ms (intended {m['frame_intended'] * 1000:.0f}); "
          f"{m['load']}")

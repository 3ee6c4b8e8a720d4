#!/usr/bin/env python3
"""Find (or install) a Chromium for the real-browser dashboard test; print its path.

Usage: ``python scripts/find_browser.py`` (the Makefile's ``browser`` target runs it with the
venv's Python, so that Playwright is importable). It tries, in order, and stops at the first
executable that answers ``--version``:

1. ``$DEALERSIM_CHROMIUM`` (when set, it must work: no other browser is tried);
2. a Chromium or Chrome on PATH: ``chromium``, ``chromium-browser``, ``google-chrome``,
   ``google-chrome-stable`` (and the usual macOS application paths);
3. Playwright's own Chromium: already downloaded, or ``playwright install chromium`` when its
   download host answers (a 5 s probe, then at most ``DEALERSIM_PLAYWRIGHT_TIMEOUT`` seconds,
   default 300);
4. the distribution's Chromium, ``apt-get install -y --no-install-recommends chromium``, when this
   process may install (root or passwordless sudo; see ``scripts/syspkg.py``).

Set ``DEALERSIM_NO_INSTALL=1`` (or pass ``--no-install``) to skip step 3's download and step 4.
On success the path is the only line on stdout (progress goes to stderr) and the exit code is 0;
otherwise one line on stderr says what to install, and the exit code is 1.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syspkg  # noqa: E402  (a sibling module, found through the line above)

PREFIX = "browser"
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MAC_APPS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
PROBE_TIMEOUT = 5.0


def version(exe: str) -> str | None:
    """``exe --version`` (first line), or None when it does not run."""
    try:
        proc = subprocess.run([exe, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = proc.stdout.strip().splitlines()
    return out[0].strip() if proc.returncode == 0 and out else None


def from_path() -> str | None:
    """A working Chromium or Chrome on PATH (or in /Applications), or None."""
    candidates = [shutil.which(n) for n in PATH_NAMES] + [p for p in MAC_APPS if Path(p).is_file()]
    for exe in candidates:
        if exe and version(exe):
            return exe
    return None


def playwright_executable() -> str | None:
    """Where Playwright's own Chromium lives (whether or not it is downloaded), or None."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            return p.chromium.executable_path
    except Exception:  # noqa: BLE001 - a broken Playwright is just one source fewer
        return None


def download_reachable() -> bool:
    """True when Playwright's Chromium download host accepts a TCP connection within 5 s.

    With a proxy configured the probe is skipped (the proxy may be the only way out) and the
    install's own timeout bounds the attempt.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    try:
        dry = subprocess.run([sys.executable, "-m", "playwright", "install", "--dry-run",
                              "chromium"], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    hosts = {urllib.parse.urlsplit(u).hostname
             for u in re.findall(r"https://\S+", dry.stdout)} - {None}
    for host in sorted(hosts):
        try:
            socket.create_connection((host, 443), timeout=PROBE_TIMEOUT).close()
            return True
        except OSError:
            continue
    return False


def from_playwright() -> tuple[str | None, str]:
    """Playwright's Chromium, downloaded when allowed and its host answers.

    Returns:
        ``(path, "")``, or ``(None, why not)`` with an empty reason when Playwright is absent.
    """
    exe = playwright_executable()
    if exe is None:
        return None, ""
    if Path(exe).is_file() and version(exe):
        return exe, ""
    if syspkg.install_disabled():
        return None, ""
    if not download_reachable():
        return None, "Playwright's download host does not answer"
    timeout = float(os.environ.get("DEALERSIM_PLAYWRIGHT_TIMEOUT", "300"))
    syspkg.log(PREFIX, f"$ playwright install chromium  (at most {timeout:.0f} s)")
    try:
        proc = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"`playwright install chromium` took over {timeout:.0f} s"
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "?").splitlines()[0]
        return None, f"`playwright install chromium` failed: {last}"
    if version(exe):
        return exe, ""
    # downloaded, but its shared libraries may be missing: Playwright installs them with apt
    if syspkg.why_not_install() is None:
        syspkg.log(PREFIX, "$ playwright install-deps chromium")
        subprocess.run([sys.executable, "-m", "playwright", "install-deps", "chromium"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=1800)
    if version(exe):
        return exe, ""
    return None, "Playwright's Chromium does not start (missing libraries?)"


def from_system() -> tuple[str | None, str]:
    """The distribution's Chromium, installed with apt-get; ``(path or None, reason)``."""
    reason = syspkg.why_not_install()
    if reason is not None:
        return None, reason
    ok, log_path = syspkg.apt_install(["chromium"], PREFIX)
    if not ok:
        return None, f"apt-get install chromium failed, see {log_path}"
    exe = from_path()
    return exe, ("" if exe else f"apt-get installed chromium but it does not run, see {log_path}")


def find() -> tuple[str | None, str]:
    """Run the search; ``(path, how it was found)`` or ``(None, the one-line message)``."""
    env = os.environ.get("DEALERSIM_CHROMIUM", "")
    if env:
        exe = shutil.which(env) or env  # a bare name is looked up on PATH, as the shell would
        if version(exe):
            return str(Path(exe).absolute()), "$DEALERSIM_CHROMIUM"
        return None, (f"DEALERSIM_CHROMIUM={env} is not a Chromium or Chrome that runs "
                      f"(`{env} --version` failed): fix the path or unset it")
    exe = from_path()
    if exe:
        return exe, "PATH"
    exe, pw_note = from_playwright()
    if exe:
        return exe, "Playwright"
    exe, reason = from_system()
    if exe:
        return exe, "apt-get"
    reasons = "; ".join(r for r in (pw_note, reason) if r)
    return None, ("make test needs Chromium for the dashboard test"
                  + (f" and could not install it ({reasons})" if reasons else "")
                  + f": install {syspkg.install_hint('chromium')} or set "
                  "DEALERSIM_CHROMIUM=/path/to/chrome")


def main(argv: list[str] | None = None) -> int:
    """Print the browser's path (exit 0) or one line saying what to install (exit 1)."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--no-install"]):
        print("usage: find_browser.py [--no-install]", file=sys.stderr)
        return 2
    if args:
        syspkg.forbid_install("--no-install; `make browser` installs where it may")
    exe, how = find()
    if exe is None:
        print(how, file=sys.stderr)
        return 1
    syspkg.log(PREFIX, f"{exe} ({version(exe)}; from {how})")
    print(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Install a missing system tool with the system package manager, when this process may.

Shared by ``scripts/find_browser.py`` (Chromium) and ``scripts/find_npm.py`` (npm). Standard
library only. The rules:

* Installing is allowed for root, or with passwordless ``sudo`` (``sudo -n true`` succeeds),
  and never when ``DEALERSIM_NO_INSTALL`` is set to a non-empty value other than ``0``.
* Only apt-get (Debian, Ubuntu) is driven automatically: ``apt-get install -y
  --no-install-recommends PKG``; when that cannot find the package (fresh image, stale lists),
  ``apt-get update`` runs once and the install is retried. apt's output goes to a log file, so
  a failure is reported in one line that names the log.
* On other systems :func:`install_hint` says which command to run (dnf, zypper, pacman, apk,
  brew), and nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

# package names per package manager, for the tools the build needs
PACKAGES = {
    "chromium": {"apt-get": "chromium", "dnf": "chromium", "yum": "chromium",
                 "zypper": "chromium", "pacman": "chromium", "apk": "chromium",
                 "brew": "--cask chromium"},
    "npm": {"apt-get": "nodejs npm", "dnf": "nodejs npm", "yum": "nodejs npm",
            "zypper": "nodejs npm", "pacman": "nodejs npm", "apk": "nodejs npm",
            "brew": "node"},
}
INSTALL_VERB = {"apt-get": "apt-get install", "dnf": "dnf install", "yum": "yum install",
                "zypper": "zypper install", "pacman": "pacman -S", "apk": "apk add",
                "brew": "brew install"}
APT_LOCK_WAIT = 300  # seconds apt-get waits for another apt/dpkg to release its lock


def log(prefix: str, msg: str) -> None:
    """Print a progress line on stderr (stdout carries the answer)."""
    print(f"{prefix}: {msg}", file=sys.stderr, flush=True)


def package_manager() -> str | None:
    """The first package manager found on PATH, or None."""
    for pm in INSTALL_VERB:
        if shutil.which(pm):
            return pm
    return None


def install_hint(tool: str) -> str:
    """What to install, e.g. ``it (apt-get install chromium)`` or ``Chromium or Google Chrome``."""
    pm = package_manager()
    if pm is None:
        return {"chromium": "Chromium or Google Chrome", "npm": "Node.js with npm"}[tool]
    sudo = "" if pm == "brew" or os.geteuid() == 0 else "sudo "
    return f"it ({sudo}{INSTALL_VERB[pm]} {PACKAGES[tool][pm]})"


_forbidden: str | None = None


def forbid_install(reason: str) -> None:
    """Install nothing in this process; ``reason`` is what the one-line message will say."""
    global _forbidden
    _forbidden = reason


def install_disabled() -> str | None:
    """Why installing is off (``DEALERSIM_NO_INSTALL`` or :func:`forbid_install`), else None."""
    if _forbidden:
        return _forbidden
    if os.environ.get("DEALERSIM_NO_INSTALL", "") not in ("", "0"):
        return "DEALERSIM_NO_INSTALL is set"
    return None


def sudo_prefix() -> list[str] | None:
    """``[]`` for root, ``["sudo", "-n"]`` with passwordless sudo, else None (may not install)."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    try:
        ok = subprocess.run([sudo, "-n", "true"], stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return [sudo, "-n"] if ok else None


def why_not_install() -> str | None:
    """None when :func:`apt_install` may run here, else the reason (a few words)."""
    if install_disabled():
        return install_disabled()
    if package_manager() != "apt-get":
        return "no apt-get here"
    if sudo_prefix() is None:
        return "not root and no passwordless sudo"
    return None


def apt_install(packages: list[str], prefix: str) -> tuple[bool, str]:
    """``apt-get install`` the packages (``apt-get update`` once if needed).

    Call only when :func:`why_not_install` returned None.

    Returns:
        ``(ok, log_path)``: whether the install succeeded, and where apt's output went.
    """
    sudo = sudo_prefix() or []
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    fd, log_path = tempfile.mkstemp(prefix=f"dealersim-apt-{'-'.join(packages)}-", suffix=".log")
    lock = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *lock,
               *packages]
    update = [*sudo, "apt-get", "update", "-q", *lock]
    with os.fdopen(fd, "w") as out:

        def run(cmd: list[str]) -> bool:
            log(prefix, f"$ {' '.join(cmd)}  (output in {log_path})")
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            try:
                return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT, env=env,
                                      timeout=1800).returncode == 0
            except (OSError, subprocess.TimeoutExpired) as e:
                out.write(f"{e}\n")
                return False

        ok = run(install) or (run(update) and run(install))
    return ok, log_path

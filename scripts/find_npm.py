#!/usr/bin/env python3
"""Find (or install) npm, which ``scripts/vendor_frontend.py`` uses to fetch Solara's front end.

Usage: ``python scripts/find_npm.py``. It tries ``$NPM``, then ``npm`` on PATH, then, when this
process may install (root or passwordless sudo, apt-get, no ``DEALERSIM_NO_INSTALL``; see
``scripts/syspkg.py``), ``apt-get install -y --no-install-recommends nodejs npm``. On success the
path is the only line on stdout and the exit code is 0; otherwise one line on stderr says what to
install, and the exit code is 1. ``vendor_frontend.py`` calls :func:`find` itself, and only when
something is left to vendor, so a machine that vendored once never needs npm again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syspkg  # noqa: E402  (a sibling module, found through the line above)

PREFIX = "npm"


def works(exe: str) -> bool:
    """True when ``exe --version`` runs."""
    try:
        return subprocess.run([exe, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find() -> tuple[str | None, str]:
    """Run the search; ``(path, how it was found)`` or ``(None, the one-line message)``."""
    env = os.environ.get("NPM", "")
    if env:
        if works(env):
            return env, "$NPM"
        return None, f"NPM={env} does not run (`{env} --version` failed): fix the path or unset it"
    exe = shutil.which("npm")
    if exe and works(exe):
        return exe, "PATH"
    reason = syspkg.why_not_install()
    if reason is None:
        ok, log_path = syspkg.apt_install(["nodejs", "npm"], PREFIX)
        exe = shutil.which("npm")
        if ok and exe and works(exe):
            return exe, "apt-get"
        reason = f"apt-get install nodejs npm failed, see {log_path}"
    return None, ("make needs npm to fetch the dashboard's front end (Solara, from the npm "
                  f"registry) and could not install it ({reason}): install "
                  f"{syspkg.install_hint('npm')} or set NPM=/path/to/npm")


def main() -> int:
    """Print npm's path (exit 0) or one line saying what to install (exit 1)."""
    exe, how = find()
    if exe is None:
        print(how, file=sys.stderr)
        return 1
    syspkg.log(PREFIX, f"{exe} (from {how})")
    print(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())

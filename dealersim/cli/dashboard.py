"""``dealersim dashboard``: serve the owner's dashboard with ``solara run`` (loopback by default).

The server runs as a child process (``python -m solara run dealersim.dashboard.app --production``).
Binding to anything but a loopback address exposes the page, which runs simulations on request,
to the network: that gets a loud warning.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "dealersim.dashboard.app"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback interface (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def parse_port(text: str) -> int:
    """Check a ``--port`` value: an integer in [1, 65535].

    Raises:
        UsageError: One line naming ``--port`` and the allowed range.
    """
    from dealersim.cli.common import UsageError

    try:
        port = int(str(text).strip())
    except ValueError:
        raise UsageError(
            f"--port: {text!r} is not a whole number; expected an integer in [1, 65535]"
        ) from None
    if not 1 <= port <= 65535:
        raise UsageError(f"--port: {port} is not allowed; expected an integer in [1, 65535]")
    return port


def parse_host(text: str) -> str:
    """Check a ``--host`` value: a host name or IP address without spaces or a scheme.

    Raises:
        UsageError: One line naming ``--host``.
    """
    from dealersim.cli.common import UsageError

    host = text.strip()
    if not host or any(c.isspace() for c in host) or "/" in host or host.startswith("-"):
        raise UsageError(f"--host: {text!r} is not a host name or IP address")
    return host


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the dashboard."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host,
            "--port", str(port), "--production", "--no-open"]


def warning_text(host: str, port: int) -> str:
    """The loud warning printed when the server listens beyond loopback."""
    bar = "!" * 78
    return (
        f"{bar}\n"
        f"WARNING: the dashboard will listen on {host}:{port}, which is NOT a loopback address.\n"
        "Anyone who can reach this machine on that port can open the page and make it run\n"
        "simulations. There is no login. Use the default --host 127.0.0.1 unless you mean it.\n"
        f"{bar}"
    )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``dealersim dashboard``: serve the page until interrupted."""
    host = parse_host(args.host)
    port = parse_port(args.port)
    if not is_loopback(host):
        print(warning_text(host, port), file=sys.stderr, flush=True)
    print(f"dealersim dashboard: serving on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    env = dict(os.environ)
    env.setdefault("SOLARA_APP", APP_MODULE)
    proc = subprocess.Popen(server_command(host, port), env=env)

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # stop the server child too, not only this process

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(command: Callable[..., argparse.ArgumentParser],
             run_options: Callable[..., Any]) -> None:
    """Add the ``dashboard`` subcommand (see ``dealersim.cli.COMMAND_MODULES``)."""
    p = command("dashboard", cmd_dashboard,
                "Serve the owner's dashboard in the browser (loopback only by default).")
    p.add_argument("--host", default=DEFAULT_HOST, metavar="HOST",
                   help=f"interface to listen on (default: {DEFAULT_HOST}; anything else is "
                   "reachable from the network and prints a warning)")
    p.add_argument("--port", default=str(DEFAULT_PORT), metavar="PORT",
                   help=f"TCP port (default: {DEFAULT_PORT})")

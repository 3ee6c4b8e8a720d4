"""``dealersim dashboard``: serve the owner's dashboard with ``solara run`` (loopback by default).

The server runs as a child process (``python -m dealersim.dashboard.server``, which runs
``solara run dealersim.dashboard.app --production`` behind a door that refuses a foreign ``Host``
or ``Origin``), and dies with this command whatever kills it. Binding to anything but a loopback
address exposes the page, which runs simulations on request, to the network: that gets a loud
warning, and browsers may then open it only from the addresses named with ``--allow-origin``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from dealersim.base.extras import need
from dealersim.dashboard import ADVICE_ENV
from dealersim.dashboard.server import (
    APP_MODULE,
    DOORS_ENV,
    doors_settings,
    is_loopback,
    origin_of,
)
from dealersim.model.params import parse_whole, shown
from dealersim.outputs.advice import read_three_things

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


__all__ = ["is_loopback", "server_command", "warning_text", "cmd_dashboard", "register"]


def _refuse(message: str) -> NoReturn:
    raise argparse.ArgumentTypeError(message)


def port_type(text: str) -> int:
    """``--port``: an integer in [1, 65535] written with the digits 0-9 (an argparse type)."""
    try:
        return parse_whole(text, 1, 65535)
    except ValueError as exc:
        _refuse(str(exc))


def host_type(text: str) -> str:
    """``--host``: a host name or IP address without spaces, a scheme or a path (argparse type)."""
    host = text.strip()
    if not host or not host.isascii() or not host.isprintable() or any(
            c.isspace() for c in host) or "/" in host or host.startswith("-"):
        _refuse(f"{shown(text)} is not a host name or IP address; expected e.g. 127.0.0.1")
    return host


def advice_dir_type(text: str) -> str:
    """``--advice``: a ``dealersim advise`` output folder with its three things (argparse type).

    Returns:
        The folder as an absolute path (the server child reads it again).
    """
    try:
        read_three_things(text)
    except ValueError as exc:
        _refuse(str(exc).removeprefix("advice: "))
    return os.path.abspath(text)


def origin_type(text: str) -> str:
    """``--allow-origin``: an ``http(s)://host[:port]`` address, returned as its origin."""
    try:
        return origin_of(text)
    except ValueError as exc:
        _refuse(str(exc))


def server_command() -> list[str]:
    """The command line of the server child (its settings go in :data:`DOORS_ENV`)."""
    return [sys.executable, "-m", "dealersim.dashboard.server"]


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
    need("dashboard", "dealersim dashboard")
    host, port = args.host, args.port
    if not is_loopback(host):
        print(warning_text(host, port), file=sys.stderr, flush=True)
    print(f"dealersim dashboard: serving on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    env = dict(os.environ)
    env.setdefault("SOLARA_APP", APP_MODULE)
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # the badge covered the charts
    env.pop(ADVICE_ENV, None)
    if args.advice is not None:
        env[ADVICE_ENV] = args.advice
    env[DOORS_ENV] = doors_settings(host, port, args.allow_origin or ())
    proc = subprocess.Popen(server_command(), env=env)

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
    p.add_argument("--host", default=DEFAULT_HOST, metavar="HOST", type=host_type,
                   help=f"interface to listen on (default: {DEFAULT_HOST}; anything else is "
                   "reachable from the network and prints a warning)")
    p.add_argument("--port", default=DEFAULT_PORT, metavar="PORT", type=port_type,
                   help=f"TCP port, 1 to 65535 (default: {DEFAULT_PORT})")
    p.add_argument("--advice", type=advice_dir_type, metavar="DIR",
                   help="a `dealersim advise` output folder: the page shows its three most "
                   "important changes, and the report written from the page includes them")
    p.add_argument("--allow-origin", action="append", metavar="URL", type=origin_type,
                   help="a web address browsers may open the page from besides this machine "
                   "itself, e.g. http://192.168.1.20:8765 when serving on --host 0.0.0.0 "
                   "(repeatable; any other address is refused)")

"""The dashboard's server process: Solara behind a door that checks ``Host`` and ``Origin``.

``dealersim dashboard`` starts ``python -m dealersim.dashboard.server`` as a child process. The
child asks Linux to kill it when the command dies (``prctl(PR_SET_PDEATHSIG)``, so even a
``kill -9`` of the command leaves no server behind), wraps Solara's Starlette application in
:class:`Doors`, and then runs ``solara run`` in the same process.

:class:`Doors` refuses, with HTTP 403 and one line on stderr,

* any request (page, asset or WebSocket) whose ``Host`` header is not an address the page is
  served at: a web page that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) still
  sends its own name as ``Host``;
* any request carrying an ``Origin`` header that is not the page's own: a page from elsewhere
  that opens a WebSocket to the kernel channel (cross-site WebSocket hijacking) always sends
  its own origin.

On a loopback address the page's own addresses are ``localhost``, ``127.0.0.1`` and ``[::1]``
with the port. On any other address (``--host 0.0.0.0``) only the loopback names, the address
itself if it is not a wildcard, and the origins named with ``--allow-origin`` are accepted.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from dealersim.base.procs import die_with_parent, pid_alive

APP_MODULE = "dealersim.dashboard.app"
"""The Solara app module the server serves."""
DOORS_ENV = "DEALERSIM_DASHBOARD_DOORS"
"""Environment variable through which the command hands the child its host, port, allowed
origins and its own process id (JSON)."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""The names a loopback page may be reached by."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _host_text(host: str) -> str:
    """``host`` as written in a URL: an IPv6 address in brackets, lower case."""
    host = host.strip().lower()
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means "every interface" (``0.0.0.0``, ``::``)."""
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_unspecified
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback interface (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """The origin (``scheme://host:port``) of ``url``, an ``http`` or ``https`` address.

    Raises:
        ValueError: One line saying what is expected.
    """
    expected = "expected an address such as http://192.168.1.20:8765"
    text = url.strip()
    if not text or not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError(f"{url!r} is not a web address; {expected}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} is not a web address; {expected}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http or https address; {expected}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{url!r} has more than a scheme, host and port; {expected}")
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{_host_text(parts.hostname)}:{port}"


def _with_port(origin: str) -> str:
    """An ``Origin`` header as sent by a browser, normalised with its port."""
    try:
        return origin_of(origin)
    except ValueError:
        return origin.strip().lower()


def _host_with_port(host: str, scheme: str) -> str:
    """A ``Host`` header normalised to ``host:port``."""
    host = host.strip().lower()
    if host.rpartition(":")[2].isdigit() and not host.endswith("]"):
        return host
    return f"{host}:{443 if scheme in ('https', 'wss') else 80}"


def allowed_addresses(host: str, port: int, origins: Iterable[str] = ()) -> tuple[
        frozenset[str], frozenset[str]]:
    """The ``Host`` values (``host:port``) and origins the page accepts.

    Args:
        host: The address the server listens on.
        port: Its port.
        origins: Further origins, already checked with :func:`origin_of`.
    """
    names: set[str] = set(LOOPBACK_NAMES) if is_loopback(host) or is_wildcard(host) else set()
    if not is_wildcard(host):
        names.add(_host_text(host))
    hosts = {f"{name}:{port}" for name in names}
    allowed = {f"http://{h}" for h in hosts} | {f"https://{h}" for h in hosts}
    for origin in origins:
        allowed.add(origin)
        hosts.add(origin.partition("://")[2])
    return frozenset(hosts), frozenset(allowed)


class Doors:
    """ASGI middleware: 403 for a foreign ``Host`` or ``Origin``, logged in one line.

    Args:
        app: The application behind the door.
        hosts: The accepted ``Host`` values, ``host:port``.
        origins: The accepted ``Origin`` values, ``scheme://host:port``.
        log: Where the one line per refusal goes (default: stderr).
    """

    def __init__(self, app: ASGIApp, hosts: Iterable[str], origins: Iterable[str],
                 log: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = frozenset(o.lower() for o in origins)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def refusal(self, scope: Scope) -> str | None:
        """Why the request in ``scope`` is refused, or ``None`` to let it in."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or ()}
        host = headers.get("host")
        if host is None or _host_with_port(host, scope.get("scheme", "http")) not in self.hosts:
            return f"Host {host!r} is not an address this page is served at"
        origin = headers.get("origin")
        if origin is not None and _with_port(origin) not in self.origins:
            return f"Origin {origin!r} is not this page's own (see --allow-origin)"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through, or answer it with 403."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is None:
            await self.app(scope, receive, send)
            return
        kind = "WebSocket" if scope["type"] == "websocket" else "request"
        path = scope.get("path", "")
        self.log(f"dealersim dashboard: refused a {kind} to {path[:200]!r} (403): {why}")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        body = b"Forbidden: this page only answers its own address.\n"
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def doors_settings(host: str, port: int, origins: Iterable[str]) -> str:
    """The JSON the command hands its server child in :data:`DOORS_ENV`."""
    return json.dumps({"host": host, "port": port, "origins": list(origins),
                       "parent": os.getpid()})


def serve(settings: dict[str, Any]) -> int:
    """Run the server in this process: die with the parent, install the doors, run Solara."""
    die_with_parent()
    parent = int(settings["parent"])
    if os.getppid() != parent or not pid_alive(parent):  # it died before prctl took effect
        return 1
    import solara.server.starlette as solara_starlette  # noqa: PLC0415 - heavy, server only
    from solara.__main__ import cli  # noqa: PLC0415

    host, port = str(settings["host"]), int(settings["port"])
    hosts, origins = allowed_addresses(host, port, settings.get("origins") or ())
    solara_starlette.app.add_middleware(Doors, hosts=hosts, origins=origins)
    args = ["run", APP_MODULE, "--host", host, "--port", str(port), "--production", "--no-open"]
    try:
        cli.main(args=args, prog_name="solara", standalone_mode=False)
    except KeyboardInterrupt:
        return 130
    return 0


def main() -> int:
    """Entry point of ``python -m dealersim.dashboard.server`` (settings in :data:`DOORS_ENV`)."""
    text = os.environ.get(DOORS_ENV)
    if not text:
        print("dealersim dashboard: start the page with 'dealersim dashboard'", file=sys.stderr)
        return 2
    return serve(json.loads(text))


if __name__ == "__main__":
    sys.exit(main())

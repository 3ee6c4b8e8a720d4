"""The dashboard's doors, against the real server started by ``dealersim dashboard``.

* A request with a foreign ``Host`` (DNS rebinding) and a WebSocket upgrade to the kernel channel
  with a foreign ``Origin`` (cross-site WebSocket hijacking) get 403; the same requests from the
  page's own address get 200 and 101.
* ``kill -9`` of the command leaves nothing listening on its port within 5 s.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from dealersim.dashboard.server import Doors, allowed_addresses, origin_of

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_dashboard(port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "dealersim", "dashboard", "--port", str(port),
                             *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard exited early: {proc.stderr.read()}")
        if listening(port) and raw_request(port, "/readyz").startswith("HTTP/1.1 200"):
            return proc
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("dashboard did not start")


def raw_request(port: int, path: str, host: str | None = None,
                origin: str | None = None, websocket: bool = False) -> str:
    """Send one HTTP/1.1 request by hand; return the response head."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                  "Sec-WebSocket-Version: 13"]
    else:
        lines.append("Connection: close")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def kernel_path() -> str:
    return f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"


@pytest.fixture(scope="module")
def dashboard():
    port = free_port()
    proc = start_dashboard(port)
    yield port, proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.slow
def test_foreign_host_refused_own_host_served(dashboard):
    port, _ = dashboard
    assert raw_request(port, "/").startswith("HTTP/1.1 200")
    assert raw_request(port, "/", host=f"localhost:{port}").startswith("HTTP/1.1 200")
    assert raw_request(port, "/", host="evil.example.com").startswith("HTTP/1.1 403")
    assert raw_request(port, "/", host=f"evil.example.com:{port}").startswith("HTTP/1.1 403")
    # a page elsewhere that posts to the server sends its own origin
    assert raw_request(port, "/", origin="http://evil.example.com").startswith("HTTP/1.1 403")


@pytest.mark.slow
def test_foreign_origin_websocket_refused_own_origin_upgraded(dashboard):
    port, proc = dashboard
    own = raw_request(port, kernel_path(), origin=f"http://127.0.0.1:{port}", websocket=True)
    assert own.startswith("HTTP/1.1 101"), own
    evil = raw_request(port, kernel_path(), origin="http://evil.example.com", websocket=True)
    assert evil.startswith("HTTP/1.1 403"), evil
    rebound = raw_request(port, kernel_path(), host=f"evil.example.com:{port}",
                          origin=f"http://evil.example.com:{port}", websocket=True)
    assert rebound.startswith("HTTP/1.1 403"), rebound
    # each refusal is logged in one line
    proc.terminate()
    proc.wait(timeout=15)
    refusals = [line for line in proc.stderr.read().splitlines() if "refused" in line]
    assert len(refusals) >= 2
    assert any("WebSocket" in line and "evil.example.com" in line for line in refusals)


@pytest.mark.slow
def test_kill_9_leaves_nothing_listening():
    port = free_port()
    proc = start_dashboard(port)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listening(port), "the server still listens 5 s after kill -9 of the command"


@pytest.mark.slow
def test_wildcard_host_accepts_only_named_origins():
    port = free_port()
    proc = start_dashboard(port, "--host", "0.0.0.0", "--allow-origin",
                           f"http://office-pc.example:{port}")
    try:
        ok = raw_request(port, kernel_path(), host=f"office-pc.example:{port}",
                         origin=f"http://office-pc.example:{port}", websocket=True)
        assert ok.startswith("HTTP/1.1 101"), ok
        bad = raw_request(port, "/", host=f"other-pc.example:{port}")
        assert bad.startswith("HTTP/1.1 403"), bad
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert "NOT a loopback" in proc.stderr.read()


# ---------------------------------------------------------------- without a server
def test_allowed_addresses():
    hosts, origins = allowed_addresses("127.0.0.1", 8765)
    assert hosts == {"localhost:8765", "127.0.0.1:8765", "[::1]:8765"}
    assert "http://localhost:8765" in origins and "http://evil.example.com:80" not in origins
    hosts, origins = allowed_addresses("0.0.0.0", 80, [origin_of("http://pc.lan")])
    assert "pc.lan:80" in hosts and "0.0.0.0:80" not in hosts
    assert "http://pc.lan:80" in origins


@pytest.mark.parametrize("bad", ["", "pc.lan", "ftp://pc.lan", "http://pc.lan/x", "http://a b",
                                 "http://pc.lan:99999"])
def test_origin_of_refuses(bad):
    with pytest.raises(ValueError, match="expected an address"):
        origin_of(bad)


def test_allow_origin_option_refused_in_one_line(capsys):
    from dealersim.cli import main

    assert main(["dashboard", "--allow-origin", "pc.lan"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-origin" in err


def test_doors_refusal_reasons():
    doors = Doors(None, *allowed_addresses("127.0.0.1", 8765), log=lambda _: None)

    def scope(**headers):
        return {"type": "http", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}

    assert doors.refusal(scope(host="127.0.0.1:8765")) is None
    assert doors.refusal(scope(host="127.0.0.1:8765", origin="http://localhost:8765")) is None
    assert "Host" in doors.refusal(scope(host="127.0.0.1"))  # port 80, not the page's
    assert "Host" in doors.refusal(scope())
    assert "Origin" in doors.refusal(scope(host="127.0.0.1:8765", origin="null"))

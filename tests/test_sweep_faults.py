"""The fault table of issue 8, rerun: a sweep directory cannot double-count.

Each test drives the real CLI in subprocesses on a 200-run sweep (20 points x 10 replicates,
0.25-year runs, 2 local workers) and checks rows, duplicates and leftover processes. Every wait
is bounded. Leftover processes are the driver's descendants (recorded with psutil while it ran),
so other dealersim processes on the machine are never counted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
from sweep_watch import default_sigint, rows_on_disk

from dealersim.base.procs import Terminated, sigterm_as_interrupt
from dealersim.studies.sweeps import SpecError, read_runs

pytestmark = pytest.mark.slow

SPEC = """
name = "faults"
strategy = "overlay"
sampler = "grid"
replicates = 10
seed = 8
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 5}
credit_policy = ["none", "split", "double", "team"]
"""
RUNS = 200
DEALERSIM = str(Path(sys.executable).parent / "dealersim")
WAIT = 240  # seconds: the bound of every wait (the test machine is shared and busy)


def _start(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [DEALERSIM, "sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def _run_until(proc: subprocess.Popen, out: Path, rows: int) -> list[psutil.Process]:
    """Wait until ``rows`` rows are on disk; return every descendant of ``proc`` seen so far."""
    seen: dict[tuple[int, float], psutil.Process] = {}
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for child in psutil.Process(proc.pid).children(recursive=True):
                seen.setdefault((child.pid, child.create_time()), child)
        except psutil.Error:
            pass
        if rows_on_disk(out) >= rows:
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"the sweep ended before {rows} rows: {proc.communicate()}"
    assert rows_on_disk(out) >= rows, "timed out waiting for the sweep"
    return list(seen.values())


def _leftover(procs: list[psutil.Process], timeout: float = 20) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return alive


def _duplicates(out: Path) -> int:
    ids = [i for p in (out / "runs").glob("part-*.parquet")
           for i in pq.read_table(p, columns=["run_id"]).column(0).to_pylist()]
    return len(ids) - len(set(ids))


def _report(name: str, **figures: object) -> None:
    print(f"FAULT {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def test_kill9_driver_then_immediate_resume(spec, tmp_path):
    out = tmp_path / "out"
    proc = _start(spec, out)
    try:
        family = _run_until(proc, out, 70)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only: its workers must follow by themselves
        proc.wait(timeout=30)
        at_kill = rows_on_disk(out)
        resumed = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                                  "--workers", "2", "--quiet"],
                                 capture_output=True, text=True, timeout=WAIT)
        left = _leftover(family)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert family, "the driver had no worker processes"
    assert left == [], f"processes left after kill -9 of the driver: {left}"
    assert resumed.returncode == 0, resumed.stderr
    rows = read_runs(out)
    _report("kill9+resume", rows_at_kill=at_kill, rows=len(rows), duplicates=_duplicates(out),
            leftover=len(left))
    assert 0 < at_kill < RUNS
    assert len(rows) == RUNS and rows.run_id.is_unique and _duplicates(out) == 0
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


def test_two_writers_started_together(spec, tmp_path):
    out = tmp_path / "out"
    procs = [_start(spec, out), _start(spec, out)]
    results = [p.communicate(timeout=WAIT) for p in procs]
    codes = sorted(p.returncode for p in procs)
    refused = next(err for p, (_, err) in zip(procs, results, strict=True) if p.returncode)
    rows = read_runs(out)
    _report("two writers", exit_codes=codes, rows=len(rows), duplicates=_duplicates(out))
    assert codes == [0, 2], results
    assert refused.count("\n") == 1 and "being written by another sweep (pid " in refused
    assert len(rows) == RUNS and _duplicates(out) == 0


def _wait_for_lock(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads((out / ".lock").read_text())["pid"] == proc.pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.01)
    raise AssertionError(f"the sweep never took its lock: {proc.poll()}")


def test_resume_while_the_first_runs_is_refused(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace("years = 0.25", "years = 1.5"))  # long enough to overlap
    out = tmp_path / "out"
    first = _start(spec, out)
    try:
        _wait_for_lock(first, out)
        second = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                                 "--workers", "1"], capture_output=True, text=True, timeout=WAIT)
        first.communicate(timeout=WAIT)
    finally:
        if first.poll() is None:
            first.kill()
    rows = read_runs(out)
    _report("resume while running", second_exit=second.returncode, rows=len(rows),
            duplicates=_duplicates(out))
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert f"pid {first.pid} on " in second.stderr and "started 20" in second.stderr
    assert first.returncode == 0
    assert len(rows) == RUNS and _duplicates(out) == 0


def test_stale_lock_of_a_dead_writer_is_taken_over(spec, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text('{"pid": 999999, "host": "gone", "started": "yesterday"}\n')
    proc = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--workers", "1",
                           "--quiet"], capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / ".lock").read_text())["pid"] != 999999
    assert len(read_runs(out)) == RUNS


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                   (signal.SIGINT, 130, "interrupted")])
def test_signal_stops_children_and_leaves_no_temp_files(spec, tmp_path, sig, code, word):
    out = tmp_path / "out"
    proc = _start(spec, out)
    try:
        family = _run_until(proc, out, 30)
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _leftover(family)
    temps = [p.name for d in ("runs", "series") for p in (out / d).glob(".*")]
    _report(f"{sig.name}", exit=proc.returncode, leftover=len(left), temp_files=len(temps))
    assert proc.returncode == code, err
    assert err.count("\n") == 1 and word in err and "--resume" in err, err
    assert left == [] and temps == []
    with pytest.raises(SpecError, match="sweep incomplete"):
        read_runs(out)
    if sig == signal.SIGTERM:  # the lock was released: a resume finishes the sweep
        resumed = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                                  "--workers", "2", "--quiet"],
                                 capture_output=True, text=True, timeout=WAIT)
        assert resumed.returncode == 0, resumed.stderr
        assert len(read_runs(out)) == RUNS and _duplicates(out) == 0


RO_SCRIPT = r"""
mount -t tmpfs -o size=64m tmpfs "$MNT" || exit 97
"$DEALERSIM" sweep "$SPEC" --out "$MNT/out" --workers 2 --quiet 2> "$ERR" &
pid=$!
for i in $(seq 1 4800); do
  ls "$MNT"/out/runs/part-* > /dev/null 2>&1 && break; sleep 0.05
done
for i in $(seq 1 400); do mount -o remount,ro "$MNT" 2> /dev/null && break; sleep 0.01; done
wait $pid
echo "exit=$?"
"$PYTHON" - "$MNT/out" <<'PY'
import fcntl, os, sys
from dealersim.studies.sweeps import read_runs
fd = os.open(os.path.join(sys.argv[1], ".lock"), os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the lock was not released
print("lock=free rows=%d" % len(read_runs(sys.argv[1], complete=False)))
PY
"""


def test_disk_turning_read_only_mid_sweep(spec, tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to remount a private tmpfs read-only")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    err = tmp_path / "err.txt"
    env = {**os.environ, "MNT": str(mnt), "SPEC": str(spec), "ERR": str(err),
           "DEALERSIM": DEALERSIM, "PYTHON": sys.executable}
    proc = subprocess.run(["unshare", "-m", "sh", "-c", RO_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=WAIT + 60)
    if proc.returncode == 97 or "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    message = err.read_text()
    _report("read-only disk", out=proc.stdout.split())
    assert "exit=1" in proc.stdout, (proc.stdout, proc.stderr, message)
    assert message.count("\n") == 1, message
    assert "Read-only file system" in message and "--resume" in message
    assert "lock=free" in proc.stdout, proc.stderr


def test_sigterm_on_compare_stops_children_and_leaves_no_temp_dirs(tmp_path):
    out = tmp_path / "cmp"
    proc = subprocess.Popen(
        [DEALERSIM, "compare", "overlay", "planned", "--replicates", "2000", "--years", "0.25",
         "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    family: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and proc.poll() is None and len(family) < 2:
            try:  # two pool workers (forked from the driver): the runs are under way
                family.update({c.pid: c for c in psutil.Process(proc.pid).children(True)})
            except psutil.Error:
                pass
            time.sleep(0.01)
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _leftover(list(family.values()))
    temps = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    _report("compare SIGTERM", exit=proc.returncode, leftover=len(left), temp_dirs=len(temps))
    assert len(family) >= 2, "compare never started its pool"
    assert proc.returncode in (130, 143), err
    assert err.count("\n") == 1, err
    assert left == [] and temps == [] and not out.exists()


def test_sigterm_as_interrupt_raises_terminated_and_restores_the_default():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(KeyboardInterrupt) as exc, sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at once; reaching the end of the sleep is a failure
    assert isinstance(exc.value, Terminated) and exc.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_pool_workers_die_with_their_parent_process(tmp_path):
    """A parent that dies by SIGKILL takes its local pool's workers with it (no sweep involved)."""
    code = (
        "import sys, time\n"
        "from dealersim.studies.engine import local_executor\n"
        "pool = local_executor(2)\n"
        "list(pool.map(time.sleep, [0, 0]))\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        family = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(family) >= 2
    assert _leftover(family) == []

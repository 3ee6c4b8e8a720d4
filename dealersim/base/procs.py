"""Process lifetime: pool workers that die with their driver, and SIGTERM handled like Ctrl-C.

* :func:`worker_init` is the initializer of every local pool worker
  (:func:`dealersim.studies.engine.local_executor`): it starts a watchdog thread that kills the
  worker when the driver process is gone or its parent changes, and asks Linux to SIGKILL the
  worker when its parent dies (``prctl(PR_SET_PDEATHSIG)``). The watchdog is what acts for a
  ``forkserver`` pool: the workers' parent is the fork server, which outlives the driver until
  its workers have exited. A ``kill -9`` of the driver therefore leaves no worker behind to
  finish its task late (measured: none left after 20 s, in tests/test_sweep_faults.py).
* :func:`sigterm_as_interrupt` turns SIGTERM into :class:`Terminated`, a ``KeyboardInterrupt``,
  so the same cleanup runs as for Ctrl-C: temporary files and directories removed, worker
  processes stopped. A command returns :attr:`Terminated.exit_code` (143 for SIGTERM).
* :func:`signals_as_flag` turns Ctrl-C and SIGTERM into a :class:`StopFlag` that long work
  checks at safe points (between tasks, and every :data:`STOP_POLL_SECONDS` while it waits for
  workers). A signal handler that raises can have its exception land inside a weakref finalizer
  or a ``__del__``, where Python prints "Exception ignored" and drops it; a flag is never lost.
* :func:`check_workers` caps the number of local worker processes (:func:`worker_cap`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal a process receives when its parent dies (Linux)."""
WATCHDOG_SECONDS = 0.5
"""How often a worker's watchdog checks that its driver is still alive."""
MAX_WORKERS = 256
"""Absolute cap on local worker processes (the cap is also 4 x the CPU count)."""
STOP_POLL_SECONDS = 0.2
"""How often work that waits for its workers checks a :class:`StopFlag`."""


_KEPT_FROM_WORKERS: set[int] = set()
"""File descriptors a forked worker must not hold (e.g. a sweep's lock): closed in the worker."""


def keep_from_workers(fd: int, keep: bool = True) -> None:
    """Register ``fd`` (or, with ``keep=False``, forget it) as one a forked worker closes.

    A pool that forks from the driver hands every open descriptor to its workers; a lock held
    through one of them (``flock``) would then outlive the driver for as long as a worker does.
    """
    if keep:
        _KEPT_FROM_WORKERS.add(fd)
    else:
        _KEPT_FROM_WORKERS.discard(fd)


class Terminated(KeyboardInterrupt):
    """A termination signal (SIGTERM) received while :func:`sigterm_as_interrupt` was active.

    It is a ``KeyboardInterrupt``, so everything that cleans up after Ctrl-C cleans up after it.

    Attributes:
        signum: The signal number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's exit code for this signal: 128 + the signal number (143 for SIGTERM)."""
        return 128 + self.signum


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`Terminated` in the main thread on SIGTERM while the block runs.

    Only a default SIGTERM disposition is replaced (a handler someone else installed is kept),
    only in the main thread (elsewhere this does nothing), and the previous disposition is
    restored at the end. After the first SIGTERM further ones are ignored until the block
    exits, so the cleanup it triggered can finish.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_IGN)
        raise Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class StopFlag:
    """A stop request (Ctrl-C or SIGTERM) noted by :func:`signals_as_flag`, acted on later.

    Attributes:
        signum: The first signal received (``None``: no stop requested).
    """

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None

    def check(self) -> None:
        """Stop here if a stop was requested.

        Raises:
            KeyboardInterrupt: After Ctrl-C; :class:`Terminated` after SIGTERM.
        """
        if self.signum is None:
            return
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(self.signum)


@contextlib.contextmanager
def signals_as_flag() -> Iterator[StopFlag]:
    """Note Ctrl-C and SIGTERM in a :class:`StopFlag` instead of raising where they land.

    The handlers only set the flag (the first signal wins), so no exception can be lost in a
    finalizer; the work in the block must call :meth:`StopFlag.check` at its safe points. A
    signal whose disposition is "ignore" (a ``nohup`` start) stays ignored; outside the main
    thread nothing is installed. The previous handlers are restored at the end.
    """
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if flag.signum is None:
            flag.signum = signum

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, old in previous.items():
        if old is not signal.SIG_IGN:
            signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)


def worker_cap() -> int:
    """The most local worker processes allowed: 4 x the CPU count, at most :data:`MAX_WORKERS`."""
    return min(MAX_WORKERS, 4 * (os.cpu_count() or 1))


def check_workers(workers: int, option: str = "workers") -> int:
    """Check a worker count against 1..:func:`worker_cap`.

    Raises:
        ValueError: One line naming ``option``, the cap and why.
    """
    cap = worker_cap()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= cap:
        raise ValueError(
            f"{option}: {workers!r} is not allowed; expected an integer from 1 to {cap} "
            f"(the cap: 4 x {os.cpu_count() or 1} CPUs, at most {MAX_WORKERS})"
        )
    return workers


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watchdog(driver_pid: int, parent_pid: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != parent_pid or not pid_alive(driver_pid):
            os.kill(os.getpid(), signal.SIGKILL)


def worker_init(driver_pid: int) -> None:
    """Initializer of a local pool worker: die with the driver, leave Ctrl-C to the driver.

    Args:
        driver_pid: The process that owns the pool (the worker's parent may be a fork server).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops the pool on Ctrl-C
    for fd in list(_KEPT_FROM_WORKERS):  # only a forked worker inherits any
        with contextlib.suppress(OSError):
            os.close(fd)
    _KEPT_FROM_WORKERS.clear()
    die_with_parent()
    parent = os.getppid()
    if parent == 1 or not pid_alive(driver_pid):  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=_watchdog, args=(driver_pid, parent), daemon=True,
                     name="dealersim-watchdog").start()

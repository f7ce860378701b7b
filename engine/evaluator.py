"""Runs model-supplied code in a forked child process with a hard time and memory budget.

The sandbox's compile-time policy decides *what* process code may do; this module bounds *how much* it may
cost. Counting loop iterations is not enough: one call into a C builtin (`str.translate`, a format spec of
900 million characters, `sum` over a `map`, a recursion of exponential width) runs for as long and grows
as large as it likes without ever returning to Python code that could check a budget. Only the operating
system can stop that, and limits set in the serving process would hit every user of it. So:

* each process keeps a few idle evaluation children, forked lazily on first use (and again after the
  process itself was forked, e.g. by gunicorn), which already hold the whole application in memory, so a
  round trip is a pickle over a pipe and no import;
* before every evaluation the child sets `RLIMIT_AS` to its current size plus the memory budget, so an
  allocation beyond it fails with `MemoryError` inside the child, whatever code asked for it;
* the parent waits for the answer at most the time budget plus a small margin, then kills the child
  (SIGKILL) and forks a fresh one on the next call; a child that hit its memory limit ends itself.

Both raise `SandboxViolation` naming the budget, which the runtime turns into an instance in `error`.
Pickle is safe here in both directions: the child is our own code, forked from this process; the code
it runs is compiled by the sandbox and can build only plain values.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from engine.errors import SandboxViolation

#: How much longer than its budget the parent waits for a child that does not check its own deadline.
TIME_MARGIN = 0.25
#: Idle children kept per process (one per thread evaluating at the same time; more are forked on demand).
MAX_IDLE = 4

_HEADER = struct.Struct("!Q")
_MEMORY_EXIT = 77
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class _Ended(Exception):
    """The child closed its end of the pipe: it exited or was killed."""


@dataclass
class _Child:
    pid: int
    requests: int
    replies: int

    def close(self) -> None:
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)

    def kill(self) -> int:
        """Stop the child (if it still runs) and return its wait status."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.close()
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:  # already reaped elsewhere
            return 0


def _write_message(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise TimeoutError
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise _Ended
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: float | None) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    return _read_exactly(fd, size, deadline)


def _limit_memory(budget_mb: int) -> None:
    with open("/proc/self/statm", "rb") as statm:
        mapped = int(statm.read().split()[0]) * _PAGE_SIZE
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = mapped + budget_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _answer(function: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    try:
        outcome: tuple[str, Any] = ("return", function(*args))
    except MemoryError:
        raise
    except BaseException as error:
        outcome = ("raise", error)
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        raise
    except Exception as error:
        kind = "result" if outcome[0] == "return" else type(outcome[1]).__name__
        refusal = SandboxViolation(f"The {kind} of the script cannot be handed back: {error}")
        return pickle.dumps(("raise", refusal))


def _serve(requests: int, replies: int) -> NoReturn:
    """The child's loop: answer requests until the parent goes away; end at once when memory runs out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The collector would touch every object inherited from the parent and so copy its memory page by page.
    gc.freeze()
    try:
        while True:
            function, args, memory_budget_mb = pickle.loads(_read_message(requests, None))  # noqa: S301 - from our own parent
            _limit_memory(memory_budget_mb)
            _write_message(replies, _answer(function, args))
    except MemoryError:
        os._exit(_MEMORY_EXIT)
    except BaseException:
        os._exit(0)


class _Pool:
    """The idle children of this process; forgotten (not killed: they belong to the parent) after a fork."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Child] = []
        self.all: dict[int, _Child] = {}
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        for child in self.all.values():
            child.close()
        self.lock = threading.Lock()
        self.idle, self.all = [], {}

    def acquire(self) -> _Child:
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return self._fork()

    def release(self, child: _Child) -> None:
        with self.lock:
            if len(self.idle) < MAX_IDLE:
                self.idle.append(child)
                return
        self.discard(child)

    def discard(self, child: _Child) -> int:
        with self.lock:
            self.all.pop(child.pid, None)
        return child.kill()

    def _fork(self) -> _Child:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            _close_inherited(keep={request_read, reply_write})
            _serve(request_read, reply_write)
        os.close(request_read)
        os.close(reply_write)
        child = _Child(pid, request_write, reply_read)
        with self.lock:
            self.all[pid] = child
        return child


_POOL = _Pool()


def _close_inherited(*, keep: set[int]) -> None:
    """Close every descriptor the fork copied from the parent but the child's own pipe ends (and 0-2).

    Left open, a child would hold the parent's database sockets (a finaliser could write to them) and the write
    ends of other processes' pipes, so a peer waiting for end-of-file — a browser driver, another evaluation
    child's parent — would wait for as long as this child lives.
    """
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def _hand_over(request: bytes) -> _Child:
    """Send `request` to an idle child; children that died while idle (an operator, the OOM killer) are replaced."""
    for _ in range(MAX_IDLE + 1):
        child = _POOL.acquire()
        try:
            _write_message(child.requests, request)
        except BrokenPipeError:
            _POOL.discard(child)
            continue
        return child
    raise SandboxViolation("Script stopped: no evaluation process could be started.")


def run_budgeted(
    function: Callable[..., Any], args: tuple[Any, ...], *, time_budget: float, memory_budget_mb: int
) -> Any:
    """Return `function(*args)` computed in an evaluation child, or raise what it raised.

    `function` must be importable by name and `args` picklable. Raises `SandboxViolation` when the call
    runs longer than `time_budget` seconds or needs more than `memory_budget_mb` MB beyond the child's size.
    """
    child = _hand_over(pickle.dumps((function, args, memory_budget_mb), protocol=pickle.HIGHEST_PROTOCOL))
    try:
        reply = _read_message(child.replies, time.monotonic() + time_budget + TIME_MARGIN)
    except TimeoutError:
        _POOL.discard(child)
        raise SandboxViolation(f"Script stopped: it ran longer than its time budget of {time_budget:g} s.") from None
    except _Ended:
        status = _POOL.discard(child)
        if os.waitstatus_to_exitcode(status) == _MEMORY_EXIT:
            raise SandboxViolation(
                f"Script stopped: it needed more than its memory budget of {memory_budget_mb} MB."
            ) from None
        raise SandboxViolation("Script stopped: its evaluation process ended unexpectedly.") from None
    except BaseException:  # interrupted while waiting: the child's answer would confuse its next caller
        _POOL.discard(child)
        raise
    _POOL.release(child)
    kind, value = pickle.loads(reply)  # noqa: S301 - written by our own child process, see the module docstring
    if kind == "raise":
        raise value
    return value

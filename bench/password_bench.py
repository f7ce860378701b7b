"""Password hashing figures: the argon2-cffi defaults the users had before vs the OWASP parameters now in use.

For each case a fresh child process reports the median wall time and its peak RSS growth over the baseline
after imports (argon2 allocates in C, so tracemalloc would not see it): one hash alone, and a burst of sign-ins
(verifications) from threads at once — unbounded with the old parameters, through `engine.users` (the hashing
semaphore) with the new ones, also with glibc's mmap threshold fixed at 16 MiB as the Dockerfile sets it.

    .venv/bin/python bench/password_bench.py [--rounds 5] [--burst 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: glibc hands a freed buffer below its (self-raising) mmap threshold to the thread's arena, which keeps it;
#: fixing the threshold below m sends every argon2 buffer back to the system when the hash is done.
MMAP_THRESHOLD = "MALLOC_MMAP_THRESHOLD_"
PASSWORD = "lange-zin-over-koffie"  # noqa: S105 (a sample to hash, not a credential)


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _burst(verify: Callable[[], object], size: int) -> None:
    threads = [threading.Thread(target=verify) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _child(case: str, rounds: int, burst: int) -> dict[str, float]:
    """Run one case in this (fresh) process: median seconds per round and peak RSS growth in MiB."""
    from argon2 import PasswordHasher

    from engine import users
    from engine.models import User

    old = PasswordHasher()
    baseline = _peak_kib()  # before any hash: a burst's peak includes the one hash made to verify against
    old_hash = old.hash(PASSWORD) if case == "old-burst" else ""
    user = User(password_hash=users.hash_password(PASSWORD) if case == "new-burst" else "")
    work: dict[str, Callable[[], object]] = {
        "old-hash": lambda: old.hash(PASSWORD),
        "new-hash": lambda: users.hash_password(PASSWORD),
        "old-burst": lambda: _burst(lambda: old.verify(old_hash, PASSWORD), burst),
        "new-burst": lambda: _burst(lambda: users.verify_password(user, PASSWORD), burst),
    }
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work[case]()
        timings.append(time.perf_counter() - started)
    return {"seconds": statistics.median(timings), "peak_mib": (_peak_kib() - baseline) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=4)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(_child(options.child, options.rounds, options.burst)))
        return

    from argon2 import PasswordHasher

    from engine import users

    default = PasswordHasher()
    print(
        f"old: m={default.memory_cost // 1024} MiB t={default.time_cost} p={default.parallelism}, unbounded   "
        f"new: m={users.PASSWORD_MEMORY_KIB // 1024} MiB t={users.PASSWORD_TIME_COST} p={users.PASSWORD_PARALLELISM}, "
        f"at most {users.HASHING_PERMITS} at once per process"
    )
    dynamic = {name: value for name, value in os.environ.items() if name != MMAP_THRESHOLD}
    fixed = {**dynamic, MMAP_THRESHOLD: str(16 * 1024 * 1024)}
    print(f"{'case':<52}{'median ms':>10}{'peak RSS +MiB':>15}")
    for case, label, environment in [
        ("old-hash", "one hash, old", dynamic),
        ("new-hash", "one hash, new", dynamic),
        ("old-burst", f"{options.burst} sign-ins at once, old", dynamic),
        ("new-burst", f"{options.burst} sign-ins at once, new", dynamic),
        ("new-burst", f"{options.burst} sign-ins at once, new, {MMAP_THRESHOLD}=16M", fixed),
    ]:
        command = [sys.executable, __file__, "--child", case, "--rounds", str(options.rounds)]
        output = subprocess.run(
            [*command, "--burst", str(options.burst)], capture_output=True, text=True, check=True, env=environment
        )
        figures = json.loads(output.stdout)
        print(f"{label:<52}{figures['seconds'] * 1000:>10.1f}{figures['peak_mib']:>15.1f}")


if __name__ == "__main__":
    main()

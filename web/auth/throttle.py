"""Failed sign-ins slow the guesser down instead of locking the account.

Failures are counted per account and per address in the rate limiter's storage (Redis when ZVH_REDIS_URL is set, so
the counts hold across web processes). Past a threshold every further failure opens a waiting period that doubles
each time; an attempt inside it is not evaluated (429 with Retry-After), an attempt after it is — so the real user's
correct password still works once the wait is over, and a guesser gets only a handful of tries an hour. Per-address
and per-account counts are separate: one address guessing does not slow other users' accounts from other addresses.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits.storage import MemoryStorage, Storage

from web.extensions import limiter

#: How long failures are remembered.
WINDOW_SECONDS = 15 * 60
#: The longest wait one failure can cause.
MAX_DELAY_SECONDS = 15 * 60

# Used while the configured storage (Redis) is unreachable: sign-in keeps being throttled, per process.
_FALLBACK = MemoryStorage()


@dataclass(frozen=True)
class Scope:
    """One thing failures are counted for: an account or an address, with its own threshold."""

    key: str
    threshold: int

    @property
    def failures_key(self) -> str:
        return f"zvh-signin-failures:{self.key}"

    @property
    def wait_key(self) -> str:
        return f"zvh-signin-wait:{self.key}"


def scopes(*, username: str, address: str | None) -> tuple[Scope, Scope]:
    """The account (5 free failures) and the address (20 free failures) of a sign-in attempt."""
    return Scope(f"account:{username[:64]}", 5), Scope(f"address:{address or '-'}", 20)


def _storage() -> Storage:
    storage = limiter.storage
    return storage if storage.check() else _FALLBACK


def retry_after(checked: tuple[Scope, ...]) -> int:
    """Seconds until an attempt may be evaluated (0: now)."""
    storage = _storage()
    waits = [storage.get_expiry(s.wait_key) - time.time() for s in checked if storage.get(s.wait_key) > 0]
    return max((math.ceil(w) for w in waits), default=0)


def failed(checked: tuple[Scope, ...], *, base_delay: int) -> None:
    """Count a failure; past a scope's threshold, open a waiting period that doubles with each failure."""
    storage = _storage()
    for scope in checked:
        count = storage.incr(scope.failures_key, WINDOW_SECONDS)
        if count >= scope.threshold:
            storage.clear(scope.wait_key)
            storage.incr(scope.wait_key, min(base_delay * 2 ** (count - scope.threshold), MAX_DELAY_SECONDS))


def succeeded(account: Scope) -> None:
    """The account's own failures are forgiven once its password was given (the address keeps its count)."""
    storage = _storage()
    storage.clear(account.failures_key)
    storage.clear(account.wait_key)

"""Failed sign-ins slow the guesser down instead of locking the account.

Failures are counted per account and per address in the rate limiter's storage (Redis when ZVH_REDIS_URL is set, so
the counts hold across web processes). Past a threshold every further failure opens a waiting period that doubles
each time; an attempt inside it is not evaluated (429 with Retry-After), an attempt after it is — so the real user's
correct password still works once the wait is over, and a guesser gets only a handful of tries an hour. Per-address
and per-account counts are separate: one address guessing does not slow other users' accounts from other addresses.
"""

from __future__ import annotations

import math
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


def retry_after(checked: tuple[Scope, ...], *, now: float) -> int:
    """Seconds until an attempt may be evaluated (0: now); `now` is the app's clock (epoch seconds)."""
    storage = _storage()
    # A wait is stored as the moment it ends, in epoch milliseconds (the storage keeps counters only), read against
    # the app's injected clock: tests move time instead of sleeping, and every web process agrees through Redis.
    waits = [storage.get(scope.wait_key) / 1000 - now for scope in checked]
    return max((math.ceil(wait) for wait in waits if wait > 0), default=0)


def failed(checked: tuple[Scope, ...], *, base_delay: int, now: float) -> None:
    """Count a failure; past a scope's threshold, open a waiting period that doubles with each failure."""
    storage = _storage()
    for scope in checked:
        count = storage.incr(scope.failures_key, WINDOW_SECONDS)
        if count >= scope.threshold:
            delay = min(base_delay * 2 ** (count - scope.threshold), MAX_DELAY_SECONDS)
            storage.clear(scope.wait_key)
            storage.incr(scope.wait_key, MAX_DELAY_SECONDS, amount=math.ceil((now + delay) * 1000))  # milliseconds


def succeeded(account: Scope) -> None:
    """The account's own failures are forgiven once its password was given (the address keeps its count)."""
    storage = _storage()
    storage.clear(account.failures_key)
    storage.clear(account.wait_key)

"""(being written)"""

from __future__ import annotations

from web.overleg import bp  # noqa: F401

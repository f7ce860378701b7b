"""Flask extensions created without an app (bound in `create_app`)."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address, default_limits=[], storage_uri="memory://")

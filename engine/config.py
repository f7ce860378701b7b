"""Settings from environment variables, with safe defaults for the embedded mode."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_path() -> Path:
    return Path(os.environ.get("ZVH_INSTANCE_PATH", PROJECT_ROOT / "instance"))


def _read_or_create_secret(path: Path) -> str:
    """Return the secret stored at `path`, creating it (readable by the owner only) when absent."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class Keys:
    """Secrets that must never be stored in the database they protect.

    `audit`: the HMAC key of the audit log's hash chain (someone who can write the database cannot recompute the
    chain without it). `pseudonym`: the HMAC key that turns a BSN (or name and birth date) into a person key.
    """

    audit: bytes = field(repr=False)
    pseudonym: bytes = field(repr=False)
    #: encrypts second-factor secrets at rest (a Fernet key, urlsafe base64 of 32 bytes)
    totp: bytes = field(repr=False)

    @classmethod
    def from_env(cls) -> Keys:
        """ZVH_AUDIT_KEY / ZVH_PSEUDONYM_KEY / ZVH_TOTP_KEY, or keys generated once beside the database."""
        folder = _instance_path()
        return cls(
            audit=_key("ZVH_AUDIT_KEY", folder / "audit_key"),
            pseudonym=_key("ZVH_PSEUDONYM_KEY", folder / "pseudonym_key"),
            totp=_fernet_key("ZVH_TOTP_KEY", folder / "totp_key"),
        )


def _key(variable: str, path: Path) -> bytes:
    return (os.environ.get(variable) or _read_or_create_secret(path)).encode("utf-8")


def _fernet_key(variable: str, path: Path) -> bytes:
    """A Fernet key from the environment, or derived from a secret kept in `path`."""
    secret = _key(variable, path)
    return base64.urlsafe_b64encode(hashlib.sha256(secret).digest())


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `Settings.from_env()`."""

    database_url: str
    redis_url: str | None
    instance_path: Path
    configured_secret_key: str | None = field(default=None, repr=False)
    script_time_budget: float = 2.0
    script_memory_budget_mb: int = 256
    #: the largest stored state of one instance; a step that would make it larger is refused
    max_instance_data_mb: float = 5.0
    processes_path: Path = PROJECT_ROOT / "processes"
    forms_path: Path = PROJECT_ROOT / "forms"
    #: SMTP for e-mail digests of notifications; no host, no e-mail
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "zvh-regie@localhost"
    smtp_starttls: bool = False
    #: how users reach the app (links in e-mails)
    base_url: str = "http://127.0.0.1:5000"
    #: this Zorg- en Veiligheidshuis, as the kengetallen for the national picture name it
    zvh_name: str = "ZVH De Baronie"
    #: networks (CIDR) besides loopback that may scrape /metrics, e.g. the Prometheus server's
    metrics_networks: tuple[str, ...] = ()

    @property
    def secret_key(self) -> str:
        """ZVH_SECRET_KEY, or a random key generated once and kept in instance/secret_key."""
        return self.configured_secret_key or _read_or_create_secret(self.instance_path / "secret_key")

    @property
    def keys(self) -> Keys:
        return Keys.from_env()

    @property
    def embedded(self) -> bool:
        """True when running without Redis: timers are fired in-process instead of by Celery beat."""
        return self.redis_url is None

    @classmethod
    def from_env(cls) -> Settings:
        """Read ZVH_* variables; defaults give an embedded SQLite set-up under instance/."""
        instance_path = _instance_path()
        database_url = os.environ.get("ZVH_DATABASE_URL") or f"sqlite:///{instance_path / 'zvh.sqlite3'}"
        return cls(
            database_url=database_url,
            redis_url=os.environ.get("ZVH_REDIS_URL") or None,
            instance_path=instance_path,
            configured_secret_key=os.environ.get("ZVH_SECRET_KEY") or None,
            script_time_budget=float(os.environ.get("ZVH_SCRIPT_TIME_BUDGET", "2.0")),
            script_memory_budget_mb=int(os.environ.get("ZVH_SCRIPT_MEMORY_BUDGET_MB", "256")),
            max_instance_data_mb=float(os.environ.get("ZVH_MAX_INSTANCE_DATA_MB") or "5"),
            smtp_host=os.environ.get("ZVH_SMTP_HOST") or None,
            smtp_port=int(os.environ.get("ZVH_SMTP_PORT") or "25"),
            smtp_user=os.environ.get("ZVH_SMTP_USER") or None,
            smtp_password=os.environ.get("ZVH_SMTP_PASSWORD") or None,
            smtp_from=os.environ.get("ZVH_SMTP_FROM") or "zvh-regie@localhost",
            smtp_starttls=os.environ.get("ZVH_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "ja"),
            base_url=(os.environ.get("ZVH_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            zvh_name=os.environ.get("ZVH_NAME") or "ZVH De Baronie",
            metrics_networks=tuple(
                part.strip() for part in (os.environ.get("ZVH_METRICS_NETWORKS") or "").split(",") if part.strip()
            ),
        )

"""ZVH Regie web app: delivery only. Routes parse input, call one engine function, and render."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, gettext
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.config import Settings
from engine.db import Database
from engine.i18n import install_translator
from engine.models import User
from engine.runtime import Runtime
from engine.sessions import active_session, touch_session
from engine.users import LANGUAGES
from web.extensions import limiter
from web.security import LANGUAGE, SERVER_SESSION, idle_timeout
from web.services import Services

csrf = CSRFProtect()
login_manager = LoginManager()


def _select_locale() -> str:
    """Dutch unless the user chose English (the API may ask for English per request)."""
    chosen = session.get(LANGUAGE)
    if chosen in LANGUAGES:
        return str(chosen)
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES) or "nl"
    return "nl"


def _translate_engine_message(message: str) -> str:
    """An engine message in the language of the request that shows it (Dutch outside a request: CLI, jobs)."""
    return gettext(message) if has_request_context() else message


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `test_config` overrides (tests pass their database and clock)."""
    settings = Settings.from_env()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        ZVH_DATABASE_URL=settings.database_url,
        ZVH_REDIS_URL=settings.redis_url,
        ZVH_NAME=settings.zvh_name,
        ZVH_IDLE_MINUTES=15,
        ZVH_CLOCK=None,
        # How many reverse proxies in front of the app may set X-Forwarded-For/-Proto (0: trust none).
        ZVH_PROXY_COUNT=int(os.environ.get("ZVH_PROXY_COUNT", "0")),
        # Who may scrape /metrics besides loopback (CIDRs).
        ZVH_METRICS_NETWORKS=settings.metrics_networks,
        # The first wait after too many failed sign-ins; it doubles with every further failure.
        ZVH_SIGNIN_DELAY_SECONDS=2,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="zvh_sessie",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; idle expiry is handled separately
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        # A Redis outage must not become an error page: count sign-in attempts in memory until Redis is back.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    if test_config:
        app.config.update(test_config)
    proxies = int(app.config["ZVH_PROXY_COUNT"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    database = Database(app.config["ZVH_DATABASE_URL"])
    runtime = Runtime.from_settings(settings)
    if app.config["ZVH_CLOCK"] is not None:
        runtime = runtime.with_clock(app.config["ZVH_CLOCK"])
    app.extensions["zvh"] = Services(database, runtime)

    csrf.init_app(app)
    Babel(app, locale_selector=_select_locale)
    install_translator(_translate_engine_message)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The user of a live server-side session: an ended session's cookie signs in no one."""
        token = session.get(SERVER_SESSION)
        if token is None:
            return None
        moment = runtime.clock.now()
        with database.reader() as db_session:
            active = active_session(db_session, token=str(token), at=moment, idle=idle_timeout(app))
        if active is None or active.user.get_id() != user_id:
            return None
        if active.stale:
            with database.transaction() as db_session:
                touch_session(db_session, session_id=active.session_id, at=moment)
        return active.user

    from web import errors, filters, navigation, ops, request_log, security
    from web.accounts.routes import bp as accounts
    from web.admin.routes import bp as admin
    from web.api.routes import bp as api
    from web.auth.routes import bp as auth
    from web.auth.twofactor import bp as twofactor
    from web.bekendheid.routes import bp as bekendheid
    from web.cases.routes import bp as cases
    from web.deadlines.routes import bp as deadlines
    from web.inbox.routes import bp as inbox
    from web.inzage.routes import bp as inzage
    from web.modeller.routes import bp as modeller
    from web.monitor.analysis import bp as monitor_analysis
    from web.monitor.routes import bp as monitor
    from web.notifications.routes import bp as notifications
    from web.overleg import bp as overleg
    from web.privacy import context as access_context
    from web.privacy.routes import bp as privacy
    from web.reports.exports import bp as report_exports
    from web.reports.routes import bp as reports
    from web.retention.routes import bp as retention
    from web.substitutions.routes import bp as substitutions
    from web.tasks.routes import bp as tasks

    ops.init_app(app)  # first: its request figures cover every other hook
    security.init_app(app)
    access_context.init_app(app)  # after the idle timeout: a request of an ended session is nobody's
    request_log.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    navigation.init_app(app)
    csrf.exempt(api)
    blueprints = (
        auth,
        twofactor,
        accounts,
        inbox,
        tasks,
        cases,
        deadlines,
        api,
        monitor,
        monitor_analysis,
        notifications,
        substitutions,
        modeller,
        admin,
        privacy,
        inzage,
        retention,
        reports,
        report_exports,
        bekendheid,
        overleg,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app

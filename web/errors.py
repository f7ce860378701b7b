"""One place that turns errors into answers: JSON for the API and JSON calls, a page everywhere else."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from engine.db import database_unavailable
from engine.errors import ConfigurationError, Conflict, InvalidInput, NotFound, PermissionDenied, ZvhError
from web.privacy.context import log_refusal

STATUS = {NotFound: 404, PermissionDenied: 403, Conflict: 409, InvalidInput: 422, ConfigurationError: 409}

#: Seconds a client is asked to wait when the database is unreachable: about what a PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 10


def wants_json() -> bool:
    """The API, a JSON request (the modeller's calls), or a client that asks for JSON first."""
    return request.path.startswith("/api/") or request.is_json or request.accept_mimetypes.best == "application/json"


def _zvh_error(error: ZvhError) -> tuple[Response | str, int]:
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    log_refusal(error)
    if wants_json():
        return jsonify(error.as_dict()), status
    return render_template("errors/error.html", status=status, message=error.message), status


def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status < 400:
        return error
    messages = {
        400: _("Het verzoek klopt niet."),
        401: _("U bent niet ingelogd."),
        403: _("U heeft geen toegang tot deze pagina."),
        404: _("Deze pagina bestaat niet of u heeft er geen toegang toe."),
        405: _("Deze actie is hier niet mogelijk."),
        413: _("Het verzoek is te groot."),
        415: _("Dit soort inhoud wordt hier niet geaccepteerd."),
        429: _("Te veel verzoeken. Probeer het later opnieuw."),
    }
    message = messages.get(status, _("Er ging iets mis. Probeer het later opnieuw."))
    if isinstance(error, RateLimitExceeded) and request.endpoint == "auth.login":
        from web.auth.routes import locked_out

        return locked_out()
    # Keep the headers an HTTP error carries (Allow on 405, Retry-After on 429, WWW-Authenticate on 401).
    headers = {key: value for key, value in error.get_headers() if key.lower() != "content-type"}
    if wants_json():
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
            429: "rate_limited",
        }.get(status, "bad_request" if status < 500 else "server_error")
        return jsonify({"error": code, "message": message}), status, headers
    return render_template("errors/error.html", status=status, message=message), status, headers


def _route() -> str:
    """The route template of the request (as in the request log line): a path can hold case numbers."""
    return request.url_rule.rule if request.url_rule is not None else "(geen route)"


def _unexpected(error: Exception) -> tuple[Response | str, int]:
    from flask import current_app

    current_app.logger.exception("unhandled error", extra={"method": request.method, "route": _route()})
    message = _("Er ging iets mis. Probeer het later opnieuw.")
    if wants_json():
        return jsonify({"error": "server_error", "message": message}), 500
    return render_template("errors/error.html", status=500, message=message), 500


def _database_error(error: DBAPIError) -> ResponseReturnValue:
    """The database restarting or briefly down: ask to try again (503) instead of reporting a fault (500)."""
    if not database_unavailable(error):
        return _unexpected(error)
    from flask import current_app

    # The error text can quote statement parameters (personal data), so only its kind is logged.
    current_app.logger.warning(
        "database unavailable",
        extra={"method": request.method, "route": _route(), "exc_type": type(error.orig).__name__},
    )
    message = _("De database is even niet bereikbaar. Probeer het over een minuut opnieuw.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        return jsonify({"error": "unavailable", "message": message}), 503, headers
    # Rendered without Flask's context processors: they ask the database who is signed in.
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(message=message, request=request)
    return page, 503, headers


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    from web.tasks.routes import csrf_failed_on_task

    kept = csrf_failed_on_task(error)
    if kept is not None:
        return kept
    message = _("Het formulier was verlopen of ongeldig. Ga terug, vernieuw de pagina en probeer het opnieuw.")
    if wants_json():
        return jsonify({"error": "csrf", "message": message}), 400
    return render_template("errors/error.html", status=400, message=message), 400


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ZvhError, _zvh_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)

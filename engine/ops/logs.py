"""Structured logs: one JSON object per line on stderr, from our code and from every library alike.

`configure_logging` puts structlog's `ProcessorFormatter` on the stdlib root logger, so the records of Celery, Kombu,
gunicorn, Alembic and our own modules all come out the same way: `ts` (ISO, UTC), `level`, `logger`, `event`,
`request_id` (of the request, job or command at work, see engine.audit) and the whitelisted fields in `FIELDS` that
a caller passes with `extra=`. `ZVH_LOG_FORMAT=text` gives the same content as readable lines for a terminal.

What a log line never carries (they are read by people without access to cases and kept elsewhere, longer):
- personal data or form content: no names, BSNs, e-mail addresses, query strings or case data. Only `FIELDS` from
  `extra=` are written, never arbitrary record attributes; request lines name the route template, not the path; a
  user is their numeric id. Messages are constants; callers put ids in fields, never values in messages.
- exception messages: they repeat values (jsonschema's ValidationError quotes the rejected value, a database error its
  parameters — SQLAlchemy also hides those, see engine.db). An exception is logged as `exc_type` and `stack`: the
  frames (file, line, function, source line) of it and its causes, each ending in the exception's type without its
  message. A message that repeats the exception's text (Celery's "Task … raised unexpected: …") has that text replaced
  by the type.
- werkzeug's access lines (they carry the query string): our own request line replaces them. SpiffWorkflow's task
  lines are kept to warnings (below INFO they would carry the task's data).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from types import TracebackType
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from engine.audit import current_access

#: The `extra=` fields a log line may carry: ids, counts, durations and outcomes, never content.
FIELDS = (
    "method",
    "route",
    "endpoint",
    "status",
    "duration_ms",
    "user_id",
    "instance_id",
    "task_id",
    "job",
    "job_id",
    "queued_ms",
    "outcome",
    "elements",
    "exc_type",
    "planned",
    "notifications",
    "sent",
)
FORMATS = ("json", "text")
#: Loggers whose INFO lines would repeat what our own lines say, with less care for personal data: werkzeug's access
#: lines carry the query string; SpiffWorkflow logs every task state change (and, below INFO, the task's data).
_QUIET = {"werkzeug": logging.WARNING, "spiff": logging.WARNING}

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the moment of writing (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def _add_request_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    request_id = current_access().request_id
    if request_id:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _qualified_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _stack_without_values(error: BaseException) -> str:
    """The traceback of `error` and the exceptions it came from, with each exception's type but not its message."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for exception in reversed(chain):
        if lines:
            lines.append("\nwhich led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(exception.__traceback__))
        lines.append(f"{_qualified_name(type(exception))}\n")
    return "".join(lines).rstrip("\n")


def _exception_without_values(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    exc_info = event_dict.pop("exc_info", None)
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[1] is None:
        return event_dict
    error: BaseException = exc_info[1]
    event = str(event_dict.get("event", ""))
    for told in (repr(error), str(error)):
        if told:
            event = event.replace(told, type(error).__name__)
    event_dict["event"] = event
    event_dict["exc_type"] = _qualified_name(type(error))
    event_dict["stack"] = _stack_without_values(error)
    return event_dict


def _drop_stack_info(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("stack_info", None)
    return event_dict


def _renderer(fmt: str) -> Processor:
    if fmt == "text":
        return structlog.dev.ConsoleRenderer(colors=False, timestamp_key="ts", sort_keys=False)
    return structlog.processors.JSONRenderer(
        serializer=lambda value, **_: json.dumps(value, ensure_ascii=False, default=str)
    )


def formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter `configure_logging` installs: JSON lines, or text lines with the same content."""
    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.stdlib.ExtraAdder(allow=FIELDS),
        _add_request_id,
    ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _exception_without_values,
            _drop_stack_info,
            _renderer(fmt),
        ],
    )


def configure_logging(
    fmt: str | None = None,
    level: str | int | None = None,
    *,
    stream: TextIO | None = None,
    logfile: str | None = None,
) -> logging.Handler:
    """Send every log record to one handler on the root logger: stderr (or `stream`, or `logfile`), in `fmt`
    (default ZVH_LOG_FORMAT, else json) from `level` up (default ZVH_LOG_LEVEL, else INFO).

    Idempotent: a second call replaces the handler of the first, so no line is written twice.
    """
    fmt = (fmt or os.environ.get("ZVH_LOG_FORMAT") or "json").lower()
    if fmt not in FORMATS:
        raise ValueError(f"ZVH_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    level = level or (os.environ.get("ZVH_LOG_LEVEL") or "INFO").upper()
    handler: logging.Handler
    if logfile:
        handler = logging.FileHandler(logfile, encoding="utf-8")
    elif stream is not None:
        handler = logging.StreamHandler(stream)
    else:
        handler = _StderrHandler()
    handler.setFormatter(formatter(fmt))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for previous in [each for each in root.handlers if each.get_name() == _HANDLER_NAME]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in _QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
    return handler


_HANDLER_NAME = "zvh"

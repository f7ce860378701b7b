"""`zvh`: the admin and operations command line. Every command takes `--json` for machine-readable output."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.accounts import account_review
from engine.audit import AccessContext, events_for_instance, set_access
from engine.clock import SYSTEM_CLOCK, as_utc
from engine.config import Settings
from engine.db import Database, session_keys
from engine.demo import (
    DEMO_PASSWORD,
    create_demo_users,
    demo_code,
    deploy_directory,
    enrol_demo_second_factors,
    mark_demo_database,
    roles_in_use,
)
from engine.errors import InvalidInput, NotFound, PermissionDenied, ZvhError
from engine.inbox import list_tasks
from engine.migrate import upgrade_to_head
from engine.modelling.migrate import MigrationStep, migrate_instances
from engine.models import Instance
from engine.monitor import CATEGORIES, MonitorFilter, monitor_rows
from engine.monitor.instances import INSTANCE_STATUSES, InstanceRow, list_instances
from engine.ops.logs import configure_logging
from engine.overleg.types import seed_members, seed_types
from engine.present import audit_dict, instance_dict, task_dict, user_dict, version_dict
from engine.privacy.accesslog import record_refusal
from engine.privacy.bekendheid import OBJECT_TYPE, check_known
from engine.privacy.chain import anchor_chain, read_anchors, verify_chain
from engine.registry import deploy_file, list_processes
from engine.reports.facts import backfill_facts
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from engine.users import create_api_token, create_user, disable_user, get_user, list_users, revoke_api_tokens

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What commands share: settings, and the database and runtime built from them on first use."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime.from_settings(self.settings)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()


pass_context = click.make_pass_decorator(Context, ensure=True)


def command_output(func: F) -> F:
    """Add `--json`, and turn a ZvhError into a message (or a JSON error object) and exit status 1.

    A command returns `(payload, text)`, or `(payload, text, status)` when it did part of its work and must still
    exit non-zero (e.g. `zvh migrate` with a refused instance).
    """

    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    @wraps(func)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> None:
        try:
            result = func(*args, **kwargs)
        except ZvhError as error:
            if as_json:
                click.echo(json.dumps(error.as_dict(), ensure_ascii=False))
            else:
                click.echo(f"Error: {error.message}", err=True)
                for field, messages in getattr(error, "fields", {}).items():
                    for message in messages:
                        click.echo(f"  {field}: {message}", err=True)
            sys.exit(1)
        payload, text, *status = result  # a command that partly failed adds its exit status
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2) if as_json else text)
        if status and status[0]:
            sys.exit(status[0])

    return wrapper  # type: ignore[return-value]


def _parse_data(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput("--data is geen geldige JSON.", {"_data": [str(error)]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("--data moet een JSON-object zijn.", {"_data": ['Expected an object like {"a": 1}.']})
    return data


def _task_line(task: dict[str, Any]) -> str:
    due = f" due {task['due_at'][:16]}" if task["due_at"] else ""
    who = f" [{task['assignee']}]" if task["assignee"] else ""
    return f"{task['id']}  {task['case_number']}  {task['name']} ({task['role'] or 'starter'}){due}{who}"


@click.group()
@click.pass_context
def main(click_ctx: click.Context) -> None:
    """ZVH Regie administration."""
    configure_logging()  # once per process: `zvh worker`/`beat` only point it at their --logfile
    context = click_ctx.ensure_object(Context)
    click_ctx.call_on_close(context.close)
    set_access(AccessContext(request_id=f"cli-{uuid.uuid4().hex}", client="cli"))


@main.command()
@click.option("--demo", is_flag=True, help="Also deploy processes/ and create a demo user per role.")
@command_output
@pass_context
def init(ctx: Context, demo: bool) -> tuple[Any, str]:
    """Create or upgrade the database schema."""
    upgrade_to_head(ctx.settings.database_url)
    lines = [f"Database ready: {ctx.db.engine.url.render_as_string(hide_password=True)}"]
    counted, unreadable = backfill_facts(ctx.db, ctx.runtime)
    payload: dict[str, Any] = {"database": "ready", "deployed": [], "users": [], "report_facts_backfilled": counted}
    if counted or unreadable:
        lines.append(f"Report figures counted for cases from before the reports: {counted} (unreadable: {unreadable})")
    with ctx.db.transaction() as session:
        seeded = seed_types(session, at=SYSTEM_CLOCK.now())
    payload["overleg_types_seeded"] = [kind.key for kind in seeded]
    if seeded:
        lines.append(f"Overleg types seeded: {', '.join(kind.key for kind in seeded)}")
    if demo:
        with ctx.db.transaction() as session:
            deployments = deploy_directory(
                session, ctx.settings.processes_path, actor="zvh-init", forms=ctx.settings.forms_path
            )
            users = create_demo_users(session, roles_in_use(session))
            mark_demo_database(session, at=SYSTEM_CLOCK.now())
            secrets = enrol_demo_second_factors(session, at=SYSTEM_CLOCK.now())
            seed_members(session)
            payload["deployed"] = [{**version_dict(d.version), "created": d.created} for d in deployments]
            payload["users"] = [user_dict(u) for u in users]
            payload["demo_password"] = DEMO_PASSWORD
            lines += [f"Deployed {d.version.process_key} v{d.version.version}" for d in deployments]
            lines += [f"Demo user {u.username:32} {u.display_name} ({', '.join(sorted(u.role_keys))})" for u in users]
            lines.append(f"Demo password for every demo user: {DEMO_PASSWORD}")
            payload["totp_secrets"] = secrets
            if secrets:
                lines.append("2FA secrets (TOTP, base32): `oathtool --totp -b SECRET` or `zvh users totp-code USER`")
                lines += [f"  {username:32} {secret}" for username, secret in secrets.items()]
    return payload, "\n".join(lines)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", default="zvh-cli", help="Recorded as the deployer in the audit log.")
@command_output
@pass_context
def deploy(ctx: Context, files: tuple[Path, ...], actor: str) -> tuple[Any, str]:
    """Deploy BPMN files (with the DMN and form files they refer to); all or nothing."""
    with ctx.db.transaction() as session:
        results = [deploy_file(session, path, actor=actor, search_paths=[ctx.settings.forms_path]) for path in files]
        payload = [{**version_dict(r.version), "created": r.created} for r in results]
    text = "\n".join(
        f"{r.version.process_key} version {r.version.version}" + ("" if r.created else " (unchanged)") for r in results
    )
    return payload, text


@main.command()
@command_output
@pass_context
def processes(ctx: Context) -> tuple[Any, str]:
    """List deployed processes (newest version of each)."""
    with ctx.db.reader() as session:
        versions = list_processes(session)
        payload = [version_dict(v) for v in versions]
    return payload, "\n".join(f"{v['key']:32} v{v['version']:<4} {v['name']}" for v in payload) or "(none)"


@main.command()
@click.argument("key")
@click.option("--data", "raw_data", help="Start data as a JSON object (validated against the start form).")
@click.option("--as", "username", required=True, help="The user who starts the instance.")
@command_output
@pass_context
def start(ctx: Context, key: str, raw_data: str | None, username: str) -> tuple[Any, str]:
    """Start an instance of a process; prints the instance id."""
    data = _parse_data(raw_data)
    with ctx.db.transaction() as session:
        outcome = ctx.runtime.start_instance(session, process_key=key, actor=get_user(session, username), data=data)
        payload = {
            **instance_dict(outcome.instance),
            "next_tasks": [task_dict(t) for t in outcome.next_tasks],
        }
    return payload, str(payload["id"])


@main.command()
@click.option("--instance", "instance_id", type=int, help="Only the tasks of this instance.")
@click.option("--as", "username", help="Only the tasks this user may work on.")
@click.option("--limit", default=100, show_default=True)
@command_output
@pass_context
def tasks(ctx: Context, instance_id: int | None, username: str | None, limit: int) -> tuple[Any, str]:
    """List open tasks."""
    with ctx.db.reader() as session:
        user = get_user(session, username) if username else None
        page = list_tasks(session, user=user, instance_id=instance_id, limit=limit)
        payload = [task_dict(t) for t in page.tasks]
    return payload, "\n".join(_task_line(t) for t in payload) or "(no open tasks)"


@main.command()
@click.argument("task_id")
@click.option("--as", "username", required=True)
@command_output
@pass_context
def claim(ctx: Context, task_id: str, username: str) -> tuple[Any, str]:
    """Claim an open task."""
    with ctx.db.transaction() as session:
        task = ctx.runtime.claim_task(session, task_id=task_id, actor=get_user(session, username))
        payload = task_dict(task)
    return payload, f"Claimed {task_id} for {username}"


@main.command()
@click.argument("task_id")
@click.option("--as", "username", required=True)
@command_output
@pass_context
def unclaim(ctx: Context, task_id: str, username: str) -> tuple[Any, str]:
    """Release a claimed task."""
    with ctx.db.transaction() as session:
        payload = task_dict(ctx.runtime.unclaim_task(session, task_id=task_id, actor=get_user(session, username)))
    return payload, f"Released {task_id}"


@main.command()
@click.argument("task_id")
@click.option("--to", "assignee", required=True, help="The colleague who takes over.")
@click.option("--reason", required=True)
@click.option("--as", "username", required=True, help="A coordinator or manager.")
@command_output
@pass_context
def reassign(ctx: Context, task_id: str, assignee: str, reason: str, username: str) -> tuple[Any, str]:
    """(Coordinator) hand a task to a colleague."""
    with ctx.db.transaction() as session:
        task = ctx.runtime.reassign_task(
            session,
            task_id=task_id,
            actor=get_user(session, username),
            assignee=get_user(session, assignee),
            reason=reason,
        )
        payload = task_dict(task)
    return payload, f"Reassigned {task_id} to {assignee}"


@main.command()
@click.argument("task_id")
@click.option("--as", "username", required=True)
@click.option("--data", "raw_data", help="Form data as a JSON object.")
@click.option("--lock-version", type=int, help="Refuse if the instance changed since this version.")
@command_output
@pass_context
def complete(
    ctx: Context, task_id: str, username: str, raw_data: str | None, lock_version: int | None
) -> tuple[Any, str]:
    """Complete a task with form data (validated against the task's form)."""
    data = _parse_data(raw_data)
    with ctx.db.transaction() as session:
        outcome = ctx.runtime.complete_task(
            session, task_id=task_id, actor=get_user(session, username), data=data, lock_version=lock_version
        )
        payload = {
            **instance_dict(outcome.instance),
            "next_tasks": [task_dict(t) for t in outcome.next_tasks],
        }
    lines = [f"Completed {task_id}; instance {payload['id']} is {payload['status']}"]
    if payload["error"]:
        lines.append(f"Error at {payload['error']['element']}: {payload['error']['message']}")
    lines += [f"Next: {_task_line(t)}" for t in payload["next_tasks"]]
    return payload, "\n".join(lines)


@main.command()
@click.argument("instance_id", type=int)
@click.option("--as", "username", required=True, help="A beheerder.")
@click.option("--data", "raw_data", help="Corrected data for the failed step, as a JSON object.")
@command_output
@pass_context
def retry(ctx: Context, instance_id: int, username: str, raw_data: str | None) -> tuple[Any, str]:
    """Run the failed step of an instance in error again."""
    data = _parse_data(raw_data)
    with ctx.db.transaction() as session:
        outcome = ctx.runtime.retry_instance(
            session, instance_id=instance_id, actor=get_user(session, username), data=data
        )
        payload = instance_dict(outcome.instance)
    return payload, f"Instance {instance_id} is {payload['status']}"


@main.command()
@click.argument("instance_id", type=int)
@command_output
@pass_context
def show(ctx: Context, instance_id: int) -> tuple[Any, str]:
    """Show an instance: status, open tasks and audit trail."""
    with ctx.db.reader() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=instance_id)
        payload = {
            **instance_dict(instance),
            "tasks": [task_dict(t) for t in list_tasks(session, instance_id=instance_id).tasks],
            "events": [audit_dict(e) for e in events_for_instance(session, instance_id)],
        }
    lines = [
        f"Instance {payload['id']}: {payload['process']} v{payload['version']}, case {payload['case_number']}",
        f"Status: {payload['status']}"
        + (f" — error at {payload['error']['element']}: {payload['error']['message']}" if payload["error"] else ""),
        *[f"Open: {_task_line(t)}" for t in payload["tasks"]],
        *[f"{e['at'][:19]}  {e['actor']:20} {e['action']:9} {e['summary']}" for e in payload["events"]],
    ]
    return payload, "\n".join(lines)


@main.group()
def timers() -> None:
    """Timer events."""


@timers.command("fire")
@click.option("--now", "now_text", help="Fire what is due at this ISO 8601 moment (with offset) instead of now.")
@command_output
@pass_context
def timers_fire(ctx: Context, now_text: str | None) -> tuple[Any, str]:
    """Fire all due timers."""
    now = _moment("--now", now_text)
    fired = fire_due_timers(ctx.db, ctx.runtime, now=now)
    payload = [{"instance_id": f.instance_id, "fired": f.element_ids} for f in fired]
    text = "\n".join(f"Instance {f.instance_id}: {', '.join(f.element_ids)}" for f in fired) or "No timers due."
    return payload, text


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@command_output
@pass_context
def audit_verify(ctx: Context, anchor_file: Path | None) -> tuple[Any, str, int]:
    """Check the whole hash chain (and the entries in an anchor file); exit 1 at the first broken entry."""
    report = verify_chain(ctx.db, anchors=read_anchors(anchor_file) if anchor_file else None)
    lines = [
        f"{report.verified} entries verified (last id {report.last_id or '-'}), "
        f"{report.before_chain} vóór de keten (written before the chain existed), {report.redacted} redacted",
    ]
    if anchor_file:
        lines.append(f"{report.anchors_checked} anchored entries match {anchor_file}")
    if report.broken:
        lines.append(f"BROKEN at entry {report.broken.id}: {report.broken.problem}")
    return report.as_dict(), "\n".join(lines), 0 if report.ok else 1


@audit.command("anchor")
@click.argument("anchor_file", type=click.Path(dir_okay=False, path_type=Path))
@command_output
@pass_context
def audit_anchor(ctx: Context, anchor_file: Path) -> tuple[Any, str]:
    """Append the newest entry's id and chain hash to FILE (keep it where the database's owner cannot write)."""
    anchor = anchor_chain(ctx.db, anchor_file, at=SYSTEM_CLOCK.now())
    return {"id": anchor.id, "chain_hash": anchor.chain_hash, "at": anchor.at}, f"Anchored entry {anchor.id}"


def _moment(option: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as error:
        raise InvalidInput(
            "%(optie)s: %(fout)s", {option.lstrip("-"): [str(error)]}, optie=option, fout=str(error)
        ) from None


_REASONS = {
    "task_norm": "waited longer than the step norm",
    "instance_norm": "no progress for longer than the process norm",
    "deadline_passed": "deadline passed",
    "deadline_near": "deadline within the warning window",
    "timer_not_fired": "timer due but not fired",
    "error": "engine error",
    "deadline_paused": "legal deadline paused",
}


@main.command()
@click.option("--now", "now_text", help="Judge against this ISO 8601 moment (with offset) instead of now.")
@click.option("--category", type=click.Choice(CATEGORIES), help="Only stalled, overdue or incident rows.")
@click.option("--process", help="Only this process key.")
@command_output
@pass_context
def monitor(ctx: Context, now_text: str | None, category: str | None, process: str | None) -> tuple[Any, str]:
    """Stalled, overdue and failing instances (the manager's Bewaking), for scripts."""
    now = _moment("--now", now_text) or ctx.runtime.clock.now()
    filters = MonitorFilter.from_dict({"category": category, "process": process})
    with ctx.db.reader() as session:
        rows = monitor_rows(session, now=now, filters=filters)
    payload = [row.as_dict() for row in rows]
    lines = [
        f"{r.category:8} {r.instance_id:>6} {r.case_number}  {r.process_key}  "
        f"{r.step or '-'} ({r.element_id or '-'})  since {r.waiting_since:%Y-%m-%d %H:%M}Z  "
        f"norm {r.norm or '-'}  {_REASONS[r.reason]}" + (f": {r.message}" if r.message else "")
        for r in rows
    ]
    return payload, "\n".join(lines) or "Nothing stalled, overdue or failing."


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def users(click_ctx: click.Context, as_json: bool) -> None:
    """List users, or manage them with a sub-command."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.ensure_object(Context)
    with ctx.db.reader() as session:
        payload = [user_dict(u) for u in list_users(session)]
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(
            "\n".join(f"{u['username']:32} {u['display_name']:28} {', '.join(u['roles'])}" for u in payload)
            or "(no users)"
        )


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for more roles.")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--email")
@click.option("--organisation", help="The organisation the user works for (zvh, politie, gemeente, …).")
@click.option("--gemeente", "gemeenten", multiple=True, help="A gemeente the user works in; repeat for more.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@command_output
@pass_context
def users_add(
    ctx: Context,
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    email: str | None,
    organisation: str | None,
    gemeenten: tuple[str, ...],
    password_stdin: bool,
) -> tuple[Any, str]:
    """Add a user with one or more roles."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with ctx.db.transaction() as session:
        user = create_user(
            session,
            username=username,
            display_name=display_name or username,
            roles=roles,
            email=email,
            organisation=organisation,
            gemeenten=gemeenten,
            password=password,
            actor="zvh-cli",
        )
        payload = user_dict(user)
    return payload, f"Added {username} ({', '.join(payload['roles'])})"


@users.command("token")
@click.argument("username")
@click.option("--name", "token_name", help="What the token is for (default: api); with --revoke: only these tokens.")
@click.option("--revoke", is_flag=True, help="Revoke the user's tokens (all, or those called --name).")
@command_output
@pass_context
def users_token(ctx: Context, username: str, token_name: str | None, revoke: bool) -> tuple[Any, str]:
    """Issue a personal API token (printed once; use it as `Authorization: Bearer <token>`), or revoke tokens."""
    with ctx.db.transaction() as session:
        user = get_user(session, username)
        if revoke:
            count = revoke_api_tokens(session, user=user, name=token_name, at=SYSTEM_CLOCK.now(), actor="zvh-cli")
            return {"username": username, "revoked": count}, f"Revoked {count} token(s) of {username}"
        name = token_name or "api"
        token = create_api_token(session, user=user, name=name, at=SYSTEM_CLOCK.now(), actor="zvh-cli")
    return {"username": username, "token": token}, token


@users.command("disable")
@click.argument("username")
@command_output
@pass_context
def users_disable(ctx: Context, username: str) -> tuple[Any, str]:
    """Stop a user from signing in: their sessions end at once and their API tokens stop working."""
    with ctx.db.transaction() as session:
        payload = user_dict(disable_user(session, username=username, at=SYSTEM_CLOCK.now(), actor="zvh-cli"))
    return payload, f"Disabled {username}"


@users.command("review")
@command_output
@pass_context
def users_review(ctx: Context) -> tuple[Any, str]:
    """The account review: roles, organisation, 2FA, last sign-in; accounts idle for 90 days (or never used) flagged."""
    with ctx.db.reader() as session:
        rows = account_review(session, at=SYSTEM_CLOCK.now())
    lines = [
        f"{'!' if row.inactive else ' '} {row.username:32} 2fa {row.second_factor:8} "
        f"last {row.last_login_at.isoformat()[:16] if row.last_login_at else 'never':16} "
        f"{', '.join(row.roles)} ({row.organisation or '-'})" + ("" if row.active else " DISABLED")
        for row in rows
    ]
    return [row.as_dict() for row in rows], "\n".join(lines) or "(no users)"


@users.command("totp-code")
@click.argument("username")
@command_output
@pass_context
def users_totp_code(ctx: Context, username: str) -> tuple[Any, str]:
    """(Demo databases only) the code a demo user can sign in with now."""
    with ctx.db.reader() as session:
        code = demo_code(session, username=username, at=SYSTEM_CLOCK.now())
    return {"username": username, "code": code}, code


LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False)
# Options zvh does not know go to `celery worker` / `celery beat` unchanged (`--pool=solo`, `--logfile=…`, …).
CELERY_PASSTHROUGH = {"ignore_unknown_options": True}


def _run_celery(ctx: Context, command: str, argv: list[str], *, app_options: tuple[str, ...] = ()) -> None:
    """Run `celery -A engine.jobs [APP_OPTIONS…] COMMAND ARGV…` in this process and exit with its status."""
    if ctx.settings.embedded:
        raise click.ClickException(
            f"zvh {command} needs Redis: set ZVH_REDIS_URL. Without it, `zvh serve` runs the background jobs itself."
        )
    # Imported here: `celery.bin` loads the whole Celery command line, which no other command needs.
    from celery.bin.celery import celery

    args = ["-A", "engine.jobs", *app_options, command, *argv]
    sys.exit(celery.main(args=args, prog_name="zvh", standalone_mode=False))


@main.command(context_settings=CELERY_PASSTHROUGH)
@click.option("--concurrency", type=click.IntRange(min=1), help="Jobs run at the same time (default: one per CPU).")
@click.option("--queues", help="Comma-separated queues to take jobs from (default: celery).")
@click.option("--loglevel", type=LOG_LEVELS, default="INFO", show_default=True)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_context
def worker(
    ctx: Context, concurrency: int | None, queues: str | None, loglevel: str, celery_args: tuple[str, ...]
) -> None:
    """Run a Celery worker: fires due timers, scans for notifications, sends e-mail (needs ZVH_REDIS_URL)."""
    argv = [f"--loglevel={loglevel}"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if queues:
        argv.append(f"--queues={queues}")
    _run_celery(ctx, "worker", [*argv, *celery_args])


@main.command(context_settings=CELERY_PASSTHROUGH)
@click.option(
    "--schedule",
    "schedule_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where beat keeps when each job last ran (default: celerybeat-schedule under ZVH_INSTANCE_PATH).",
)
@click.option("--loglevel", type=LOG_LEVELS, default="INFO", show_default=True)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_context
def beat(ctx: Context, schedule_file: Path | None, loglevel: str, celery_args: tuple[str, ...]) -> None:
    """Run Celery beat: queues the due-timer scan and the notification jobs on schedule (run exactly one)."""
    schedule = schedule_file or ctx.settings.instance_path / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    # Beat only sends jobs. With the result store it would also subscribe to the result of every job it sends, never
    # read one, and stall (then give up on the store) for as long as Redis is away.
    argv = [f"--schedule={schedule}", f"--loglevel={loglevel}", *celery_args]
    _run_celery(ctx, "beat", argv, app_options=("--result-backend=disabled",))


@main.command()
@click.argument("instance_ids", nargs=-1, required=True, type=int)
@click.option("--to-version", "to_version", required=True, type=int, help="The version of their process to move to.")
@click.option("--as", "username", required=True, help="A procesbeheerder.")
@click.option("--dry-run", is_flag=True, help="Only show where each instance waits now and would wait after.")
@command_output
@pass_context
def migrate(
    ctx: Context, instance_ids: tuple[int, ...], to_version: int, username: str, dry_run: bool
) -> tuple[Any, str, int]:
    """Move running instances to a newer version of their process; refused ones change nothing (exit 1)."""
    with ctx.db.transaction() as session:
        steps = migrate_instances(
            session,
            ctx.runtime,
            instance_ids=list(instance_ids),
            to_version=to_version,
            actor=get_user(session, username),
            at=ctx.runtime.clock.now(),
            dry_run=dry_run,
        )
    text = "\n".join(_migration_line(step, dry_run=dry_run) for step in steps)
    return [step.as_dict() for step in steps], text, 0 if all(step.ok for step in steps) else 1


def _migration_line(step: MigrationStep, *, dry_run: bool) -> str:
    head = f"Instance {step.instance_id} ({step.case_number}) v{step.from_version} → v{step.to_version}:"
    if not step.ok:
        return f"{head} refused — {step.reason}"
    waits = f"waits at {', '.join(step.waits_now) or '-'}, then at {', '.join(step.will_wait) or '-'}"
    return f"{head} {'would migrate' if dry_run else 'migrated'}; {waits}"


@main.command()
@click.option("--status", type=click.Choice(INSTANCE_STATUSES), help="Only instances with this status.")
@click.option("--process", help="Only this process key.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1, max=10_000))
@command_output
@pass_context
def instances(ctx: Context, status: str | None, process: str | None, limit: int) -> tuple[Any, str]:
    """List instances, the most recently moved first; `--status error` shows where and why each one stopped."""
    with ctx.db.reader() as session:
        rows = list_instances(session, status=status, process=process, limit=limit)
    return [row.as_dict() for row in rows], "\n".join(_instance_line(row) for row in rows) or "(no instances)"


def _instance_line(row: InstanceRow) -> str:
    moved = f"{row.last_progress_at:%Y-%m-%d %H:%M}Z"
    line = f"{row.id:>6} {row.case_number}  {row.process_key}  {row.status}  last progress {moved}"
    if row.status == "error":
        line += f"  at {row.error_element or '-'}: {row.error_message or '-'}"
    return line


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    envvar="ZVH_WEB_WORKERS",
    type=click.IntRange(min=1),
    help="Web processes this server forks; more than one needs ZVH_REDIS_URL.",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    envvar="ZVH_WEB_THREADS",
    type=click.IntRange(min=1),
    help="Requests each web process answers at the same time.",
)
@click.option(
    "--graceful-timeout",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds a stopping server gives the requests in progress.",
)
@click.option(
    "--max-requests",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Replace a web process after about this many requests, to bound any leak (0: never).",
)
@click.option(
    "--app",
    "app_spec",
    default="web:create_app",
    show_default=True,
    help="The WSGI application factory to serve, as module:function.",
)
@pass_context
def serve(
    ctx: Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    graceful_timeout: int,
    max_requests: int,
    app_spec: str,
) -> None:
    """Serve the web app with gunicorn (and, without Redis, run the background jobs in its one web process)."""
    if ctx.settings.embedded and workers > 1:
        raise click.ClickException(
            f"zvh serve --workers {workers} needs Redis: set ZVH_REDIS_URL. Without it the background jobs run inside "
            "the web process, so there must be exactly one (--workers 1)."
        )
    # Imported here: only this command needs gunicorn.
    from engine.serve import ServeOptions, WebServer

    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        graceful_timeout=graceful_timeout,
        max_requests=max_requests,
        app_spec=app_spec,
    )
    server = WebServer(options, ctx.settings)
    mode = "embedded" if ctx.settings.embedded else "with Redis"
    click.echo(f"ZVH Regie on http://{host}:{port}/ ({mode}, {workers} × {threads} threads)")
    server.run()


@main.command()
@click.argument("bsn")
@click.option("--as", "username", required=True, help="Who asks: a screener, triagetafel, procesregisseur, ….")
@click.option("--reden", "reason", default="Bekendheidscheck via de opdrachtregel", show_default=True)
@command_output
@pass_context
def bekend(ctx: Context, bsn: str, username: str, reason: str) -> tuple[Any, str, int]:
    """Is the person with this BSN known to the ZVH, and whom to contact (logged; exit 2 when not answered)."""
    try:
        with ctx.db.transaction() as session:
            answer = check_known(
                session,
                keys=session_keys(session),
                asker=get_user(session, username),
                reason=reason,
                bsn=bsn,
                at=SYSTEM_CLOCK.now(),
            )
    except ZvhError as error:
        if isinstance(error, PermissionDenied):
            with ctx.db.transaction() as session:
                user = get_user(session, username)
                record_refusal(session, user=user, object_type=OBJECT_TYPE, object_id="bekend", at=SYSTEM_CLOCK.now())
        fields = [f"  {field}: {text}" for field, texts in getattr(error, "fields", {}).items() for text in texts]
        return error.as_dict(), "\n".join([f"Fout: {error.message}", *fields]), 2
    if not answer.known:
        return answer.as_dict(), "Niet bekend bij het Zorg- en Veiligheidshuis.", 0
    contacts = [f"  {contact.naam} ({contact.organisatie})" for contact in answer.contacts]
    return answer.as_dict(), "\n".join(["Bekend bij het Zorg- en Veiligheidshuis. Neem contact op met:", *contacts]), 0


# Registered last: the module builds on the helpers above.
from engine.privacy import retention_cli  # noqa: E402

retention_cli.register(main)
from engine.reports import cli as reports_cli  # noqa: E402

reports_cli.register(main)
from engine.overleg import cli as overleg_cli  # noqa: E402

overleg_cli.register(main)
from engine.ops import cli as ops_cli  # noqa: E402

ops_cli.register(main)

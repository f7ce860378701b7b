"""Plain-dict views of engine objects, shared by the `zvh --json` output and the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.inbox import InboxRow
from engine.models import AuditEvent, Instance, ProcessVersion, User


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def version_dict(version: ProcessVersion) -> dict[str, Any]:
    return {
        "key": version.process_key,
        "version": version.version,
        "name": version.name,
        "hash": version.content_hash,
        "deployed_by": version.deployed_by,
        "deployed_at": _iso(version.deployed_at),
    }


def instance_dict(instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "process": instance.process_key,
        "version": instance.process_version.version,
        "status": instance.status,
        "case_number": instance.case_number,
        "gemeente": instance.gemeente,
        "subject_person": instance.subject_person,
        "started_by": instance.started_by_name,
        "started_at": _iso(instance.started_at),
        "last_progress_at": _iso(instance.last_progress_at),
        "ended_at": _iso(instance.ended_at),
        "next_timer_due_at": _iso(instance.next_timer_due_at),
        "lock_version": instance.lock_version,
        "error": {"element": instance.error_element, "message": instance.error_message}
        if instance.error_message
        else None,
    }


def task_dict(task: InboxRow) -> dict[str, Any]:
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "element": task.element_id,
        "name": task.name,
        "role": task.role,
        "assignee": task.assignee,
        "form": task.form,
        "created_at": _iso(task.created_at),
        "due_at": _iso(task.due_at),
        "case_number": task.case_number,
        "gemeente": task.gemeente,
        "process": task.process_key,
        "process_name": task.process_name,
    }


def user_dict(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(user.role_keys),
        "organisation": user.organisation,
        "gemeenten": sorted(user.gemeente_keys),
        "active": user.active,
    }


def audit_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "task_id": event.task_id,
        "element": event.element_id,
        "summary": event.summary,
    }

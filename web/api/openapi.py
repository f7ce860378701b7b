"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json and fuzzed by schemathesis in the tests)."""

from __future__ import annotations

from typing import Any

#: What the registry accepts as a process id; no other key can name a deployed process.
PROCESS_KEY_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,127}$"
#: Instance ids are 32-bit integers in the database.
MAX_INSTANCE_ID = 2**31 - 1

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_NULLABLE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_UNAUTHORIZED = {
    **_error("No valid API token: missing, malformed, unknown, revoked, or of an inactive user."),
    "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string", "pattern": "^Bearer "}}},
}
_NOT_FOUND = _error("Not found, or not visible to the caller (existence is not revealed).")
_BODY_ERRORS = {
    "413": _error("The body is larger than 2 MB."),
    "415": _error("The body is not sent as application/json."),
}
_TASK_ID = {
    "name": "task_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "example": "3f2c1a9e-8b7d-4c6e-9f1a-2b3c4d5e6f70",
}
_DATA = {"type": "object", "description": "Form values by field name, validated against the form's JSON Schema."}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ZVH Regie API",
        "version": "1.0.0",
        "description": "Processes, tasks and instances of ZVH Regie. Authenticate with a personal API token "
        "(`zvh users token NAME`) as `Authorization: Bearer <token>`. The same authorization rules as in the web "
        "app apply: you see the tasks of your roles and the cases you take part in; anything else is 404. Errors "
        'are JSON: `{"error": code, "message": text}`, with `fields` (field path → messages) on a 422.',
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/processes": {
            "get": {
                "operationId": "listProcesses",
                "summary": "Deployed processes (newest version) and whether the caller may start them",
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Process")}, "Processes."),
                    "401": _UNAUTHORIZED,
                },
            }
        },
        "/processes/{key}/instances": {
            "post": {
                "operationId": "startInstance",
                "summary": "Start an instance with start data (validated against the start form)",
                "parameters": [
                    {
                        "name": "key",
                        "in": "path",
                        "required": True,
                        "example": "procesregie",
                        "schema": {"type": "string", "pattern": PROCESS_KEY_PATTERN},
                    }
                ],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("DataBody")}}},
                "responses": {
                    "201": _json(_ref("Outcome"), "Started; the caller's next tasks in the new instance."),
                    "401": _UNAUTHORIZED,
                    "403": _error("The caller may not start this process (not in its start lane)."),
                    "404": _error("No process with this key is deployed."),
                    "409": _error("The process hands over to a process that is not deployed; nothing was started."),
                    **_BODY_ERRORS,
                    "422": _json(_ref("ValidationError"), "The start data (or the body) is invalid."),
                },
            }
        },
        "/tasks": {
            "get": {
                "operationId": "listTasks",
                "summary": "The caller's inbox",
                "description": "The same tabs and filters as the web inbox. As there, a value that is not "
                "understood falls back to the default instead of failing the request.",
                "parameters": [
                    {
                        "name": "tab",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["mine", "open", "team"], "default": "open"},
                        "description": "`team` (every open task) is for coordinators and managers.",
                    },
                    {"name": "process", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "gemeente", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "due", "in": "query", "schema": {"type": "string", "enum": ["overdue", "week", "none"]}},
                    {
                        "name": "case_number",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "A part of the case number.",
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["due", "received", "case", "process"], "default": "due"},
                    },
                    {"name": "descending", "in": "query", "schema": {"type": "boolean", "default": False}},
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 1000},
                        "description": "The next page: the `next` of the page before it. Pages read this way cost "
                        "the same at any depth. A cursor made for another order is ignored (the first page).",
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 1000},
                        "description": "The previous page: the `previous` of the page after it.",
                    },
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
                        "description": "A numbered page, read by skipping the pages before it: prefer `after`.",
                    },
                ],
                "responses": {
                    "200": _json(_ref("TaskPage"), "One page of tasks (50 per page)."),
                    "401": _UNAUTHORIZED,
                    "403": _error("The team tab is for coordinators and managers."),
                },
            }
        },
        "/tasks/{task_id}": {
            "get": {
                "operationId": "getTask",
                "summary": "A task with its form schema and current data",
                "parameters": [_TASK_ID],
                "responses": {
                    "200": _json(_ref("TaskDetail"), "The task."),
                    "401": _UNAUTHORIZED,
                    "404": _NOT_FOUND,
                    "409": _error("The task was completed (the caller may see its case)."),
                },
            }
        },
        "/tasks/{task_id}/claim": {
            "post": {
                "operationId": "claimTask",
                "summary": "Claim a task (idempotent for the caller's own claim)",
                "parameters": [_TASK_ID],
                "responses": {
                    "200": _json(_ref("Task"), "Claimed."),
                    "401": _UNAUTHORIZED,
                    "403": _error("A coordinator who sees the task in the team tab but does not hold its role."),
                    "404": _NOT_FOUND,
                    "409": _error("Claimed by a colleague meanwhile, or already completed."),
                },
            }
        },
        "/tasks/{task_id}/complete": {
            "post": {
                "operationId": "completeTask",
                "summary": "Complete a task with form data",
                "parameters": [_TASK_ID],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("CompleteBody")}}},
                "responses": {
                    "200": _json(_ref("Outcome"), "Completed; the caller's next tasks in the instance."),
                    "401": _UNAUTHORIZED,
                    "403": _error("A coordinator who sees the task in the team tab but does not hold its role."),
                    "404": _NOT_FOUND,
                    "409": _error(
                        "Completed meanwhile, claimed by a colleague, a stale lock_version, or a hand-over "
                        "to a process that is not deployed; nothing was saved."
                    ),
                    **_BODY_ERRORS,
                    "422": _json(_ref("ValidationError"), "The data (or the body) is invalid; nothing was saved."),
                },
            }
        },
        "/instances/{instance_id}": {
            "get": {
                "operationId": "getInstance",
                "summary": "An instance the caller may see, with its open tasks",
                "parameters": [
                    {
                        "name": "instance_id",
                        "in": "path",
                        "required": True,
                        "example": 1,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INSTANCE_ID},
                    }
                ],
                "responses": {
                    "200": _json(_ref("InstanceDetail"), "The instance."),
                    "401": _UNAUTHORIZED,
                    "404": _NOT_FOUND,
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object"},
                },
            },
            "ValidationError": {
                "type": "object",
                "required": ["error", "message", "fields"],
                "properties": {
                    "error": {"const": "validation"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages per field path (`betrokkenen.0.naam`); `_body` for the body itself.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "Process": {
                "type": "object",
                "required": ["key", "name", "version", "startable"],
                "properties": {
                    "key": {"type": "string"},
                    "name": {"type": "string"},
                    "version": {"type": "integer"},
                    "startable": {"type": "boolean"},
                },
            },
            "DataBody": {"type": "object", "properties": {"data": _DATA}},
            "CompleteBody": {
                "type": "object",
                "properties": {
                    "data": _DATA,
                    "lock_version": {
                        "type": ["integer", "null"],
                        "description": "The task's lock_version as read; a stale one is a 409.",
                    },
                },
            },
            "Task": {
                "type": "object",
                "required": ["id", "instance_id", "name", "case_number", "process"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "instance_id": {"type": "integer"},
                    "element": {"type": "string"},
                    "name": {"type": "string"},
                    "role": _NULLABLE_STRING,
                    "assignee": _NULLABLE_STRING,
                    "form": _NULLABLE_STRING,
                    "created_at": {"type": "string", "format": "date-time"},
                    "due_at": _NULLABLE_TIME,
                    "case_number": {"type": "string"},
                    "gemeente": _NULLABLE_STRING,
                    "process": {"type": "string"},
                    "process_name": {"type": "string"},
                },
            },
            "TaskDetail": {
                "allOf": [
                    _ref("Task"),
                    {
                        "type": "object",
                        "required": ["lock_version", "form_schema", "data"],
                        "properties": {
                            "lock_version": {"type": "integer"},
                            "form_schema": {"type": "object", "description": "JSON Schema 2020-12, $refs inlined."},
                            "ui_schema": {"type": "object"},
                            "data": {
                                "type": "object",
                                "description": (
                                    "The case's current values of the form's fields. A read-only field in a"
                                    " visibility class (x-zvh-visibility) the caller lacks holds the text"
                                    " 'afgeschermd' instead; sent back, it leaves the stored value as it is."
                                ),
                            },
                            "instructions": {
                                "type": ["string", "null"],
                                "description": "The task's instructions as sanitized HTML.",
                            },
                        },
                    },
                ]
            },
            "TaskPage": {
                "type": "object",
                "required": ["tasks", "total", "total_capped", "page", "per_page", "next", "previous"],
                "properties": {
                    "tasks": {"type": "array", "items": _ref("Task")},
                    "total": {
                        "type": "integer",
                        "description": "How many tasks all pages hold; counted up to 1000 (see `total_capped`).",
                    },
                    "total_capped": {"type": "boolean", "description": "There are more than `total` tasks."},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "next": {**_NULLABLE_STRING, "description": "The cursor of the next page (`after`); null: last."},
                    "previous": {
                        **_NULLABLE_STRING,
                        "description": "The cursor of the previous page (`before`); null: first.",
                    },
                },
            },
            "Instance": {
                "type": "object",
                "required": ["id", "process", "status", "case_number", "lock_version"],
                "properties": {
                    "id": {"type": "integer"},
                    "process": {"type": "string"},
                    "version": {"type": "integer"},
                    "status": {
                        "type": "string",
                        "enum": ["running", "waiting", "completed", "error", "suspended", "terminated"],
                    },
                    "case_number": {"type": "string"},
                    "gemeente": _NULLABLE_STRING,
                    "subject_person": _NULLABLE_STRING,
                    "started_by": {"type": "string"},
                    "started_at": {"type": "string", "format": "date-time"},
                    "last_progress_at": {"type": "string", "format": "date-time"},
                    "ended_at": _NULLABLE_TIME,
                    "next_timer_due_at": _NULLABLE_TIME,
                    "lock_version": {"type": "integer"},
                    "error": {
                        "type": ["object", "null"],
                        "properties": {"element": _NULLABLE_STRING, "message": {"type": "string"}},
                    },
                },
            },
            "InstanceDetail": {
                "allOf": [
                    _ref("Instance"),
                    {
                        "type": "object",
                        "required": ["tasks"],
                        "properties": {"tasks": {"type": "array", "items": _ref("Task")}},
                    },
                ]
            },
            "Outcome": {
                "type": "object",
                "required": ["instance", "next_tasks"],
                "properties": {"instance": _ref("Instance"), "next_tasks": {"type": "array", "items": _ref("Task")}},
            },
        },
    },
}


# --- overleg (H3): meetings and their agenda (only the items the caller is invited for) ------------------------------
OPENAPI["paths"]["/overleggen"] = {
    "get": {
        "operationId": "listMeetings",
        "summary": "The meetings (overleggen) the caller is a member of or may plan, the soonest first",
        "description": "Meetings that started up to 90 days ago and later, at most 100; an older meeting is still "
        "available by its id.",
        "responses": {
            "200": _json({"type": "array", "items": _ref("Meeting")}, "Meetings."),
            "401": _UNAUTHORIZED,
        },
    }
}
OPENAPI["paths"]["/overleggen/{meeting_id}"] = {
    "get": {
        "operationId": "getMeetingAgenda",
        "summary": "A meeting's agenda: only the cases the caller is invited for (need-to-know)",
        "parameters": [
            {
                "name": "meeting_id",
                "in": "path",
                "required": True,
                "example": 1,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INSTANCE_ID},
            }
        ],
        "responses": {
            "200": _json(_ref("Agenda"), "The meeting and the agenda items the caller may see."),
            "401": _UNAUTHORIZED,
            "404": _NOT_FOUND,
        },
    }
}
_MEETING_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "type": {"type": "string", "description": "The overleg type's key, e.g. `triagetafel`."},
    "name": {"type": "string"},
    "starts_at": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": ["gepland", "gehouden", "gesloten"]},
    "by_hand": {"type": "boolean"},
}
OPENAPI["components"]["schemas"]["Meeting"] = {
    "type": "object",
    "required": ["id", "type", "name", "organisation", "starts_at", "status", "by_hand"],
    "properties": {**_MEETING_PROPERTIES, "organisation": {"type": "string"}},
}
OPENAPI["components"]["schemas"]["AgendaItem"] = {
    "type": "object",
    "required": ["position", "instance_id", "case_number", "process", "source", "waiting", "decided_here", "invited"],
    "properties": {
        "position": {"type": "integer"},
        "instance_id": {"type": "integer"},
        "case_number": {"type": "string"},
        "process": {"type": "string", "description": "The process's name."},
        "step": {**_NULLABLE_STRING, "description": "The waiting step this meeting decides, if any."},
        "source": {"type": "string", "enum": ["wachtend", "handmatig", "actiepunten"]},
        "waiting": {"type": "boolean", "description": "The step it decides still waits."},
        "decided_here": {"type": "boolean"},
        "invited": {"type": "array", "items": {"type": "string"}, "description": "Usernames invited for this case."},
        "open_action_points": {"type": "integer"},
    },
}
OPENAPI["components"]["schemas"]["Agenda"] = {
    "type": "object",
    "required": ["id", "type", "name", "starts_at", "status", "by_hand", "cutoff", "items"],
    "properties": {
        **_MEETING_PROPERTIES,
        "cutoff": {"type": "string", "format": "date-time", "description": "Until when a waiting case got on it."},
        "items": {"type": "array", "items": _ref("AgendaItem")},
    },
}

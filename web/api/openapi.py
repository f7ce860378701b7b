"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json and fuzzed by schemathesis in the tests)."""

from __future__ import annotations

from typing import Any

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_NULLABLE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": _json(_ref("Error"), "No valid API token."),
    "404": _json(_ref("Error"), "Not found, or not visible to the caller."),
}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ZVH Regie API",
        "version": "1.0.0",
        "description": "Processes, tasks and instances of ZVH Regie. Authenticate with a personal API token "
        "(`zvh users token NAME`) as `Authorization: Bearer <token>`. The same authorization rules as in the web "
        "app apply: you see the tasks of your roles and the cases you take part in.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/processes": {
            "get": {
                "operationId": "listProcesses",
                "summary": "Deployed processes (newest version) and whether the caller may start them",
                "responses": {"200": _json({"type": "array", "items": _ref("Process")}, "Processes."), **_ERRORS},
            }
        },
        "/processes/{key}/instances": {
            "post": {
                "operationId": "startInstance",
                "summary": "Start an instance with start data (validated against the start form)",
                "parameters": [{"name": "key", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 128}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("DataBody")}}},
                "responses": {
                    "201": _json(_ref("Outcome"), "Started; the caller's next tasks."),
                    "403": _json(_ref("Error"), "The caller may not start this process."),
                    "422": _json(_ref("ValidationError"), "The start data is invalid."),
                    **_ERRORS,
                },
            }
        },
        "/tasks": {
            "get": {
                "operationId": "listTasks",
                "summary": "The caller's inbox",
                "parameters": [
                    {"name": "tab", "in": "query", "schema": {"type": "string", "enum": ["mine", "open", "team"]}},
                    {"name": "process", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "gemeente", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "due", "in": "query", "schema": {"type": "string", "enum": ["overdue", "week", "none"]}},
                    {"name": "case_number", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "sort", "in": "query",
                     "schema": {"type": "string", "enum": ["due", "received", "case", "process"]}},
                    {"name": "descending", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
                ],
                "responses": {
                    "200": _json(_ref("TaskPage"), "One page of tasks."),
                    "403": _json(_ref("Error"), "The team tab is for coordinators and managers."),
                    **_ERRORS,
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
                    "409": _json(_ref("Error"), "The caller already completed this task."),
                    **_ERRORS,
                },
            }
        },
        "/tasks/{task_id}/claim": {
            "post": {
                "operationId": "claimTask",
                "summary": "Claim a task",
                "parameters": [_TASK_ID],
                "responses": {
                    "200": _json(_ref("Task"), "Claimed."),
                    "403": _json(_ref("Error"), "The caller does not hold the task's role."),
                    "409": _json(_ref("Error"), "Claimed by a colleague, or already completed."),
                    **_ERRORS,
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
                    "200": _json(_ref("Outcome"), "Completed; the caller's next tasks."),
                    "403": _json(_ref("Error"), "The caller does not hold the task's role."),
                    "409": _json(_ref("Error"), "Completed meanwhile, claimed by a colleague, or a stale lock_version."),
                    "422": _json(_ref("ValidationError"), "The data is invalid; nothing was stored."),
                    **_ERRORS,
                },
            }
        },
        "/instances/{instance_id}": {
            "get": {
                "operationId": "getInstance",
                "summary": "An instance the caller may see",
                "parameters": [{"name": "instance_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}],
                "responses": {"200": _json(_ref("InstanceDetail"), "The instance."), **_ERRORS},
            }
        },
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                               "fields": {"type": "object"}},
            },
            "ValidationError": {
                "type": "object",
                "required": ["error", "message", "fields"],
                "properties": {
                    "error": {"const": "validation"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                },
            },
            "Process": {
                "type": "object",
                "required": ["key", "name", "version", "startable"],
                "properties": {"key": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
                               "startable": {"type": "boolean"}},
            },
            "DataBody": {"type": "object", "properties": {"data": {"type": "object"}}},
            "CompleteBody": {
                "type": "object",
                "properties": {"data": {"type": "object"}, "lock_version": {"type": "integer"}},
            },
            "Task": {
                "type": "object",
                "required": ["id", "instance_id", "name", "case_number", "process"],
                "properties": {
                    "id": {"type": "string"},
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
                            "form_schema": {"type": "object"},
                            "ui_schema": {"type": "object"},
                            "data": {"type": "object"},
                            "instructions": _NULLABLE_STRING,
                        },
                    },
                ]
            },
            "TaskPage": {
                "type": "object",
                "required": ["tasks", "total"],
                "properties": {"tasks": {"type": "array", "items": _ref("Task")}, "total": {"type": "integer"},
                               "page": {"type": "integer"}, "per_page": {"type": "integer"}},
            },
            "Instance": {
                "type": "object",
                "required": ["id", "process", "status", "case_number", "lock_version"],
                "properties": {
                    "id": {"type": "integer"},
                    "process": {"type": "string"},
                    "version": {"type": "integer"},
                    "status": {"type": "string",
                               "enum": ["running", "waiting", "completed", "error", "suspended", "terminated"]},
                    "case_number": {"type": "string"},
                    "gemeente": _NULLABLE_STRING,
                    "subject_person": _NULLABLE_STRING,
                    "started_by": {"type": "string"},
                    "started_at": {"type": "string", "format": "date-time"},
                    "last_progress_at": {"type": "string", "format": "date-time"},
                    "ended_at": _NULLABLE_TIME,
                    "next_timer_due_at": _NULLABLE_TIME,
                    "lock_version": {"type": "integer"},
                    "error": {"type": ["object", "null"]},
                },
            },
            "InstanceDetail": {
                "allOf": [_ref("Instance"), {"type": "object", "properties": {
                    "tasks": {"type": "array", "items": _ref("Task")}}}]
            },
            "Outcome": {
                "type": "object",
                "required": ["instance", "next_tasks"],
                "properties": {"instance": _ref("Instance"), "next_tasks": {"type": "array", "items": _ref("Task")}},
            },
        },
    },
}

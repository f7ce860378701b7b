"""Migrations stay backwards compatible for one release, so web processes can be replaced one by one.

During a rolling upgrade the new release migrates the database while processes of the old release still serve it
(their /readyz stays ok on a newer revision, engine/ops/health.py). That works when a migration only adds: new
tables, nullable columns or columns with a server default, indexes. Dropping or renaming a table or column, or
changing a column, breaks the old release's queries; such a step belongs in a later release, once no code in the
previous one uses it ("expand, then contract"), and its migration says so in a `Contract:` line of its docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.migrate import MIGRATIONS

#: Operations that break the code of the previous release while it still runs.
BREAKING = {"drop_column", "drop_table", "alter_column", "rename_table", "drop_constraint"}
MIGRATION_FILES = sorted((MIGRATIONS / "versions").glob("[0-9]*.py"))


def _upgrade(tree: ast.Module) -> ast.FunctionDef:
    return next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "upgrade")


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def problems(source: str) -> list[str]:
    """What in a migration's upgrade() would break the previous release (empty when it only adds)."""
    tree = ast.parse(source)
    contracted = "Contract:" in (ast.get_docstring(tree) or "")
    found: list[tuple[int, str]] = []
    for node in ast.walk(_upgrade(tree)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in BREAKING and not contracted:
            found.append((node.lineno, f"{node.func.attr} without a 'Contract:' line in the docstring"))
        if node.func.attr == "add_column":
            column = next((arg for arg in node.args if isinstance(arg, ast.Call)), None)
            nullable = _keyword(column, "nullable") if column else None
            not_null = isinstance(nullable, ast.Constant) and nullable.value is False
            if not_null and column is not None and _keyword(column, "server_default") is None:
                found.append((node.lineno, "a NOT NULL column without a server_default"))
    return [f"line {line}: {text}" for line, text in sorted(found)]


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=[path.stem for path in MIGRATION_FILES])
def test_migration__only_adds_so_the_previous_release_keeps_working(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


def test_policy__catches_what_would_break_the_running_release() -> None:
    breaking = '''"""Rename a column."""
def upgrade():
    op.add_column("users", sa.Column("email", sa.String(), nullable=False))
    op.add_column("users", sa.Column("team", sa.String(), nullable=False, server_default="zvh"))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("display_name", new_column_name="name")
    op.drop_table("drafts")
'''
    contracted = breaking.replace('"""Rename a column."""', '"""Contract: 0012 stopped using them."""')

    assert problems(breaking) == [
        "line 3: a NOT NULL column without a server_default",
        "line 6: alter_column without a 'Contract:' line in the docstring",
        "line 7: drop_table without a 'Contract:' line in the docstring",
    ]
    assert problems(contracted) == ["line 3: a NOT NULL column without a server_default"]

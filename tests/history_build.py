"""The synthetic history (`zvh demo --history`) built in a background process while the rest of the suite runs.

Generating six years of cases through the real processes takes minutes of CPU; the suite starts the two real
commands (`zvh init --demo`, `zvh demo --history`) at a lower priority as soon as the history tests are collected
(they are moved to the end), and those tests wait for the process to exit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MODULE = "test_history.py"


@dataclass
class HistoryBuild:
    """The background build: its process and the folder with the database and the commands' output."""

    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / 'zvh.sqlite3'}"

    def result(self, timeout: float = 1800) -> dict[str, Any]:
        """Wait for the build to end; its `zvh demo --history --json` answer, or a failure with its error output."""
        status = self.process.wait(timeout=timeout)
        error = (self.folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        if status != 0:
            pytest.fail(f"zvh demo --history failed ({status}):\n{error[-4000:]}")
        output: dict[str, Any] = json.loads((self.folder / "stdout.txt").read_text(encoding="utf-8"))
        return output

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


KEY = pytest.StashKey[HistoryBuild]()


def start(config: pytest.Config) -> HistoryBuild:
    """Start `zvh init --demo && zvh demo --history --json` into a new SQLite database, at nice 10."""
    folder = Path(tempfile.mkdtemp(prefix="zvh-history-"))
    zvh = Path(sys.executable).parent / "zvh"
    env = {
        **os.environ,
        "ZVH_DATABASE_URL": f"sqlite:///{folder / 'zvh.sqlite3'}",
        "ZVH_INSTANCE_PATH": str(folder / "instance"),
    }
    with (folder / "stdout.txt").open("wb") as stdout, (folder / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            ["nice", "-n", "10", "sh", "-c", f'"{zvh}" init --demo >/dev/null && exec "{zvh}" demo --history --json'],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    build = HistoryBuild(folder, process)
    config.stash[KEY] = build
    return build


def schedule(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the history tests to the end and start their build, when any is collected."""
    history = [item for item in items if item.path.name == MODULE]
    if history and KEY not in config.stash:
        items[:] = [item for item in items if item.path.name != MODULE] + history
        start(config)


def finish(config: pytest.Config) -> None:
    if KEY in config.stash:
        config.stash[KEY].stop()

"""bpmnlint's recommended rules (the repository's `.bpmnlintrc`) pass on every process: one `node` run over all files.

The modeller shows the same rules (bpmn-js-bpmnlint), so a process that passes here shows no findings there. Warnings
count as findings (`--max-warnings=0`): a fake join is as wrong in a process of ours as an unnamed end event.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BPMNLINT = ROOT / "node_modules" / "bpmnlint" / "bin" / "bpmnlint.js"


def test_bpmnlint__recommended_rules_pass_on_every_process() -> None:
    node = shutil.which("node")
    if node is None or not BPMNLINT.exists():
        pytest.skip("node or node_modules/bpmnlint is missing: run `npm ci` to lint the processes")
    files = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "processes").glob("*.bpmn"))
    assert files, "processes/ holds no BPMN file"

    result = subprocess.run(
        [node, str(BPMNLINT), "--config", str(ROOT / ".bpmnlintrc"), "--max-warnings=0", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    findings = "\n".join(line.rstrip() for line in result.stdout.splitlines() if line.strip())
    assert result.returncode == 0, f"bpmnlint findings:\n{findings}\n{result.stderr}"

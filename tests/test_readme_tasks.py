"""The README's task table is generated from the registry and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_task_table_matches_the_registry():
    from adapterx.tasks import all_tasks

    done = subprocess.run([sys.executable, "tools/readme_tasks.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in all_tasks():  # every task has a row, names never truncated
        assert f"| `{name}` |" in readme


def test_top_level_exports_every_command():
    import adapterx

    # `tasks` and `report` are also subpackages (adapterx.tasks, adapterx.report), whose import rebinds the name
    for name in ("direct", "sequential", "stack", "fuse", "merge", "multitask", "finetune", "compare", "grid",
                 "suggest", "evaluate", "train", "translate_test", "push", "pull"):
        assert callable(getattr(adapterx, name)), name
        assert name in adapterx.__all__

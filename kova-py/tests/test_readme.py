"""The Python quick start in README.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_quick_start() -> str:
    text = README.read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the Python section has one python block"
    return blocks[0]


def test_readme_python_quick_start_runs(capsys):
    exec(compile(python_quick_start(), str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert out.startswith("processed ") and "'done': 1" in out

"""The README must stay true: every `$ isomargin …` example prints what the README shows, and every
`>>>` example evaluates to what it shows."""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent / "isomargin"


def console_examples() -> list[tuple[str, str]]:
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        parts = re.split(r"^\$ ", block, flags=re.M)
        for part in parts[1:]:
            command, _, output = part.partition("\n")
            examples.append((command, output))
    return examples


@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=lambda v: str(v)[:60])
def test_readme_console_example(command: str, expected: str) -> None:
    assert command.startswith("isomargin ")
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    args = [str(BIN), *command.split()[1:]]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    got = (done.stdout + done.stderr).rstrip("\n").splitlines()
    assert [line.rstrip() for line in got] == [line.rstrip() for line in expected.rstrip("\n").splitlines()]
    assert done.returncode == (2 if expected.startswith("error:") else 0)


def test_readme_has_examples() -> None:
    assert len(console_examples()) >= 5


def test_readme_python_examples() -> None:
    failures, tried = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 5 and failures == 0

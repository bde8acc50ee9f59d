"""The README must stay true: every `$ isomargin …` example prints what the README shows, and every
`>>>` example evaluates to what it shows."""

import doctest
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isomargin import cliutil
from isomargin.cli import app

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


def check_output(command: str, expected: str, out: str, code: int) -> None:
    got = out.rstrip("\n").splitlines()
    assert [line.rstrip() for line in got] == [line.rstrip() for line in expected.rstrip("\n").splitlines()]
    assert code == (2 if expected.startswith("error:") else 0)


@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=lambda v: str(v)[:60])
def test_readme_console_example(command: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process (Typer's runner) on an 80-column, colourless console, as the README was printed.
    assert command.startswith("isomargin ")
    for console in (cliutil.out, cliutil.err):
        monkeypatch.setattr(console, "_width", 80)
        monkeypatch.setattr(console, "no_color", True)
    result = CliRunner().invoke(app, command.split()[1:], env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})
    check_output(command, expected, result.stdout + result.stderr, result.exit_code)


def test_readme_first_example_in_a_real_process() -> None:
    # What a user's terminal gets from the installed script, exit status included.
    command, expected = console_examples()[0]
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run([str(BIN), *command.split()[1:]], capture_output=True, text=True, env=env, timeout=60)
    check_output(command, expected, done.stdout + done.stderr, done.returncode)


def test_readme_has_examples() -> None:
    assert len(console_examples()) >= 5


def test_readme_python_examples() -> None:
    failures, tried = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 5 and failures == 0


# ------------------------------------------------------------------ the README's venue snippets, copy-pasted
# Real processes: each starts the venue as a user would (the installed `isomargin`), on a free port instead of
# 8000 and in a temporary directory instead of the checkout; the snippets are otherwise run as written.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.index("\n#", start + len(title))
    return text[start:end]


def wait_healthy(port: int, proc: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the venue exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the venue did not come up")


def test_make_demo_takes_a_port() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PORT   ?= 8000" in makefile
    assert "\t$(BIN)/isomargin demo --port $(PORT)\n" in makefile
    assert "make demo PORT=8123" in README.read_text(encoding="utf-8")


def test_what_the_readme_writes_is_git_ignored() -> None:
    written = {m for block in sh_blocks() for m in re.findall(r"--(?:data|report) (\S+)", block)}
    written -= {w for w in written if w.startswith("src/")}  # inputs (bundled data), not outputs
    assert {"var/venue", "var/bt.html", "var/oct.html"} <= written
    written |= {"data/demo/demo-credentials.json"}  # `make demo`'s default data directory
    done = subprocess.run(["git", "-C", str(ROOT), "check-ignore", *sorted(written)], capture_output=True, text=True)
    assert sorted(done.stdout.split()) == sorted(written)


def test_operator_example_works_as_written(tmp_path: Path) -> None:
    block = next(b for b in sh_blocks() if "admin/mark-price" in b)
    assert "export ISOMARGIN_ADMIN_KEY=" in block and '--admin-key "$ISOMARGIN_ADMIN_KEY"' in block
    port = free_port()
    script = block.replace("8000", str(port))
    env = {**os.environ, "PATH": f"{BIN.parent}:{os.environ['PATH']}", "ISOMARGIN_ADMIN_KEY": ""}  # none inherited
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert (reply["symbol"], reply["mark_price"]) == ("BTCUSDT", "60000")
    assert (tmp_path / "var" / "venue" / "journal.sqlite3").exists()


def test_first_five_minutes_opens_a_10x_long_and_adds_margin(tmp_path: Path) -> None:
    snippets = re.findall(r"```python\n(.*?)```", section("### First five minutes"), flags=re.S)
    assert len(snippets) == 2
    port = free_port()
    data = tmp_path / "data" / "demo"
    env = {**os.environ, "NO_COLOR": "1"}
    demo = subprocess.Popen([str(BIN), "demo", "--port", str(port), "--data", str(data)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        wait_healthy(port, demo)
        code = "\n".join(snippets).replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
        code = code.replace('"data/demo/demo-credentials.json"', repr(str(data / "demo-credentials.json")))
        scope: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), scope)  # the README's own snippets, as written

    finally:
        demo.terminate()
        demo.wait(timeout=30)
    pos, after = scope["pos"], scope["after"]
    assert isinstance(pos, dict) and isinstance(after, dict)
    assert (pos["margin_mode"], pos["leverage"], pos["size"], pos["side"]) == ("isolated", 10, "0.01", "long")
    # Isolated margin is initial margin: entry × 0.01 / 10. Adding 20 USDT moves a long's liquidation price down by
    # 20 / (size × (1 − MMR)) whatever the fill (bracket 1 of BTCUSDT: MMR 0.4 %): 20 / (0.01 × 0.996) = 2,008.03…
    assert D(pos["isolated_margin"]) == D(pos["entry_price"]) * D("0.01") / 10
    assert D(after["isolated_margin"]) == D(pos["isolated_margin"]) + 20
    drop = D(pos["liquidation_price"]) - D(after["liquidation_price"])
    assert abs(drop - D(20) / (D("0.01") * D("0.996"))) < D("1e-20")

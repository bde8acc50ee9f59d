"""CLI start-up: the whole `isomargin calc liq …` command (a real process: interpreter start, imports, the
calculation and the table) beside `python -c "import typer, rich"`, and their ratio (issue 17: target <= 2).

Each of R rounds runs both once, interleaved (the machine is noisy); the medians are reported, with bytecode
cached as on a user's machine (under a temporary PYTHONPYCACHEPREFIX, not in the checkout) and, beside them,
with PYTHONDONTWRITEBYTECODE=1 (isomargin's own modules then compile on every start). A third figure,
a one-option Typer "hello" app, shows what a plain Typer command costs on top of the bare import (Typer >= 0.2x
imports pydantic and builds a TypeAdapter per parameter on the first parse; the calculators skip that for their
str/bool options, see `isomargin.cliutil.plain_params`). Also lists the heavy modules `calc` loaded (none).
Usage: python bench/cli_startup.py [rounds, default 15]
prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "isomargin"
# The README's first example: Binance BTCUSDT, 1 BTC long at 65,000, 10x.
CALC = ["calc", "liq", "--venue", "binance", "--symbol", "BTCUSDT", "--side", "long", "--entry", "65000"]
CALC += ["--qty", "1", "--leverage", "10"]
HELLO = (
    "import typer\napp = typer.Typer()\n@app.command()\ndef f(x: str = typer.Option('a', '--x')) -> None:\n"
    "    print(x)\napp()\n"
)
HEAVY = ("pandas", "numpy", "fastapi", "starlette", "uvicorn", "pydantic", "isomargin.server", "isomargin.sim")
HEAVY += ("isomargin.journal",)
PROBE = (
    "import sys\nfrom isomargin.cli import app\nsys.argv = ['isomargin', *sys.argv[1:]]\n"
    "try:\n    app()\nexcept SystemExit:\n    pass\n"
    f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith({HEAVY!r})), "
    "file=sys.stderr)\n"
)


def timed(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def medians(rounds: int, env: dict[str, str]) -> tuple[float, float, float]:
    calc_cmd = [str(BIN), *CALC] if BIN.exists() else [sys.executable, "-m", "isomargin.cli", *CALC]
    base_cmd = [sys.executable, "-c", "import typer, rich"]
    hello_cmd = [sys.executable, "-c", HELLO, "--x", "1"]
    for cmd in (calc_cmd, base_cmd, hello_cmd):  # warm the OS caches (and the bytecode cache, where kept)
        timed(cmd, env)
    calc_s, base_s, hello_s = [], [], []
    for _ in range(rounds):
        calc_s.append(timed(calc_cmd, env))
        base_s.append(timed(base_cmd, env))
        hello_s.append(timed(hello_cmd, env))
    calc_med, base_med, hello_med = (statistics.median(x) for x in (calc_s, base_s, hello_s))
    return calc_med, base_med, hello_med


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as cache:
        # As on a user's machine: bytecode is cached (here under a temporary prefix, not in the checkout).
        calc_med, base_med, hello_med = medians(rounds, {**env, "PYTHONPYCACHEPREFIX": cache})
    # As with PYTHONDONTWRITEBYTECODE=1 (some sandboxes): isomargin's own modules compile on every start.
    calc_raw, base_raw, _ = medians(max(3, rounds // 3), {**env, "PYTHONDONTWRITEBYTECODE": "1"})
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *CALC], capture_output=True, text=True, env=env, check=True
    ).stderr.strip()
    print(
        json.dumps(
            {
                "bench": "cli_startup",
                "command": "isomargin " + " ".join(CALC),
                "rounds": rounds,
                "calc_liq_median_s": round(calc_med, 4),
                "import_typer_rich_median_s": round(base_med, 4),
                "ratio": round(calc_med / base_med, 2),
                "target_ratio": 2,
                "typer_hello_median_s": round(hello_med, 4),
                "typer_hello_ratio": round(hello_med / base_med, 2),
                "no_bytecode_cache": {
                    "calc_liq_median_s": round(calc_raw, 4),
                    "import_typer_rich_median_s": round(base_raw, 4),
                    "ratio": round(calc_raw / base_raw, 2),
                },
                "heavy_modules_loaded_by_calc": json.loads(probe.splitlines()[-1].replace("'", '"')),
            }
        )
    )


if __name__ == "__main__":
    main()

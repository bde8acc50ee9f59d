"""Build the mypyc-compiled engine into src/isomargin/engine/_compiled/ (git-ignored); the pure-Python engine
stays where it is and stays the fallback.

    python tools/build_engine.py            # build unless the build there is current; never fails the caller
    python tools/build_engine.py --force    # rebuild even if current
    python tools/build_engine.py --check    # exit 0 if a current build exists, 1 otherwise (builds nothing)
    python tools/build_engine.py --clean    # remove the build

What it does:

1. Snapshots src/isomargin into build/engine-compile/ (so edits made while it compiles cannot end up in a build
   labelled with the old sources) and hashes the snapshot's engine, margin and venues sources.
2. Writes a stub of `commands` with every field typed Any into the snapshot (see UNTRUSTED) and runs mypyc
   (`mypycify` + setuptools `build_ext --inplace`) on every engine module but `__init__.py` and PURE, as one
   group with the fixed name `isomargin.engine._compiled.engine`: the shared library is then the package
   module `isomargin.engine._compiled.engine__mypyc` (no top-level module, nothing on sys.path).
3. Stages `__init__.py`, the shared library, the per-module shims (in `isomargin/engine/` under it, see SHIMS)
   and BUILD.json (format, digest, the hashed files, the module lists, the Python extension suffix, the mypy
   version) in a fresh directory, swaps it in for `_compiled/` with two renames, and smoke-tests it in a
   fresh interpreter (an engine runs; a command round-trips through the journal codec).

`isomargin.engine`'s `__init__` puts `_compiled/isomargin/engine/` first on the package `__path__` (so the
shims shadow the .py modules) only when BUILD.json's digest matches the sources on disk (and the suffix,
module list and files check out); otherwise it runs the .py modules, with one line on stderr when a build was
there but unusable. ISOMARGIN_PURE=1 skips the check.

Any failure (no mypyc, no C compiler, a type error, a crash) prints one line, removes a previous build that
no longer matches the sources, and exits 0 so `make` carries on with the pure engine; --strict exits 1
instead. The full compiler output goes to build/engine-compile.log; the last outcome's line to
build/engine-build.txt (the compiled-engine test quotes it when it skips).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "isomargin"
ENGINE = PACKAGE / "engine"
OUT = ENGINE / "_compiled"
WORK = ROOT / "build" / "engine-compile"
LOG = ROOT / "build" / "engine-compile.log"
STATUS = ROOT / "build" / "engine-build.txt"
GROUP = "isomargin.engine._compiled.engine"  # → shared library isomargin.engine._compiled.engine__mypyc
# The per-module shims go in _compiled/isomargin/engine/ (that directory is what the loader puts on the package
# __path__): mypyc derives a compiled module's __file__ from the shared library's directory plus the dotted
# module path, so with the shared library at _compiled/ the shims' real paths are the __file__s it reports.
SHIMS = ("isomargin", "engine")
FORMAT = 1
# What the compiled code was type-checked against and may have baked in (mypyc inlines Final literals, also
# from modules it does not compile): the engine itself and the isomargin packages it imports. The Makefile's
# ENGINE_SOURCES lists the same files.
HASHED = ("engine", "margin", "venues")
MYPY_INI = """\
[mypy]
python_version = {version}
[mypy-sortedcontainers.*]
ignore_missing_imports = True
"""


# Engine modules left as Python in the compiled build (mypy still type-checks them; compiled code uses their
# classes as ordinary Python classes), each for a behaviour of compiled classes that code outside the engine
# trips over today:
PURE = {
    # mypyc gives a compiled dataclass's union-typed fields (`qty: Decimal | None`) the annotation `type`, so
    # typing.get_type_hints(PlaceOrder) no longer says Decimal and the journal codec (which derives its
    # converters from the hints) refuses every such command: `codec_not_exact: PlaceOrder.qty`.
    # (It also has to stay Python for UNTRUSTED below: compiled code sees it through a stub.)
    "commands": "journal codec reads the command classes' type hints",
    # compiled methods check argument types: journal.durable.edge_rejection builds a Rejected with a
    # JournalCode cast to Code, and the compiled Rejected.__init__ raises TypeError ("Code object expected").
    "events": "journal builds Rejected with a JournalCode where the signature says Code",
    # Its classes subclass events.ColdEvent, which stays Python (above): a compiled subclass of an interpreted
    # slotted class read its fields back wrong (SpotPairListed.symbol came back as its index) and then crashed.
    "spot_events": "its event classes subclass the interpreted events.ColdEvent",
    "options_events": "its event classes subclass the interpreted events.ColdEvent",
}


# How compiled code sees the command classes: every dataclass field typed `Any` (a stub, commands.pyi, written
# into the snapshot only). commands.py says "any field may hold any value: the engine rejects what it cannot
# use with a code and never raises on it", and its validators test `type(cmd.ts) is int` and the like. Seeing
# the declared types (`ts: int`), compiled code would convert on every read instead: TypeError ("int object
# expected; got str") where a Rejected is due, and True accepted as the integer 1.
UNTRUSTED = "commands"


def untrusted_stub(source: str) -> str:
    """commands.py with every dataclass field annotated `Any` (ClassVar and Final left alone), as a .pyi."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not any(_is_dataclass(d) for d in node.decorator_list):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                text = ast.unparse(stmt.annotation)
                if "ClassVar" not in text and "Final" not in text:
                    stmt.annotation = ast.Attribute(ast.Name("_typing_untrusted", ast.Load()), "Any", ast.Load())
    body = tree.body
    at = 0
    while at < len(body) and (
        (isinstance(body[at], ast.Expr) and at == 0)
        or (isinstance(body[at], ast.ImportFrom) and getattr(body[at], "module", None) == "__future__")
    ):
        at += 1
    body.insert(at, ast.Import([ast.alias("typing", "_typing_untrusted")]))
    return "# generated by tools/build_engine.py from commands.py: fields typed Any for compiled code\n" + (
        ast.unparse(tree) + "\n"
    )


def _is_dataclass(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "dataclass") or (
        isinstance(target, ast.Attribute) and target.attr == "dataclass"
    )


def engine_modules(package: Path) -> list[str]:
    """Every engine module: engine/*.py but __init__.py."""
    return sorted(p.stem for p in (package / "engine").glob("*.py") if p.name != "__init__.py")


def compiled_modules(package: Path) -> list[str]:
    """The engine modules mypyc compiles: all but PURE."""
    return [m for m in engine_modules(package) if m not in PURE]


def hashed_sources(package: Path) -> list[str]:
    """Paths (relative to the isomargin package, POSIX) of the files the digest covers."""
    out: list[str] = []
    for sub in HASHED:
        for path in sorted((package / sub).rglob("*.py")):
            rel = path.relative_to(package).as_posix()
            if rel == "engine/__init__.py" or rel.startswith("engine/_compiled"):
                continue  # the loader is not compiled; the build is not its own source
            out.append(rel)
    return out


def digest(package: Path, files: list[str]) -> str:
    """Must match `isomargin.engine._digest` (tests/engine/test_compiled.py checks that it does)."""
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.encode() + b"\0" + hashlib.sha256((package / rel).read_bytes()).digest())
    return h.hexdigest()


def shared_lib() -> str:
    return GROUP.rsplit(".", 1)[1] + "__mypyc"


def ext_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def current(package: Path = PACKAGE) -> str | None:
    """None when package/engine/_compiled holds a build of the sources on disk, else why not."""
    manifest = package / "engine" / "_compiled" / "BUILD.json"
    if not manifest.is_file():
        return "no compiled build"
    try:
        info = json.loads(manifest.read_text())
        if info.get("format") != FORMAT:
            return "manifest format differs"
        if info["ext_suffix"] != ext_suffix():
            return f"built for {info['ext_suffix']}"
        if info["modules"] != engine_modules(package):
            return "engine modules added or removed"
        if info["sources"] != hashed_sources(package) or digest(package, info["sources"]) != info["digest"]:
            return "sources changed"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable manifest ({exc})"
    return None


def say(line: str) -> None:
    print(line, flush=True)
    STATUS.parent.mkdir(parents=True, exist_ok=True)
    STATUS.write_text(line + "\n")


def fail(reason: str, strict: bool) -> int:
    stale = OUT.exists() and current() is not None
    if stale:
        shutil.rmtree(OUT, ignore_errors=True)
    if OUT.exists():  # --force on a current build: that build stays
        say(f"engine: compiled build skipped — {reason}; keeping the current compiled build")
    else:
        tail = " (removed the stale build)" if stale else ""
        say(f"engine: compiled build skipped — {reason}; using the pure-Python engine{tail}")
    return 1 if strict else 0


def compiler() -> str | None:
    """The C compiler setuptools will call, if it is on PATH."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def build(strict: bool, opt_level: str) -> int:
    try:
        import mypy.version
        import mypyc.build  # noqa: F401
    except ImportError as exc:
        return fail(f"mypyc not installed ({exc.name}; pip install -e '.[compile]')", strict)
    if importlib.util.find_spec("setuptools") is None:
        return fail("setuptools not installed (pip install -e '.[compile]')", strict)
    if compiler() is None:
        return fail("no C compiler on PATH", strict)

    t0 = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    src = WORK / "src"
    snap = src / "isomargin"
    shutil.copytree(PACKAGE, snap, ignore=shutil.ignore_patterns("__pycache__", "_compiled*", "*.so", "*.pyd"))
    (snap / "engine" / "_compiled").mkdir()
    (snap / "engine" / "_compiled" / "__init__.py").write_text(
        '"""The mypyc build of the engine (tools/build_engine.py writes it; git-ignored)."""\n'
    )
    modules = compiled_modules(snap)
    files = hashed_sources(snap)
    info = {
        "format": FORMAT,
        "digest": digest(snap, files),
        "sources": files,
        "modules": engine_modules(snap),
        "compiled": modules,
        "pure": sorted(set(engine_modules(snap)) - set(modules)),
        "ext_suffix": ext_suffix(),
        "python": sys.version.split()[0],
        "mypy": mypy.version.__version__,
        "opt_level": opt_level,
    }
    assert UNTRUSTED in PURE, "the stub types a module mypyc does not compile"
    untrusted = snap / "engine" / f"{UNTRUSTED}.py"
    untrusted.with_suffix(".pyi").write_text(untrusted_stub(untrusted.read_text()))
    (src / "mypy.ini").write_text(MYPY_INI.format(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))
    paths = ["--config-file", "mypy.ini", *(f"isomargin/engine/{m}.py" for m in modules)]
    setup = textwrap.dedent(f"""\
        from setuptools import setup
        from mypyc.build import mypycify
        setup(
            name="isomargin-engine-compiled",
            ext_modules=mypycify({paths!r}, opt_level={opt_level!r}, group_name={GROUP!r}),
            script_args=["build_ext", "--inplace"],
        )
    """)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("w") as log:
        code = subprocess.call([sys.executable, "-c", setup], cwd=src, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        return fail(f"mypyc/C compile failed, exit {code} ({first_error()}; log: {rel(LOG)})", strict)

    suffix = ext_suffix()
    stage = ENGINE / f"_compiled.new-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(snap / "engine" / "_compiled", stage, ignore=shutil.ignore_patterns("__pycache__"))
    shims = stage.joinpath(*SHIMS)
    shims.mkdir(parents=True)
    for m in modules:
        shutil.copy2(snap / "engine" / f"{m}{suffix}", shims / f"{m}{suffix}")
    if not (stage / f"{shared_lib()}{suffix}").is_file():
        shutil.rmtree(stage)
        return fail(f"the shared library {shared_lib()}{suffix} was not built (log: {rel(LOG)})", strict)
    (stage / "BUILD.json").write_text(json.dumps(info, indent=1) + "\n")

    old = ENGINE / f"_compiled.old-{os.getpid()}"
    if OUT.exists():
        OUT.rename(old)
    stage.rename(OUT)
    shutil.rmtree(old, ignore_errors=True)
    problem = smoke_test()
    if problem is not None:
        shutil.rmtree(OUT, ignore_errors=True)
        return fail(f"the compiled engine does not load ({problem})", strict)
    shutil.rmtree(WORK, ignore_errors=True)
    if current() is not None:
        say(
            f"engine: compiled in {time.monotonic() - t0:.0f} s, but the sources changed meanwhile; "
            "the build will not be used (run make again)"
        )
        return 1 if strict else 0
    say(
        f"engine: compiled {len(modules)} modules in {time.monotonic() - t0:.0f} s "
        f"(mypyc {info['mypy']}, -O{opt_level}; {', '.join(sorted(PURE)) or 'none'} left as Python) → {rel(OUT)}"
    )
    return 0


def smoke_test() -> str | None:
    """Import the build in a fresh interpreter: BUILD must say compiled and an engine must run."""
    code = (
        "import os, isomargin.engine as e, isomargin.engine.engine as m\n"
        "assert e.BUILD == 'compiled', e.BUILD_DETAIL\n"
        "assert m.__file__.endswith(('.so', '.pyd')) and os.path.isfile(m.__file__), m.__file__\n"
        "e.Engine().apply(e.CreateAccount(1))\n"
        "from decimal import Decimal as D\n"
        "from isomargin.journal import command_bytes, command_from_bytes\n"  # the venue journals every command
        "o = e.PlaceOrder(1, 'BTCUSDT', e.OrderSide.BUY, e.OrderType.LIMIT, D('0.01'), D(60000))\n"
        "assert command_from_bytes(command_bytes(o)) == o\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ISOMARGIN_PURE"}
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE.parent), *filter(None, [env.get("PYTHONPATH")])])
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if run.returncode == 0:
        return None
    lines = (run.stderr or run.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit {run.returncode}"


def first_error() -> str:
    try:
        lines = LOG.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in lines:
        if " error:" in line or line.startswith("error:"):
            return line.strip()[:200]
    return lines[-1].strip()[:200] if lines else "no output"


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--force", action="store_true", help="rebuild even if the build is current")
    what.add_argument("--check", action="store_true", help="exit 0 if a current build exists, else 1")
    what.add_argument("--clean", action="store_true", help="remove the build")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the compiled build cannot be made")
    parser.add_argument("--stamp", type=Path, help="touch this file, dated to when the sources were read (make)")
    parser.add_argument("--opt-level", default=os.environ.get("MYPYC_OPT_LEVEL", "3"), choices="0123")
    args = parser.parse_args(argv)
    if args.clean:
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.rmtree(WORK, ignore_errors=True)
        return 0
    read_at = time.time()  # the sources are read (hashed or snapshotted) after this instant
    why = current()
    if args.check:
        print("engine: compiled build is current" if why is None else f"engine: no current compiled build ({why})")
        return 0 if why is None else 1
    if why is None and not args.force:
        say("engine: compiled build is current")
        code = 0
    else:
        code = build(args.strict, args.opt_level)
    if args.stamp is not None:  # an edit after read_at leaves a source newer than the stamp: make runs us again
        args.stamp.parent.mkdir(parents=True, exist_ok=True)
        args.stamp.touch()
        os.utime(args.stamp, (read_at, read_at))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

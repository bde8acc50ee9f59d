# Two commands: `make demo` runs the main job, `make test` runs lint, types and tests.
# Each creates a local .venv and installs what it needs; re-running reinstalls only when pyproject changes.
# Both then compile the engine with mypyc (tools/build_engine.py; about 2-3 minutes, redone only when the
# engine, margin or venues sources change); without a C compiler they say so in one line and run it pure.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# The files tools/build_engine.py hashes into the compiled build (the engine's modules but __init__.py, and
# the isomargin packages they are type-checked against): a change to any of them rebuilds it.
ENGINE_SOURCES := $(filter-out src/isomargin/engine/__init__.py,$(wildcard src/isomargin/engine/*.py)) \
                  $(wildcard src/isomargin/margin/*.py src/isomargin/venues/*.py)
ENGINE_STAMP   := $(VENV)/.stamp-engine

# Fault-injection tests patch engine classes at run time (monkeypatch, __class__ swaps), which compiled callers
# never see: they run on the pure engine. Everything else runs on whichever build the engine package picks.
PURE_TESTS     := tests/journal/test_journal_failstop.py tests/server/test_failure.py
# The pure engine is the fallback on machines without a compiler, so its own suite runs on both builds.
BOTH_TESTS     := tests/engine

.PHONY: demo test test-pure test-deep lint typecheck pytest bench clean engine

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[compile]'
	touch $@

$(VENV)/.stamp-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,compile]'
	touch $@ $(VENV)/.stamp-run

# The compiled engine: built when missing or older than its sources; a failed build still writes the stamp
# (so a machine without a compiler does not retry every time) and leaves the pure engine in charge. The tool
# dates the stamp to the moment it snapshotted the sources, so an edit made during the build triggers another.
$(ENGINE_STAMP): $(VENV)/.stamp-run $(ENGINE_SOURCES) tools/build_engine.py
	$(BIN)/python tools/build_engine.py --stamp $@

# `make engine` always asks the tool, which rebuilds only if the build there does not match the sources.
engine: $(VENV)/.stamp-run
	$(BIN)/python tools/build_engine.py --stamp $(ENGINE_STAMP)

# `make demo PORT=8123` serves on another port (default 8000).
PORT   ?= 8000

demo: $(VENV)/.stamp-run $(ENGINE_STAMP)
	$(BIN)/isomargin demo --port $(PORT)

test: $(VENV)/.stamp-test lint typecheck pytest

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy

pytest: $(VENV)/.stamp-test $(ENGINE_STAMP)
	@$(BIN)/python -c "import isomargin.engine as e; print('engine build:', e.BUILD, '-', e.BUILD_DETAIL)"
	@status=0; \
	echo "$(BIN)/pytest $(addprefix --ignore=,$(PURE_TESTS))"; $(BIN)/pytest $(addprefix --ignore=,$(PURE_TESTS)) || status=1; \
	echo "ISOMARGIN_PURE=1 $(BIN)/pytest $(PURE_TESTS) $(BOTH_TESTS)"; \
	ISOMARGIN_PURE=1 $(BIN)/pytest $(PURE_TESTS) $(BOTH_TESTS) || status=1; \
	exit $$status

# The whole suite on the pure-Python engine (what a machine without a C compiler runs).
test-pure: $(VENV)/.stamp-test
	ISOMARGIN_PURE=1 $(BIN)/pytest

# The deep Hypothesis profile: >= 1,000 examples x 200 steps for every property and stateful test (long).
test-deep: $(VENV)/.stamp-test $(ENGINE_STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest tests/engine tests/margin -p no:cacheprovider --hypothesis-show-statistics

bench: $(VENV)/.stamp-run $(ENGINE_STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis src/isomargin/engine/_compiled build/engine-*

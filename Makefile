# Two commands: `make demo` runs the main job, `make test` runs lint, types and tests.
# Each creates a local .venv and installs what it needs; re-running reinstalls only when pyproject changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-deep lint typecheck pytest bench clean

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.stamp-run

demo: $(VENV)/.stamp-run
	$(BIN)/isomargin demo

test: $(VENV)/.stamp-test lint typecheck pytest

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy

pytest: $(VENV)/.stamp-test
	$(BIN)/pytest

# The deep Hypothesis profile: >= 1,000 examples x 200 steps for every property and stateful test (long).
test-deep: $(VENV)/.stamp-test
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest tests/engine tests/margin -p no:cacheprovider --hypothesis-show-statistics

bench: $(VENV)/.stamp-run
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# One command to build the book, one to run the tests. Both set up .venv on first use.
PROFILE ?= cpu
PY := .venv/bin/python
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: setup book site test test-fast lint bench bench-ci clean

setup: .venv/.installed

# torch first, from the local CPU wheel: any other spec would pull the CUDA build.
.venv/.installed: pyproject.toml constraints.txt
	python3 -m venv .venv
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[book,test]"
	touch $@

## Execute every chapter with papermill in PROFILE (default cpu) and render the site (_build/html).
book: setup
	$(PY) -m mlkd_utils.book --profile $(PROFILE)

## Render the chapters already executed, without running them.
site: setup
	$(PY) -m mlkd_utils.book --profile $(PROFILE) --no-execute

## Lint, unit tests, then the quick-profile book end to end (what CI runs).
test: setup
	$(PY) -m ruff check mlkd_utils tests bench
	$(PY) -m pytest -q --timeout=3600 --durations=15

## The unit tests only (seconds).
test-fast: setup
	$(PY) -m pytest -q -m "not slow and not book"

## The benchmarks behind book/performance.md (~20 minutes on a quiet 2-core machine), then the page.
bench: setup
	$(PY) bench/encoding.py
	$(PY) bench/teacher_cache.py
	$(PY) bench/mining.py
	$(PY) bench/distill_throughput.py
	$(PY) bench/book_times.py
	$(PY) bench/report.py

## CI's wall time on this machine: a clean clone, .ci/run, timed by part (~20 minutes), then the page.
bench-ci: setup
	$(PY) bench/ci_time.py
	$(PY) bench/report.py

lint: setup
	$(PY) -m ruff check mlkd_utils tests bench

clean:
	rm -rf _build

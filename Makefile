# The two commands of the README, and a few helpers.
CONTACTS ?= 20000

.PHONY: setup demo test test-fast lint ui bench clean

setup:
	bash scripts/setup.sh

demo: setup  ## sample data → lake → marts, published at data/warehouse/sms.duckdb
	rm -rf data/landing
	.venv/bin/sms-warehouse generate --out data/landing --contacts $(CONTACTS)
	.venv/bin/sms-warehouse run

test: setup  ## everything, as CI runs it (bash .ci/run)
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q

test-fast: setup  ## the `unit` tier: no dbt, no Dagster run, no browser (under a minute)
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q -m unit

ui: setup
	.venv/bin/sms-warehouse ui

bench: setup
	.venv/bin/python benchmarks/run_benchmark.py --contacts 1000000

clean:
	rm -rf data .venv dbt_project/target dbt_project/logs

#!/usr/bin/env bash
# Set up, then run the tests: core and plugins (fast ones), then the performance gates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -m "not slow" --ignore=tests/perf "$@"
.venv/bin/python -m pytest tests/perf

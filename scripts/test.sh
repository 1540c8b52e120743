#!/usr/bin/env bash
# Lints, then runs the test suite once per Keras backend. Exits non-zero if
# the lint or any backend's run fails (pytest's "no tests ran", exit 5,
# counts as a failure). Extra arguments go to pytest.
set -u
cd "$(dirname "$0")/.."
status=0
echo "== ruff"
ruff check . || status=1
ruff format --check . || status=1
for backend in tensorflow jax torch; do
    echo "== pytest, KERAS_BACKEND=$backend"
    KERAS_BACKEND=$backend python -m pytest -q --require-weights "$@"
    code=$?
    if [ "$code" -ne 0 ]; then
        echo "pytest failed on $backend (exit $code)"
        status=1
    fi
done
exit $status

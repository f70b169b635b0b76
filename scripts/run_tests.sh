#!/usr/bin/env bash
# One command for the whole test suite: virtualenv, install with test extras, run pytest.
# SQLite by default; PostgreSQL with DATABASE_URL=postgres://user:pass@host:5432/dbname.
# Extra arguments go to pytest (e.g. scripts/run_tests.sh tests/core -x).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[test]"
set +e
.venv/bin/pytest -q "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: that is not a failure of the suite itself.
if [ "$status" -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi
exit "$status"

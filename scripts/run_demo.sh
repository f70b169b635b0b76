#!/usr/bin/env bash
# One command for a new user: virtualenv, install, migrate the embedded SQLite database, load the demo
# data (prints the credentials it creates) and serve at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
export MODE=${MODE:-DEV}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py demo
echo
echo "GraphQL (GraphiQL in a browser): http://${BIND:-127.0.0.1:8000}/api/graphql   Admin: http://${BIND:-127.0.0.1:8000}/api/admin/"
exec .venv/bin/python manage.py runserver "${BIND:-127.0.0.1:8000}"

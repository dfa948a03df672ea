#!/usr/bin/env bash
# Sets up and runs the console on the embedded default: SQLite under var/, gateway tables, demo
# data, an admin account (its one-time password is printed once), server on 127.0.0.1:8000.
# Run again, it reuses what exists.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh

if [ -n "${DATABASE_URL:-}" ]; then
  die "scripts/run.sh runs the embedded demo and never touches DATABASE_URL ($DATABASE_URL).
For a real gateway database see README.md: first 'python manage.py gateway_schema check'."
fi
ensure_debs libmariadb-dev pkg-config
ensure_venv mysql
# setup_demo says where the console runs, in the language of its other lines (LANGUAGE_CODE).
"$VENV/bin/python" manage.py setup_demo --address "${PORT:-127.0.0.1:8000}"
# A background worker beside the server: it runs what pages queue (provider reconciliations,
# bulk connection tests, large imports, queued audit snapshots).
"$VENV/bin/python" manage.py db_worker --no-startup-delay &
worker=$!
trap 'kill "$worker" 2>/dev/null' EXIT INT TERM
"$VENV/bin/python" manage.py runserver "${PORT:-127.0.0.1:8000}"

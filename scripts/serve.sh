#!/usr/bin/env bash
# Production: gunicorn on the configured database (README: production). Expects the virtualenv
# to be installed (`pip install '.[mysql]'`) and the settings in the environment or in .env.
#   BIND=0.0.0.0:8000 GUNICORN_WORKERS=5 GUNICORN_TIMEOUT=60 bash scripts/serve.sh
# Collects the static files first (whitenoise serves them from STATIC_ROOT), then execs gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'askpro-console: %s\n' "$*" >&2; exit 1; }

[ -x "$VENV/bin/gunicorn" ] || die "no gunicorn in $VENV. Install: python3 -m venv $VENV && $VENV/bin/pip install '.[mysql]'"
if [ -z "${DATABASE_URL:-}" ] && ! grep -qs '^DATABASE_URL=' .env; then
  die "DATABASE_URL is not set: scripts/serve.sh serves a real database (the demo: bash scripts/run.sh)"
fi
"$VENV/bin/python" manage.py check --deploy --fail-level WARNING
"$VENV/bin/python" manage.py collectstatic --noinput -v 0
say "gunicorn on ${BIND:-127.0.0.1:8000}"
exec "$VENV/bin/gunicorn" --config gunicorn.conf.py

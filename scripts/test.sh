#!/usr/bin/env bash
# The whole test suite: on SQLite, on a real MariaDB/MySQL, and, when GATEWAY_REFERENCE_SCHEMA names
# the gateway's schema.sql, against that reference schema; and the main flows in a headless browser.
# Sets up what it needs on the way.
#   bash scripts/test.sh                      all tiers
#   bash scripts/test.sh --tier sqlite        one tier (sqlite, mariadb, reference, browser)
#   bash scripts/test.sh -- -k gateway_schema  arguments after -- go to pytest
# TEST_DATABASE_URL=mysql://user:pass@host:port/name uses that server instead of a throwaway one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh

# php-cli + php-illuminate-encryption: Laravel's own Encrypter, the judge of what the console
# encrypts (tests/test_encrypter_laravel.py fails, not skips, when they are missing here).
# chromium: Debian's browser, which the browser tier drives with Playwright (no browser download).
# gettext: makemessages, with which tests/test_catalogue.py finds strings without a German text.
debs=(libmariadb-dev pkg-config php-cli php-illuminate-encryption chromium gettext)
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  debs+=(mariadb-server mariadb-client)
elif [ -n "${GATEWAY_REFERENCE_SCHEMA:-}" ]; then
  debs+=(mariadb-client)  # loads schema.sql with the real client
fi
ensure_debs "${debs[@]}"
ensure_venv "mysql,dev"
exec "$VENV/bin/python" scripts/test_tiers.py "$@"

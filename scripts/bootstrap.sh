# Shared set-up for scripts/run.sh and scripts/test.sh: system packages, virtualenv, Python packages.
# Sourced, not run. Re-running reuses what exists.

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'askpro-console: %s\n' "$*" >&2; exit 1; }

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# Debian packages missing from this machine, of those named.
missing_debs() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  printf '%s\n' "${missing[@]}"
}

# Install Debian packages when root; otherwise print the exact command and stop.
ensure_debs() {
  local missing
  missing=$(missing_debs "$@" | xargs)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: $missing. Install them with: sudo apt-get install -y $missing"
  fi
  say "installing system packages: $missing"
  # Keep package scripts from starting services (mariadb-server would take port 3306).
  local policy=/usr/sbin/policy-rc.d created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  local status=0
  apt-get update -qq >/dev/null || status=$?
  [ $status -eq 0 ] && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $missing >/dev/null || status=$?; }
  [ -n "$created_policy" ] && rm -f "$policy"
  [ $status -eq 0 ] || die "apt-get install $missing failed"
}

# The virtualenv with the project and the given extras; reinstalled when pyproject.toml changes.
ensure_venv() {
  local extras=$1 stamp="$VENV/.installed-$1"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))"
  if [ ! -x "$VENV/bin/python" ]; then
    # Debian's python3 has no venv/ensurepip without python3-venv.
    "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || ensure_debs python3-venv
    say "creating the virtualenv in $VENV"
    "$PYTHON" -m venv "$VENV" || die "could not create a virtualenv (Debian: apt-get install python3-venv)"
  fi
  local wanted
  wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing Python packages (.[$extras])"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    # Once more on a failure: a registry's hiccup should not fail a whole run.
    "$VENV/bin/python" -m pip install -q -e ".[$extras]" \
      || { say "pip install failed; trying once more"; sleep 5;
           "$VENV/bin/python" -m pip install -e ".[$extras]"; } \
      || die "pip install failed"
    echo "$wanted" >"$stamp"
  fi
}

#!/bin/sh
# Install the PostgreSQL server the second-backend tests start (Debian package postgresql)
# when it is missing. The tests never use a running system cluster: they start a throwaway
# one in a temporary directory (tests/postgres_server.py), as the postgres user when run as root.
# Needs root (or sudo) and apt-get; elsewhere it says so in one line and changes nothing.
# The tests then skip the PostgreSQL variants locally, and fail in CI (C2XC_REQUIRE_POSTGRES=1).
set -e
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "postgres tests: apt-get not found; install a PostgreSQL server (initdb, pg_ctl) to run them"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "postgres tests: not root; run 'sudo apt-get install postgresql' to run them"
    exit 0
  fi
fi
echo "installing postgresql (Debian package) for the PostgreSQL backend tests"
$SUDO apt-get update -qq
# policy-rc.d 101: install the binaries without starting the system cluster the tests do not use.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null

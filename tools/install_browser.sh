#!/bin/sh
# Install what the browser tests need from Debian's packages when it is missing:
# Chromium, its ChromeDriver, and CJK fonts (so Chinese pages render in screenshots).
# Needs root (or sudo) and apt-get; elsewhere it says so in one line and changes nothing.
# The tests then skip the browser tests locally, and fail in CI (C2XC_REQUIRE_BROWSER=1).
set -e
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
   && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests: apt-get not found; install Chromium + ChromeDriver yourself to run them"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "browser tests: not root; run 'sudo apt-get install chromium chromium-driver fonts-noto-cjk' to run them"
    exit 0
  fi
fi
echo "installing chromium, chromium-driver and fonts-noto-cjk (Debian packages) for the browser tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-noto-cjk >/dev/null

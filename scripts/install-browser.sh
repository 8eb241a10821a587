#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/test_browser.py drives it through Playwright,
# which downloads no browser of its own). Installed with apt-get when missing and allowed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "install-browser: Chromium is missing; install it (Debian: apt-get install -y chromium) for tests/test_browser.py" >&2
  exit 1
fi
chromium --version

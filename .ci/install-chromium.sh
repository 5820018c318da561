#!/usr/bin/env bash
# Installs Debian's `chromium` when it is missing. The rendering tests open a course page in headless
# Chromium with networking cut off to prove that charts and equations render offline.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi

# Root in containers and CI images; sudo on a developer machine.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "chromium: $(/usr/bin/chromium --version)"

#!/usr/bin/env bash
# Installs what kmc needs. `bash scripts/install.sh` for the app; `--dev` adds the test tools
# (Debian's ffmpeg and chromium for media fixtures and browser tests, PostgreSQL and Redis for the run
# store's and queue's tests, which start throwaway servers of their own, plus requirements-dev.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# An old pip (23.x) fails on metadata the index serves today (TypeError in its version parser).
"$PY" -m pip install -q --upgrade "pip>=24"
if [ "${1:-}" = "--dev" ]; then
  SUDO=""
  [ "$(id -u)" = "0" ] || SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends ffmpeg chromium fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk postgresql redis-server >/dev/null
  fi
  "$PY" -m pip install -q -r requirements-dev.txt
else
  "$PY" -m pip install -q -r requirements.txt
fi

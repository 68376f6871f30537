#!/usr/bin/env bash
# Installs what kmc needs into a virtual environment of its own, ./.venv (made here, reused when
# present), so it works on a system Python that refuses system-wide installs (PEP 668, Debian's).
# Then: `.venv/bin/python app.py`, or `source .venv/bin/activate` for a shell that uses it.
#
# `bash scripts/install.sh` for the app; `--dev` adds the test tools (Debian's ffmpeg and chromium
# for media fixtures and browser tests, PostgreSQL and Redis for the run store's and queue's tests,
# which start throwaway servers of their own, plus requirements-dev.txt).
#
# Fast: `uv` (from PyPI, into the venv) installs the packages when it can; pip is the fallback.
# KMC_VENV names another folder for the venv; PYTHON another Python to make it with (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${KMC_VENV:-.venv}
PY=${PYTHON:-python3}
DEV=""
[ "${1:-}" = "--dev" ] && DEV=1

SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

say() { printf '%s\n' "install.sh: $*" >&2; }

# Apt first (it runs while nothing else does; pip's downloads are the long part).
if [ -n "$DEV" ] && command -v apt-get >/dev/null 2>&1; then
  say "Debian packages for the tests (ffmpeg, chromium, fonts, postgresql, redis)"
  apt_install ffmpeg chromium fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk postgresql redis-server
fi

# The virtual environment: reused when it has a working Python, else made.
if ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
  say "making the virtual environment $VENV with $("$PY" -c 'import sys; print(sys.executable)')"
  rm -rf "$VENV"
  if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's Python ships venv's pip bootstrap separately (python3-venv).
    rm -rf "$VENV"
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python$ver-venv" || apt_install python3-venv || true
    "$PY" -m venv "$VENV" || {
      say "could not make a virtual environment: install python3-venv (Debian/Ubuntu) and run me again"
      exit 1
    }
  fi
fi
VPY="$VENV/bin/python"

# uv: a fast installer, itself a wheel on PyPI. An old pip (23.x) fails on metadata the index
# serves today (TypeError in its version parser), so pip is brought up to date first.
if ! "$VENV/bin/uv" --version >/dev/null 2>&1; then
  "$VPY" -m pip install -q --upgrade "pip>=24" >/dev/null 2>&1 || true
  "$VPY" -m pip install -q uv >/dev/null 2>&1 || say "uv could not be installed; pip installs instead (slower)"
fi

REQ=requirements.txt
[ -n "$DEV" ] && REQ=requirements-dev.txt
say "installing $REQ into $VENV"
installed=""
if "$VENV/bin/uv" --version >/dev/null 2>&1; then
  # uv reads neither pip's configuration nor its certificates: point it at the same ones.
  uv_args=()
  if [ -n "${PIP_FIND_LINKS:-}" ] && [ -d "${PIP_FIND_LINKS}" ]; then uv_args+=(--find-links "$PIP_FIND_LINKS"); fi
  if [ -n "${SSL_CERT_FILE:-${PIP_CERT:-}}" ]; then export SSL_CERT_FILE=${SSL_CERT_FILE:-$PIP_CERT}; fi
  if "$VENV/bin/uv" pip install --quiet --python "$VPY" "${uv_args[@]}" -r "$REQ"; then
    installed=1
  else
    say "uv failed; trying pip"
  fi
fi
if [ -z "$installed" ]; then
  "$VPY" -m pip install -q --upgrade "pip>=24" || true
  "$VPY" -m pip install -q -r "$REQ"
fi

if [ -n "${VIRTUAL_ENV:-}" ] && [ "$(cd "$VIRTUAL_ENV" 2>/dev/null && pwd)" = "$(cd "$VENV" && pwd)" ]; then
  say "done: $VENV is active"
else
  say "done. Run with $VENV/bin/python (e.g. $VENV/bin/python app.py), or 'source $VENV/bin/activate' first"
fi

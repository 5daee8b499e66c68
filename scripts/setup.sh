#!/usr/bin/env bash
# Installs everything the project needs into ./.venv and ./node_modules.
# Idempotent: a second run only checks. Usage: bash scripts/setup.sh [docs|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-dev}"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
py=.venv/bin/python
stamp=".venv/.installed-$extra-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    "$py" -m pip install --quiet --upgrade pip
    # The CPU build of torch; an unpinned torch would pull a multi-GB CUDA build.
    "$py" -m pip install --quiet "torch==2.13.0"
    "$py" -m pip install --quiet -e ".[$extra]"
    if [ "$extra" = dev ]; then
        # Test peers whose declared dependencies would drag in other torch builds.
        "$py" -m pip install --quiet --no-deps "labml-nn==0.5.1" "labml==0.5.3" "torch-optimizer==0.3.0" \
            "pytorch-ranger==0.1.1" \
            "muon-optimizer==0.1.0"
    fi
    touch "$stamp"
fi

# KaTeX, pinned by package-lock.json, renders the math at build time.
if [ ! -f node_modules/katex/package.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

# The browser tests drive Debian's chromium.
if [ "$extra" = dev ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: chromium is missing and we are not root; browser tests will skip" >&2
    fi
fi

#!/usr/bin/env bash
# Installs what the site needs, builds it strictly, then serves it on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh docs
exec .venv/bin/mkdocs serve --strict -a 127.0.0.1:8000

#!/usr/bin/env bash
# The whole test suite: set-up (engine, router, images, build), then unit and
# integration tests against the real Docker engine, git and HAProxy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run "$@"

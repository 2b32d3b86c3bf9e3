#!/usr/bin/env bash
# Sets up a fresh machine, builds, and runs the main job: a planctl session over
# the embedded default store (./.planning, or $PLANCTL_DB).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
if [ -x build/tools/planctl ] && [ -f scripts/planctl-demo.sh ]; then
  exec bash scripts/planctl-demo.sh build/tools/planctl
fi
exec build/examples/quickstart "${PLANCTL_DB:-.planning-demo}"

#!/usr/bin/env bash
# Copies the screenshots of the last browser test run into docs/images/serve
# (the README shows them). Usage: bash tests/serve/browser/update-images.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
build="${1:-$root/build}"
mkdir -p "$root/docs/images/serve"
for name in sessions session version diff diff-unified audit-live info xss; do
  cp "$build/test-artifacts/serve/$name.png" "$root/docs/images/serve/$name.png"
done
echo "copied into docs/images/serve"

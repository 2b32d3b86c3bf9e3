#!/usr/bin/env bash
# Installs every Debian package the build, tests, fuzzers and benchmarks need.
# Idempotent; safe to run on every CI run. Needs root (or sudo).
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  liblmdb-dev liblmdb++-dev
  libcereal-dev
  libboost-dev
  catch2
  libdtl-dev
  nlohmann-json3-dev
  libcli11-dev
  libfmt-dev
  libzstd-dev
  libxxhash-dev
  libhowardhinnant-date-dev
  libsqlite3-dev
  libpq-dev postgresql
  clang libclang-rt-dev
  libcpp-httplib-dev libcmark-dev chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Node.js package's npm dependencies, from its lock file (its addon is built
# by scripts/test.sh); installed again only when the lock file changed.
(
  cd "$(dirname "$0")/../bindings/node"
  if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
    npm_config_nodedir=/usr npm ci --no-audit --no-fund --ignore-scripts
    cp package-lock.json node_modules/.installed-lock.json
  fi
)
# planctl serve's browser tests: playwright-core from its lock file, never a
# browser download (they drive Debian's chromium).
(
  cd "$(dirname "$0")/../tests/serve/browser"
  if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.installed-lock.json
  fi
)

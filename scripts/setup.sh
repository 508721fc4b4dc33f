#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent: apt-get skips what is already there),
# then the npm packages pinned in package-lock.json when a package.json exists.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config          # native build
  libeigen3-dev nlohmann-json3-dev catch2   # linear algebra, JSON, C++ tests
  clang libclang-rt-14-dev                  # libFuzzer + sanitizer runtimes (scripts/fuzz.sh, scripts/sanitize.sh)
  emscripten                                # WASM build (Emscripten 3.1.6, clang 14)
  python3-torch python3-numpy python3-yaml python3-pytest libopenblas0-pthread  # converter, training, tests
  chromium                                  # browser end-to-end tests (driven by playwright-core from npm)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm packages exactly as locked; reinstalled only when the lockfile changed since the last install.
if [ -f package-lock.json ] && ! cmp -s package-lock.json node_modules/.installed-lock.json; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.installed-lock.json
fi
echo "setup: done"

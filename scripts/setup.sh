#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (idempotent: only what is missing).
#   scripts/setup.sh page   what scripts/start.sh needs: the WASM build (Emscripten, CMake, Eigen, nlohmann-json) and
#                           Node.js to serve the page (Debian's nodejs, 18, comes with emscripten and is enough)
#   scripts/setup.sh        everything scripts/test.sh needs besides: the native build, the sanitizers and
#                           libFuzzer, Python with torch, Chromium, and the npm packages pinned in package-lock.json.
#                           The tests need Node.js 20 or later with npm (vite 7 and the package's "engines"),
#                           which Debian 12 does not package (its nodejs is 18): without it, set-up stops with one
#                           line saying what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

page=(
  cmake make                                # the build
  libeigen3-dev nlohmann-json3-dev          # linear algebra, JSON (header-only)
  emscripten                                # WASM build (Emscripten 3.1.6, clang 14; brings Debian's nodejs)
)
tests=(
  build-essential pkg-config catch2         # native build, C++ tests
  clang libclang-rt-14-dev                  # libFuzzer + sanitizer runtimes (scripts/fuzz.sh, scripts/sanitize.sh)
  python3-torch python3-numpy python3-yaml python3-pytest libopenblas0-pthread  # converter, training, tests
  chromium                                  # browser end-to-end tests (driven by playwright-core from npm)
)
case "$what" in
  page) packages=("${page[@]}") ;;
  all) packages=("${page[@]}" "${tests[@]}") ;;
  *) echo "usage: scripts/setup.sh [page|all]" >&2; exit 2 ;;
esac

if [ "$what" = all ]; then  # checked first: nothing is installed for a set-up that cannot finish
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ] || ! command -v npm >/dev/null; then
    echo "setup: the tests need Node.js 20 or later with npm (found $(node --version 2>/dev/null || echo none)); install it (https://nodejs.org/en/download) and run again" >&2
    exit 1
  fi
fi

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

if [ "$what" = all ]; then
  # npm packages exactly as locked; reinstalled only when the lockfile changed since the last install.
  if ! cmp -s package-lock.json node_modules/.installed-lock.json; then
    npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.installed-lock.json
  fi
fi
echo "setup: done ($what)"

#!/usr/bin/env bash
# Installs, with apt, every Debian package trident's build, tests, benchmarks and tour need.
# Idempotent: does nothing when all are present; runs `apt-get update` only when one is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config          # build
  libgtest-dev libgmock-dev                 # tests
  libcereal-dev                             # trident::pickle (what crosses processes)
  libbenchmark-dev libasio-dev python3      # benchmarks and their peers (asio, CPython)
  libboost-context1.81-dev                  # greenlet stack switching (Boost.Context)
  python3-greenlet                          # the greenlet benchmark's CPython peer
  libxml2-utils                             # xmllint: the tour's SVG is checked to be well-formed
  bc coreutils                              # programs the subprocess tests and examples drive
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

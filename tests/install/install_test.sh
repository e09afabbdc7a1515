#!/usr/bin/env bash
# install_test.sh BUILD_DIR CONSUMER_SRC CXX: installs trident into a temporary prefix, then builds
# and runs a consumer with find_package(trident CONFIG) and with pkg-config.
set -euo pipefail
build="$1"; consumer="$2"; cxx="$3"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# As `./run install` does: --strip takes the debug info out of the static library.
cmake --install "$build" --prefix "$tmp/prefix" --strip >/dev/null
lib="$(find "$tmp/prefix" -name libtrident.a | head -n1)"
if objdump -h "$lib" | grep -q '\.debug_info'; then
  echo "install --strip left debug info in $lib" >&2
  exit 1
fi

cmake -S "$consumer" -B "$tmp/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
out="$("$tmp/build/consumer")"
[ "$out" = "consumer: 110" ] || { echo "find_package consumer printed: $out" >&2; exit 1; }
echo "find_package: ok"

pcdir="$(dirname "$(find "$tmp/prefix" -name trident.pc | head -n1)")"
flags="$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs trident)"
# shellcheck disable=SC2086
"$cxx" "$consumer/main.cpp" -o "$tmp/consumer_pc" $flags
out="$("$tmp/consumer_pc")"
[ "$out" = "consumer: 110" ] || { echo "pkg-config consumer printed: $out" >&2; exit 1; }
echo "pkg-config: ok"

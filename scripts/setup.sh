#!/usr/bin/env bash
# Installs what building and testing need on Debian 12 (only what is
# missing), then configures and builds into build/. Run as root or with sudo.
#   scripts/setup.sh [--packages-only]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc pkg-config meson ninja-build check
          mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev libcjson-dev
          python3 python3-paho-mqtt nodejs node-mqtt
          build-essential dpkg-dev debhelper)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--packages-only" ] && exit 0
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build

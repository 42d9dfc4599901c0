#!/usr/bin/env bash
# Sets everything up, installs the plugin beside Debian's own plugins, and
# runs mosquitto in the foreground with mosquitto.conf.example on
# 127.0.0.1:1883. Run as root (it installs packages and the plugin).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
meson install -C build --quiet

# Debian's mosquitto package starts its own broker on port 1883.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
  echo "run-broker: stopping the system mosquitto service, which holds port 1883"
  systemctl stop mosquitto
fi

exec mosquitto -c mosquitto.conf.example

#!/usr/bin/env bash
# Builds Mosquitto brokers from the unmodified release archives in the vendor
# folder, so the tests can run against releases other than Debian's 2.0.11.
#   scripts/brokers.sh [VERSION[=SHA256]...]     (default: 2.0.15 2.0.20)
# Prints "VERSION PATH-OF-THE-BROKER-BINARY" per version. Each broker goes to
# build-brokers/VERSION/ (ignored by git: fetched or unpacked sources are
# never committed) and is built once; a version already built is skipped.
# The vendor folder: $RCPT_VENDOR_DIR, else <repo>/../shared/vendor, else
# /work/shared/vendor. Run as root or with sudo (it installs build packages).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# Pinned here, not read from the vendor folder: a hash that travels with the
# archive would not notice a changed archive. Another release: VERSION=SHA256.
declare -A known=(
  [2.0.11]=be053e8ce345edc66fdd3530b08704cca0ef320733eb1e529f4cb2e2241ad7f1
  [2.0.15]=a2cb8f443b72b5bc8c723f343fb76a6668b93cbd113951a8e675fa47c9680f52
  [2.0.20]=8f7fb05556c0131a17823923272b1c7e97f69f22da5f3fa96443ac52681811d3
)
[ $# -gt 0 ] || set -- 2.0.15 2.0.20

# A folder named in RCPT_VENDOR_DIR must exist: no silent fallback from it.
if [ -n "${RCPT_VENDOR_DIR:-}" ]; then
  candidates=("$RCPT_VENDOR_DIR") missing_msg="RCPT_VENDOR_DIR=$RCPT_VENDOR_DIR is no folder"
else
  candidates=("$top/../shared/vendor" /work/shared/vendor) missing_msg="neither ../shared/vendor nor /work/shared/vendor exists (set RCPT_VENDOR_DIR)"
fi
vendor=""
for d in "${candidates[@]}"; do
  if [ -d "$d" ]; then vendor=$(cd "$d" && pwd); break; fi
done
[ -n "$vendor" ] || { echo "brokers.sh: no vendor folder with the mosquitto archives: $missing_msg" >&2; exit 2; }

# The packages the broker's Makefile needs; libssl-dev keeps TLS on, without
# which a broker cannot check a password_file's hashes (test_secure needs it).
packages=(build-essential libssl-dev libcjson-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "brokers.sh: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p build-brokers
for arg in "$@"; do
  version=${arg%%=*}
  sha=${known[$version]:-}
  [ "$arg" = "$version" ] || sha=${arg#*=}
  [ -n "$sha" ] || { echo "brokers.sh: no sha256 known for $version: give it as $version=SHA256" >&2; exit 2; }
  dest="build-brokers/$version"
  bin="$top/$dest/src/mosquitto"
  # The stamp holds the archive's hash: a broker from another archive is rebuilt.
  if [ -x "$bin" ] && [ "$(cat "$dest/.built-from" 2>/dev/null)" = "$sha" ]; then
    echo "$version $bin"
    continue
  fi
  archive="$vendor/mosquitto-$version.tar.gz"
  [ -f "$archive" ] || { echo "brokers.sh: $archive missing" >&2; exit 2; }
  got=$(sha256sum "$archive" | cut -d' ' -f1)
  [ "$got" = "$sha" ] || { echo "brokers.sh: $archive has sha256 $got, expected $sha: not building it" >&2; exit 2; }

  # Unpacked and built where it stays (the debug info names these paths);
  # the stamp, written last, is what marks a finished build.
  rm -rf "$dest"
  mkdir -p "$dest"
  tar xzf "$archive" -C "$dest" --strip-components=1
  echo "brokers.sh: building mosquitto $version (about 25 s)" >&2
  if ! make -j"$(nproc)" -C "$dest/src" WITH_DOCS=no WITH_WEBSOCKETS=no WITH_SRV=no >"$dest/build.log" 2>&1; then
    tail -n 20 "$dest/build.log" >&2
    echo "brokers.sh: building mosquitto $version failed (log: $dest/build.log)" >&2
    exit 1
  fi
  # The build must be the release asked for, not whatever the archive held
  # (`-h` exits non-zero, hence the `|| true`).
  [ "$("$bin" -h 2>/dev/null | head -n 1 || true)" = "mosquitto version $version" ] \
    || { echo "brokers.sh: $bin does not report version $version" >&2; exit 1; }
  echo "$sha" >"$dest/.built-from"
  echo "$version $bin"
done

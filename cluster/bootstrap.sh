#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for fsweep: installs the system libraries (idempotent: apt runs only
# when something is missing) and builds the release binary.
#   cluster/bootstrap.sh                  packages + release build (.build/release/fsweep)
#   cluster/bootstrap.sh --packages-only  packages only (what the test command needs)
set -euo pipefail
cd "$(dirname "$0")/.."

# spin: the model checker LeaseProtocolModelTests runs on Sources/Cluster/Coordinator/LeaseProtocol.pml.
packages=(libzmq3-dev libfftw3-dev libopenblas-dev libdnnl-dev pkg-config sqlite3 libsqlite3-dev spin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "bootstrap: system packages present"
fi

command -v swift >/dev/null || { echo "bootstrap: swift not found; install Swift 6 (swift.org) and put it on PATH" >&2; exit 1; }
for lib in libzmq fftw3f openblas; do
  pkg-config --exists "$lib" || { echo "bootstrap: pkg-config cannot find $lib after installing packages" >&2; exit 1; }
done

if [ "${1:-}" != "--packages-only" ]; then
  echo "bootstrap: building fsweep (release)"
  swift build -c release --product fsweep
  echo "bootstrap: ready: .build/release/fsweep"
fi

#!/usr/bin/env bash
# Install the system libraries airshed links against (libnetcdf and its
# pkg-config file) and the netcdf-bin tools (ncgen, which
# scripts/make-wrfout.py uses to write WRF-format test files) from Debian's
# packages. Safe to run repeatedly; a no-op
# when they are already there.
set -euo pipefail
if pkg-config --exists netcdf 2>/dev/null && command -v ncgen >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "installing libnetcdf-dev, netcdf-bin and pkg-config from Debian..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libnetcdf-dev netcdf-bin pkg-config >/dev/null
pkg-config --exists netcdf
command -v ncgen >/dev/null

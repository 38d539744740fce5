#!/bin/sh
# Installs the Debian packages that the benchmark comparison needs: the
# peers' libraries and headers, a C++ compiler and pkg-config to build them,
# and gnuplot for compare.sh's chart. Run as root on Debian 12 (bookworm).
# rustc is installed too when no rustc is on the PATH (the rust-std peer).
# The CMake option -DHASHMAP_PEERS_INSTALL_DEPS=ON runs this script when
# configuring.
set -eu

packages="g++ make cmake pkg-config libabsl-dev libboost1.81-dev libglib2.0-dev uthash-dev libhts-dev gnuplot-nox"
if ! command -v rustc >/dev/null 2>&1; then
    packages="$packages rustc"
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086  # the list is split on purpose
apt-get install -y --no-install-recommends $packages

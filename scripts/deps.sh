#!/usr/bin/env bash
# Installs the Debian 12 packages Herald builds and tests with, skipping what is
# already there. Shared by demo.sh and test.sh; safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev       # Beast + Asio (header-only parts)
  libssl-dev             # TLS (wss://)
  nlohmann-json3-dev     # application-facing JSON type, admin API bodies
  libsimdjson-dev        # DOM-free envelope decoding on the hot path
  libspdlog-dev          # logging (kept out of public headers)
  libgtest-dev libgmock-dev
  libsqlite3-dev         # the reference server's embedded store
  libcpp-jwt-dev         # JWT verification (server) and claim decoding (client)
  libcli11-dev           # command-line parsing for herald-server and herald-cli
  curl python3           # demo and scripts
  clang-format           # the tree's layout (scripts/format.sh)
  tinyproxy dante-server # real HTTP CONNECT and SOCKS5 proxies for tests/proxy
  nginx-light            # TLS-terminating reverse proxy for tests/frontends
  haproxy                # load balancer of two herald-servers for tests/frontends
  nodejs node-ws         # node's ws 8 with permessage-deflate, the peer of tests/interop
)
if [[ "${HERALD_WITH_QT:-1}" == 1 ]]; then
  packages+=(qt6-base-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

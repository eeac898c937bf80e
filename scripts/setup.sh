#!/usr/bin/env bash
# MinPaas set-up for a fresh Debian/Ubuntu machine with Node.js 20: installs what is
# missing (Debian's docker.io, haproxy, debootstrap, git; the npm packages), starts
# dockerd when it is installed but not running, builds the project, and builds local
# base images when no container registry answers.
#
#   bash scripts/setup.sh              set up only
#   bash scripts/setup.sh --registry   also run a local image registry for Swarm apps (scripts/registry.sh)
#   bash scripts/setup.sh --start      set up, then run `minpaas server` in the foreground
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "-----> $*"; }
die() { echo " !     $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "MinPaas needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))"

# Debian packages, installed only when missing.
missing=()
command -v git >/dev/null || missing+=(git)
command -v curl >/dev/null || missing+=(curl)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# The dashboard's browser tests drive Debian's chromium (playwright-core downloads no browser here).
command -v chromium >/dev/null || missing+=(chromium)
# Let's Encrypt's test ACME server: the TLS integration tests run it (pebble + pebble-challtestsrv).
command -v pebble >/dev/null || missing+=(pebble)
# The image registry Swarm nodes pull from (scripts/registry.sh runs it; the tests run their own).
command -v docker-registry >/dev/null || missing+=(docker-registry)
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null; then missing+=(docker.io); fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# The Docker engine: started by hand when no init system runs it.
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  if [ -d /run/systemd/system ]; then
    as_root systemctl start docker || true
  fi
  if ! docker info >/dev/null 2>&1; then
    as_root mkdir -p /var/log
    as_root sh -c 'nohup dockerd >/var/log/minpaas-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/minpaas-dockerd.log"
fi

# npm packages (better-sqlite3 compiles from source: about a minute the first time).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund >/dev/null
fi
say "building MinPaas"
npx tsc -p tsconfig.json

# A host that trusts an extra CA bundle (a TLS proxy in front of the registries) gets it
# into the local base images too, or npm and pip fail inside builds.
if [ -z "${MINPAAS_BUILD_CA_FILE:-}" ]; then
  for ca in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}"; do
    if [ -n "$ca" ] && [ -r "$ca" ]; then export MINPAAS_BUILD_CA_FILE=$ca; say "base images will trust $ca"; break; fi
  done
fi

# Base images: the configured (or default) image when it can be pulled, local ones otherwise.
need_local=0
for image in "${MINPAAS_NODE_BASE_IMAGE:-node:20-bookworm-slim}" "${MINPAAS_PYTHON_BASE_IMAGE:-python:3.12-slim-bookworm}"; do
  if docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  if docker pull -q "$image" >/dev/null 2>&1; then say "pulled $image"; continue; fi
  say "$image cannot be pulled: no registry reachable"
  need_local=1
done
if [ "$need_local" = 1 ]; then
  say "building local base images from Debian packages (about 2 minutes the first time)"
  bash scripts/base-images.sh
fi

# The edges in front of Swarm apps (issue 14) run Debian's HAProxy in a container.
bash scripts/edge-image.sh

start=0
for arg in "$@"; do
  case "$arg" in
    --registry) bash scripts/registry.sh ;;
    --start) start=1 ;;
    *) die "unknown option $arg (use --registry and/or --start)" ;;
  esac
done

say "MinPaas is set up"
if [ "$start" = 1 ]; then
  # The node flags and environment of src/cli/server-launch.ts (the control plane's memory).
  exec env MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --heap-growing-percent=50 dist/cli.js server
fi

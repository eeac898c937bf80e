#!/usr/bin/env bash
# The HAProxy image of the edges in front of Swarm apps (MINPAAS_EDGE_IMAGE, default
# minpaas-base/haproxy:bookworm): Debian's haproxy package on Debian bookworm. Cached by
# tag: an image that exists is left alone (pass --force to rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${MINPAAS_EDGE_IMAGE:-minpaas-base/haproxy:bookworm}
say() { echo "-----> $*"; }
if [ "${1:-}" != "--force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi

base=debian:bookworm-slim
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; then
  base=minpaas-base/debian:bookworm
  docker image inspect "$base" >/dev/null 2>&1 || bash scripts/base-images.sh
fi
say "building $TAG from $base"
work=$(mktemp -d /tmp/minpaas-edge.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/Dockerfile" <<DOCKER
FROM $base
RUN apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
LABEL minpaas.base=edge
DOCKER
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$work" >/dev/null

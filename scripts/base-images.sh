#!/usr/bin/env bash
# Builds MinPaas's local base images from Debian's packages, for hosts that reach no
# container registry. Each image is cached by tag: an image that exists is left alone
# (pass --force to rebuild).
#
#   minpaas-base/debian:bookworm   debootstrap minbase rootfs, imported
#   minpaas-base/node:bookworm     + nodejs, npm
#   minpaas-base/python:bookworm   + python3, pip (python / pip on PATH)
#
# MINPAAS_BUILD_CA_FILE=/path/ca.crt  makes the images trust that CA bundle (for a TLS
# proxy in front of the npm or PyPI registry). The bundle's hash is a label of the node and
# python images: a cached image built with another bundle (or none) is rebuilt.
set -euo pipefail

DEBIAN_TAG=minpaas-base/debian:bookworm
NODE_TAG=minpaas-base/node:bookworm
PYTHON_TAG=minpaas-base/python:bookworm
MIRROR=${MINPAAS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

say() { echo "-----> $*"; }
have_image() { [ "$FORCE" = 0 ] && docker image inspect "$1" >/dev/null 2>&1; }
CA_HASH=none
if [ -n "${MINPAAS_BUILD_CA_FILE:-}" ]; then
  [ -r "$MINPAAS_BUILD_CA_FILE" ] || { echo " !     MINPAAS_BUILD_CA_FILE=$MINPAAS_BUILD_CA_FILE is not readable" >&2; exit 1; }
  CA_HASH=$(sha256sum "$MINPAAS_BUILD_CA_FILE" | cut -c1-64)
fi
# A runtime image is current when it exists and was built from the same recipe: its
# Dockerfile and the CA bundle's hash, recorded as a label (a changed recipe rebuilds it).
have_current_image() { # tag, recipe hash
  have_image "$1" || return 1
  [ "$(docker image inspect -f '{{index .Config.Labels "minpaas.recipe"}}' "$1")" = "$2" ]
}

work=$(mktemp -d /tmp/minpaas-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

if have_image "$DEBIAN_TAG"; then
  say "$DEBIAN_TAG exists"
else
  command -v debootstrap >/dev/null || { echo " !     debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
  say "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # Keep the image small and its apt usable without the host's lists.
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  say "importing $DEBIAN_TAG"
  tar -C "$work/rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' \
    --change 'LABEL minpaas.base=debian' - "$DEBIAN_TAG" >/dev/null
fi

ca_layer() {
  # Writes the optional CA bundle into the context and prints the Dockerfile lines for it.
  if [ -n "${MINPAAS_BUILD_CA_FILE:-}" ]; then
    cp "$MINPAAS_BUILD_CA_FILE" "$1/extra-ca.crt"
    cat <<'DOCKER'
COPY extra-ca.crt /usr/local/share/ca-certificates/minpaas-extra-ca.crt
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
DOCKER
  fi
}

build_runtime() { # tag, label, packages, extra Dockerfile lines
  local tag=$1 label=$2 packages=$3 extra=$4 ctx="$work/$2" recipe
  mkdir -p "$ctx"
  {
    echo "FROM $DEBIAN_TAG"
    echo "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages && rm -rf /var/lib/apt/lists/*"
    ca_layer "$ctx"
    echo "$extra"
  } >"$ctx/Dockerfile"
  recipe=$( { cat "$ctx/Dockerfile"; echo "$CA_HASH"; } | sha256sum | cut -c1-64)
  if have_current_image "$tag" "$recipe"; then say "$tag exists"; return; fi
  echo "LABEL minpaas.base=$label minpaas.ca-sha256=$CA_HASH minpaas.recipe=$recipe" >>"$ctx/Dockerfile"
  say "building $tag"
  DOCKER_BUILDKIT=0 docker build -t "$tag" "$ctx" >"$work/$label-build.log" 2>&1 \
    || { tail -30 "$work/$label-build.log" >&2; exit 1; }
}

# libatomic1: the official Node binaries that builds provision for engines.node need it.
build_runtime "$NODE_TAG" node "nodejs npm libatomic1" \
  'ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false'
# Debian marks its python "externally managed"; the image is the app's own environment.
build_runtime "$PYTHON_TAG" python "python3 python3-pip python-is-python3" \
  'ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN ln -sf /usr/bin/pip3 /usr/local/bin/pip'

say "base images ready: $NODE_TAG $PYTHON_TAG"

#!/usr/bin/env bash
# A self-contained image registry for the Swarm scheduler (MINPAAS_REGISTRY): Debian's
# docker-registry, serving on MINPAAS_REGISTRY_ADDR (default 127.0.0.1:5000) from
# MINPAAS_REGISTRY_DIR (default /var/lib/minpaas/registry), deletes enabled so image
# retention can drop old tags. Started in the background when nothing answers there yet.
#
#   bash scripts/registry.sh     then: export MINPAAS_REGISTRY=127.0.0.1:5000
#
# Nodes other than this one pull from it only at an address they reach: bind it to the
# manager's address (MINPAAS_REGISTRY_ADDR=10.0.0.1:5000) and list that address under
# "insecure-registries" in each node's /etc/docker/daemon.json, or put TLS in front of it.
set -euo pipefail

ADDR=${MINPAAS_REGISTRY_ADDR:-127.0.0.1:5000}
DIR=${MINPAAS_REGISTRY_DIR:-/var/lib/minpaas/registry}
say() { echo "-----> $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if curl -fsS -o /dev/null "http://$ADDR/v2/" 2>/dev/null; then say "a registry answers on $ADDR"; exit 0; fi
if ! command -v docker-registry >/dev/null; then
  say "installing docker-registry"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >/dev/null
fi
as_root mkdir -p "$DIR/storage"
as_root chmod 700 "$DIR"
as_root tee "$DIR/config.yml" >/dev/null <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: $ADDR
YAML
say "starting docker-registry on $ADDR (storage $DIR/storage)"
as_root sh -c "nohup docker-registry serve '$DIR/config.yml' >'$DIR/registry.log' 2>&1 & echo \$! > '$DIR/registry.pid'"
for _ in $(seq 1 40); do curl -fsS -o /dev/null "http://$ADDR/v2/" 2>/dev/null && break; sleep 0.25; done
curl -fsS -o /dev/null "http://$ADDR/v2/" || { echo " !     the registry did not start; see $DIR/registry.log" >&2; exit 1; }
say "registry ready: export MINPAAS_REGISTRY=$ADDR"
